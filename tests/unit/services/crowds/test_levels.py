"""Fruin levels and the crowd alert's hysteresis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.crowds.levels import (
    AlertState,
    flow_level,
    fruin_level,
    next_alert_state,
    space_level,
    worse,
    zone_level,
)
from flambeau.services.crowds.schemas import FruinLevel, ZoneKind


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


@pytest.mark.parametrize(
    ("kind", "people", "area", "level"),
    [
        (ZoneKind.STAIR, 52, 100, FruinLevel.A),  # 1.92 m² each
        (ZoneKind.STAIR, 53, 100, FruinLevel.B),  # 1.89
        (ZoneKind.STAIR, 111, 100, FruinLevel.C),  # 0.90
        (ZoneKind.STAIR, 142, 100, FruinLevel.D),  # 0.704
        (ZoneKind.STAIR, 250, 100, FruinLevel.E),  # exactly 0.4
        (ZoneKind.STAIR, 251, 100, FruinLevel.F),
        (ZoneKind.QUEUE, 83, 100, FruinLevel.A),  # 1.20
        (ZoneKind.QUEUE, 111, 100, FruinLevel.B),  # 0.90
        (ZoneKind.QUEUE, 142, 100, FruinLevel.C),  # 0.704
        (ZoneKind.QUEUE, 333, 100, FruinLevel.D),  # 0.300
        (ZoneKind.QUEUE, 500, 100, FruinLevel.E),  # exactly 0.2
        (ZoneKind.QUEUE, 501, 100, FruinLevel.F),
    ],
)
def test_stairs_and_queues_have_their_own_space_tables(
    kind: ZoneKind, people: int, area: int, level: FruinLevel
) -> None:
    assert space_level(kind, people, area) is level


@pytest.mark.parametrize(
    ("kind", "flow", "level"),
    [
        (ZoneKind.WALKWAY, 22.9, FruinLevel.A),
        (ZoneKind.WALKWAY, 23, FruinLevel.B),
        (ZoneKind.WALKWAY, 48.9, FruinLevel.C),
        (ZoneKind.WALKWAY, 65, FruinLevel.D),
        (ZoneKind.WALKWAY, 82, FruinLevel.E),
        (ZoneKind.WALKWAY, 82.1, FruinLevel.F),
        (ZoneKind.STAIR, 15, FruinLevel.A),
        (ZoneKind.STAIR, 30, FruinLevel.C),
        (ZoneKind.STAIR, 43, FruinLevel.E),
        (ZoneKind.STAIR, 56, FruinLevel.E),
        (ZoneKind.STAIR, 57, FruinLevel.F),
        (ZoneKind.QUEUE, 500, FruinLevel.A),  # queues are judged by space only
    ],
)
def test_flow_levels_for_walkways_and_stairs(
    kind: ZoneKind, flow: float, level: FruinLevel
) -> None:
    assert flow_level(kind, flow) is level


def test_a_zone_takes_the_worse_of_its_space_and_flow_levels() -> None:
    assert zone_level(ZoneKind.WALKWAY, 10, 100, 70) is FruinLevel.E  # roomy, but a fast flow
    assert zone_level(ZoneKind.WALKWAY, 150, 100, 10) is FruinLevel.E  # slow, but packed
    assert zone_level(ZoneKind.STAIR, 10, 100, 30) is FruinLevel.C
    assert worse(FruinLevel.B, FruinLevel.D) is worse(FruinLevel.D, FruinLevel.B) is FruinLevel.D
