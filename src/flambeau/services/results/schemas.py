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

The Structs are defined in :mod:`.payloads` and their field types and enumerations in
:mod:`.vocabulary`; this module re-exports them and is the one other services import.
"""

from __future__ import annotations

from datetime import timedelta

from flambeau.events import Writer, default_registry
from flambeau.services.ops.schemas import HEALTH, Feed, KeepAlive, SourceDown, SourceUp
from flambeau.services.results.codes import Shape
from flambeau.services.results.payloads import (
    Athlete,
    Competitor,
    CompetitorResult,
    Detail,
    DocumentIgnored,
    EndAdjustment,
    IgnoredReason,
    IrregularMove,
    MedalCount,
    Medallist,
    Medallists,
    MedalsAwarded,
    MedalStanding,
    MedalStandings,
    MedalTableMismatch,
    OdfDocument,
    OdfHeader,
    Period,
    RecordFlagged,
    RecordMark,
    RecordWithdrawn,
    RejectedDocument,
    ScheduleDocument,
    ScheduleEntry,
    Split,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.vocabulary import (
    CompetitorKind,
    DocumentKind,
    DocumentType,
    MatchOutcome,
    MedalKind,
    PeriodKind,
    UnitCode,
)

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
