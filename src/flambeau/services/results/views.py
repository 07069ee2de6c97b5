"""Read models of the results service: what the query routes and ``/metrics`` answer from.

Each is a fold over output streams, kept current by a :class:`~flambeau.processing.view.View`
that follows the log (one per log and process, rebuilt from the log at start, so any gateway
can answer). Only production facts are folded: test feeds never reach these streams.

- :class:`MedalsFold` (``results.medals``): each NOC's latest count per competition.
- :class:`UnitsFold` (``results.units``): each unit's schedule entry and latest documents.
- :class:`ScheduleFold` (``results.schedule``): each (day, venue, discipline)'s units.
- :class:`OperationsFold` (``ops.health``, ``results.audit``, ``results.rejected``): each
  source's status, and counts of ignored, irregular and rejected documents, for ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

from flambeau.events import Record
from flambeau.gateway import gauge_lines
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.ops.schemas import SourceKind
from flambeau.services.results.medals import Tally, standings
from flambeau.services.results.schemas import (
    AUDIT,
    HEALTH,
    MEDALS,
    REJECTED,
    SCHEDULE,
    UNITS,
    DocumentIgnored,
    IrregularMove,
    KeepAlive,
    MedalCount,
    MedalsAwarded,
    MedalStanding,
    MedalTableMismatch,
    RejectedDocument,
    SourceDown,
    SourceUp,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import SourceStatus
from flambeau.services.results.units import UnitView, fold_unit

__all__ = [
    "MedalsFold",
    "OperationsFold",
    "ScheduleFold",
    "SourceState",
    "UnitsFold",
    "medals_view",
    "metric_lines",
    "operations_view",
    "schedule_view",
    "units_view",
]

F = TypeVar("F")


def _view(log: Log, name: str, streams: list[str], kind: Callable[[], F]) -> tuple[View, F]:
    view = view_of(log, name, streams, kind)  # type: ignore[arg-type]
    fold: F = view.fold  # type: ignore[assignment]
    return view, fold


class MedalsFold:
    """Medal counts per competition and NOC, and the events whose medals are counted."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Tally]] = {}
        self.events: dict[str, set[str]] = {}

    def __call__(self, record: Record[Any]) -> None:
        match record.data:
            case MedalCount(competition=competition, noc=noc) as count:
                table = self.tables.setdefault(competition, {})
                tally = Tally(count.gold, count.silver, count.bronze)
                if tally.total:
                    table[noc] = tally
                else:
                    table.pop(noc, None)  # a NOC whose only medal moved leaves the table
            case MedalsAwarded(competition=competition, event=event):
                self.events.setdefault(competition, set()).add(event)
            case _:
                pass

    def standings(self, competition: str, order: str = "ioc") -> list[MedalStanding]:
        """The table of ``competition``: IOC order (gold, silver, bronze) or by ``total``."""
        lines = standings(self.tables.get(competition, {}))
        if order != "total":
            return lines
        ranked = sorted(lines, key=lambda s: (-s.total, -s.gold, -s.silver, -s.bronze, s.noc))
        out: list[MedalStanding] = []
        for position, line in enumerate(ranked, 1):
            rank = position
            if out and out[-1].total == line.total:
                rank = out[-1].rank  # media tables rank on the total alone
            out.append(msgspec.structs.replace(line, rank=rank))
        return out


class UnitsFold:
    """Every unit's view: schedule entry and latest result documents, by unit code."""

    def __init__(self) -> None:
        self.units: dict[str, UnitView] = {}

    def __call__(self, record: Record[Any]) -> None:
        event = record.data
        self.units[event.unit] = fold_unit(self.units.get(event.unit), event)


class ScheduleFold:
    """Every (competition, day, venue, discipline)'s latest schedule."""

    def __init__(self) -> None:
        self.slots: dict[tuple[str, date, str, str], VenueDaySchedule] = {}

    def __call__(self, record: Record[Any]) -> None:
        schedule: VenueDaySchedule = record.data
        slot = (schedule.competition, schedule.day, schedule.venue, schedule.discipline)
        if schedule.units:
            self.slots[slot] = schedule
        else:
            self.slots.pop(slot, None)  # the discipline no longer uses the venue that day

    def select(self, day: date | None = None, venue: str | None = None) -> list[VenueDaySchedule]:
        """The schedules of ``day`` and ``venue`` (either may be omitted), in slot order."""
        return [
            schedule
            for (_, slot_day, slot_venue, _), schedule in sorted(self.slots.items())
            if (day is None or slot_day == day) and (venue is None or slot_venue == venue)
        ]


class SourceState(msgspec.Struct, frozen=True, kw_only=True):
    """A source as ``ops.health`` last described it."""

    source: str
    status: SourceStatus
    last_seen: datetime
    since: datetime | None = None


class OperationsFold:
    """Source liveness and the counts ``/metrics`` publishes."""

    def __init__(self) -> None:
        self.sources: dict[str, SourceState] = {}
        self.ignored: Counter[tuple[str, str, str]] = Counter()
        self.irregular: Counter[tuple[str, str]] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.mismatches: Counter[tuple[str]] = Counter()

    def __call__(self, record: Record[Any]) -> None:
        match record.data:
            case KeepAlive() | SourceUp() | SourceDown() as health if (
                health.kind is not SourceKind.RESULTS_FEED
            ):
                pass  # another kind of source (see GET /v1/ops/sources)
            case KeepAlive(source=source, seen_at=seen_at):
                known = self.sources.get(source)
                if known is not None and seen_at > known.last_seen:
                    self.sources[source] = msgspec.structs.replace(known, last_seen=seen_at)
            case SourceUp(source=source, seen_at=seen_at):
                self.sources[source] = SourceState(
                    source=source, status=SourceStatus.UP, last_seen=seen_at, since=seen_at
                )
            case SourceDown(source=source, last_seen=last_seen, detected_at=detected_at):
                self.sources[source] = SourceState(
                    source=source, status=SourceStatus.DOWN, last_seen=last_seen, since=detected_at
                )
            case DocumentIgnored() as ignored:
                self.ignored[(ignored.reason.value, ignored.document_type, ignored.feed.value)] += 1
            case IrregularMove() as moves:
                self.irregular[(moves.processor, moves.feed.value)] += 1
            case MedalTableMismatch() as mismatch:
                self.mismatches[(mismatch.feed.value,)] += 1
            case RejectedDocument() as rejected:
                self.rejected[(rejected.adapter, rejected.error)] += 1
            case _:
                pass

    def metric_lines(self) -> list[str]:
        """The Prometheus exposition lines of these counts and statuses."""
        sources = sorted(self.sources.values(), key=lambda s: s.source)
        return [
            *_counter(
                "flambeau_results_ignored_documents_total",
                "Documents acknowledged and ignored (stale versions, unofficial medallists, "
                "misrouted), by reason, ODF document type and feed.",
                ("reason", "document_type", "feed"),
                self.ignored,
            ),
            *_counter(
                "flambeau_results_irregular_moves_total",
                "Documents applied although their status move contradicts the state machine.",
                ("processor", "feed"),
                self.irregular,
            ),
            *_counter(
                "flambeau_results_medal_table_mismatches_total",
                "Source medal tables (DT_MEDALS) that disagree with the derived one.",
                ("feed",),
                self.mismatches,
            ),
            *_counter(
                "flambeau_results_rejected_documents_total",
                "Request bodies the results adapters refused (kept on results.rejected).",
                ("adapter", "error"),
                self.rejected,
            ),
            *gauge_lines(
                "flambeau_results_source_up",
                "1 while a results source is heard from, 0 once silent too long.",
                ("source",),
                [((s.source,), float(s.status is SourceStatus.UP)) for s in sources],
            ),
            *gauge_lines(
                "flambeau_results_source_last_seen_seconds",
                "When a results source was last heard from (Unix time).",
                ("source",),
                [((s.source,), s.last_seen.timestamp()) for s in sources],
            ),
        ]


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _counter(name: str, help_text: str, labels: tuple[str, ...], counts: Counter[Any]) -> list[str]:
    lines = gauge_lines(name, help_text, labels, sorted(counts.items()))
    lines[1] = f"# TYPE {name} counter"
    return lines


def medals_view(log: Log) -> tuple[View, MedalsFold]:
    """The medal table view over ``log`` (started on first use)."""
    return _view(log, "results.medals", [MEDALS], MedalsFold)


def units_view(log: Log) -> tuple[View, UnitsFold]:
    """The unit view over ``log``."""
    return _view(log, "results.units", [UNITS], UnitsFold)


def schedule_view(log: Log) -> tuple[View, ScheduleFold]:
    """The schedule view over ``log``."""
    return _view(log, "results.schedule", [SCHEDULE], ScheduleFold)


def operations_view(log: Log) -> tuple[View, OperationsFold]:
    """The liveness and audit view over ``log``."""
    return _view(log, "results.operations", [HEALTH, AUDIT, REJECTED], OperationsFold)


def metric_lines(log: Log) -> Callable[[], list[str]]:
    """A ``/metrics`` gauge source: the results counts and source statuses over ``log``.

    The view starts now when an event loop is running (the gateway builds its app inside
    one), or else on the first scrape; a scrape never waits for it to catch up.
    """
    if _loop_running():
        operations_view(log)

    def lines() -> list[str]:
        view, fold = operations_view(log)
        view.start()
        return fold.metric_lines()

    return lines
