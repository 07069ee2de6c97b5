"""Zones: own state, level and alert each; flow from gate counts; late and repeated counts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import NewEvent
from flambeau.services.crowds.processors import VenueState, occupancy, state_key
from flambeau.services.crowds.schemas import (
    SENSORS,
    VENUES,
    AreaDensity,
    CrowdAlert,
    FruinLevel,
    GateCount,
    ZoneConfigured,
    ZoneCrowd,
    ZoneKind,
    ZoneRole,
)
from flambeau.services.crowds.zones import LATE_LIMIT, GateState, gate_key
from flambeau.testing import run

T0 = datetime(2024, 8, 4, 16, 0, tzinfo=UTC)


def sensor(event: object, minutes: float, id: str | None = None) -> tuple[str, NewEvent]:
    moment = T0 + timedelta(minutes=minutes)
    return SENSORS, NewEvent(event, key="STA", time=moment, id=id)  # type: ignore[arg-type]


def zone(name: str, role: ZoneRole, kind: ZoneKind = ZoneKind.WALKWAY, **more: object) -> object:
    return ZoneConfigured(venue="STA", zone=name, role=role, kind=kind, area_m2=1_000, **more)  # type: ignore[arg-type]


def density(name: str, people: int) -> AreaDensity:
    return AreaDensity(venue="STA", area=name, people=people, area_m2=1_000)


def gate(entered: int, exited: int = 0, name: str = "STA-G01") -> GateCount:
    return GateCount(venue="STA", gate=name, entered=entered, exited=exited)


def alerts(result: object) -> list[tuple[str, bool, FruinLevel]]:
    events = result.events(VENUES)  # type: ignore[attr-defined]
    return [(a.area, a.raised, a.level) for a in events if isinstance(a, CrowdAlert)]


def test_each_zone_has_its_own_alert_that_no_other_zone_clears() -> None:
    result = run(
        occupancy,
        [
            sensor(zone("STA-FORECOURT", ZoneRole.FORECOURT), 0),
            sensor(zone("STA-STAND-N", ZoneRole.STAND, ZoneKind.STAIR), 0),
            sensor(density("STA-FORECOURT", 1_500), 1),  # 0.67 m² each: E
            sensor(density("STA-STAND-N", 100), 2),  # roomy stand: A
            sensor(density("STA-FORECOURT", 1_600), 3),
            sensor(density("STA-STAND-N", 2_600), 4),  # 0.38 m² each on a stair: F
            sensor(density("STA-FORECOURT", 300), 5),  # forecourt back to A
        ],
    )
    assert alerts(result) == [
        ("STA-FORECOURT", True, FruinLevel.E),
        ("STA-STAND-N", True, FruinLevel.F),
        ("STA-FORECOURT", False, FruinLevel.A),
    ]
    crowds = [e for e in result.events(VENUES) if isinstance(e, ZoneCrowd)]
    stand = [c for c in crowds if c.zone == "STA-STAND-N"][-1]
    assert (stand.kind, stand.level, stand.alert, stand.density) == (
        ZoneKind.STAIR, FruinLevel.F, True, 2.6
    )  # fmt: skip


def test_flow_through_a_gate_zone_comes_from_its_counts_and_judges_the_zone() -> None:
    result = run(
        occupancy,
        [
            sensor(zone("STA-G01", ZoneRole.GATE, exit_width_m=4.0), 0),
            sensor(gate(600, 40), 1),  # 640 people through 4 m in a minute: 160 p/m/min
            sensor(gate(200), 2),  # 50 p/m/min: D
            sensor(gate(60), 3),  # 15 p/m/min: A, the alert clears
        ],
    )
    flows = [(e.flow, e.level) for e in result.events(VENUES) if isinstance(e, ZoneCrowd)]
    assert flows[1:] == [(160.0, FruinLevel.F), (50.0, FruinLevel.D), (15.0, FruinLevel.A)]
    assert alerts(result) == [("STA-G01", True, FruinLevel.F), ("STA-G01", False, FruinLevel.A)]


def test_a_late_count_is_counted_once_and_a_duplicate_never() -> None:
    result = run(
        occupancy,
        [
            sensor(zone("STA-G01", ZoneRole.GATE, exit_width_m=2.0), 0),
            sensor(gate(100), 1, id="m1"),
            sensor(gate(300), 3, id="m3"),
            sensor(gate(50), 2, id="m2-late"),  # buffered by the counter, sent after minute 3
            sensor(gate(50), 2, id="m2-again"),  # the same period re-sent under a new id
            sensor(gate(100), 1, id="m1-again"),
        ],
    )
    state = result.value(state_key("STA"), VenueState)
    assert state is not None
    assert state.entered == 450
    flows = [e.flow for e in result.events(VENUES) if isinstance(e, ZoneCrowd)]
    assert flows[-1] == 150.0  # the newest period (minute 3) still sets the flow


def test_a_count_later_than_the_limit_is_refused_and_remembered() -> None:
    late = LATE_LIMIT.total_seconds() / 60 + 5
    result = run(occupancy, [sensor(gate(10), late), sensor(gate(7), 1)])
    state = result.value(state_key("STA"), VenueState)
    tally = result.value(gate_key("STA", "STA-G01"), GateState)
    assert state is not None
    assert tally is not None
    assert (state.entered, tally.refused) == (10, 1)


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["G1", "G2"]), st.integers(0, 300)),
        st.integers(0, 100),
        max_size=25,
    ),
    st.integers(0, 10_000),
    st.integers(1, 6),
)
def test_any_order_with_repeats_counts_each_period_exactly_once(
    periods: dict[tuple[str, int], int], seed: int, batch_size: int
) -> None:
    counts = [(name, minute, people) for (name, minute), people in periods.items()]
    shuffled = random.Random(seed)
    sent = counts + shuffled.sample(counts, k=len(counts) // 2)  # some sent twice
    shuffled.shuffle(sent)
    events = [sensor(gate(people, name=name), minute) for name, minute, people in sent]
    result = run(occupancy, events, batch_size=batch_size, restart_every=2)
    state = result.value(state_key("STA"), VenueState)
    assert (state.entered if state else 0) == sum(periods.values())
