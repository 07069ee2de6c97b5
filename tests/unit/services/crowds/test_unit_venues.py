"""Unit ends keyed by venue, and the chain "extra time → egress forecast → staffing plan".

The chain runs the results service's ``results.unit-clock`` with the crowds processors on one
in-memory desk (the betting tests' harness): a result snapshot showing extra time moves the
unit's estimated end, which moves the venue's egress forecast and then its staffing plan, each
event naming its cause.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.services.betting.harness import Desk

from flambeau.events import NewEvent
from flambeau.services.crowds.processors import occupancy, situation, staffing, unit_venues
from flambeau.services.crowds.schemas import (
    FORECASTS,
    SENSORS,
    SITUATION,
    STAFFING,
    UNITS,
    EgressForecast,
    GateCount,
    StaffingPlan,
    VenueUnitEnd,
    ZoneConfigured,
    ZoneRole,
)
from flambeau.services.results.processors import unit_clock
from flambeau.services.results.schemas import (
    UNITS as RESULT_UNITS,
)
from flambeau.services.results.schemas import (
    EndAdjustment,
    Feed,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
    UnitStatus,
)
from flambeau.testing import run

KICK_OFF = datetime(2024, 8, 9, 16, 0, tzinfo=UTC)
FINAL_WHISTLE = KICK_OFF + timedelta(minutes=115)
MATCH = "FBLMTEAM11------------FNL-000100--"


def minute(value: float) -> datetime:
    return KICK_OFF + timedelta(minutes=value)


def scheduled(venue: str | None = "PDP", feed: Feed = Feed.PRODUCTION) -> UnitScheduleChanged:
    return UnitScheduleChanged(
        competition="OG2024", unit=MATCH, discipline="FBL", status=UnitStatus.SCHEDULED,
        start=KICK_OFF, end=FINAL_WHISTLE, venue=venue, feed=feed,
    )  # fmt: skip


def estimate(minutes: float, *adjustments: EndAdjustment, feed: Feed = Feed.PRODUCTION) -> object:
    return UnitEndEstimated(
        competition="OG2024", unit=MATCH, discipline="FBL", estimated_end=minute(minutes),
        adjustments=adjustments, feed=feed,
    )  # fmt: skip


def live(version: int, period: str) -> UnitResult:
    return UnitResult(
        competition="OG2024", unit=MATCH, discipline="FBL", version=version,
        status="live", shape="head_to_head", unit_status="running",  # type: ignore[arg-type]
        start=KICK_OFF, end=FINAL_WHISTLE, current_period=period, venue="PDP",
    )  # fmt: skip


def on_units(event: object, at: float, id: str) -> tuple[str, NewEvent]:
    return RESULT_UNITS, NewEvent(event, key=MATCH, time=minute(at), id=id)  # type: ignore[arg-type]


def test_each_estimate_is_keyed_by_its_units_venue_and_names_it_as_cause() -> None:
    result = run(
        unit_venues,
        [
            on_units(scheduled(), -600, "s"),
            on_units(estimate(115), -600, "e1"),
            on_units(estimate(152, EndAdjustment.EXTRA_TIME), 108, "e2"),
            on_units(estimate(150, EndAdjustment.FINISHED), 150, "e3"),
        ],
    )
    records = result.records(UNITS)
    assert [(r.key, r.causation_id, r.time) for r in records] == [
        ("PDP", "e1", minute(-600)), ("PDP", "e2", minute(108)), ("PDP", "e3", minute(150))
    ]  # fmt: skip
    assert [(e.estimated_end, e.finished) for e in result.events(UNITS)] == [
        (minute(115), False), (minute(152), False), (minute(150), True)
    ]  # fmt: skip
    assert result.events(UNITS)[1].adjustments == ("extra_time",)


def test_an_estimate_before_its_venue_waits_for_it_and_test_feeds_are_ignored() -> None:
    result = run(
        unit_venues,
        [
            on_units(estimate(115), -700, "early"),
            on_units(scheduled(None), -650, "no-venue"),
            on_units(estimate(120, feed=Feed.TEST), -640, "test"),
            on_units(scheduled("PDP", feed=Feed.TEST), -630, "test-venue"),
            on_units(scheduled("PDP"), -600, "s"),
        ],
    )
    (record,) = result.records(UNITS)
    assert (record.key, record.causation_id, record.time) == ("PDP", "early", minute(-700))
    assert record.data == VenueUnitEnd(venue="PDP", unit=MATCH, estimated_end=minute(115))


def test_chain_extra_time_moves_the_estimated_end_the_egress_forecast_and_the_staffing() -> None:
    desk = Desk([unit_clock, unit_venues, occupancy, situation, staffing], clock=None)
    desk.send(RESULT_UNITS, scheduled(), key=MATCH, time=minute(-600))
    for n in (1, 2):
        gate = ZoneConfigured(venue="PDP", zone=f"PDP-G{n}", role=ZoneRole.GATE, area_m2=300,
                              exit_width_m=10.0)  # fmt: skip
        desk.send(SENSORS, gate, key="PDP", time=minute(-120))
    desk.send(SENSORS, GateCount(venue="PDP", gate="PDP-G1", entered=45_000), key="PDP",
              time=minute(-5))  # fmt: skip
    desk.send(RESULT_UNITS, live(1, "H1"), key=MATCH, time=minute(0))
    desk.run()
    snapshot = live(2, "ET1")
    desk.send(RESULT_UNITS, snapshot, key=MATCH, time=minute(108))
    desk.run()
    forecasts: list[EgressForecast] = desk.events(FORECASTS)
    # made when the estimate, the exits and the crowd came in (in the order the desk fed them)
    assert [f.egress_start for f in forecasts][-2:] == [FINAL_WHISTLE, minute(152)]
    assert {f.egress_start for f in forecasts} == {FINAL_WHISTLE, minute(152)}
    assert forecasts[-2].occupancy == forecasts[-1].occupancy == 45_000
    # 45,000 people through 20 m of level exits at 82 p/m/min: 27.4 minutes, over the limit
    assert (forecasts[-1].egress_s, forecasts[-1].over_limit) == (1_647, True)
    plan: StaffingPlan = desk.events(STAFFING)[-1]
    assert plan.unit == MATCH
    assert plan.cause.startswith("forecast: egress from 18:32Z")
    chain = [desk.records(STAFFING)[-1]]
    for stream in (SITUATION, FORECASTS, UNITS, RESULT_UNITS, RESULT_UNITS):
        cause = next(r for r in desk.records(stream) if r.id == chain[-1].causation_id)
        chain.append(cause)
    assert [type(r.data).__name__ for r in chain] == [
        "StaffingPlan", "EgressForecast", "EgressForecast", "VenueUnitEnd", "UnitEndEstimated",
        "UnitResult",
    ]  # fmt: skip
    assert chain[2].data == forecasts[-1]
    assert chain[4].data.adjustments == (EndAdjustment.EXTRA_TIME,)
    assert chain[-1].data == snapshot
    assert chain[2].time == chain[-1].time == minute(108)  # on the result's own clock
