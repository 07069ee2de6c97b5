"""The egress forecast: when a venue's session ends, how long its crowd takes to leave, where to.

The session's end follows the live schedule: each unit's ``estimated_end`` (from
``results.units``, re-keyed by venue on ``crowds.units``). A venue's units are grouped into
sessions, runs of units whose ends are less than :data:`SESSION_GAP` apart; the forecast is for
the session holding the earliest unit not finished yet (or the last session, once every unit
is over), and its crowd starts leaving at that session's last estimated end.

The Green Guide (*Guide to Safety at Sports Grounds*, 6th edition) egress time is::

    egress time = occupancy ÷ Σ (exit width * flow rate)

with a flow rate of 82 persons per metre per minute on level exits and 66 on stepped ones
(:data:`RATES`: walkway and queue zones are level, stair zones stepped), summed over the
venue's gate zones. Normal egress must finish within 8 minutes (:data:`EGRESS_LIMIT`), and a
longer one is flagged.

The crowd is assumed to leave evenly over the egress time; each station receives its ``share``
of it, and its load is summed per 5-minute slot (:data:`SLOT`, aligned on the clock). Walking
time to the station and crowds from other venues are not modelled here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec

from flambeau.services.crowds.schemas import StationLoad, ZoneKind

__all__ = [
    "EGRESS_LIMIT",
    "RATES",
    "SESSION_GAP",
    "SLOT",
    "UnitEnd",
    "egress_seconds",
    "session_end",
    "station_loads",
]

RATES = {ZoneKind.WALKWAY: 82.0, ZoneKind.QUEUE: 82.0, ZoneKind.STAIR: 66.0}
"""Green Guide egress flow, persons per metre of exit width per minute, by zone kind."""
EGRESS_LIMIT = timedelta(minutes=8)
"""The Green Guide's normal egress time; a longer forecast is flagged."""
SESSION_GAP = timedelta(minutes=90)
"""Units ending less than this apart belong to one session."""
SLOT = timedelta(minutes=5)
"""The station load slot."""
_US = timedelta(microseconds=1)


class UnitEnd(msgspec.Struct, frozen=True, kw_only=True):
    """A unit's estimated end (microseconds since the epoch) and whether it is over."""

    end_us: int
    finished: bool = False


def session_end(units: dict[str, UnitEnd]) -> tuple[str, int] | None:
    """The unit whose end ends the current session, and that end; ``None`` with no unit."""
    if not units:
        return None
    ordered = sorted(units.items(), key=lambda item: (item[1].end_us, item[0]))
    pending = [i for i, (_, unit) in enumerate(ordered) if not unit.finished]
    start = pending[0] if pending else _last_session_start(ordered)
    gap_us = SESSION_GAP // _US
    last = start
    while (
        last + 1 < len(ordered) and ordered[last + 1][1].end_us - ordered[last][1].end_us < gap_us
    ):
        last += 1
    unit, end = ordered[last]
    return unit, end.end_us


def _last_session_start(ordered: list[tuple[str, UnitEnd]]) -> int:
    gap_us = SESSION_GAP // _US
    start = len(ordered) - 1
    while start > 0 and ordered[start][1].end_us - ordered[start - 1][1].end_us < gap_us:
        start -= 1
    return start


def egress_seconds(occupancy: int, exit_capacity: float) -> int:
    """Green Guide egress time in seconds; ``exit_capacity`` is Σ width * rate (persons/min)."""
    if occupancy <= 0 or exit_capacity <= 0:
        return 0
    return math.ceil(occupancy / exit_capacity * 60)


def station_loads(
    start: datetime, egress_s: int, occupancy: int, shares: dict[str, float]
) -> list[StationLoad]:
    """Each station's load per :data:`SLOT`, the crowd leaving evenly over ``egress_s``."""
    slot_us = SLOT // _US
    start_us = _us(start)
    end_us = start_us + max(egress_s, 1) * 1_000_000
    loads: list[StationLoad] = []
    for station, share in sorted(shares.items()):
        if share <= 0:
            continue
        slot = start_us - start_us % slot_us
        while slot < end_us:
            overlap = min(end_us, slot + slot_us) - max(start_us, slot)
            people = round(occupancy * share * overlap / (end_us - start_us))
            loads.append(StationLoad(station=station, slot=_at(slot), people=people))
            slot += slot_us
    return loads


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // _US


def _at(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
