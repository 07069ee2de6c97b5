"""Fruin levels of service, and the crowd alert state machine with its hysteresis.

Fruin's levels (Fruin 1971, *Pedestrian Planning and Design*, converted to metric), by space
in square metres per person and, for walkways and stairs, by flow in persons per metre of
width per minute::

    walkway space  A ≥ 3.3 > B ≥ 2.3 > C ≥ 1.4 > D ≥ 0.9 > E ≥ 0.5 > F
    walkway flow   A < 23 ≤ B < 33 ≤ C < 49 ≤ D < 66 ≤ E ≤ 82 < F
    stair space    A ≥ 1.9 > B ≥ 1.4 > C ≥ 0.9 > D ≥ 0.7 > E ≥ 0.4 > F
    stair flow     A < 16 ≤ B < 23 ≤ C < 33 ≤ D < 43 ≤ E ≤ 56 < F
    queue space    A ≥ 1.2 > B ≥ 0.9 > C ≥ 0.7 > D ≥ 0.3 > E ≥ 0.2 > F

A zone's level is the worse of its space level and its flow level (queues have no flow
table). A zone's alert is raised when it reaches level E and cleared only once it is back to C or
better, so a crowd hovering at the D/E boundary does not flap::

    CLEAR ──(level E or F)──▶ RAISED
      ▲                          │
      └────(level A, B or C)─────┘

Both moves are legal from their state, so :func:`next_alert_state` is the whole machine.
"""

from __future__ import annotations

from enum import StrEnum

from flambeau.services.crowds.schemas import FruinLevel, ZoneKind

__all__ = [
    "ALERT_LEVELS",
    "CLEAR_LEVELS",
    "AlertState",
    "flow_level",
    "fruin_level",
    "next_alert_state",
    "space_level",
    "worse",
    "zone_level",
]

_WALKWAY = (
    (3.3, FruinLevel.A),
    (2.3, FruinLevel.B),
    (1.4, FruinLevel.C),
    (0.9, FruinLevel.D),
    (0.5, FruinLevel.E),
)
_SPACE = {
    ZoneKind.WALKWAY: _WALKWAY,
    ZoneKind.STAIR: ((1.9, FruinLevel.A), (1.4, FruinLevel.B), (0.9, FruinLevel.C),
                     (0.7, FruinLevel.D), (0.4, FruinLevel.E)),
    ZoneKind.QUEUE: ((1.2, FruinLevel.A), (0.9, FruinLevel.B), (0.7, FruinLevel.C),
                     (0.3, FruinLevel.D), (0.2, FruinLevel.E)),
}  # fmt: skip
_FLOW = {  # the level of the first ceiling the flow stays under (E includes its ceiling)
    ZoneKind.WALKWAY: ((23, FruinLevel.A), (33, FruinLevel.B), (49, FruinLevel.C),
                       (66, FruinLevel.D)),
    ZoneKind.STAIR: ((16, FruinLevel.A), (23, FruinLevel.B), (33, FruinLevel.C),
                     (43, FruinLevel.D)),
}  # fmt: skip
_FLOW_E = {ZoneKind.WALKWAY: 82.0, ZoneKind.STAIR: 56.0}
_ORDER = list(FruinLevel)
ALERT_LEVELS = frozenset({FruinLevel.E, FruinLevel.F})
"""Levels at which an alert is raised."""
CLEAR_LEVELS = frozenset({FruinLevel.A, FruinLevel.B, FruinLevel.C})
"""Levels at which a raised alert clears."""


class AlertState(StrEnum):
    """Whether an area's crowd alert is raised."""

    CLEAR = "clear"
    RAISED = "raised"


def fruin_level(people: int, area_m2: int) -> FruinLevel:
    """The walkway level of service of ``people`` in ``area_m2`` square metres."""
    return space_level(ZoneKind.WALKWAY, people, area_m2)


def space_level(kind: ZoneKind, people: int, area_m2: float) -> FruinLevel:
    """The level of service of ``people`` in ``area_m2`` square metres of a ``kind`` zone."""
    if people <= 0:
        return FruinLevel.A
    space = area_m2 / people
    for floor, level in _SPACE[kind]:
        if space >= floor:
            return level
    return FruinLevel.F


def flow_level(kind: ZoneKind, flow: float) -> FruinLevel:
    """The level of service of a flow in persons per metre per minute (queues: always A)."""
    ceilings = _FLOW.get(kind)
    if ceilings is None:
        return FruinLevel.A
    for ceiling, level in ceilings:
        if flow < ceiling:
            return level
    return FruinLevel.E if flow <= _FLOW_E[kind] else FruinLevel.F


def worse(first: FruinLevel, second: FruinLevel) -> FruinLevel:
    """The worse of two levels."""
    return first if _ORDER.index(first) >= _ORDER.index(second) else second


def zone_level(kind: ZoneKind, people: int, area_m2: float, flow: float) -> FruinLevel:
    """A zone's level: the worse of its space level and its flow level."""
    return worse(space_level(kind, people, area_m2), flow_level(kind, flow))


def next_alert_state(current: AlertState, level: FruinLevel) -> AlertState:
    """The alert state after a reading at ``level`` (with the hysteresis above)."""
    if current is AlertState.CLEAR and level in ALERT_LEVELS:
        return AlertState.RAISED
    if current is AlertState.RAISED and level in CLEAR_LEVELS:
        return AlertState.CLEAR
    return current
