"""What the results processors read: one document, from ``results.odf`` or ``results.native``.

Both input streams carry the same documents in two forms: raw ODF XML (with the header the
adapter parsed) and native JSON. :func:`read` turns a record of either into an
:class:`Incoming`: the normalized body and what the processors need to check before applying
it. Both forms of a result, schedule or medallists document are keyed alike
(:func:`native_key` agrees with :func:`~flambeau.services.results.odf.stream_key`), so an ODF
producer and a native one that send the same unit share its version sequence. (Keep-alives
need no such agreement: liveness re-keys every sign of life by source.)

A raw record is trusted no further than its XML: the XML is parsed again (with the same
hardened parser) and must agree with the stored header, since a key with ``write`` on
``results.odf`` could append a record with any header through the generic ingest route.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from flambeau.events import MAX_KEY_BYTES, NewEvent, Record
from flambeau.services.results.odf import ParsedOdf, parse, stream_key
from flambeau.services.results.schemas import (
    DocumentKind,
    DocumentType,
    Feed,
    IgnoredReason,
    KeepAlive,
    Medallists,
    OdfDocument,
    ScheduleDocument,
    UnitResult,
)

__all__ = [
    "NATIVE_TYPES",
    "Incoming",
    "NativeBody",
    "native_event",
    "native_key",
    "odf_event",
    "read",
    "source_key",
]

NativeBody = UnitResult | ScheduleDocument | Medallists | KeepAlive
"""A native document: what ``results.native`` carries."""

NATIVE_TYPES: dict[type[Any], frozenset[DocumentType]] = {
    UnitResult: frozenset({DocumentType.RESULT, DocumentType.CURRENT}),
    ScheduleDocument: frozenset({DocumentType.SCHEDULE, DocumentType.SCHEDULE_UPDATE}),
    Medallists: frozenset({DocumentType.MEDALLISTS}),
    KeepAlive: frozenset({DocumentType.KEEP_ALIVE}),
}
"""The ODF document types each native document stands for."""

_UNLIMITED = 1 << 62  # the adapter enforced its size limit when the document came in


def native_key(body: NativeBody) -> str:
    """The ``results.native`` key of ``body`` (for all but keep-alives, its ODF form's key)."""
    match body:
        case UnitResult():
            return f"{body.competition}/{body.unit}"
        case ScheduleDocument():
            return f"{body.competition}/{body.discipline}"
        case Medallists():
            return body.competition
        case KeepAlive():
            return source_key(body.source)


def source_key(source: str) -> str:
    """The key of a source's signs of life (``results.heard``) and of its native keep-alives.

    ``source/<name>``; a name too long for a key (sources may be 256 characters, keys
    :data:`~flambeau.events.MAX_KEY_BYTES` bytes) is replaced by its digest.
    """
    key = f"source/{source}"
    if len(key.encode()) <= MAX_KEY_BYTES:
        return key
    return f"source/#{_digest(source.encode())}"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def odf_event(parsed: ParsedOdf) -> NewEvent:
    """The ``results.odf`` event of an accepted document.

    Its id is a digest of the document, so a source re-sending the very same message (a retry)
    is acknowledged as a duplicate by the log and stored once; a different document with the
    same version is stored, and the processors count it as stale. Its time is the document's
    generation time.
    """
    return NewEvent(
        parsed.document(),
        key=parsed.stream_key,
        id="odf-" + _digest(parsed.xml.encode()),
        time=parsed.header.generated_at,
    )


def native_event(body: NativeBody) -> NewEvent:
    """The ``results.native`` event of a native document; its id is a digest of its content.

    Its time is the source's: a schedule's ``generated_at``, a keep-alive's ``seen_at``, a
    result's ``generated_at`` when the producer sets it (otherwise the time it was received).
    """
    moment = None
    match body:
        case ScheduleDocument() | UnitResult():
            moment = body.generated_at
        case KeepAlive():
            moment = body.seen_at
        case _:
            pass
    return NewEvent(
        body,
        key=native_key(body),
        id="native-" + _digest(msgspec.msgpack.encode(body)),
        time=moment,
    )


@dataclass(frozen=True)
class Incoming:
    """A document read from an input record.

    Attributes:
        body: The normalized document.
        document_type: Its ODF type (``DT_RESULT``...), for native documents too.
        source: Who sent it, when known.
        feed: Production or test.
        problem: Why it must not be applied (misrouted or inconsistent), or ``None``.
    """

    body: Any
    document_type: DocumentType
    source: str | None
    feed: Feed
    problem: IgnoredReason | None = None


def read(record: Record[Any], wanted: frozenset[DocumentType]) -> Incoming | None:
    """The document in ``record`` if its type is one of ``wanted``; ``None`` otherwise.

    Raises:
        OdfError: the stored XML no longer parses (the processor dead-letters the record).
    """
    data = record.data
    if isinstance(data, OdfDocument):
        if data.header.document_type not in wanted:
            return None
        parsed = parse(data.xml, max_bytes=_UNLIMITED)
        header = parsed.header
        problem = None
        if header != data.header:
            problem = IgnoredReason.INCONSISTENT
        elif record.key != stream_key(header):
            problem = IgnoredReason.MISROUTED
        return Incoming(parsed.body, header.document_type, header.source, header.feed, problem)
    kinds = NATIVE_TYPES.get(type(data), frozenset())
    if not kinds & wanted:
        return None
    kind = _native_type(data)
    source = data.source if isinstance(data, UnitResult | KeepAlive) else None
    problem = None if record.key == native_key(data) else IgnoredReason.MISROUTED
    return Incoming(data, kind, source, data.feed, problem)


def _native_type(body: NativeBody) -> DocumentType:
    match body:
        case UnitResult():
            current = body.document is DocumentKind.CURRENT
            return DocumentType.CURRENT if current else DocumentType.RESULT
        case ScheduleDocument():
            return DocumentType.SCHEDULE if body.full else DocumentType.SCHEDULE_UPDATE
        case Medallists():
            return DocumentType.MEDALLISTS
        case KeepAlive():
            return DocumentType.KEEP_ALIVE
