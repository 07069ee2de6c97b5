"""Fruin levels and the crowd alert's hysteresis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.crowds.levels import (
    AlertState,
    fruin_level,
    next_alert_state,
)
from flambeau.services.crowds.schemas import FruinLevel


@pytest.mark.parametrize(
    ("people", "area", "level"),
    [
        (0, 100, FruinLevel.A),
        (30, 100, FruinLevel.A),  # 3.33 m² each
        (31, 100, FruinLevel.B),
        (43, 100, FruinLevel.B),  # 2.33
        (44, 100, FruinLevel.C),
        (71, 100, FruinLevel.C),  # 1.41
        (72, 100, FruinLevel.D),
        (111, 100, FruinLevel.D),  # 0.90
        (112, 100, FruinLevel.E),
        (200, 100, FruinLevel.E),  # exactly 0.5
        (201, 100, FruinLevel.F),
    ],
)
def test_walkway_levels_follow_fruins_thresholds(people: int, area: int, level: FruinLevel) -> None:
    assert fruin_level(people, area) is level


@given(st.integers(0, 100_000), st.integers(0, 100_000), st.integers(1, 10_000))
def test_more_people_in_the_same_area_never_improves_the_level(a: int, b: int, area: int) -> None:
    order = list(FruinLevel)
    fewer, more = sorted((a, b))
    assert order.index(fruin_level(fewer, area)) <= order.index(fruin_level(more, area))


def test_alert_is_raised_at_e_and_cleared_only_back_at_c() -> None:
    state = AlertState.CLEAR
    seen = []
    for level in "CDEDDCB":
        state = next_alert_state(state, FruinLevel(level))
        seen.append(state)
    assert seen == [
        AlertState.CLEAR,
        AlertState.CLEAR,
        AlertState.RAISED,
        AlertState.RAISED,  # D is not comfortable enough to clear
        AlertState.RAISED,
        AlertState.CLEAR,
        AlertState.CLEAR,
    ]
