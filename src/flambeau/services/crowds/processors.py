"""The occupancy processor: gate counts and area readings in, venue crowds and alerts out.

``crowds.occupancy`` reads ``crowds.sensors`` and keeps, per venue, everyone counted in and
out (occupancy is the difference), the venue's capacity and monitored area, the last reading
time of each gate and the area's alert state. Each area reading emits a :class:`VenueCrowd`;
an alert that is raised or cleared (see :mod:`.levels`) also emits a :class:`CrowdAlert`.

Re-sent readings are harmless: a gate count no newer than that gate's last one, and an area
reading older than the last, are ignored, so a producer that resumes and repeats a few minutes
of readings after the log's dedupe window has passed does not count anyone twice.
"""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.crowds.levels import AlertState, fruin_level, next_alert_state
from flambeau.services.crowds.schemas import (
    SENSORS,
    VENUES,
    AreaDensity,
    CrowdAlert,
    GateCount,
    VenueConfigured,
    VenueCrowd,
)

__all__ = ["VenueState", "occupancy", "state_key"]


class VenueState(msgspec.Struct, frozen=True, kw_only=True):
    """What the processor remembers about one venue.

    Attributes:
        capacity: Seats (0 until configured).
        area: The monitored area, once known.
        area_m2: Its surface (0 until known).
        entered: People counted in.
        exited: People counted out.
        gates: Each gate's last counted period end, in microseconds since the epoch.
        measured_us: The last area reading's time, in microseconds since the epoch.
        alert: The area's alert state.
    """

    capacity: int = 0
    area: str = ""
    area_m2: int = 0
    entered: int = 0
    exited: int = 0
    gates: dict[str, int] = {}
    measured_us: int = 0
    alert: AlertState = AlertState.CLEAR


def state_key(venue: str) -> str:
    """The state key of ``venue``."""
    return f"v/{venue}"


occupancy = Processor("crowds.occupancy", inputs=[SENSORS], outputs=[VENUES])
default_processors.register(occupancy)


@occupancy.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    """Fold a batch of sensor readings into the venues' state; emit crowds and alerts."""
    venues: dict[str, VenueState] = {}
    for record in batch:
        event = record.data
        venue = event.venue
        state = venues.get(venue)
        if state is None:
            state = tx.state.get(state_key(venue), VenueState) or VenueState()
        at_us = int(record.time.timestamp() * 1_000_000)
        match event:
            case VenueConfigured():
                state = msgspec.structs.replace(
                    state, capacity=event.capacity, area=event.area, area_m2=event.area_m2
                )
            case GateCount():
                if at_us <= state.gates.get(event.gate, -1):
                    continue
                state = msgspec.structs.replace(
                    state,
                    entered=state.entered + event.entered,
                    exited=state.exited + event.exited,
                    gates={**state.gates, event.gate: at_us},
                )
            case AreaDensity():
                if at_us < state.measured_us:
                    continue
                state = _measured(state, event, record, at_us, tx)
        venues[venue] = state
    for venue, state in venues.items():
        tx.state.put(state_key(venue), state)


def _measured(
    state: VenueState, event: AreaDensity, record: Record[Any], at_us: int, tx: Transaction
) -> VenueState:
    level = fruin_level(event.people, event.area_m2)
    alert = next_alert_state(state.alert, level)
    tx.emit(
        VENUES,
        VenueCrowd(
            venue=event.venue,
            occupancy=max(0, state.entered - state.exited),
            capacity=state.capacity,
            entered=state.entered,
            exited=state.exited,
            area=event.area,
            people=event.people,
            area_m2=event.area_m2,
            level=level,
            measured_at=record.time,
        ),
        key=event.venue,
        causation_id=record.id,
    )
    if alert is not state.alert:
        tx.emit(
            VENUES,
            CrowdAlert(
                venue=event.venue,
                area=event.area,
                level=level,
                people=event.people,
                area_m2=event.area_m2,
                raised=alert is AlertState.RAISED,
            ),
            key=event.venue,
            causation_id=record.id,
        )
    return msgspec.structs.replace(
        state, area=event.area, area_m2=event.area_m2, measured_us=at_us, alert=alert
    )
