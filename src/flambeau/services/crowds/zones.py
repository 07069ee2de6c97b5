"""Zones and gates: what the occupancy processor remembers of each, and how a reading moves it.

A zone (a gate, concourse, stand, forecourt or station) keeps its own configuration, its last
density reading, its flow and its own alert (:class:`ZoneState`). A gate keeps the counting
periods it has counted (:class:`GateState`), so that a count is taken exactly once:

- a count for a period not counted yet is counted, even when it arrives after later periods
  (a counter that buffered while its link was down);
- a count for a period already counted is a duplicate and counted zero times;
- a count for a period more than :data:`LATE_LIMIT` before the gate's newest one is refused
  (counted in ``GateState.refused``): the gate no longer remembers whether it counted it.

Flow, in persons per metre of exit width per minute, is the newest period's count through a
gate zone divided by its exit width and the period's length; a late count for an earlier period
moves the totals but not the current flow.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from flambeau.services.crowds.levels import AlertState, next_alert_state, zone_level
from flambeau.services.crowds.schemas import (
    FruinLevel,
    GateCount,
    ZoneConfigured,
    ZoneKind,
    ZoneRole,
)

__all__ = [
    "LATE_LIMIT",
    "GateState",
    "Tally",
    "ZoneState",
    "configure",
    "count_gate",
    "gate_key",
    "measure",
    "with_flow",
    "zone_key",
]

LATE_LIMIT = timedelta(hours=6)
"""How far behind a gate's newest counting period a late count is still taken."""
_LATE_LIMIT_US = LATE_LIMIT // timedelta(microseconds=1)


class ZoneState(msgspec.Struct, frozen=True, kw_only=True):
    """What the processor remembers about one zone.

    Attributes:
        role: What the zone is.
        kind: Which Fruin table judges it.
        area_m2: Its surface (0 until configured or measured).
        exit_width_m: The clear width of its exits.
        capacity: People it holds safely (0 when not set).
        share: For a station, its share of the venue's leaving crowd.
        people: People at the last density reading.
        measured_us: The last density reading's time, microseconds since the epoch.
        flow: Persons per metre per minute in the newest counted period.
        counted_us: The newest counted period's end.
        level: The zone's level of service.
        alert: Its alert state.
        window: The current feature window (see :mod:`.features`), 0 before the first.
        window_counted: People counted through the zone in it.
        last_window: The last published window (0: none yet).
        last_density: The density published for it.
    """

    role: ZoneRole = ZoneRole.FORECOURT
    kind: ZoneKind = ZoneKind.WALKWAY
    area_m2: int = 0
    exit_width_m: float = 0.0
    capacity: int = 0
    share: float = 0.0
    people: int = 0
    measured_us: int = 0
    flow: float = 0.0
    counted_us: int = 0
    level: FruinLevel = FruinLevel.A
    alert: AlertState = AlertState.CLEAR
    window: int = 0
    window_counted: int = 0
    last_window: int = 0
    last_density: float = 0.0


class GateState(msgspec.Struct, frozen=True, kw_only=True):
    """The counting periods of one gate counted so far.

    Attributes:
        periods: The ends of the periods counted within :data:`LATE_LIMIT` of ``newest``,
            microseconds since the epoch, ascending.
        newest: The newest counted period's end.
        refused: Counts refused for arriving more than :data:`LATE_LIMIT` late.
    """

    periods: list[int] = []
    newest: int = 0
    refused: int = 0


class Tally(msgspec.Struct, frozen=True):
    """What a gate count does: ``counted`` once or not at all, ``newest`` if it is the latest."""

    gate: GateState
    counted: bool
    newest: bool


def zone_key(venue: str, zone: str) -> str:
    """The state key of a zone."""
    return f"z/{venue}/{zone}"


def gate_key(venue: str, gate: str) -> str:
    """The state key of a gate's counted periods."""
    return f"g/{venue}/{gate}"


def count_gate(state: GateState, period_us: int) -> Tally:
    """Whether a count for the period ending at ``period_us`` is taken, and the gate after it."""
    if period_us in state.periods:
        return Tally(state, counted=False, newest=False)
    if period_us < state.newest - _LATE_LIMIT_US:
        return Tally(
            msgspec.structs.replace(state, refused=state.refused + 1), counted=False, newest=False
        )
    newest = max(state.newest, period_us)
    floor = newest - _LATE_LIMIT_US
    periods = sorted([p for p in state.periods if p >= floor] + [period_us])
    gate = GateState(periods=periods, newest=newest, refused=state.refused)
    return Tally(gate, counted=True, newest=period_us == newest)


def configure(state: ZoneState, event: ZoneConfigured) -> ZoneState:
    """The zone after its configuration (its measurements are kept)."""
    zone = msgspec.structs.replace(
        state,
        role=event.role,
        kind=event.kind,
        area_m2=event.area_m2,
        exit_width_m=event.exit_width_m,
        capacity=event.capacity,
        share=event.share,
    )
    return _judged(zone)


def measure(state: ZoneState, people: int, area_m2: int, at_us: int) -> ZoneState:
    """The zone after a density reading of ``people`` in ``area_m2`` at ``at_us``."""
    zone = msgspec.structs.replace(state, people=people, area_m2=area_m2, measured_us=at_us)
    return _judged(zone)


def with_flow(state: ZoneState, count: GateCount, at_us: int) -> ZoneState:
    """A gate zone after the newest count through it (no exit width: no flow)."""
    if state.exit_width_m <= 0:
        return msgspec.structs.replace(state, counted_us=at_us)
    minutes = count.period_s / 60
    flow = (count.entered + count.exited) / (state.exit_width_m * minutes)
    return _judged(msgspec.structs.replace(state, flow=round(flow, 2), counted_us=at_us))


def _judged(state: ZoneState) -> ZoneState:
    area = state.area_m2 if state.area_m2 > 0 else 1
    level = zone_level(state.kind, state.people, area, state.flow)
    return msgspec.structs.replace(state, level=level, alert=next_alert_state(state.alert, level))
