"""A hardened parser of Olympic Data Feed (ODF) documents into normalized results.

The XML goes through ``defusedxml`` with DTDs forbidden: a document may not declare a
``DOCTYPE``, so no entity is ever expanded (billion laughs), no external entity or DTD is
fetched (XXE), and both are refused with :class:`UnsafeXmlError`. Documents must be UTF-8, as
ODF requires, and no larger than ``max_bytes``.

Every other refusal names the element and attribute at fault (see :mod:`.errors`): malformed
XML, a root other than ``<OdfBody>``, an unknown ``DocumentType``, a missing mandatory
attribute, a bad RSC, a ``Version`` that is not a positive integer, a bad date, time, flag or
number.

``<OdfBody>`` header: ``CompetitionCode``, ``DocumentCode`` (RSC), ``DocumentType``,
``Version``, ``FeedFlag``, ``Date``, ``Time`` and ``Source`` are mandatory; ``ResultStatus`` is
mandatory for ``DT_RESULT`` and ``DT_MEDALLISTS`` (``DT_CURRENT`` defaults to LIVE);
``DocumentSubtype``, ``DocumentSubcode`` and ``LogicalDate`` are optional. ``Date`` and
``Time`` (``HHMMSSmmm``) are Games local time; every time the parser returns is UTC.

Bodies normalized: ``DT_RESULT``/``DT_CURRENT`` -> :class:`UnitResult`,
``DT_SCHEDULE``/``DT_SCHEDULE_UPDATE`` -> :class:`ScheduleDocument`, ``DT_MEDALLISTS`` ->
:class:`Medallists`, ``DT_MEDALS`` -> :class:`MedalStandings`, ``DT_KA`` -> :class:`KeepAlive`.
Other known ODF types parse to a header and no body, and are kept raw for replay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TypeVar

import msgspec

from flambeau.services.results._odf_bodies import (
    medal_standings,
    medallists,
    schedule,
    unit_result,
)
from flambeau.services.results._xml import INTEGER, Node, decode, load
from flambeau.services.results.codes import COMPETITION_CODE, GAMES_TZ, Level, parse_rsc
from flambeau.services.results.errors import (
    DocumentTooLargeError,
    InvalidAttributeError,
    InvalidVersionError,
    MalformedXmlError,
    UnknownDocumentTypeError,
)
from flambeau.services.results.schemas import (
    DocumentType,
    Feed,
    KeepAlive,
    Medallists,
    MedalStandings,
    OdfDocument,
    OdfHeader,
    ScheduleDocument,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus

__all__ = ["MAX_BYTES", "Body", "ParsedOdf", "parse", "stream_key"]

MAX_BYTES = 64 * 1024 * 1024
"""Default size limit; London 2012 saw single ODF messages over 20 MB."""

Body = UnitResult | ScheduleDocument | Medallists | MedalStandings | KeepAlive

_COMPETITION = re.compile(COMPETITION_CODE)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})?$")
_TIME_COLONS = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?$")
_FEEDS = {"P": Feed.PRODUCTION, "T": Feed.TEST}
_LEVELS = {
    DocumentType.RESULT: Level.UNIT,
    DocumentType.CURRENT: Level.UNIT,
    DocumentType.MEDALLISTS: Level.EVENT,
}


@dataclass(frozen=True)
class ParsedOdf:
    """A parsed ODF document.

    Attributes:
        header: The ``<OdfBody>`` attributes.
        body: The normalized content, or ``None`` for a type kept raw only.
        xml: The document text, as received.
    """

    header: OdfHeader
    body: Body | None
    xml: str

    @property
    def stream_key(self) -> str:
        """The key to append the raw document to ``results.odf`` with; see :func:`stream_key`."""
        return stream_key(self.header)

    def document(self) -> OdfDocument:
        """The raw document as an event for ``results.odf``."""
        return OdfDocument(header=self.header, xml=self.xml)


def stream_key(header: OdfHeader) -> str:
    """The ``results.odf`` key of a document, chosen so each reducer's state is in one partition.

    Medallists and medal tables share the competition's key (the medal table spans events,
    and ODF wants medallists ingested before medals); a discipline's schedule and schedule
    updates share one key; keep-alives are keyed by source; everything else by document code.
    """
    kind = header.document_type
    if kind in (DocumentType.MEDALLISTS, DocumentType.MEDALS):
        return header.competition
    if kind in (DocumentType.SCHEDULE, DocumentType.SCHEDULE_UPDATE):
        return f"{header.competition}/{header.document_code[:3]}"
    if kind is DocumentType.KEEP_ALIVE:
        return f"{header.competition}/source/{header.source}"
    return f"{header.competition}/{header.document_code}"


def parse(data: bytes | str, *, tz: tzinfo = GAMES_TZ, max_bytes: int = MAX_BYTES) -> ParsedOdf:
    """Parse one ODF document.

    Args:
        data: The document, UTF-8 bytes or text.
        tz: The zone of the header's ``Date`` and ``Time`` (the Games' local time).
        max_bytes: Larger documents are refused before parsing.

    Raises:
        DocumentTooLargeError: more than ``max_bytes``.
        UnsafeXmlError: a DOCTYPE, entity declaration or external reference.
        MalformedXmlError: not UTF-8, not well-formed, or not an ``<OdfBody>``.
        MissingAttributeError, MissingElementError, InvalidAttributeError (and its
            subclasses UnknownDocumentTypeError, InvalidVersionError, InvalidRscError):
            a header or body field is absent or wrong; the error names it.
    """
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise DocumentTooLargeError(f"document has {len(raw)} bytes, the limit is {max_bytes}")
    text = decode(raw)
    root = Node(load(raw), "OdfBody")
    if root.el.tag != "OdfBody":
        raise MalformedXmlError(
            "the root element must be OdfBody", element=str(root.el.tag), value=str(root.el.tag)
        )
    header = _validated(_header(root, tz))
    body = _body(root, header)
    return ParsedOdf(header, None if body is None else _validated(body), text)


_HEADER_ATTRIBUTES = {
    "source": "Source",
    "document_subtype": "DocumentSubtype",
    "document_subcode": "DocumentSubcode",
}
V = TypeVar("V", bound=OdfHeader | Body)


def _validated(value: V) -> V:
    """``value`` checked against its schema's limits (lengths, patterns, bounds).

    Constructing a Struct checks types only; decoding checks everything. Every stream decodes
    what the processors emit, so a value that would fail there (a 300-character name) is
    refused here, while the producer can still be told.
    """
    try:
        return msgspec.msgpack.decode(msgspec.msgpack.encode(value), type=type(value))
    except msgspec.ValidationError as error:
        field, reason = _split_validation(str(error))
        if isinstance(value, OdfHeader):
            # the header parser checked every other attribute already
            attribute = _HEADER_ATTRIBUTES.get(field or "", field)
            raise InvalidAttributeError(reason, element="OdfBody", attribute=attribute) from None
        raise InvalidAttributeError(
            f"{reason} (a limit of the normalized document)",
            element=type(value).__name__,
            attribute=field,
        ) from None


def _split_validation(text: str) -> tuple[str | None, str]:
    reason, _, where = text.partition(" - at `$")
    field = where.rstrip("`").lstrip(".") or None
    return field, reason


def _header(root: Node, tz: tzinfo) -> OdfHeader:
    mandatory = ("CompetitionCode", "DocumentCode", "DocumentType", "Version", "FeedFlag")
    for name in (*mandatory, "Date", "Time", "Source"):
        root.need(name)
    competition = root.need("CompetitionCode")
    if not _COMPETITION.match(competition):
        raise root.invalid("CompetitionCode", "not a valid competition code, e.g. OG2024")
    try:
        kind = DocumentType(root.need("DocumentType"))
    except ValueError:
        raise UnknownDocumentTypeError(
            "not an ODF document type",
            element="OdfBody",
            attribute="DocumentType",
            value=root.get("DocumentType"),
        ) from None
    code = root.need("DocumentCode")
    parse_rsc(code, at_least=_LEVELS.get(kind, Level.DISCIPLINE))
    version_text = root.need("Version")
    if not INTEGER.match(version_text) or int(version_text) < 1:
        raise InvalidVersionError(
            "Version must be a positive integer",
            element="OdfBody",
            attribute="Version",
            value=version_text,
        )
    status = _result_status(root, "ResultStatus")
    if status is None and kind in (DocumentType.RESULT, DocumentType.MEDALLISTS):
        root.need("ResultStatus")
    if status is None and kind is DocumentType.CURRENT:
        status = ResultStatus.LIVE
    feed = root.need_choice("FeedFlag", _FEEDS)
    return OdfHeader(
        competition=competition,
        document_code=code,
        document_type=kind,
        version=int(version_text),
        feed=feed,
        generated_at=_generated_at(root, tz),
        source=root.need("Source"),
        document_subtype=root.get("DocumentSubtype"),
        document_subcode=root.get("DocumentSubcode"),
        result_status=status,
        logical_date=_date(root, "LogicalDate") if root.get("LogicalDate") else None,
    )


def _generated_at(root: Node, tz: tzinfo) -> datetime:
    local = datetime.combine(_date(root, "Date"), _time(root), tz)
    try:
        return local.astimezone(UTC)
    except OverflowError:
        raise root.invalid("Date", "the date is out of range") from None


def _result_status(node: Node, name: str) -> ResultStatus | None:
    value = node.get(name)
    if value is None:
        return None
    if value not in ResultStatus.__members__:
        raise node.invalid(name, "expected one of " + ", ".join(ResultStatus.__members__))
    return ResultStatus[value]


def _date(node: Node, name: str) -> date:
    value = node.need(name)
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise node.invalid(name, "expected a date YYYY-MM-DD")


def _time(node: Node) -> time:
    value = node.need("Time")
    match = _TIME.match(value) or _TIME_COLONS.match(value)
    try:
        if match:
            hours, minutes, seconds, millis = match.groups()
            micros = int((millis or "").ljust(3, "0")) * 1000
            return time(int(hours), int(minutes), int(seconds), micros)
    except ValueError:
        pass
    raise node.invalid("Time", "expected a time HHMMSSmmm")


def _body(root: Node, header: OdfHeader) -> Body | None:
    kind = header.document_type
    if kind in (DocumentType.RESULT, DocumentType.CURRENT):
        return unit_result(root, header)
    if kind in (DocumentType.SCHEDULE, DocumentType.SCHEDULE_UPDATE):
        return schedule(root, header)
    if kind is DocumentType.MEDALLISTS:
        return medallists(root, header)
    if kind is DocumentType.MEDALS:
        return medal_standings(root, header)
    if kind is DocumentType.KEEP_ALIVE:
        return KeepAlive(source=header.source, seen_at=header.generated_at, feed=header.feed)
    return None
