"""Normalized results events, the documents the reducers take, and the results streams.

These Structs are the results service's native form: the ODF parser produces them, the
reducers consume and emit them, and a producer that does not speak ODF POSTs the same JSON
(:class:`UnitResult`, :class:`ScheduleDocument`, :class:`Medallists` or :class:`KeepAlive`)
to ``/v1/results/documents``, which keys it and appends it to ``results.native``, for example::

    {"type": "unit_result", "competition": "OG2024",
     "unit": "SWMW100MFR------------FNL-000100--", "discipline": "SWM",
     "version": 12, "status": "official", "shape": "timed",
     "competitors": [{"competitor": {"code": "1000001", "noc": "AUS", "name": "Mollie O'Callaghan"},
                      "rank": 1, "result": "52.16", "time_ms": 52160}]}

Codes keep their ODF spelling (``SWM``, ``FRA``, RSCs, IRMs such as ``DNF``); enumerations are
lower snake case; times are RFC 3339 with a zone (the service writes UTC); decimal points are
JSON strings (``"14.866"``) so no judge's score is ever rounded.

Streams:

- ``results.odf`` (private, 8 partitions): :class:`OdfDocument`, every accepted ODF document,
  raw, for replay. Keyed by :func:`flambeau.services.results.odf.stream_key`.
- ``results.units`` (public, 8): :class:`UnitResult`, :class:`UnitScheduleChanged` and
  :class:`UnitEndEstimated`, keyed by unit RSC.
- ``results.schedule`` (public, 4): :class:`VenueDaySchedule`, keyed ``<day>/<venue>``.
- ``results.medals`` (public, 1): :class:`MedalsAwarded` and :class:`MedalCount`, keyed by
  competition, so the whole medal story is in one order.
- ``results.records`` (public, 2): :class:`RecordFlagged` and :class:`RecordWithdrawn`, keyed
  by unit RSC.
- ``ops.health`` (private, 4): :class:`KeepAlive`, :class:`SourceDown`, :class:`SourceUp`,
  keyed by source. The ops service's contract (:mod:`flambeau.services.ops.schemas`) defines
  these events and the stream, shared by every kind of source; they are re-exported here.
- ``results.test`` (private, 4): everything the above would carry, for test feeds
  (``FeedFlag="T"``), which never reach a public stream.
- ``results.native`` (private, 8): native documents, keyed as ``results.odf`` keys the same
  documents, read by the same processors (so the same version checks and test-feed rules).
- ``results.heard`` (private, 4): :class:`KeepAlive`, one sign of life per source and second
  at most, keyed by source, so each source's liveness lives in one partition.
- ``results.audit`` (private, 1): :class:`DocumentIgnored`, :class:`IrregularMove` and
  :class:`MedalTableMismatch`.
- ``results.rejected`` (private, 1, kept 7 days): :class:`RejectedDocument`, the dead letters
  of the adapters.

``results.units`` and the other public streams are written by the results processors only;
no producer key should be granted ``write`` on them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.ops.schemas import HEALTH, Feed, KeepAlive, SourceDown, SourceUp
from flambeau.services.results.codes import (
    COMPETITION_CODE,
    ORGANISATION_CODE,
    Level,
    Shape,
    parse_rsc,
    rsc_pattern,
)
from flambeau.services.results.errors import InvalidRscError
from flambeau.services.results.statuses import ResultStatus, UnitStatus

__all__ = [
    "AUDIT",
    "HEALTH",
    "HEARD",
    "MEDALS",
    "NATIVE",
    "NATIVE_ROUTE",
    "ODF",
    "ODF_ROUTE",
    "PUBLIC_STREAMS",
    "RECORDS",
    "REJECTED",
    "SCHEDULE",
    "TEST",
    "UNITS",
    "Athlete",
    "Competitor",
    "CompetitorKind",
    "CompetitorResult",
    "Detail",
    "DocumentIgnored",
    "DocumentKind",
    "DocumentType",
    "EndAdjustment",
    "Feed",
    "IgnoredReason",
    "IrregularMove",
    "KeepAlive",
    "MatchOutcome",
    "MedalCount",
    "MedalKind",
    "MedalStanding",
    "MedalStandings",
    "MedalTableMismatch",
    "Medallist",
    "Medallists",
    "MedalsAwarded",
    "OdfDocument",
    "OdfHeader",
    "Period",
    "PeriodKind",
    "RecordFlagged",
    "RecordMark",
    "RecordWithdrawn",
    "RejectedDocument",
    "ResultStatus",
    "ScheduleDocument",
    "ScheduleEntry",
    "Shape",
    "SourceDown",
    "SourceUp",
    "Split",
    "UnitCode",
    "UnitEndEstimated",
    "UnitResult",
    "UnitScheduleChanged",
    "UnitStatus",
    "VenueDaySchedule",
]

ODF = "results.odf"
UNITS = "results.units"
SCHEDULE = "results.schedule"
MEDALS = "results.medals"
RECORDS = "results.records"
TEST = "results.test"
NATIVE = "results.native"
HEARD = "results.heard"
AUDIT = "results.audit"
REJECTED = "results.rejected"
ODF_ROUTE = "/v1/adapters/odf"
"""Where an ODF XML message is posted; it is appended to ``results.odf``."""
NATIVE_ROUTE = "/v1/results/documents"
"""Where native JSON documents are posted; they are appended to ``results.native``."""
PUBLIC_STREAMS = frozenset({UNITS, SCHEDULE, MEDALS, RECORDS})

CompetitionCode = Annotated[
    str, msgspec.Meta(pattern=COMPETITION_CODE, description="ODF competition, e.g. OG2024")
]
RscCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z0-9.\-]{34}$",
        description="34-character ODF results system code, e.g. SWMW100MFR------------FNL-000100--",
    ),
]
# The documented pattern is parse_rsc's grammar (test_codes proves them equal); the structs
# check codes with parse_rsc itself, whose refusal names the faulty part.
UnitCode = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"pattern": rsc_pattern(Level.UNIT)},
        description="RSC of a unit: every part filled in, e.g. SWMW100MFR------------FNL-000100--",
    ),
]
EventCode = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"pattern": rsc_pattern(Level.EVENT)},
        description="RSC of an event, a phase or a unit, e.g. SWMW100MFR------------------------",
    ),
]
Discipline = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}[A-Z0-9]$", description="e.g. SWM, BK3, RU7")
]
Organisation = Annotated[
    str, msgspec.Meta(pattern=ORGANISATION_CODE, description="NOC or organisation, e.g. FRA")
]
Irm = Annotated[
    str,
    msgspec.Meta(pattern=r"^[A-Z][A-Z0-9]{1,7}$", description="invalid result mark, e.g. DNF"),
]
Version = Annotated[int, msgspec.Meta(ge=0, description="ascending document version")]
Count = Annotated[int, msgspec.Meta(ge=0)]
Position = Annotated[int, msgspec.Meta(ge=1)]
Moment = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with a zone")]
Text = Annotated[str, msgspec.Meta(max_length=256)]
LongText = Annotated[str, msgspec.Meta(max_length=4096)]


class DocumentType(StrEnum):
    """ODF message types this service knows; the ``results`` reducers read the first seven."""

    SCHEDULE = "DT_SCHEDULE"
    SCHEDULE_UPDATE = "DT_SCHEDULE_UPDATE"
    RESULT = "DT_RESULT"
    CURRENT = "DT_CURRENT"
    MEDALLISTS = "DT_MEDALLISTS"
    MEDALS = "DT_MEDALS"
    KEEP_ALIVE = "DT_KA"
    # Known ODF types kept raw on results.odf for replay but not normalized (yet).
    PARTIC = "DT_PARTIC"
    PARTIC_UPDATE = "DT_PARTIC_UPDATE"
    PARTIC_TEAMS = "DT_PARTIC_TEAMS"
    PARTIC_TEAMS_UPDATE = "DT_PARTIC_TEAMS_UPDATE"
    PARTIC_HORSES = "DT_PARTIC_HORSES"
    PARTIC_HORSES_UPDATE = "DT_PARTIC_HORSES_UPDATE"
    ENTRIES = "DT_ENTRIES"
    PHASE_RESULT = "DT_PHASE_RESULT"
    CUMULATIVE_RESULT = "DT_CUMULATIVE_RESULT"
    POOL_STANDING = "DT_POOL_STANDING"
    BRACKETS = "DT_BRACKETS"
    PLAY_BY_PLAY = "DT_PLAY_BY_PLAY"
    STATS = "DT_STATS"
    RANKING = "DT_RANKING"
    RECORD = "DT_RECORD"
    MEDALLISTS_DISCIPLINE = "DT_MEDALLISTS_DISCIPLINE"
    MEDALLISTS_DAY = "DT_MEDALLISTS_DAY"
    COMMUNICATION = "DT_COMMUNICATION"
    CONFIG = "DT_CONFIG"
    WEATHER = "DT_WEATHER"
    PDF = "DT_PDF"
    IMAGE = "DT_IMAGE"
    LOCAL_ON = "DT_LOCAL_ON"
    LOCAL_OFF = "DT_LOCAL_OFF"
    GLOBAL_GM = "DT_GLOBAL_GM"
    GLOBAL_GN = "DT_GLOBAL_GN"


class DocumentKind(StrEnum):
    """Which unit document a :class:`UnitResult` snapshots: ``DT_RESULT`` or ``DT_CURRENT``."""

    RESULT = "result"
    CURRENT = "current"


class CompetitorKind(StrEnum):
    """An athlete or a team (ODF ``Competitor@Type`` A or T)."""

    ATHLETE = "athlete"
    TEAM = "team"


class MedalKind(StrEnum):
    """Gold, silver or bronze."""

    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


class MatchOutcome(StrEnum):
    """A side's outcome in a head-to-head unit (ODF ``WLT``)."""

    WIN = "win"
    LOSS = "loss"
    TIE = "tie"


class PeriodKind(StrEnum):
    """What a period of a head-to-head unit is."""

    REGULAR = "regular"
    EXTRA_TIME = "extra_time"
    SHOOTOUT = "shootout"
    TOTAL = "total"


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

    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
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


class UnitScheduleChanged(Event, frozen=True, kw_only=True, tag="unit_schedule"):
    """A unit's schedule status, times or venue changed."""

    competition: CompetitionCode
    unit: RscCode
    discipline: Discipline
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


class UnitEndEstimated(Event, frozen=True, kw_only=True, tag="unit_end_estimated"):
    """When a unit is now expected to end: its schedule moved by what happened since.

    Emitted on ``results.units`` by ``results.unit-clock`` whenever the estimate or its
    ``adjustments`` change, with the event time of the document that moved it. See
    :mod:`~flambeau.services.results.estimates` for the rules and
    :mod:`~flambeau.services.results.periods` for the per-sport lengths.
    """

    competition: CompetitionCode
    unit: RscCode
    discipline: Discipline
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


class RecordFlagged(Event, frozen=True, kw_only=True, tag="record_flagged"):
    """A result document flags a record (``WR``, ``OR``...) for a competitor."""

    competition: CompetitionCode
    unit: RscCode
    discipline: Discipline
    record: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
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
    record: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
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


_UNITS = UnitResult | UnitScheduleChanged | UnitEndEstimated
_MEDALS = MedalsAwarded | MedalCount
_RECORDS = RecordFlagged | RecordWithdrawn
_HEALTH = KeepAlive | SourceDown | SourceUp

default_registry.register(
    ODF,
    OdfDocument,
    partitions=8,
    description="raw ODF documents, kept for replay",
    writer=Writer.route(f"POST {ODF_ROUTE}"),
)
default_registry.register(
    UNITS, _UNITS, partitions=8, public=True, description="unit results and schedule status"
)
default_registry.register(
    SCHEDULE,
    VenueDaySchedule,
    partitions=4,
    public=True,
    description="schedule per day, venue and discipline",
)
default_registry.register(
    MEDALS, _MEDALS, partitions=1, public=True, description="official medallists, medal counts"
)
default_registry.register(
    RECORDS, _RECORDS, partitions=2, public=True, description="records flagged by results"
)
default_registry.register(
    TEST,
    _UNITS | VenueDaySchedule | _MEDALS | _RECORDS | _HEALTH,
    partitions=4,
    description="what test feeds (FeedFlag T) produce, kept off the public streams",
)
default_registry.register(
    NATIVE,
    UnitResult | ScheduleDocument | Medallists | KeepAlive,
    partitions=8,
    description="native JSON results documents, read like results.odf",
    writer=Writer.route(f"POST {NATIVE_ROUTE}"),
)
default_registry.register(
    HEARD, KeepAlive, partitions=4, description="signs of life of each source, keyed by source"
)
default_registry.register(
    AUDIT,
    DocumentIgnored | IrregularMove | MedalTableMismatch,
    partitions=1,
    description="documents acknowledged and ignored, and irregular status moves",
)
default_registry.register(
    REJECTED,
    RejectedDocument,
    partitions=1,
    max_age=timedelta(days=7),
    description="request bodies the results adapters refused, kept for inspection",
    writer=Writer.route(f"POST {ODF_ROUTE}", f"POST {NATIVE_ROUTE}"),
)
