"""Errors the results service raises on purpose.

Every ODF input error carries *where* the document went wrong, so the gateway can answer a
400 problem+json that names it:

- ``element``: a path from the root, e.g. ``OdfBody/Competition/Result[2]/Competitor``
  (indexes are 1-based and appear only when an element repeats);
- ``attribute``: the attribute's name, e.g. ``Version``, or ``None`` when the element itself
  is the problem;
- ``value``: the offending text, clipped to 80 characters, or ``None`` when it was missing.
"""

from __future__ import annotations

from flambeau.errors import FlambeauError

__all__ = [
    "DocumentTooLargeError",
    "InvalidAttributeError",
    "InvalidRscError",
    "InvalidVersionError",
    "MalformedXmlError",
    "MissingAttributeError",
    "MissingElementError",
    "OdfError",
    "UnknownDocumentTypeError",
    "UnsafeXmlError",
]

_CLIP = 80


def _clip(value: str | None) -> str | None:
    if value is None or len(value) <= _CLIP:
        return value
    return value[: _CLIP - 1] + "…"


class OdfError(FlambeauError):
    """An ODF document was refused; the attributes say where.

    Attributes:
        element: Path of the offending element, or ``None`` for the document as a whole.
        attribute: Name of the offending attribute, or ``None``.
        value: The offending value (clipped), or ``None`` when absent.
        reason: What is wrong, in words.
    """

    def __init__(
        self,
        reason: str,
        *,
        element: str | None = None,
        attribute: str | None = None,
        value: str | None = None,
    ) -> None:
        self.reason = reason
        self.element = element
        self.attribute = attribute
        self.value = _clip(value)
        where = element or "document"
        if attribute is not None:
            where = f"{where}@{attribute}"
        shown = "" if self.value is None else f" {self.value!r}"
        super().__init__(f"{where}{shown}: {reason}")

    @property
    def location(self) -> str:
        """``element@attribute`` (or just the element), for problem details."""
        where = self.element or ""
        return f"{where}@{self.attribute}" if self.attribute else where


class DocumentTooLargeError(OdfError):
    """The document is bigger than the parser's configured limit."""


class MalformedXmlError(OdfError):
    """The bytes are not well-formed UTF-8 XML, or the root is not ``<OdfBody>``.

    Attributes:
        line: 1-based line of the syntax error, when the XML parser reported one.
        column: 0-based column of the syntax error, when reported.
    """

    def __init__(
        self,
        reason: str,
        *,
        element: str | None = None,
        attribute: str | None = None,
        value: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(reason, element=element, attribute=attribute, value=value)
        self.line = line
        self.column = column


class UnsafeXmlError(OdfError):
    """The document declares a DTD, entities or external references; none is ever expanded.

    Attributes:
        construct: What was refused: ``"DOCTYPE"``, ``"ENTITY"`` or ``"external reference"``.
    """

    def __init__(self, reason: str, *, construct: str, value: str | None = None) -> None:
        super().__init__(reason, element=construct, value=value)
        self.construct = construct


class MissingAttributeError(OdfError):
    """A mandatory attribute is absent or empty."""


class MissingElementError(OdfError):
    """A mandatory child element is absent."""


class InvalidAttributeError(OdfError):
    """An attribute is present but its value is not allowed (a bad date, flag or number)."""


class UnknownDocumentTypeError(InvalidAttributeError):
    """``DocumentType`` is not an ODF message type."""


class InvalidVersionError(InvalidAttributeError):
    """``Version`` is not a positive integer."""


class InvalidRscError(InvalidAttributeError):
    """A results system code (RSC) is malformed or names the wrong level.

    Attributes:
        part: The RSC part at fault (``discipline``, ``gender``, ``event``, ``phase``,
            ``unit``), or ``None`` when the whole code is (its length or characters).
    """

    def __init__(
        self,
        reason: str,
        *,
        element: str | None = None,
        attribute: str | None = None,
        value: str | None = None,
        part: str | None = None,
    ) -> None:
        super().__init__(reason, element=element, attribute=attribute, value=value)
        self.part = part
