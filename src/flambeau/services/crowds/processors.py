"""The crowds processors: sensors and unit ends in; zones, venues, alerts and forecasts out.

::

    results.units (8, by unit) ──crowds.unit-venues──▶ crowds.units (4, by venue) ─┐
    crowds.sensors (4, by venue) ──────────────────────────────────────────────────┴▶
        crowds.occupancy ──▶ crowds.venues (zones, venues, alerts), crowds.forecasts

``crowds.occupancy`` keeps, per venue, everyone counted in and out (occupancy is the
difference), its capacity, the exits and stations of its zones and its units' estimated ends;
per zone, its own state, level of service and alert (:mod:`.zones`); per gate, the counting
periods counted, so a late count is counted once and a duplicate never (:mod:`.zones`).

Each density reading emits a :class:`ZoneCrowd` (and, for the venue's monitored area, the
:class:`VenueCrowd` the venue summary shows); each newest gate count through a gate zone emits
its :class:`ZoneCrowd` with the flow. A zone whose alert is raised or cleared emits a
:class:`CrowdAlert`. Whenever a unit's estimated end, the exits or the occupancy (by
:data:`FORECAST_STEP`) move the venue's egress, an :class:`EgressForecast` (:mod:`.egress`)
follows, naming the event that moved it.

``crowds.unit-venues`` re-keys ``results.units`` by venue. Its ``unit_end_estimated`` events do
not carry the venue, so, unlike a stateless :func:`flambeau.processing.relay`, it remembers
each unit's venue from its schedule and result events (and holds an estimate that arrives
before the venue is known until it is).
"""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.crowds.anomaly import detector
from flambeau.services.crowds.egress import UnitEnd, session_end
from flambeau.services.crowds.features import roll
from flambeau.services.crowds.forecasting import VenueState, forecast
from flambeau.services.crowds.incidents import incidents, outages
from flambeau.services.crowds.schemas import (
    FEATURES,
    FORECASTS,
    SENSORS,
    UNITS,
    VENUES,
    AreaDensity,
    CrowdAlert,
    GateCount,
    VenueConfigured,
    VenueCrowd,
    VenueUnitEnd,
    ZoneConfigured,
    ZoneCrowd,
    ZoneRole,
)
from flambeau.services.crowds.staffing import situation, staffing
from flambeau.services.crowds.unit_venues import unit_venues
from flambeau.services.crowds.zones import (
    GateState,
    ZoneState,
    configure,
    count_gate,
    gate_key,
    measure,
    with_flow,
    zone_key,
)

__all__ = [
    "VenueState",
    "detector",
    "incidents",
    "occupancy",
    "outages",
    "situation",
    "staffing",
    "state_key",
    "unit_venues",
]

_US = 1_000_000


def state_key(venue: str) -> str:
    """The state key of ``venue``."""
    return f"v/{venue}"


occupancy = Processor(
    "crowds.occupancy", inputs=[SENSORS, UNITS], outputs=[VENUES, FORECASTS, FEATURES]
)
default_processors.register(occupancy)


@occupancy.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    """Fold a batch of readings and unit ends into the venues, zones and gates."""
    fold = _Fold(tx)
    for record in batch:
        fold.apply(record)
    fold.flush()


class _Fold:
    """One batch's view of the states it touches, written back by :meth:`flush`."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.venues: dict[str, VenueState] = {}
        self.zones: dict[str, ZoneState | None] = {}
        self.gates: dict[str, GateState] = {}

    def venue(self, venue: str) -> VenueState:
        state = self.venues.get(venue)
        if state is None:
            state = self.tx.state.get(state_key(venue), VenueState) or VenueState()
        return state

    def zone(self, venue: str, zone: str) -> ZoneState | None:
        key = zone_key(venue, zone)
        if key not in self.zones:
            self.zones[key] = self.tx.state.get(key, ZoneState)
        return self.zones[key]

    def apply(self, record: Record[Any]) -> None:
        event = record.data
        state = self.venue(event.venue)
        at_us = int(record.time.timestamp() * _US)
        match event:
            case VenueConfigured():
                state = msgspec.structs.replace(
                    state, capacity=event.capacity, area=event.area, area_m2=event.area_m2
                )
            case ZoneConfigured():
                state = self._configured(state, event, record)
            case GateCount():
                state = self._counted(state, event, record, at_us)
            case AreaDensity():
                state = self._measured(state, event, record, at_us)
            case VenueUnitEnd():
                units = dict(state.units)
                units[event.unit] = UnitEnd(
                    end_us=int(event.estimated_end.timestamp() * _US), finished=event.finished
                )
                state = msgspec.structs.replace(state, units=units)
        self.venues[event.venue] = self._forecast(state, event.venue, record)

    def flush(self) -> None:
        for venue, state in self.venues.items():
            self.tx.state.put(state_key(venue), state)
        for key, zone in self.zones.items():
            if zone is not None:
                self.tx.state.put(key, zone)
        for key, gate in self.gates.items():
            self.tx.state.put(key, gate)

    def _configured(
        self, state: VenueState, event: ZoneConfigured, record: Record[Any]
    ) -> VenueState:
        before = self.zone(event.venue, event.zone) or ZoneState()
        zone = configure(before, event)
        at_us = int(record.time.timestamp() * _US)
        self._store(state, event.zone, before, zone, record, at_us)
        exits = {k: v for k, v in state.exits.items() if k != event.zone}
        stations = {k: v for k, v in state.stations.items() if k != event.zone}
        if event.role is ZoneRole.GATE and event.exit_width_m > 0:
            exits[event.zone] = (event.exit_width_m, event.kind)
        if event.role is ZoneRole.STATION and event.share > 0:
            stations[event.zone] = event.share
        return msgspec.structs.replace(state, exits=exits, stations=stations)

    def _counted(
        self, state: VenueState, event: GateCount, record: Record[Any], at_us: int
    ) -> VenueState:
        key = gate_key(event.venue, event.gate)
        gate = self.gates.get(key) or self.tx.state.get(key, GateState) or GateState()
        tally = count_gate(gate, at_us)
        self.gates[key] = tally.gate
        if not tally.counted:
            return state
        zone = self.zone(event.venue, event.gate)
        if tally.newest and zone is not None:
            moved = with_flow(zone, event, at_us)
            people = event.entered + event.exited
            self._store(state, event.gate, zone, moved, record, at_us, people)
        return msgspec.structs.replace(
            state, entered=state.entered + event.entered, exited=state.exited + event.exited
        )

    def _measured(
        self, state: VenueState, event: AreaDensity, record: Record[Any], at_us: int
    ) -> VenueState:
        before = self.zone(event.venue, event.area) or ZoneState()
        if at_us < before.measured_us:
            return state  # an older reading than the zone's last: its state has moved on
        zone = measure(before, event.people, event.area_m2, at_us)
        self._store(state, event.area, before, zone, record, at_us)
        if state.area and event.area != state.area:
            return state  # the venue summary follows its monitored area only
        self.tx.emit(
            VENUES,
            VenueCrowd(
                venue=event.venue,
                occupancy=state.occupancy,
                capacity=state.capacity,
                entered=state.entered,
                exited=state.exited,
                area=event.area,
                people=event.people,
                area_m2=event.area_m2,
                level=zone.level,
                measured_at=record.time,
            ),
            key=event.venue,
            causation_id=record.id,
        )
        return msgspec.structs.replace(state, area=event.area, area_m2=event.area_m2)

    def _store(
        self,
        state: VenueState,
        name: str,
        before: ZoneState,
        zone: ZoneState,
        record: Record[Any],
        at_us: int,
        counted: int = 0,
    ) -> None:
        """Keep ``zone`` and emit its crowd, its alert when the alert moved, and the features
        of the window the update closes (:mod:`.features`)."""
        venue = record.data.venue
        session = session_end(state.units)
        end_us = None if session is None else session[1]
        zone, features = roll(before, zone, at_us, counted, end_us, (venue, name))
        if features is not None:
            self.tx.emit(FEATURES, features, key=venue, causation_id=record.id)
        self.zones[zone_key(venue, name)] = zone
        self.tx.emit(VENUES, _zone_crowd(venue, name, zone, record), key=venue,
                     causation_id=record.id)  # fmt: skip
        if zone.alert is not before.alert:
            alert = CrowdAlert(
                venue=venue,
                area=name,
                level=zone.level,
                people=zone.people,
                area_m2=max(zone.area_m2, 1),
                raised=zone.alert != "clear",
                flow=zone.flow,
            )
            self.tx.emit(VENUES, alert, key=venue, causation_id=record.id)

    def _forecast(self, state: VenueState, venue: str, record: Record[Any]) -> VenueState:
        made = forecast(state, venue)
        if made is None:
            return state
        moved, event = made
        self.tx.emit(FORECASTS, event, key=venue, causation_id=record.id)
        return moved


def _zone_crowd(venue: str, name: str, zone: ZoneState, record: Record[Any]) -> ZoneCrowd:
    area = max(zone.area_m2, 1)
    return ZoneCrowd(
        venue=venue,
        zone=name,
        role=zone.role,
        kind=zone.kind,
        people=zone.people,
        area_m2=area,
        density=round(zone.people / area, 3),
        flow=zone.flow,
        level=zone.level,
        alert=zone.alert != "clear",
        measured_at=record.time,
    )
