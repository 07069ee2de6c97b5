"""Next-hour forecast per venue, and the actions it calls for.

The model is deliberately simple and explainable (a documented model, not a fitted one): a
venue's trade over the next hour is its **current pace** (the mean per minute over the last
:data:`PACE_MINUTES` minutes), shaped by the **schedule**: in the :data:`SURGE_MINUTES`
minutes after a unit's estimated end, departing spectators buy (transport, merchandise,
drinks), so sales run at :data:`SURGE` times the pace, while gate entries stop. A match going
to extra time moves its estimated end, hence the surge, hence the forecast.

The pace is read at **full transit service**: each past minute is divided by the service its
venue's lines gave then (:meth:`.transit.Lines.service`), and the forecast multiplies it by the
service now. A strike that closes a serving line therefore cuts the forecast at once, before
the pace has seen fewer arrivals; once the pace window lies wholly within the strike, the two
factors cancel and the pace speaks for itself. The newest minute, still filling, is left out of
the pace.

Why not a fitted library model (statsforecast and the like): a rehearsal day gives each venue
a few hours of minutes, with its shape set by the schedule rather than by seasonality; a
seasonal model has no season to learn from within the hour that matters, and would not move
when an estimate moves. The schedule-driven pace model does, by construction, and each of its
numbers can be read back as a cause of a recommendation.

Actions (:func:`actions`) turn a forecast gap into a recommendation with its cause:

- ``open_stands``: a surge minute forecasts at least :data:`STANDS_RATIO` times the pace;
- ``move_staff``: the next hour's entries would fill the venue past capacity at this pace
  (gates need staff before the crowd arrives), or a surge is coming and entries have stopped;
- ``push_offer``: the next hour forecasts below :data:`LULL_RATIO` of the last hour's sales.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

__all__ = [
    "HORIZON",
    "Action",
    "Forecast",
    "actions",
    "forecast",
]

HORIZON = 60
"""Minutes forecast."""
PACE_MINUTES = 10
SURGE_MINUTES = 20
SURGE = 2.5
STANDS_RATIO = 2.0
LULL_RATIO = 0.7
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Series:
    """One venue's recent per-minute totals, by minute start (missing minutes are zero)."""

    sales: dict[datetime, int]
    entries: dict[datetime, int]


class Forecast(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's next hour, minute by minute, from ``start``.

    Attributes:
        venue: Venue code.
        start: The first forecast minute (the minute after the newest one seen).
        sales: Forecast sales per minute, cents.
        entries: Forecast entries per minute, people.
        sales_pace: The current pace the forecast starts from, cents per minute.
        entries_pace: Likewise, people per minute.
        last_hour_sales: Actual sales over the hour before ``start``.
        ends: The unit ends within the horizon that shape it: (unit, estimated end).
        service: The share of usual arrivals the venue's transit lines carry now (1.0: all
            open).
        closed_lines: The venue's serving lines closed now (a strike), by route id.
    """

    venue: str
    start: datetime
    sales: list[int]
    entries: list[int]
    sales_pace: float
    entries_pace: float
    last_hour_sales: int
    ends: list[tuple[str, datetime]]
    service: float = 1.0
    closed_lines: list[str] = []


class Action(msgspec.Struct, frozen=True, kw_only=True):
    """A recommendation for the next hour, and why."""

    venue: str
    kind: str
    at: datetime
    cause: str


Service = Callable[[datetime], float]
"""The share of usual arrivals a venue's transit carries at a time (see :mod:`.transit`)."""


def _full_service(_: datetime) -> float:
    return 1.0


def _pace(values: dict[datetime, int], newest: datetime, service: Service) -> float:
    minutes = [newest - i * _MINUTE for i in range(1, PACE_MINUTES + 1)]
    return sum(values.get(m, 0) / service(m + _MINUTE) for m in minutes) / PACE_MINUTES


def forecast(
    venue: str,
    series: Series,
    ends: dict[str, datetime],
    newest: datetime,
    service: Service = _full_service,
    closed: list[str] | None = None,
) -> Forecast:
    """The next :data:`HORIZON` minutes of ``venue`` after ``newest`` (a minute start, still
    filling: the pace is that of the :data:`PACE_MINUTES` minutes before it).

    ``ends`` maps each unit at the venue to its latest estimated end; ``service`` gives the
    venue's transit service at a time, ``closed`` names its closed lines now.
    """
    start = newest + _MINUTE
    now = service(start)
    sales_pace = _pace(series.sales, newest, service) * now
    entries_pace = _pace(series.entries, newest, service) * now
    window = [start + i * _MINUTE for i in range(HORIZON)]
    shaping = sorted((end, unit) for unit, end in ends.items() if end < start + HORIZON * _MINUTE)
    shaping = [(end, unit) for end, unit in shaping if end + SURGE_MINUTES * _MINUTE > start]
    sales, entries = [], []
    for minute in window:
        surging = any(end <= minute < end + SURGE_MINUTES * _MINUTE for end, _ in shaping)
        sales.append(round(sales_pace * (SURGE if surging else 1.0)))
        entries.append(0 if surging else round(entries_pace))
    last_hour = sum(series.sales.get(newest - i * _MINUTE, 0) for i in range(HORIZON))
    return Forecast(
        venue=venue,
        start=start,
        sales=sales,
        entries=entries,
        sales_pace=sales_pace,
        entries_pace=entries_pace,
        last_hour_sales=last_hour,
        ends=[(unit, end) for end, unit in shaping],
        service=now,
        closed_lines=list(closed or ()),
    )


def actions(plan: Forecast, capacity: int, occupancy: int) -> list[Action]:
    """The recommendations ``plan`` calls for, each with its cause."""
    found: list[Action] = []
    peak = max(plan.sales, default=0)
    if plan.sales_pace > 0 and peak >= STANDS_RATIO * plan.sales_pace:
        at = plan.start + plan.sales.index(peak) * _MINUTE
        units = ", ".join(f"{unit} ends {end:%H:%M}" for unit, end in plan.ends)
        found.append(Action(venue=plan.venue, kind="open_stands", at=at,
                            cause=f"sales forecast {peak / 100:.0f} EUR/min at {at:%H:%M}, "
                                  f"{peak / plan.sales_pace:.1f}x the pace ({units})"))  # fmt: skip
    incoming = sum(plan.entries)
    if capacity and occupancy + incoming > capacity:
        found.append(Action(venue=plan.venue, kind="move_staff", at=plan.start,
                            cause=f"{incoming} entries forecast at {plan.entries_pace:.0f}/min "
                                  f"would pass the {capacity} seats: staff the gates"))  # fmt: skip
    elif plan.ends and plan.entries_pace == 0:
        unit, end = plan.ends[0]
        found.append(Action(venue=plan.venue, kind="move_staff", at=end,
                            cause=f"{unit} ends {end:%H:%M}: move gate staff to the stands "
                                  "and exits"))  # fmt: skip
    coming = sum(plan.sales)
    if plan.last_hour_sales and coming < LULL_RATIO * plan.last_hour_sales:
        share = coming / plan.last_hour_sales
        found.append(Action(venue=plan.venue, kind="push_offer", at=plan.start,
                            cause=f"next hour forecasts {coming / 100:.0f} EUR, "
                                  f"{share:.0%} of the last hour{_strike(plan)}"))  # fmt: skip
    return found


def _strike(plan: Forecast) -> str:
    if not plan.closed_lines:
        return ""
    return f" ({', '.join(plan.closed_lines)} closed: transit at {plan.service:.0%})"
