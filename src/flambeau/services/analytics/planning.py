"""Forecasts and actions of every venue, from the live buffers (see :mod:`.forecast`).

Reads the latest value of each KPI minute (``analytics.kpis``), each unit's latest estimated
end (:class:`~flambeau.services.analytics.schemas.UnitEnd` on ``analytics.facts``), each
venue's latest occupancy and capacity (``crowds.venues``) and the transit lines' states
(``mobility.transit``, :mod:`.transit`). Computed on request from the newest
minute seen, so it moves every minute and with every new estimate.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from flambeau.services.analytics.forecast import Action, Forecast, Series, actions, forecast
from flambeau.services.analytics.transit import Lines

__all__ = ["VenuePlan", "plans"]


class VenuePlan(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's forecast and the actions it calls for."""

    forecast: Forecast
    actions: list[Action]


def _latest_kpis(kpis: pa.Table) -> dict[tuple[str, str, str, datetime], int]:
    latest: dict[tuple[str, str, str, datetime], int] = {}
    columns = ["venue", "metric", "dimension", "minute", "value"]
    for row in kpis.select(columns).to_pylist():
        latest[(row["venue"], row["metric"], row["dimension"], row["minute"])] = row["value"]
    return latest


def _series(kpis: pa.Table) -> tuple[dict[str, Series], datetime | None]:
    by_venue: dict[str, Series] = defaultdict(lambda: Series({}, {}))
    newest: datetime | None = None
    for (venue, metric, _, minute), value in _latest_kpis(kpis).items():
        target = {"sales": "sales", "entries": "entries"}.get(metric)
        if target is None:
            continue
        column = getattr(by_venue[venue], target)
        column[minute] = column.get(minute, 0) + value
        newest = minute if newest is None or minute > newest else newest
    return dict(by_venue), newest


def _ends(facts: pa.Table) -> dict[str, dict[str, datetime]]:
    ends: dict[str, dict[str, datetime]] = defaultdict(dict)
    rows = facts.filter(pc.equal(facts["type"], "unit_end"))
    for row in rows.select(["venue", "unit", "estimated_end"]).to_pylist():
        ends[row["venue"]][row["unit"]] = row["estimated_end"]
    return ends


def _crowds(venues: pa.Table) -> dict[str, tuple[int, int]]:
    seen: dict[str, tuple[int, int]] = {}
    rows = venues.filter(pc.equal(venues["type"], "venue_crowd"))
    for row in rows.select(["venue", "capacity", "occupancy"]).to_pylist():
        seen[row["venue"]] = (row["capacity"], row["occupancy"])
    return seen


def plans(
    kpis: pa.Table, facts: pa.Table, venues: pa.Table, lines: Lines | None = None
) -> list[VenuePlan]:
    """Every venue's plan, by venue code (venues with sales or entries KPIs only)."""
    series, newest = _series(kpis)
    if newest is None:
        return []
    ends = _ends(facts)
    crowds = _crowds(venues)
    lines = lines or Lines()
    found = []
    for venue in sorted(series):
        plan = forecast(
            venue,
            series[venue],
            ends.get(venue, {}),
            newest,
            service=functools.partial(lines.service, venue),
            closed=lines.closed(venue, newest + timedelta(minutes=1)),
        )
        capacity, occupancy = crowds.get(venue, (0, 0))
        found.append(VenuePlan(forecast=plan, actions=actions(plan, capacity, occupancy)))
    return found
