"""A venue's state as ``crowds.occupancy`` keeps it, and when its egress forecast moves.

A forecast is made for the current session (:func:`~.egress.session_end`) once the venue has
a unit with an estimated end, and made again whenever the session's end, the venue's exits or
stations move, or the occupancy moves by :data:`FORECAST_STEP` of the last forecast's (at
least :data:`FORECAST_MIN_PEOPLE` people), so a busy gate does not re-forecast every minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from flambeau.services.crowds.egress import (
    EGRESS_LIMIT,
    RATES,
    UnitEnd,
    egress_seconds,
    session_end,
    station_loads,
)
from flambeau.services.crowds.schemas import EgressForecast, ZoneKind

__all__ = ["FORECAST_MIN_PEOPLE", "FORECAST_STEP", "Forecasted", "VenueState", "forecast"]

FORECAST_STEP = 0.05
"""The relative move of the occupancy that makes a new forecast."""
FORECAST_MIN_PEOPLE = 200
"""The smallest move of the occupancy that makes a new forecast."""
_LIMIT_S = int(EGRESS_LIMIT.total_seconds())


class Forecasted(msgspec.Struct, frozen=True, kw_only=True):
    """What the last forecast was made from."""

    unit: str
    start_us: int
    occupancy: int
    exits: dict[str, tuple[float, ZoneKind]] = {}
    stations: dict[str, float] = {}


class VenueState(msgspec.Struct, frozen=True, kw_only=True):
    """What the occupancy processor remembers about one venue.

    Attributes:
        capacity: Seats (0 until configured).
        area: The monitored area of the venue summary, once known.
        area_m2: Its surface (0 until known).
        entered: People counted in.
        exited: People counted out.
        exits: Each gate zone's exit width (m) and kind.
        stations: Each station zone's share of the leaving crowd.
        units: Each unit's estimated end.
        forecast: What the last egress forecast was made from.
    """

    capacity: int = 0
    area: str = ""
    area_m2: int = 0
    entered: int = 0
    exited: int = 0
    exits: dict[str, tuple[float, ZoneKind]] = {}
    stations: dict[str, float] = {}
    units: dict[str, UnitEnd] = {}
    forecast: Forecasted | None = None

    @property
    def occupancy(self) -> int:
        """People inside: everyone counted in minus everyone counted out (never below 0)."""
        return max(0, self.entered - self.exited)


def forecast(state: VenueState, venue: str) -> tuple[VenueState, EgressForecast] | None:
    """A new forecast for ``venue`` and the state remembering it, or ``None`` if none moved."""
    session = session_end(state.units)
    if session is None:
        return None
    unit, start_us = session
    basis = Forecasted(
        unit=unit,
        start_us=start_us,
        occupancy=state.occupancy,
        exits=state.exits,
        stations=state.stations,
    )
    if not _moved(state.forecast, basis):
        return None
    width = sum(w for w, _ in state.exits.values())
    egress_s = egress_seconds(basis.occupancy, sum(w * RATES[k] for w, k in state.exits.values()))
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=start_us)
    loads = station_loads(start, egress_s, basis.occupancy, state.stations)
    peaks: dict[str, int] = {}
    for load in loads:
        peaks[load.station] = max(peaks.get(load.station, 0), load.people)
    event = EgressForecast(
        venue=venue,
        unit=unit,
        egress_start=start,
        occupancy=basis.occupancy,
        exit_width_m=round(width, 2),
        egress_s=egress_s,
        empties_at=start + timedelta(seconds=egress_s),
        limit_s=_LIMIT_S,
        over_limit=egress_s > _LIMIT_S,
        stations=tuple(loads),
        peaks=peaks,
    )
    return msgspec.structs.replace(state, forecast=basis), event


def _moved(last: Forecasted | None, basis: Forecasted) -> bool:
    if last is None:
        return True
    if (last.unit, last.start_us, last.exits, last.stations) != (
        basis.unit,
        basis.start_us,
        basis.exits,
        basis.stations,
    ):
        return True
    step = max(FORECAST_MIN_PEOPLE, round(last.occupancy * FORECAST_STEP))
    return abs(basis.occupancy - last.occupancy) >= step
