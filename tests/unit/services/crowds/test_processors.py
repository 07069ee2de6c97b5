"""The occupancy processor, driven through flambeau.testing with no backend."""

from __future__ import annotations

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
    VenueConfigured,
    VenueCrowd,
)
from flambeau.testing import run

T0 = datetime(2024, 8, 4, 16, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reading(
    event: object, minutes: int, key: str = "STA", id: str | None = None
) -> tuple[str, NewEvent]:
    return SENSORS, NewEvent(event, key=key, time=at(minutes), id=id)  # type: ignore[arg-type]


def test_occupancy_is_counted_in_minus_counted_out_against_capacity() -> None:
    result = run(
        occupancy,
        [
            reading(
                VenueConfigured(venue="STA", capacity=77_000, area="STA-FORECOURT", area_m2=9_000),
                0,
            ),
            reading(GateCount(venue="STA", gate="STA-G01", entered=500, exited=0), 1),
            reading(GateCount(venue="STA", gate="STA-G02", entered=300, exited=20), 1),
            reading(AreaDensity(venue="STA", area="STA-FORECOURT", people=900, area_m2=9_000), 1),
        ],
    )
    crowds = [e for e in result.events(VENUES) if isinstance(e, VenueCrowd)]
    assert crowds == [
        VenueCrowd(
            venue="STA",
            occupancy=780,
            capacity=77_000,
            entered=800,
            exited=20,
            area="STA-FORECOURT",
            people=900,
            area_m2=9_000,
            level=FruinLevel.A,
            measured_at=at(1),
        )
    ]


def test_a_dense_forecourt_raises_an_alert_once_then_clears_it() -> None:
    def density(people: int, minutes: int) -> tuple[str, NewEvent]:
        return reading(AreaDensity(venue="STA", area="F", people=people, area_m2=1_000), minutes)

    result = run(occupancy, [density(100, 1), density(1_500, 2), density(1_800, 3),
                             density(1_000, 4), density(400, 5)])  # fmt: skip
    levels = [e.level for e in result.events(VENUES) if isinstance(e, VenueCrowd)]
    assert levels == [FruinLevel.A, FruinLevel.E, FruinLevel.E, FruinLevel.D, FruinLevel.B]
    alerts = [e for e in result.events(VENUES) if isinstance(e, CrowdAlert)]
    assert [(a.raised, a.level) for a in alerts] == [(True, FruinLevel.E), (False, FruinLevel.B)]


def test_derived_events_name_the_reading_that_caused_them() -> None:
    result = run(
        occupancy,
        [reading(AreaDensity(venue="STA", area="F", people=5_000, area_m2=1_000), 1, id="r-1")],
    )
    assert [r.causation_id for r in result.records(VENUES)] == ["r-1", "r-1", "r-1"]


def test_a_repeated_gate_reading_is_not_counted_twice() -> None:
    gate = GateCount(venue="STA", gate="STA-G01", entered=100, exited=3)
    # The same reading re-sent under new ids (a producer resuming after the dedupe window).
    result = run(occupancy, [reading(gate, 1, id="a"), reading(gate, 1, id="b"),
                             reading(gate, 2, id="c")])  # fmt: skip
    state = result.value(state_key("STA"), VenueState)
    assert state is not None
    assert (state.entered, state.exited) == (200, 6)


def test_venues_are_kept_apart() -> None:
    result = run(
        occupancy,
        [
            reading(GateCount(venue="STA", gate="STA-G01", entered=10), 1),
            reading(GateCount(venue="BCY", gate="BCY-G01", entered=7), 1, key="BCY"),
            reading(AreaDensity(venue="BCY", area="BCY-F", people=1, area_m2=800), 2, key="BCY"),
        ],
    )
    (crowd,) = [e for e in result.events(VENUES) if isinstance(e, VenueCrowd)]
    assert (crowd.venue, crowd.occupancy) == ("BCY", 7)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["G1", "G2", "G3"]), st.integers(0, 50), st.integers(0, 50)),
        max_size=30,
    ),
    st.integers(1, 7),
)
def test_restarts_and_batching_never_change_the_counts(
    counts: list[tuple[str, int, int]], batch_size: int
) -> None:
    events = [
        reading(GateCount(venue="STA", gate=gate, entered=came, exited=went), minute)
        for minute, (gate, came, went) in enumerate(counts, start=1)
    ]
    events.append(reading(AreaDensity(venue="STA", area="F", people=1, area_m2=900), 99))
    whole = run(occupancy, events)
    pieces = run(occupancy, events, batch_size=batch_size, restart_every=1)
    assert whole.events(VENUES) == pieces.events(VENUES)
    (crowd,) = [e for e in whole.events(VENUES) if isinstance(e, VenueCrowd)]
    assert crowd.entered == sum(c for _, c, _ in counts)
    assert crowd.occupancy == max(0, crowd.entered - crowd.exited)
