"""The results payloads: the normalized events and the nested records they carry.

:mod:`flambeau.services.results.schemas` re-exports them and registers the streams that carry
them; import them from there.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from enum import StrEnum

import msgspec

from flambeau.events import Event
from flambeau.services.ops.schemas import Feed
from flambeau.services.results.codes import Level, Shape, parse_rsc
from flambeau.services.results.errors import InvalidRscError
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.vocabulary import (
    CompetitionCode,
    CompetitorKind,
    Count,
    Discipline,
    DocumentKind,
    DocumentType,
    EventCode,
    Irm,
    LongText,
    MatchOutcome,
    MedalKind,
    Moment,
    Organisation,
    PeriodKind,
    Position,
    RecordCode,
    RscCode,
    Text,
    UnitCode,
    Version,
)


def _check_rsc(code: str, attribute: str, at_least: Level) -> None:
    # msgspec turns a ValueError raised in __post_init__ into a ValidationError naming the
    # type, which is what a JSON producer should see for a bad code.
    try:
        parse_rsc(code, element="", attribute=attribute, at_least=at_least)
    except InvalidRscError as error:
        raise ValueError(f"{attribute}: {error.reason} ({code!r})") from None


class _Part(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the nested records: frozen, keyword-only."""


class Athlete(_Part, frozen=True, kw_only=True):
    """A member of a team (or the athlete of an individual entry)."""

    code: Text
    name: Text | None = None
    noc: Organisation | None = None


class Competitor(_Part, frozen=True, kw_only=True):
    """Who competes: an athlete or a team, with their organisation (NOC)."""

    code: Text
    kind: CompetitorKind = CompetitorKind.ATHLETE
    noc: Organisation | None = None
    name: Text | None = None
    athletes: tuple[Athlete, ...] = ()


class Split(_Part, frozen=True, kw_only=True):
    """An intermediate time of a race: at ``at`` (e.g. ``"50"`` metres), the time and rank."""

    at: Text
    time_ms: Count | None = None
    rank: Position | None = None


class Detail(_Part, frozen=True, kw_only=True):
    """Any other scored item: a judge's mark, a difficulty value (``code``, ``pos``, ``value``)."""

    code: Text
    value: Text
    pos: Text | None = None


class RecordMark(_Part, frozen=True, kw_only=True):
    """A record flagged on a result: ``WR``, ``OR``, a continental record; maybe equalled."""

    code: RecordCode
    equalled: bool = False


class CompetitorResult(_Part, frozen=True, kw_only=True):
    """One competitor's line in a unit.

    ``result`` is the display text as the timing system wrote it. The typed value depends on
    the shape: ``time_ms`` for timed races, ``score`` for head-to-head units, ``points`` for
    judged ones. Distances and heights keep only the text.
    """

    competitor: Competitor
    rank: Position | None = None
    rank_equal: bool = False
    result: Text | None = None
    time_ms: Count | None = None
    score: Count | None = None
    points: Decimal | None = None
    irm: Irm | None = None
    outcome: MatchOutcome | None = None
    sort_order: Position | None = None
    start_order: Position | None = None
    splits: tuple[Split, ...] = ()
    details: tuple[Detail, ...] = ()
    records: tuple[RecordMark, ...] = ()


class Period(_Part, frozen=True, kw_only=True):
    """A period of a head-to-head unit: half, quarter, set, extra time, shoot-out, total.

    ``home_score``/``away_score`` are the running score at its end; the ``*_period_score``
    fields the score within the period alone.
    """

    code: Text
    kind: PeriodKind = PeriodKind.REGULAR
    home_score: Count | None = None
    away_score: Count | None = None
    home_period_score: Count | None = None
    away_period_score: Count | None = None


class _UnitEvent(Event, frozen=True, kw_only=True):
    """Base of the events about one unit: its competition, code and discipline come first."""

    competition: CompetitionCode
    unit: RscCode
    discipline: Discipline


class UnitResult(Event, frozen=True, kw_only=True, tag="unit_result"):
    """A snapshot of one unit's results (ODF ``DT_RESULT`` or ``DT_CURRENT``), one version.

    Start lists, live results and official results are all this event with another
    ``status``. ``home``/``away`` and ``periods`` are set for head-to-head units.
    ``generated_at`` is when the source made the snapshot: a native producer sets it, and it
    becomes the event time (an ODF document's time is its header's ``Date`` and ``Time``), so
    a replayed or skewed source keeps its own clock on every stream downstream.
    """

    competition: CompetitionCode
    unit: UnitCode
    discipline: Discipline
    version: Version
    status: ResultStatus
    shape: Shape
    document: DocumentKind = DocumentKind.RESULT
    subcode: Text | None = None
    subtype: Text | None = None
    feed: Feed = Feed.PRODUCTION
    source: Text | None = None
    unit_status: UnitStatus | None = None
    venue: Text | None = None
    start: Moment | None = None
    end: Moment | None = None
    current_period: Text | None = None
    home: Text | None = None
    away: Text | None = None
    periods: tuple[Period, ...] = ()
    competitors: tuple[CompetitorResult, ...] = ()
    generated_at: Moment | None = None

    def __post_init__(self) -> None:
        _check_rsc(self.unit, "unit", Level.UNIT)
        if self.discipline != self.unit[:3]:  # the unit code is authoritative
            msgspec.structs.force_setattr(self, "discipline", self.unit[:3])
        # Native producers may write any offset; everything downstream sees UTC.
        for name in ("start", "end", "generated_at"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset():
                msgspec.structs.force_setattr(self, name, moment.astimezone(UTC))


class ScheduleEntry(_Part, frozen=True, kw_only=True):
    """One unit in a schedule: its status, times, venue and title."""

    unit: EventCode
    status: UnitStatus
    start: Moment | None = None
    end: Moment | None = None
    venue: Text | None = None
    location: Text | None = None
    title: Text | None = None
    medal: MedalKind | None = None

    def __post_init__(self) -> None:
        _check_rsc(self.unit, "unit", Level.EVENT)


class ScheduleDocument(Event, frozen=True, kw_only=True, tag="schedule_document"):
    """A discipline's schedule (``full``: ``DT_SCHEDULE``) or changes (``DT_SCHEDULE_UPDATE``).

    Also a native document: a producer that does not speak ODF posts it as JSON.
    """

    competition: CompetitionCode
    discipline: Discipline
    version: Version
    full: bool
    generated_at: Moment
    feed: Feed = Feed.PRODUCTION
    units: tuple[ScheduleEntry, ...] = ()


class UnitScheduleChanged(_UnitEvent, frozen=True, kw_only=True, tag="unit_schedule"):
    """A unit's schedule status, times or venue changed."""

    status: UnitStatus
    previous_status: UnitStatus | None = None
    start: Moment | None = None
    end: Moment | None = None
    venue: Text | None = None
    location: Text | None = None
    title: Text | None = None
    medal: MedalKind | None = None
    version: Version = 0
    feed: Feed = Feed.PRODUCTION


class EndAdjustment(StrEnum):
    """Why a unit's estimated end is not its scheduled end (see :mod:`.estimates`)."""

    LATE_START = "late_start"
    """Play began after the scheduled start."""
    DELAYED = "delayed"
    """Play has not begun and the scheduled start has passed (or the unit is DELAYED)."""
    INTERRUPTED = "interrupted"
    """Play was, or is, interrupted."""
    EXTRA_TIME = "extra_time"
    """Extra time (overtime) is being played or was played."""
    SHOOTOUT = "shootout"
    """A shoot-out (penalties, 7 m throws) is being played or was played."""
    TIE_BREAK = "tie_break"
    """A set went to a tie-break."""
    ADDED_PERIOD = "added_period"
    """A set beyond the straight sets is being played or was played."""
    FINISHED = "finished"
    """The unit finished: the estimate is the time it did."""


class UnitEndEstimated(_UnitEvent, frozen=True, kw_only=True, tag="unit_end_estimated"):
    """When a unit is now expected to end: its schedule moved by what happened since.

    Emitted on ``results.units`` by ``results.unit-clock`` whenever the estimate or its
    ``adjustments`` change, with the event time of the document that moved it. See
    :mod:`~flambeau.services.results.estimates` for the rules and
    :mod:`~flambeau.services.results.periods` for the per-sport lengths.
    """

    estimated_end: Moment
    scheduled_start: Moment | None = None
    scheduled_end: Moment | None = None
    started_at: Moment | None = None
    adjustments: tuple[EndAdjustment, ...] = ()
    feed: Feed = Feed.PRODUCTION


class VenueDaySchedule(Event, frozen=True, kw_only=True, tag="venue_day_schedule"):
    """Every unit of one discipline at one venue on one day (Games local time), in start order.

    A venue that hosts several disciplines has one of these per discipline; an empty
    ``units`` means the discipline no longer uses the venue that day.
    """

    competition: CompetitionCode
    day: date
    venue: Text
    discipline: Discipline
    units: tuple[ScheduleEntry, ...] = ()
    version: Version = 0
    feed: Feed = Feed.PRODUCTION


class Medallist(_Part, frozen=True, kw_only=True):
    """A medal of an event and who won it; ``unit`` is where it was decided, when known."""

    medal: MedalKind
    competitor: Competitor
    unit: RscCode | None = None


class Medallists(Event, frozen=True, kw_only=True, tag="medallists"):
    """An event's medallists document (ODF ``DT_MEDALLISTS``), one version; also native."""

    competition: CompetitionCode
    event: EventCode
    version: Version
    status: ResultStatus
    feed: Feed = Feed.PRODUCTION
    medallists: tuple[Medallist, ...] = ()

    def __post_init__(self) -> None:
        _check_rsc(self.event, "event", Level.EVENT)


class MedalsAwarded(Event, frozen=True, kw_only=True, tag="medals_awarded"):
    """An event's official medallists, now counted in the table.

    ``withdrawn`` lists medallists of the previously counted version that this one no longer
    has: a medal moved after a protest.
    """

    competition: CompetitionCode
    event: RscCode
    version: Version
    medallists: tuple[Medallist, ...] = ()
    withdrawn: tuple[Medallist, ...] = ()
    feed: Feed = Feed.PRODUCTION


class MedalCount(Event, frozen=True, kw_only=True, tag="medal_count"):
    """A NOC's medal count after a change."""

    competition: CompetitionCode
    noc: Organisation
    gold: Count = 0
    silver: Count = 0
    bronze: Count = 0
    total: Count = 0
    feed: Feed = Feed.PRODUCTION


class MedalStanding(_Part, frozen=True, kw_only=True):
    """One line of a medal table, ranked the IOC way."""

    rank: Position
    noc: Organisation
    gold: Count = 0
    silver: Count = 0
    bronze: Count = 0
    total: Count = 0


class MedalStandings(_Part, frozen=True, kw_only=True):
    """A medal table as a source reports it (ODF ``DT_MEDALS``); the service derives its own."""

    competition: CompetitionCode
    version: Version
    feed: Feed = Feed.PRODUCTION
    standings: tuple[MedalStanding, ...] = ()


class RecordFlagged(_UnitEvent, frozen=True, kw_only=True, tag="record_flagged"):
    """A result document flags a record (``WR``, ``OR``...) for a competitor."""

    record: RecordCode
    competitor: Competitor
    equalled: bool = False
    result: Text | None = None
    time_ms: Count | None = None
    points: Decimal | None = None
    status: ResultStatus = ResultStatus.LIVE
    version: Version = 0
    feed: Feed = Feed.PRODUCTION


class RecordWithdrawn(Event, frozen=True, kw_only=True, tag="record_withdrawn"):
    """A later version of the unit's results no longer flags a record it flagged."""

    competition: CompetitionCode
    unit: RscCode
    record: RecordCode
    competitor: Text
    version: Version = 0
    feed: Feed = Feed.PRODUCTION


class OdfHeader(_Part, frozen=True, kw_only=True):
    """The ``<OdfBody>`` attributes of a document, parsed."""

    competition: CompetitionCode
    document_code: RscCode
    document_type: DocumentType
    version: Version
    feed: Feed
    generated_at: Moment
    source: Text
    document_subtype: Text | None = None
    document_subcode: Text | None = None
    result_status: ResultStatus | None = None
    logical_date: date | None = None

    @property
    def key(self) -> str:
        """The document key: one version sequence per key (competition, code, type, sub-codes)."""
        parts = [self.competition, self.document_code, self.document_type.value]
        if self.document_subcode:
            parts.append(self.document_subcode)
        if self.document_subtype:
            parts.append(self.document_subtype)
        return "/".join(parts)


class OdfDocument(Event, frozen=True, kw_only=True, tag="odf_document"):
    """An accepted ODF document, raw, with its parsed header (for replay and audit)."""

    header: OdfHeader
    xml: str


class IgnoredReason(StrEnum):
    """Why a results processor acknowledged a document without applying it."""

    STALE = "stale"
    """Its version is not above the one already applied."""
    UNOFFICIAL = "unofficial"
    """A medallists document that is not OFFICIAL: the medal table waits for the official one."""
    MISROUTED = "misrouted"
    """Written to its input stream under another key than the service's (so another partition
    may hold its document's state); only a producer bypassing the adapters can do that."""
    INCONSISTENT = "inconsistent"
    """A raw ODF record whose stored header does not match its own XML."""


class DocumentIgnored(Event, frozen=True, kw_only=True, tag="document_ignored"):
    """A document a processor acknowledged and ignored, counted on ``/metrics``.

    ``document`` names the version sequence (the processor's state key), ``current_version``
    the version already applied there, when there is one.
    """

    processor: Text
    reason: IgnoredReason
    document: Text
    document_type: Text
    version: Version
    current_version: Version | None = None
    source: Text | None = None
    feed: Feed = Feed.PRODUCTION


class IrregularMove(Event, frozen=True, kw_only=True, tag="irregular_move"):
    """A document applied although its status move contradicts the state machine.

    The source's latest snapshot wins (a lost message can make a legal feed look irregular);
    this event lets operators see feeds that contradict themselves.
    """

    processor: Text
    document: Text
    version: Version
    moves: tuple[LongText, ...]
    feed: Feed = Feed.PRODUCTION


class MedalTableMismatch(Event, frozen=True, kw_only=True, tag="medal_table_mismatch"):
    """A source's own medal table (``DT_MEDALS``) disagrees with the derived one.

    The service never copies a source's table; it derives its own from OFFICIAL medallists.
    ``differences`` has one line per NOC, e.g. ``"FRA: derived 5/4/3, reported 5/4/4"``.
    """

    competition: CompetitionCode
    version: Version
    differences: tuple[LongText, ...]
    source: Text | None = None
    feed: Feed = Feed.PRODUCTION


class RejectedDocument(Event, frozen=True, kw_only=True, tag="rejected_document"):
    """A request body an adapter refused with a 400, kept whole for inspection.

    ``text`` holds the body when it is UTF-8, ``raw`` when it is not.
    """

    adapter: Text
    error: Text
    location: Text
    reason: LongText
    received_at: Moment
    content_type: Text | None = None
    key_id: Text | None = None
    text: str | None = None
    raw: bytes | None = None
