"""Safe XML loading and an element reader whose every refusal names element and attribute.

Loading goes through ``defusedxml`` with DTDs forbidden, so no entity is ever expanded and no
external entity or DTD is ever fetched; the bytes must be UTF-8.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from flambeau.services.results.errors import (
    InvalidAttributeError,
    MalformedXmlError,
    MissingAttributeError,
    MissingElementError,
    UnsafeXmlError,
)

__all__ = ["INTEGER", "Node", "decode", "load"]

T = TypeVar("T")

INTEGER = re.compile(r"^[0-9]{1,18}$")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def decode(raw: bytes) -> str:
    """The document as text.

    Raises:
        MalformedXmlError: the declared encoding is not UTF-8, or the bytes are not UTF-8.
    """
    declared = _DECLARED_ENCODING.match(raw)
    if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise MalformedXmlError(
            "ODF documents are UTF-8",
            element="xml declaration",
            attribute="encoding",
            value=declared.group(1).decode(),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedXmlError(f"not UTF-8: byte {error.start} is invalid") from None


def load(raw: bytes) -> Element:
    """Parse ``raw`` with DTDs, entities and external references forbidden.

    Raises:
        UnsafeXmlError: a DOCTYPE, entity declaration or external reference.
        MalformedXmlError: not well-formed.
    """
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True)
    except defusedxml.DTDForbidden as error:
        raise UnsafeXmlError(
            "DOCTYPE declarations are refused: they enable entity expansion and external "
            "entities, and ODF needs none",
            construct="DOCTYPE",
            value=error.name,
        ) from None
    except defusedxml.EntitiesForbidden as error:
        raise UnsafeXmlError(
            "entity declarations are refused", construct="ENTITY", value=error.name
        ) from None
    except defusedxml.ExternalReferenceForbidden as error:
        raise UnsafeXmlError(
            "external references are refused",
            construct="external reference",
            value=error.sysid,
        ) from None
    except ParseError as error:
        line, column = error.position
        raise MalformedXmlError(f"not well-formed XML: {error}", line=line, column=column) from None
    return root


class Node:
    """An element and its path, with typed attribute readers that raise named errors.

    Empty attributes read as absent. Paths look like ``OdfBody/Competition/Result[2]``: the
    index appears only when the tag repeats, and counts from 1.
    """

    __slots__ = ("el", "path")

    def __init__(self, el: Element, path: str) -> None:
        self.el = el
        self.path = path

    def get(self, name: str) -> str | None:
        """The attribute, or ``None`` when absent or empty."""
        value = self.el.get(name)
        return value if value else None

    def need(self, name: str) -> str:
        """The attribute; :class:`MissingAttributeError` when absent or empty."""
        value = self.get(name)
        if value is None:
            raise MissingAttributeError(
                "mandatory attribute missing", element=self.path, attribute=name
            )
        return value

    def invalid(self, name: str, reason: str) -> InvalidAttributeError:
        """The error to raise for a bad value of attribute ``name``."""
        return InvalidAttributeError(
            reason, element=self.path, attribute=name, value=self.get(name)
        )

    def integer(self, name: str, *, minimum: int = 0) -> int | None:
        """An optional integer attribute of at least ``minimum``."""
        value = self.get(name)
        if value is None:
            return None
        if not INTEGER.match(value) or int(value) < minimum:
            raise self.invalid(name, f"expected an integer of at least {minimum}")
        return int(value)

    def flag(self, name: str) -> bool:
        """An optional ``Y``/``N`` attribute (absent means ``N``)."""
        value = self.get(name)
        if value in (None, "N"):
            return False
        if value == "Y":
            return True
        raise self.invalid(name, "expected Y or N")

    def choice(self, name: str, choices: dict[str, T]) -> T | None:
        """An optional attribute mapped through ``choices``."""
        value = self.get(name)
        if value is None:
            return None
        if value not in choices:
            raise self.invalid(name, "expected one of " + ", ".join(choices))
        return choices[value]

    def need_choice(self, name: str, choices: dict[str, T]) -> T:
        """A mandatory attribute mapped through ``choices``."""
        self.need(name)
        value = self.choice(name, choices)
        assert value is not None  # present, and choice() raised if it were not a choice
        return value

    def code(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        """An optional attribute that must match ``pattern``."""
        value = self.get(name)
        if value is not None and not pattern.match(value):
            raise self.invalid(name, f"not a valid {what}")
        return value

    def moment(self, name: str) -> datetime | None:
        """An optional ISO 8601 time with an offset, as UTC."""
        value = self.get(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.invalid(name, "expected an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise self.invalid(name, "the time needs a UTC offset, e.g. +02:00")
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.invalid(name, "the time is out of range") from None

    def children(self, tag: str) -> list[Node]:
        """The child elements named ``tag``, in order."""
        found = self.el.findall(tag)
        if len(found) == 1:
            return [Node(found[0], f"{self.path}/{tag}")]
        return [Node(el, f"{self.path}/{tag}[{i}]") for i, el in enumerate(found, 1)]

    def child(self, tag: str) -> Node | None:
        """The first child element named ``tag``, if any."""
        el = self.el.find(tag)
        return None if el is None else Node(el, f"{self.path}/{tag}")

    def need_child(self, tag: str) -> Node:
        """The first child named ``tag``; :class:`MissingElementError` when there is none."""
        node = self.child(tag)
        if node is None:
            raise MissingElementError(f"mandatory element {tag} missing", element=self.path)
        return node
