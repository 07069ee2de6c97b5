"""Spectators through the gates around each session, and the forecourt's Fruin level."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from flambeau.scenario.generators.crowds import (
    AreaDensity,
    CrowdEvent,
    GateCount,
    attendance,
    crowd_events,
    expected_flows,
    gate_ids,
)
from flambeau.scenario.schedule import Schedule, build_schedule
from flambeau.scenario.venues import venue
from flambeau.services.crowds.levels import fruin_level
from flambeau.services.crowds.schemas import FruinLevel


@pytest.fixture(scope="module")
def day() -> Schedule:
    return build_schedule()


@pytest.fixture(scope="module")
def events(day: Schedule) -> list[CrowdEvent]:
    return list(crowd_events(day, seed=1))


def test_same_seed_same_crowd_other_seed_other_crowd(day: Schedule) -> None:
    start = day.sessions[0].start
    window = {"start": start, "end": start + timedelta(hours=1)}
    assert list(crowd_events(day, 1, **window)) == list(crowd_events(day, 1, **window))
    assert list(crowd_events(day, 1, **window)) != list(crowd_events(day, 2, **window))


def test_everyone_who_comes_in_goes_out(day: Schedule, events: list[CrowdEvent]) -> None:
    entered: Counter[str] = Counter()
    exited: Counter[str] = Counter()
    for event in events:
        if isinstance(event, GateCount):
            entered[event.venue] += event.entered
            exited[event.venue] += event.exited
    for code in day.venues:
        sold = sum(attendance(s, 1) for s in day.sessions_at(code))
        # Poisson noise stays within a few percent of the tickets sold (and 3 people).
        assert abs(entered[code] - sold) <= 0.05 * sold + 3 * sold**0.5 + 3, code
        assert abs(exited[code] - sold) <= 0.05 * sold + 3 * sold**0.5 + 3, code


def test_nobody_enters_before_the_gates_open(day: Schedule, events: list[CrowdEvent]) -> None:
    for event in events:
        if isinstance(event, GateCount) and event.entered:
            opens, _ = venue(event.venue).opening_hours(day.day)
            assert event.time > opens


def test_arrivals_peak_before_the_start_and_exits_after_the_end(day: Schedule) -> None:
    flows = expected_flows(day, 1)
    session = max(day.sessions, key=lambda s: s.capacity)  # the Stade de France
    flow = flows[session.venue]
    peak_in = (
        flow.index(session.start)
        - 60
        + max(range(60), key=lambda i: flow.arrivals[flow.index(session.start) - 60 + i])
    )
    assert session.start - timedelta(minutes=45) <= flow.start + peak_in * timedelta(minutes=1)
    assert flow.start + peak_in * timedelta(minutes=1) <= session.start
    after = range(flow.index(session.end) - 10, flow.index(session.end) + 40)
    peak_out = max(after, key=lambda i: flow.exits[i])
    assert (
        session.end
        <= flow.start + peak_out * timedelta(minutes=1)
        <= session.end + timedelta(minutes=15)
    )


def test_the_forecourt_gets_crowded_at_the_stadium_peaks(events: list[CrowdEvent]) -> None:
    levels = {e.level for e in events if isinstance(e, AreaDensity) and e.venue == "STA"}
    assert FruinLevel.A in levels
    assert levels & {FruinLevel.C, FruinLevel.D, FruinLevel.E, FruinLevel.F}
    for event in events:
        if isinstance(event, AreaDensity) and event.people:
            assert event.level is fruin_level(event.people, event.area_m2)


def test_the_rate_multiplier_adds_counters_not_people(day: Schedule) -> None:
    start = day.sessions[0].start - timedelta(hours=1)
    window = {"start": start, "end": start + timedelta(hours=3)}
    base = [e for e in crowd_events(day, 1, **window) if isinstance(e, GateCount)]
    more = [
        e for e in crowd_events(day, 1, rate_multiplier=4.0, **window) if isinstance(e, GateCount)
    ]
    assert len(more) > 2 * len(base)
    people = sum(e.entered for e in base)
    assert abs(sum(e.entered for e in more) - people) <= 0.05 * people + 50
    assert len(gate_ids("STA", 4.0)) == pytest.approx(4 * len(gate_ids("STA")), abs=2)


def test_events_come_in_time_order_inside_the_window(day: Schedule) -> None:
    start = day.sessions[0].start
    end = start + timedelta(hours=2)
    window = list(crowd_events(day, 1, start=start, end=end))
    assert window
    assert all(start <= e.time <= end for e in window)
    assert [e.time for e in window] == sorted(e.time for e in window)
    full = [e for e in crowd_events(day, 1) if start <= e.time <= end]
    assert window == full
