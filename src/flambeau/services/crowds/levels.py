"""Fruin levels of service, and the crowd alert state machine with its hysteresis.

Fruin's walkway levels, by square metres per person::

    A ≥ 3.3 > B ≥ 2.3 > C ≥ 1.4 > D ≥ 0.9 > E ≥ 0.5 > F

An area's alert is raised when it reaches level E and cleared only once it is back to C or
better, so a crowd hovering at the D/E boundary does not flap::

    CLEAR ──(level E or F)──▶ RAISED
      ▲                          │
      └────(level A, B or C)─────┘

Both moves are legal from their state, so :func:`next_alert_state` is the whole machine.
"""

from __future__ import annotations

from enum import StrEnum

from flambeau.services.crowds.schemas import FruinLevel

__all__ = [
    "ALERT_LEVELS",
    "CLEAR_LEVELS",
    "AlertState",
    "fruin_level",
    "next_alert_state",
]

_WALKWAY = (
    (3.3, FruinLevel.A),
    (2.3, FruinLevel.B),
    (1.4, FruinLevel.C),
    (0.9, FruinLevel.D),
    (0.5, FruinLevel.E),
)
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
    if people <= 0:
        return FruinLevel.A
    space = area_m2 / people
    for floor, level in _WALKWAY:
        if space >= floor:
            return level
    return FruinLevel.F


def next_alert_state(current: AlertState, level: FruinLevel) -> AlertState:
    """The alert state after a reading at ``level`` (with the hysteresis above)."""
    if current is AlertState.CLEAR and level in ALERT_LEVELS:
        return AlertState.RAISED
    if current is AlertState.RAISED and level in CLEAR_LEVELS:
        return AlertState.CLEAR
    return current
