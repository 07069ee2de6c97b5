"""Staffing plans: from the load, finals, incidents and what other venues release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flambeau.events import NewEvent
from flambeau.services.crowds.egress import station_loads
from flambeau.services.crowds.schemas import (
    FORECASTS,
    INCIDENTS,
    SITUATION,
    STAFFING,
    EgressForecast,
    Incident,
    IncidentChange,
    IncidentStatus,
    IncidentType,
    Severity,
    StaffingPlan,
)
from flambeau.services.crowds.staffing import (
    StaffingPolicy,
    situation,
    staffing_processor,
)
from flambeau.testing import run

T0 = datetime(2024, 8, 9, 18, 0, tzinfo=UTC)
GROUP = "FBLMTEAM11------------GPA-000100--"
FINAL = "FBLMTEAM11------------FNL-000100--"
staffing = staffing_processor(StaffingPolicy(), register=False)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def forecast(
    venue: str, occupancy: int, egress_s: int, stations: dict[str, float], unit: str = GROUP
) -> EgressForecast:
    loads = station_loads(at(0), egress_s, occupancy, stations)
    peaks: dict[str, int] = {}
    for load in loads:
        peaks[load.station] = max(peaks.get(load.station, 0), load.people)
    return EgressForecast(
        venue=venue, unit=unit, egress_start=at(0), occupancy=occupancy, exit_width_m=10.0,
        egress_s=egress_s, empties_at=at(0) + timedelta(seconds=egress_s), limit_s=480,
        over_limit=egress_s > 480, stations=tuple(loads), peaks=peaks,
    )  # fmt: skip


def incident(
    venue: str, number: int, severity: Severity, status: IncidentStatus = IncidentStatus.OPEN
) -> Incident:
    return Incident(
        id=f"{venue}-{number:05d}", venue=venue, zone="Z", kind=IncidentType.WEAPON,
        severity=severity, status=status, change=IncidentChange.OPENED, source="CAM-1",
        opened_at=at(-5),
    )  # fmt: skip


def fed(event: object, id: str) -> tuple[str, NewEvent]:
    return SITUATION, NewEvent(event, key="all", time=at(-10), id=id)  # type: ignore[arg-type]


def plans(result: object) -> list[tuple[str, str, int, int]]:
    records = result.records(STAFFING)  # type: ignore[attr-defined]
    return [(r.data.venue, r.causation_id, r.data.slots[1].stewards, r.data.slots[1].police)
            for r in records]  # fmt: skip


def test_a_plan_per_slot_from_the_forecast_load() -> None:
    result = run(staffing, [fed(forecast("STA", 25_000, 1_200, {"LA-PLAINE": 0.4}), "f1")])
    (made,) = result.events(STAFFING)
    assert isinstance(made, StaffingPlan)
    # slots from 15 minutes before the egress (17:45) until the venue is empty (18:20)
    assert [s.slot for s in made.slots] == [at(-15), at(0), at(15)]
    # 100 stewards for 25,000 spectators and 25 more for an egress over the limit; once the
    # crowd leaves, the station's peak 5 minutes (10,000 over 20 minutes: 2,500) needs 10
    slots = [(s.stewards, s.supervisors, s.police) for s in made.slots]
    assert slots == [(125, 13, 25), (135, 14, 25), (135, 14, 25)]
    assert "egress 1200 s over the 480 s limit" in made.reasons


def test_a_final_draws_denser_ratios() -> None:
    result = run(staffing, [fed(forecast("STA", 15_000, 300, {}, unit=FINAL), "f1")])
    (made,) = result.events(STAFFING)
    assert (made.slots[0].stewards, made.slots[0].police) == (100, 30)
    assert "a final: denser ratios" in made.reasons


def test_incidents_and_neighbours_move_plans_and_each_plan_names_its_cause() -> None:
    result = run(
        staffing,
        [
            fed(forecast("STA", 10_000, 400, {"LA-PLAINE": 0.5}), "f-sta"),
            fed(forecast("BCY", 8_000, 400, {"ST-DENIS": 1.0}), "f-bcy"),  # no shared station
            fed(forecast("SDF", 6_000, 400, {"LA-PLAINE": 0.5}), "f-sdf"),  # shares LA-PLAINE
            fed(incident("STA", 1, Severity.HIGH), "i1"),
            fed(incident("STA", 1, Severity.HIGH, IncidentStatus.RESOLVED), "i1-done"),
        ],
    )
    # in the 18:00 slot: one steward per 250 inside, one per 250 of the station's peak 5
    # minutes (STA sends 3,750 to LA-PLAINE in 18:00-18:05, SDF 2,250), one officer per 1,000
    assert plans(result) == [
        ("STA", "f-sta", 40 + 15, 10),
        ("BCY", "f-bcy", 32 + 24, 8),
        ("SDF", "f-sdf", 24 + 24, 6),  # LA-PLAINE gets 3,750 + 2,250 at once
        ("STA", "f-sdf", 40 + 24, 10),  # and STA hears of it
        ("STA", "i1", 40 + 24 + 4, 10 + 4),  # a high weapon incident: police doubled
        ("SDF", "i1", 24 + 24, 6 + 1),  # the neighbour's high incident
        ("STA", "i1-done", 40 + 24, 10),
        ("SDF", "i1-done", 24 + 24, 6),
    ]
    shared = result.events(STAFFING)[3]
    assert shared.cause.startswith("SDF: forecast")
    assert any("LA-PLAINE also receives" in r for r in shared.reasons)


def test_the_situation_relay_copies_forecasts_and_incidents_into_one_partition() -> None:
    result = run(
        situation,
        [
            (FORECASTS, NewEvent(forecast("STA", 100, 10, {}), key="STA", id="f")),
            (INCIDENTS, NewEvent(incident("BCY", 1, Severity.LOW), key="BCY", id="i")),
        ],
    )
    assert sorted((r.key, r.causation_id) for r in result.records(SITUATION)) == [
        ("all", "f"), ("all", "i")
    ]  # fmt: skip
