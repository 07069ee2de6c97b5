"""Staffing: stewards and police per venue and 15-minute slot, from what every venue is doing.

::

    crowds.forecasts, crowds.incidents (4, by venue) ──crowds.situation (relay)──▶
        crowds.situation (1 partition) ──crowds.staffing──▶ crowds.staffing (4, by venue)

A venue's plan depends on the other venues (crowds released towards the same stations, a
neighbour's incident), so every forecast and incident is copied into one partition, where
``crowds.staffing`` keeps the latest forecast and the unresolved incidents of every venue. After
each input it plans again the venue it concerns and the venues sharing a station with it, and
emits each plan that changed, with the input as its cause.

A plan covers the 15-minute slots from 15 minutes before the egress starts until the venue is
empty (:class:`~.schemas.EgressForecast`). Per slot, with the ratios of :class:`StaffingPolicy`:

- stewards: one per ``spectators_per_steward`` inside (``final_spectators_per_steward`` when the
  unit is a final), a quarter more while an egress over the limit runs, plus one per
  ``station_people_per_steward`` of the peak 5-minute load on each of its stations, counting
  every venue whose crowd reaches that station in the same 5 minutes;
- supervisors: one per ``stewards_per_supervisor`` stewards;
- police: one per ``spectators_per_officer`` inside (``final_spectators_per_officer`` for a
  final);
- each unresolved incident of the venue adds stewards and police by severity (weapons and
  intrusions double the police), and each high or critical incident of a venue sharing a
  station adds ``neighbour_police``.

The ratios are project policy, not a standard: event-safety guidance commonly plans about one
steward per 100 to 250 spectators depending on risk, with a supervisor per 10 stewards, and
sets police numbers per match category. Build the processor with another policy with
:func:`staffing_processor`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from flambeau.processing import Batch, Processor, Transaction, default_processors, relay
from flambeau.services.crowds.schemas import (
    FORECASTS,
    INCIDENTS,
    SITUATION,
    STAFFING,
    EgressForecast,
    Incident,
    IncidentStatus,
    IncidentType,
    Severity,
    StaffingPlan,
    StaffSlot,
)

__all__ = ["SLOT", "Situation", "StaffingPolicy", "plan", "situation", "staffing_processor"]

SLOT = timedelta(minutes=15)
_STATION_SLOT = timedelta(minutes=5)
_KEY = "all"


@dataclass(frozen=True)
class StaffingPolicy:
    """The staffing ratios (project policy; see the module's documentation)."""

    spectators_per_steward: int = 250
    final_spectators_per_steward: int = 150
    stewards_per_supervisor: int = 10
    spectators_per_officer: int = 1_000
    final_spectators_per_officer: int = 500
    station_people_per_steward: int = 250
    over_limit_extra: float = 0.25
    incident_stewards: dict[Severity, int] = field(
        default_factory=lambda: {
            Severity.LOW: 1,
            Severity.MEDIUM: 2,
            Severity.HIGH: 4,
            Severity.CRITICAL: 8,
        }
    )
    incident_police: dict[Severity, int] = field(
        default_factory=lambda: {
            Severity.LOW: 0,
            Severity.MEDIUM: 1,
            Severity.HIGH: 2,
            Severity.CRITICAL: 4,
        }
    )
    neighbour_police: int = 1


class Situation(msgspec.Struct, frozen=True, kw_only=True):
    """Every venue's latest forecast, unresolved incidents and last plan."""

    forecasts: dict[str, EgressForecast] = {}
    incidents: dict[str, dict[str, Incident]] = {}
    plans: dict[str, StaffingPlan] = {}


situation = relay(
    "crowds.situation", source=[FORECASTS, INCIDENTS], target=SITUATION, key=lambda _: _KEY
)
"""Forecasts and incidents of every venue, into the one partition staffing reads."""


def _is_final(unit: str) -> bool:
    return unit[22:25] == "FNL"


def _neighbours(venue: str, forecasts: dict[str, EgressForecast]) -> list[str]:
    mine = forecasts.get(venue)
    if mine is None:
        return []
    stations = set(mine.peaks)
    return sorted(v for v, f in forecasts.items() if v != venue and stations & set(f.peaks))


def _station_load(station: str, moment: datetime, forecasts: dict[str, EgressForecast]) -> int:
    return sum(
        load.people
        for forecast in forecasts.values()
        for load in forecast.stations
        if load.station == station and load.slot == moment
    )


def plan(venue: str, state: Situation, policy: StaffingPolicy, cause: str) -> StaffingPlan | None:
    """The venue's plan in ``state``, or ``None`` without a forecast."""
    forecast = state.forecasts.get(venue)
    if forecast is None:
        return None
    final = _is_final(forecast.unit)
    reasons = [f"{forecast.occupancy} spectators leaving from {forecast.egress_start:%H:%M}Z"]
    if final:
        reasons.append("a final: denser ratios")
    if forecast.over_limit:
        reasons.append(f"egress {forecast.egress_s} s over the {forecast.limit_s} s limit")
    extra_stewards, extra_police = _incident_staff(venue, state, policy, reasons)
    slots = []
    for start in _slots(forecast):
        stewards = math.ceil(
            forecast.occupancy
            / (policy.final_spectators_per_steward if final else policy.spectators_per_steward)
        )
        if forecast.over_limit and start < forecast.empties_at:
            stewards += math.ceil(stewards * policy.over_limit_extra)
        stewards += _station_stewards(forecast, start, state, policy, reasons) + extra_stewards
        police = math.ceil(
            forecast.occupancy
            / (policy.final_spectators_per_officer if final else policy.spectators_per_officer)
        )
        slots.append(
            StaffSlot(
                slot=start,
                stewards=stewards,
                supervisors=math.ceil(stewards / policy.stewards_per_supervisor),
                police=police + extra_police,
            )
        )
    return StaffingPlan(
        venue=venue,
        unit=forecast.unit,
        slots=tuple(slots),
        reasons=tuple(dict.fromkeys(reasons)),
        cause=cause,
    )


def _slots(forecast: EgressForecast) -> list[datetime]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = forecast.egress_start - SLOT
    start = epoch + (first - epoch) // SLOT * SLOT
    slots = [start]
    while slots[-1] + SLOT < forecast.empties_at:
        slots.append(slots[-1] + SLOT)
    return slots


def _station_stewards(
    forecast: EgressForecast,
    start: datetime,
    state: Situation,
    policy: StaffingPolicy,
    reasons: list[str],
) -> int:
    stewards = 0
    for station in sorted(forecast.peaks):
        moments = [start + n * _STATION_SLOT for n in range(SLOT // _STATION_SLOT)]
        peak = max(_station_load(station, m, state.forecasts) for m in moments)
        own = max(
            (s.people for s in forecast.stations if s.station == station and s.slot in moments),
            default=0,
        )
        if peak > own:
            reasons.append(f"{station} also receives other venues' crowds ({peak} in 5 min)")
        stewards += math.ceil(peak / policy.station_people_per_steward)
    return stewards


def _incident_staff(
    venue: str, state: Situation, policy: StaffingPolicy, reasons: list[str]
) -> tuple[int, int]:
    stewards = police = 0
    for incident in state.incidents.get(venue, {}).values():
        stewards += policy.incident_stewards[incident.severity]
        doubled = incident.kind in (IncidentType.WEAPON, IncidentType.INTRUSION)
        police += policy.incident_police[incident.severity] * (2 if doubled else 1)
        reasons.append(f"incident {incident.id} ({incident.kind}, {incident.severity})")
    for neighbour in _neighbours(venue, state.forecasts):
        for incident in state.incidents.get(neighbour, {}).values():
            if incident.severity in (Severity.HIGH, Severity.CRITICAL):
                police += policy.neighbour_police
                reasons.append(f"neighbour {neighbour}: incident {incident.id} ({incident.kind})")
    return stewards, police


def _observe(state: Situation, event: Any) -> tuple[Situation, str, str]:
    """The situation after ``event``, the venue it concerns and the cause in words."""
    if isinstance(event, EgressForecast):
        forecasts = {**state.forecasts, event.venue: event}
        cause = f"forecast: egress from {event.egress_start:%H:%M}Z, {event.occupancy} people"
        return msgspec.structs.replace(state, forecasts=forecasts), event.venue, cause
    incidents = {venue: dict(known) for venue, known in state.incidents.items()}
    mine = incidents.setdefault(event.venue, {})
    if event.status is IncidentStatus.RESOLVED:
        mine.pop(event.id, None)
    else:
        mine[event.id] = event
    cause = f"incident {event.id} {event.change}"
    return msgspec.structs.replace(state, incidents=incidents), event.venue, cause


def staffing_processor(policy: StaffingPolicy, *, register: bool = True) -> Processor:
    """The staffing processor with ``policy`` (registered when ``register``)."""
    processor = Processor("crowds.staffing", inputs=[SITUATION], outputs=[STAFFING])

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        state = tx.state.get(_KEY, Situation) or Situation()
        for record in batch:
            state, venue, cause = _observe(state, record.data)
            plans = dict(state.plans)
            for target in [venue, *_neighbours(venue, state.forecasts)]:
                why = cause if target == venue else f"{venue}: {cause}"
                made = plan(target, state, policy, why)
                last = plans.get(target)
                if made is None or (last is not None and _same(last, made)):
                    continue
                plans[target] = made
                tx.emit(STAFFING, made, key=target, causation_id=record.id)
            state = msgspec.structs.replace(state, plans=plans)
        tx.state.put(_KEY, state)

    if register:
        default_processors.register(processor)
    return processor


def _same(last: StaffingPlan, made: StaffingPlan) -> bool:
    return (last.unit, last.slots, last.reasons) == (made.unit, made.slots, made.reasons)


staffing = staffing_processor(StaffingPolicy())
"""The staffing processor with the default policy."""
