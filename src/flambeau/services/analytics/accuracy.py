"""The forecast's error against what happened next: a backtest over a recorded log.

:func:`load` reads a log's ``analytics.kpis`` (the last value of each minute: what the
rehearsal produced), the unit ends on ``analytics.facts`` and ``mobility.transit``.
:func:`measure` then replays the forecast every ``step`` minutes at every venue exactly as the
live route computes it at that moment: the KPI minutes before it (the minute in progress is
left out), the unit ends and line states known by the end of that minute; and compares each
forecast hour with the 60 minutes that followed. The same replay without the schedule and the
strikes (the pace alone: a 10-minute moving average) is the baseline.

Figures per series (``sales`` in cents, ``entries`` in people), numpy over all forecasts:

- ``mae``: mean absolute error per forecast minute;
- ``wape``: the sum of absolute errors over the sum of actuals (per-minute MAPE is undefined on
  the many zero minutes, so WAPE stands in for it);
- ``hour_mape``: mean absolute percentage error of the hour's total, over the forecasts whose
  actual hour is not zero.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from flambeau.events import Record, Registry
from flambeau.log import Log
from flambeau.services.analytics.forecast import HORIZON, PACE_MINUTES, Series, forecast
from flambeau.services.analytics.schemas import FACTS, KPIS, Kpi, UnitEnd
from flambeau.services.analytics.transit import Lines
from flambeau.services.mobility.schemas import TRANSIT, LineStatus

__all__ = ["History", "SeriesError", "load", "measure"]

_MINUTE = timedelta(minutes=1)
_READ = 10_000


@dataclass
class History:
    """What a log recorded: final per-minute totals, unit ends as they became known, lines."""

    sales: dict[str, dict[datetime, int]] = field(default_factory=lambda: defaultdict(dict))
    entries: dict[str, dict[datetime, int]] = field(default_factory=lambda: defaultdict(dict))
    ends: dict[str, list[tuple[datetime, str, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Per venue: (known at, unit, estimated end), in the order they were written."""
    lines: Lines = field(default_factory=Lines)

    def add_kpis(self, latest: dict[tuple[str, str, str, datetime], int]) -> None:
        """Sum each minute's latest KPI values over their dimensions into the two series."""
        for (venue, metric, _, minute), value in latest.items():
            target = self.sales if metric == "sales" else self.entries
            if metric in ("sales", "entries"):
                target[venue][minute] = target[venue].get(minute, 0) + value


class SeriesError(msgspec.Struct, frozen=True, kw_only=True):
    """The error of one series over every replayed forecast, and its baseline's."""

    series: str
    forecasts: int
    mae: float
    wape: float
    hour_mape: float
    baseline_mae: float
    baseline_wape: float
    baseline_hour_mape: float


async def _records(
    log: Log, registry: Registry, stream: str, tag: bytes
) -> AsyncIterator[Record[Any]]:
    """Every record of ``stream`` whose raw payload names ``tag``, decoded (the others are
    skipped undecoded: ``analytics.facts`` is mostly sales)."""
    for partition in range(registry.spec(stream).partitions):
        offset = 0
        while batch := await log.read(stream, partition, offset, _READ):
            for record in batch:
                if tag in bytes(record.data):
                    yield registry.decode(stream, record)
            offset = batch[-1].offset + 1


async def load(log: Log, registry: Registry) -> History:
    """The history recorded in ``log``."""
    history = History()
    latest: dict[tuple[str, str, str, datetime], int] = {}
    async for record in _records(log, registry, KPIS, b"kpi"):
        kpi = record.data
        if isinstance(kpi, Kpi) and kpi.metric in ("sales", "entries"):
            latest[(kpi.venue, kpi.metric, kpi.dimension, kpi.minute)] = kpi.value
    history.add_kpis(latest)
    async for record in _records(log, registry, FACTS, b"unit_end"):
        if isinstance(record.data, UnitEnd):
            end = record.data
            history.ends[end.venue].append((record.time, end.unit, end.estimated_end))
    async for record in _records(log, registry, TRANSIT, b"line_status"):
        if isinstance(record.data, LineStatus):
            history.lines.fold(record.time, record.data)
    return history


def _known_ends(history: History, venue: str, until: datetime) -> dict[str, datetime]:
    known: dict[str, datetime] = {}
    for at, unit, end in history.ends.get(venue, []):
        if at < until:
            known[unit] = end
    return known


def _replay(history: History, venue: str, step: int) -> dict[str, list[np.ndarray[Any, Any]]]:
    """Per series: [forecast, baseline, actual] hours, one row per replayed minute."""
    sales, entries = history.sales.get(venue, {}), history.entries.get(venue, {})
    minutes = sorted(set(sales) | set(entries))
    rows: dict[str, list[list[list[int]]]] = {"sales": [[], [], []], "entries": [[], [], []]}
    if not minutes:
        return {name: [np.zeros((0, HORIZON))] * 3 for name in rows}
    first, last = minutes[0] + PACE_MINUTES * _MINUTE, minutes[-1] - HORIZON * _MINUTE
    now = first
    while now <= last:
        past = Series(
            {m: v for m, v in sales.items() if m < now},
            {m: v for m, v in entries.items() if m < now},
        )
        ends = _known_ends(history, venue, now + _MINUTE)
        plan = forecast(venue, past, ends, now, functools.partial(history.lines.service, venue))
        pace = forecast(venue, past, {}, now)
        hour = [now + (i + 1) * _MINUTE for i in range(HORIZON)]
        for name, actual in (("sales", sales), ("entries", entries)):
            rows[name][0].append(getattr(plan, name))
            rows[name][1].append(getattr(pace, name))
            rows[name][2].append([actual.get(m, 0) for m in hour])
        now += step * _MINUTE
    return {name: [np.array(r, dtype=float).reshape(-1, HORIZON) for r in v]
            for name, v in rows.items()}  # fmt: skip


def _figures(predicted: np.ndarray[Any, Any], actual: np.ndarray[Any, Any]) -> tuple[float, ...]:
    if predicted.size == 0:
        return (0.0, 0.0, 0.0)
    errors = np.abs(predicted - actual)
    total = actual.sum()
    hours, truth = predicted.sum(axis=1), actual.sum(axis=1)
    some = truth > 0
    hour_mape = (
        float(np.mean(np.abs(hours[some] - truth[some]) / truth[some])) if some.any() else 0.0
    )
    return (float(errors.mean()), float(errors.sum() / total) if total else 0.0, hour_mape)


def measure(history: History, step: int = 1) -> list[SeriesError]:
    """Replay the forecast every ``step`` minutes at every venue; its error per series."""
    venues = sorted(set(history.sales) | set(history.entries))
    replays = [_replay(history, venue, step) for venue in venues]
    found = []
    for name in ("sales", "entries"):
        parts = [replay[name] for replay in replays]
        predicted, baseline, actual = (
            np.concatenate([p[i] for p in parts]) if parts else np.zeros((0, HORIZON))
            for i in range(3)
        )
        mae, wape, hour_mape = _figures(predicted, actual)
        base_mae, base_wape, base_hour = _figures(baseline, actual)
        found.append(SeriesError(
            series=name, forecasts=len(actual), mae=mae, wape=wape, hour_mape=hour_mape,
            baseline_mae=base_mae, baseline_wape=base_wape, baseline_hour_mape=base_hour,
        ))  # fmt: skip
    return found
