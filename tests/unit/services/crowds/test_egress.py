"""Egress: the Green Guide time, sessions of units, station loads, and forecasts that follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import NewEvent
from flambeau.services.crowds.egress import (
    UnitEnd,
    egress_seconds,
    session_end,
    station_loads,
)
from flambeau.services.crowds.processors import occupancy
from flambeau.services.crowds.schemas import (
    FORECASTS,
    SENSORS,
    UNITS,
    EgressForecast,
    GateCount,
    VenueUnitEnd,
    ZoneConfigured,
    ZoneKind,
    ZoneRole,
)
from flambeau.testing import run

T0 = datetime(2024, 8, 4, 16, 0, tzinfo=UTC)
US = 1_000_000


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_green_guide_egress_is_occupancy_over_exit_width_times_rate() -> None:
    # 10 level gates of 4 m at 82 p/m/min let 3,280 people out a minute
    assert egress_seconds(77_000, 40 * 82) == 1_409  # 23.5 minutes
    assert egress_seconds(2_000, 4 * 66) == 455  # stepped exits are slower
    assert egress_seconds(0, 100) == 0
    assert egress_seconds(100, 0) == 0


def test_the_session_is_the_run_of_units_holding_the_first_unfinished_one() -> None:
    def end(minutes: int, finished: bool = False) -> UnitEnd:
        return UnitEnd(end_us=int(at(minutes).timestamp() * US), finished=finished)

    morning = {"A": end(0, True), "B": end(30, True), "C": end(60)}
    evening = {"D": end(300), "E": end(350)}
    assert session_end({**morning, **evening}) == ("C", end(60).end_us)
    done = {k: UnitEnd(end_us=v.end_us, finished=True) for k, v in morning.items()}
    assert session_end({**done, **evening}) == ("E", end(350).end_us)
    over = {k: UnitEnd(end_us=v.end_us, finished=True) for k, v in evening.items()}
    assert session_end({**done, **over}) == ("E", end(350).end_us)
    assert session_end({}) is None


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 100_000), st.integers(0, 4_000), st.floats(0.01, 1), st.integers(0, 299))
def test_station_loads_add_up_to_the_stations_share_of_the_crowd(
    people: int, egress_s: int, share: float, offset_s: int
) -> None:
    loads = station_loads(at(0) + timedelta(seconds=offset_s), egress_s, people, {"ST1": share})
    assert abs(sum(load.people for load in loads) - people * share) <= len(loads)
    assert all(load.slot.minute % 5 == 0 and load.slot.second == 0 for load in loads)


def test_station_loads_per_five_minutes() -> None:
    loads = station_loads(at(2), 600, 6_000, {"LA-PLAINE": 0.5, "ST-DENIS": 0.25})
    assert [(x.station, x.slot, x.people) for x in loads] == [
        ("LA-PLAINE", at(0), 900),  # 3 of the 10 minutes fall in 16:00-16:05
        ("LA-PLAINE", at(5), 1_500),
        ("LA-PLAINE", at(10), 600),
        ("ST-DENIS", at(0), 450),
        ("ST-DENIS", at(5), 750),
        ("ST-DENIS", at(10), 300),
    ]


def sensor(event: object, minutes: float, id: str | None = None) -> tuple[str, NewEvent]:
    return SENSORS, NewEvent(event, key="STA", time=at(minutes), id=id)  # type: ignore[arg-type]


def unit_end(
    end_minutes: float, minutes: float, id: str, finished: bool = False
) -> tuple[str, NewEvent]:
    event = VenueUnitEnd(
        venue="STA", unit="FBLMTEAM11------------FNL-000100--", estimated_end=at(end_minutes),
        finished=finished,
    )  # fmt: skip
    return UNITS, NewEvent(event, key="STA", time=at(minutes), id=id)


def stadium(entered: int) -> list[tuple[str, NewEvent]]:
    gates = [
        ZoneConfigured(
            venue="STA", zone=f"STA-G0{n}", role=ZoneRole.GATE, area_m2=200, exit_width_m=5.0,
            kind=ZoneKind.STAIR if n == 4 else ZoneKind.WALKWAY,
        )
        for n in range(1, 5)
    ]  # fmt: skip
    station = ZoneConfigured(
        venue="STA", zone="LA-PLAINE", role=ZoneRole.STATION, area_m2=3_000, share=0.6
    )
    return [
        *(sensor(g, 0) for g in gates),
        sensor(station, 0),
        sensor(GateCount(venue="STA", gate="STA-G01", entered=entered), 10),
    ]


def test_extra_time_moves_the_forecast_and_names_the_result_that_moved_it() -> None:
    result = run(
        occupancy,
        [*stadium(30_000), unit_end(115, 20, "end-1"), unit_end(150, 110, "extra-time")],
    )
    forecasts = result.events(FORECASTS)
    assert [f.egress_start for f in forecasts] == [at(115), at(150)]
    assert [r.causation_id for r in result.records(FORECASTS)] == ["end-1", "extra-time"]
    last: EgressForecast = forecasts[-1]
    # 15 m of level exits at 82 and 5 m of stepped ones at 66: 1,560 people a minute
    assert (last.exit_width_m, last.egress_s) == (20.0, 1_154)
    assert last.empties_at == at(150) + timedelta(seconds=1_154)
    assert last.over_limit
    assert last.limit_s == 480
    assert last.peaks == {"LA-PLAINE": max(s.people for s in last.stations)}
    assert sum(s.people for s in last.stations) == pytest.approx(18_000, abs=5)


def test_a_small_crowd_leaves_within_the_limit_and_small_moves_make_no_new_forecast() -> None:
    result = run(
        occupancy,
        [
            *stadium(3_000),
            unit_end(115, 20, "end-1"),
            sensor(GateCount(venue="STA", gate="STA-G02", entered=100), 30),  # < 200 people
            sensor(GateCount(venue="STA", gate="STA-G02", entered=400), 31),  # 500 in all
            unit_end(115, 116, "finished", finished=True),  # the same end: nothing moves
        ],
    )
    forecasts = result.events(FORECASTS)
    assert [(f.occupancy, f.over_limit) for f in forecasts] == [(3_000, False), (3_500, False)]
    assert forecasts[0].egress_s == 116
    assert [r.causation_id for r in result.records(FORECASTS)][1] != "finished"


def test_no_unit_no_forecast() -> None:
    assert run(occupancy, stadium(10_000)).events(FORECASTS) == []
