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
from decimal import Decimal
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from flambeau.services.results.codes import (
    COMPETITION_CODE,
    GAMES_TZ,
    ORGANISATION_CODE,
    Level,
    Shape,
    parse_rsc,
    parse_time_ms,
    shape_of_discipline,
)
from flambeau.services.results.errors import (
    DocumentTooLargeError,
    InvalidAttributeError,
    InvalidRscError,
    InvalidVersionError,
    MalformedXmlError,
    MissingAttributeError,
    MissingElementError,
    UnknownDocumentTypeError,
    UnsafeXmlError,
)
from flambeau.services.results.schemas import (
    Athlete,
    Competitor,
    CompetitorKind,
    CompetitorResult,
    Detail,
    DocumentKind,
    DocumentType,
    Feed,
    KeepAlive,
    MatchOutcome,
    MedalKind,
    Medallist,
    Medallists,
    MedalStanding,
    MedalStandings,
    OdfDocument,
    OdfHeader,
    Period,
    PeriodKind,
    RecordMark,
    ScheduleDocument,
    ScheduleEntry,
    Split,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus

__all__ = ["MAX_BYTES", "Body", "ParsedOdf", "parse", "stream_key"]

MAX_BYTES = 64 * 1024 * 1024
"""Default size limit; London 2012 saw single ODF messages over 20 MB."""

Body = UnitResult | ScheduleDocument | Medallists | MedalStandings | KeepAlive
_T = TypeVar("_T")

_COMPETITION = re.compile(COMPETITION_CODE)
_ORGANISATION = re.compile(ORGANISATION_CODE)
_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
_INTEGER = re.compile(r"^[0-9]{1,18}$")
_DECIMAL = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})?$")
_TIME_COLONS = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?$")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_FEEDS = {"P": Feed.PRODUCTION, "T": Feed.TEST}
_MEDALS = {"ME_GOLD": MedalKind.GOLD, "ME_SILVER": MedalKind.SILVER, "ME_BRONZE": MedalKind.BRONZE}
_MEDAL_FLAGS = {"1": MedalKind.GOLD, "2": MedalKind.SILVER, "3": MedalKind.BRONZE}
_OUTCOMES = {"W": MatchOutcome.WIN, "L": MatchOutcome.LOSS, "T": MatchOutcome.TIE}
_KINDS = {"A": CompetitorKind.ATHLETE, "T": CompetitorKind.TEAM}
_SPLIT_CODES = frozenset({"INTERMEDIATE", "SPLIT"})
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
    text = _decode(raw)
    root = _Node(_load(raw), "OdfBody")
    if root.el.tag != "OdfBody":
        raise MalformedXmlError(
            "the root element must be OdfBody", element=str(root.el.tag), value=str(root.el.tag)
        )
    header = _header(root, tz)
    return ParsedOdf(header, _body(root, header), text)


def _decode(raw: bytes) -> str:
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


def _load(raw: bytes) -> Element:
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


class _Node:
    """An element and its path, with typed attribute readers that raise named errors."""

    __slots__ = ("el", "path")

    def __init__(self, el: Element, path: str) -> None:
        self.el = el
        self.path = path

    def get(self, name: str) -> str | None:
        value = self.el.get(name)
        return value if value else None

    def need(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise MissingAttributeError(
                "mandatory attribute missing", element=self.path, attribute=name
            )
        return value

    def invalid(self, name: str, reason: str) -> InvalidAttributeError:
        return InvalidAttributeError(
            reason, element=self.path, attribute=name, value=self.get(name)
        )

    def integer(self, name: str, *, minimum: int = 0) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if not _INTEGER.match(value) or int(value) < minimum:
            raise self.invalid(name, f"expected an integer of at least {minimum}")
        return int(value)

    def flag(self, name: str) -> bool:
        value = self.get(name)
        if value in (None, "N"):
            return False
        if value == "Y":
            return True
        raise self.invalid(name, "expected Y or N")

    def choice(self, name: str, choices: dict[str, _T]) -> _T | None:
        value = self.get(name)
        if value is None:
            return None
        if value not in choices:
            raise self.invalid(name, "expected one of " + ", ".join(choices))
        return choices[value]

    def need_choice(self, name: str, choices: dict[str, _T]) -> _T:
        self.need(name)
        value = self.choice(name, choices)
        assert value is not None  # present, and choice() raised if it were not a choice
        return value

    def code(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = self.get(name)
        if value is not None and not pattern.match(value):
            raise self.invalid(name, f"not a valid {what}")
        return value

    def moment(self, name: str) -> datetime | None:
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

    def children(self, tag: str) -> list[_Node]:
        found = self.el.findall(tag)
        if len(found) == 1:
            return [_Node(found[0], f"{self.path}/{tag}")]
        return [_Node(el, f"{self.path}/{tag}[{i}]") for i, el in enumerate(found, 1)]

    def child(self, tag: str) -> _Node | None:
        el = self.el.find(tag)
        return None if el is None else _Node(el, f"{self.path}/{tag}")

    def need_child(self, tag: str) -> _Node:
        node = self.child(tag)
        if node is None:
            raise MissingElementError(f"mandatory element {tag} missing", element=self.path)
        return node


def _header(root: _Node, tz: tzinfo) -> OdfHeader:
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
    if not _INTEGER.match(version_text) or int(version_text) < 1:
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


def _generated_at(root: _Node, tz: tzinfo) -> datetime:
    local = datetime.combine(_date(root, "Date"), _time(root), tz)
    try:
        return local.astimezone(UTC)
    except OverflowError:
        raise root.invalid("Date", "the date is out of range") from None


def _result_status(node: _Node, name: str) -> ResultStatus | None:
    value = node.get(name)
    if value is None:
        return None
    if value not in ResultStatus.__members__:
        raise node.invalid(name, "expected one of " + ", ".join(ResultStatus.__members__))
    return ResultStatus[value]


def _date(node: _Node, name: str) -> date:
    value = node.need(name)
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise node.invalid(name, "expected a date YYYY-MM-DD")


def _time(node: _Node) -> time:
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


def _body(root: _Node, header: OdfHeader) -> Body | None:
    kind = header.document_type
    if kind in (DocumentType.RESULT, DocumentType.CURRENT):
        return _unit_result(root, header)
    if kind in (DocumentType.SCHEDULE, DocumentType.SCHEDULE_UPDATE):
        return _schedule(root, header)
    if kind is DocumentType.MEDALLISTS:
        return _medallists(root, header)
    if kind is DocumentType.MEDALS:
        return _medal_standings(root, header)
    if kind is DocumentType.KEEP_ALIVE:
        return KeepAlive(source=header.source, seen_at=header.generated_at, feed=header.feed)
    return None


def _unit_result(root: _Node, header: OdfHeader) -> UnitResult:
    competition = root.need_child("Competition")
    discipline = header.document_code[:3]
    start = end = current_period = None
    infos = competition.child("ExtendedInfos")
    if infos is not None:
        when = infos.child("UnitDateTime")
        if when is not None:
            start, end = when.moment("StartDate"), when.moment("EndDate")
        for info in infos.children("ExtendedInfo"):
            if info.get("Type") == "UI" and info.get("Code") == "PERIOD":
                current_period = info.get("Value")
    home = away = None
    periods: tuple[Period, ...] = ()
    block = competition.child("Periods")
    if block is not None:
        home, away = block.get("Home"), block.get("Away")
        periods = tuple(_period(node) for node in block.children("Period"))
    results = competition.children("Result")
    shape = shape_of_discipline(discipline)
    if shape is None:
        if block is not None:
            shape = Shape.HEAD_TO_HEAD
        elif any((node.get("ResultType") or "").endswith("TIME") for node in results):
            shape = Shape.TIMED
        else:
            shape = Shape.JUDGED
    assert header.result_status is not None  # mandatory for DT_RESULT, defaulted for DT_CURRENT
    return UnitResult(
        competition=header.competition,
        unit=header.document_code,
        discipline=discipline,
        version=header.version,
        status=header.result_status,
        shape=shape,
        document=(
            DocumentKind.RESULT
            if header.document_type is DocumentType.RESULT
            else DocumentKind.CURRENT
        ),
        subcode=header.document_subcode,
        subtype=header.document_subtype,
        feed=header.feed,
        source=header.source,
        start=start,
        end=end,
        current_period=current_period,
        home=home,
        away=away,
        periods=periods,
        competitors=tuple(_competitor_result(node, shape) for node in results),
    )


def _period(node: _Node) -> Period:
    code = node.need("Code")
    upper = code.upper()
    if upper == "TOT":
        kind = PeriodKind.TOTAL
    elif upper.startswith(("PSO", "SO", "SHO", "PEN")):
        kind = PeriodKind.SHOOTOUT
    elif upper.startswith(("ET", "OT", "GS")):
        kind = PeriodKind.EXTRA_TIME
    else:
        kind = PeriodKind.REGULAR
    return Period(
        code=code,
        kind=kind,
        home_score=node.integer("HomeScore"),
        away_score=node.integer("AwayScore"),
        home_period_score=node.integer("HomePeriodScore"),
        away_period_score=node.integer("AwayPeriodScore"),
    )


def _competitor_result(node: _Node, shape: Shape) -> CompetitorResult:
    text = node.get("Result")
    result_type = node.get("ResultType")
    explicit = result_type is not None and not result_type.startswith("IRM")
    time_ms = score = points = None
    base = (result_type or "").removeprefix("IRM_") or None
    if base == "TIME" or (base is None and shape is Shape.TIMED):
        time_ms = parse_time_ms(text) if text else None
        if time_ms is None and text and explicit:
            raise node.invalid("Result", "expected a time such as 52.16 or 1:45.30")
    elif base in ("POINTS", "SCORE") or base is None:
        if shape is Shape.HEAD_TO_HEAD:
            score = int(text) if text and _INTEGER.match(text) else None
        elif text and _DECIMAL.match(text):
            points = Decimal(text)
        elif text and explicit:
            raise node.invalid("Result", "expected points such as 14.866")
    splits: list[Split] = []
    details: list[Detail] = []
    extended = node.child("ExtendedResults")
    for item in [] if extended is None else extended.children("ExtendedResult"):
        code = item.need("Code")
        if item.get("Type") == "ER" and code in _SPLIT_CODES:
            value = item.get("Value")
            split_ms = parse_time_ms(value) if value else None
            if value and split_ms is None:
                raise item.invalid("Value", "expected a split time such as 25.12")
            at = item.need("Pos")
            splits.append(Split(at=at, time_ms=split_ms, rank=item.integer("Rank", minimum=1)))
        else:
            details.append(Detail(code=code, value=item.get("Value") or "", pos=item.get("Pos")))
    records: list[RecordMark] = []
    indicators = node.child("RecordIndicators")
    for mark in [] if indicators is None else indicators.children("RecordIndicator"):
        code = mark.get("Code") or mark.need("RecordType")
        if not _CODE.match(code):
            raise mark.invalid("Code", "not a record code such as WR or OR")
        records.append(RecordMark(code=code, equalled=mark.flag("Equalled")))
    return CompetitorResult(
        competitor=_competitor(node.need_child("Competitor")),
        rank=node.integer("Rank", minimum=1),
        rank_equal=node.flag("RankEqual"),
        result=text,
        time_ms=time_ms,
        score=score,
        points=points,
        irm=node.code("IRM", _CODE, "invalid result mark such as DNF"),
        outcome=node.choice("WLT", _OUTCOMES),
        sort_order=node.integer("SortOrder", minimum=1),
        start_order=node.integer("StartOrder", minimum=1),
        splits=tuple(splits),
        details=tuple(details),
        records=tuple(records),
    )


def _name(node: _Node | None) -> str | None:
    if node is None:
        return None
    team = node.get("TeamName")
    if team is not None:
        return team
    parts = [part for part in (node.get("GivenName"), node.get("FamilyName")) if part]
    return " ".join(parts) or None


def _competitor(node: _Node) -> Competitor:
    athletes: list[Athlete] = []
    composition = node.child("Composition")
    for member in [] if composition is None else composition.children("Athlete"):
        description = member.child("Description")
        athletes.append(
            Athlete(
                code=member.need("Code"),
                name=_name(description),
                noc=None
                if description is None
                else description.code("Organisation", _ORGANISATION, "organisation code"),
            )
        )
    return Competitor(
        code=node.need("Code"),
        kind=node.choice("Type", _KINDS) or CompetitorKind.ATHLETE,
        noc=node.code("Organisation", _ORGANISATION, "organisation code such as FRA"),
        name=_name(node.child("Description")),
        athletes=tuple(athletes),
    )


def _schedule(root: _Node, header: OdfHeader) -> ScheduleDocument:
    competition = root.need_child("Competition")
    discipline = header.document_code[:3]
    entries = []
    for node in competition.children("Unit"):
        code = node.need("Code")
        rsc = parse_rsc(code, element=node.path, attribute="Code", at_least=Level.EVENT)
        if rsc.discipline != discipline:
            raise InvalidRscError(
                f"a {discipline} schedule cannot hold a {rsc.discipline} unit",
                element=node.path,
                attribute="Code",
                value=code,
                part="discipline",
            )
        status_text = node.need("ScheduleStatus")
        if status_text not in UnitStatus.__members__:
            raise node.invalid(
                "ScheduleStatus", "expected one of " + ", ".join(UnitStatus.__members__)
            )
        names = node.children("ItemName")
        english = [name for name in names if name.get("Language") in (None, "ENG")]
        title = (english or names)[0].get("Value") if names else None
        entries.append(
            ScheduleEntry(
                unit=code,
                status=UnitStatus[status_text],
                start=node.moment("StartDate"),
                end=node.moment("EndDate"),
                venue=node.get("Venue"),
                location=node.get("Location"),
                title=title,
                medal=None if node.get("Medal") == "0" else node.choice("Medal", _MEDAL_FLAGS),
            )
        )
    return ScheduleDocument(
        competition=header.competition,
        discipline=discipline,
        version=header.version,
        full=header.document_type is DocumentType.SCHEDULE,
        generated_at=header.generated_at,
        feed=header.feed,
        units=tuple(entries),
    )


def _medallists(root: _Node, header: OdfHeader) -> Medallists:
    competition = root.need_child("Competition")
    medallists: list[Medallist] = []
    for node in competition.children("Medal"):
        medal = node.need_choice("Code", _MEDALS)
        unit = node.get("Unit")
        if unit is not None:
            parse_rsc(unit, element=node.path, attribute="Unit", at_least=Level.UNIT)
        competitors = node.children("Competitor")
        if not competitors:
            raise MissingElementError("a Medal needs a Competitor", element=node.path)
        medallists.extend(
            Medallist(medal=medal, competitor=_competitor(competitor), unit=unit)
            for competitor in competitors
        )
    assert header.result_status is not None  # mandatory for DT_MEDALLISTS
    return Medallists(
        competition=header.competition,
        event=parse_rsc(header.document_code, at_least=Level.EVENT).event_code,
        version=header.version,
        status=header.result_status,
        feed=header.feed,
        medallists=tuple(medallists),
    )


def _medal_standings(root: _Node, header: OdfHeader) -> MedalStandings:
    table = root.need_child("Competition").need_child("MedalStandings").need_child("MedalsTable")
    standings = []
    for line in table.children("MedalLine"):
        line.need("Organisation")
        line.need("Rank")
        noc = line.code("Organisation", _ORGANISATION, "organisation code such as FRA")
        rank = line.integer("Rank", minimum=1)
        assert noc is not None  # present, or need() raised
        assert rank is not None
        numbers = [n for n in line.children("MedalNumber") if n.get("Type") in (None, "TOT")]
        if not numbers:
            raise MissingElementError("a MedalLine needs a MedalNumber", element=line.path)
        count = numbers[0]
        gold, silver, bronze = (count.integer(name) or 0 for name in ("Gold", "Silver", "Bronze"))
        total = count.integer("Total")
        standings.append(
            MedalStanding(
                rank=rank,
                noc=noc,
                gold=gold,
                silver=silver,
                bronze=bronze,
                total=gold + silver + bronze if total is None else total,
            )
        )
    return MedalStandings(
        competition=header.competition,
        version=header.version,
        feed=header.feed,
        standings=tuple(standings),
    )
