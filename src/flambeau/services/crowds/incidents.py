"""Incidents: reports, operator actions and venue-system outages in; each incident's lifecycle out.

::

    ops.health (4, by source) ──crowds.outages (relay, venue systems only)──▶ crowds.outages ─┐
    crowds.reports (4, by venue: video analytics, stewards) ────────────────────────────────┤
    crowds.actions (4, by venue: POST .../ack|resolve) ─────────────────────────────────────┴▶
        crowds.incidents ──▶ crowds.incidents (4, by venue)

``crowds.incidents`` keeps, per venue, its incidents not yet resolved and a counter numbering
them (``<venue>-<number>``). A report of the same kind in the same zone as an incident still
open (or acknowledged) merges into it: its report count grows and its severity is the highest
reported. An outage (``source_down`` of a broadcast encoder, venue power or network,
scoreboard, public address or stadium system serving the venue) opens a ``system_outage``
incident for that source; its ``source_up`` resolves it (``recovered``). An operator's action
on an incident that is unknown or already resolved changes nothing. Every change emits the
whole :class:`Incident`, naming the event that changed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors, relay
from flambeau.services.crowds.schemas import (
    ACTIONS,
    INCIDENTS,
    OUTAGES,
    REPORTS,
    VENUE_SYSTEMS,
    Incident,
    IncidentAction,
    IncidentChange,
    IncidentReport,
    IncidentStatus,
    IncidentType,
    OperatorAction,
    Severity,
)
from flambeau.services.ops.schemas import HEALTH, SourceDown, SourceUp

__all__ = ["VenueIncidents", "incidents", "incidents_key", "outages"]

_SEVERITY = list(Severity)
_STEPS = {
    OperatorAction.ACKNOWLEDGE: (
        IncidentStatus.ACKNOWLEDGED,
        IncidentChange.ACKNOWLEDGED,
        "acknowledged_at",
    ),
    OperatorAction.RESOLVE: (IncidentStatus.RESOLVED, IncidentChange.RESOLVED, "resolved_at"),
}
"""What each operator action makes of an incident: its status, its change, and the field that
records when."""


class VenueIncidents(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's incidents not yet resolved, by id, and how many it has opened."""

    opened: int = 0
    active: dict[str, Incident] = {}


def incidents_key(venue: str) -> str:
    """The state key of a venue's incidents."""
    return f"i/{venue}"


def _venue_of(record: Record[Any]) -> str | None:
    event = record.data
    if isinstance(event, SourceDown | SourceUp) and event.kind in VENUE_SYSTEMS:
        venue: str | None = event.venue
        return venue
    return None


outages = relay("crowds.outages", source=HEALTH, target=OUTAGES, key=_venue_of)
"""Venue systems' downs and ups (and their keep-alives are left out), keyed by venue."""

incidents = Processor("crowds.incidents", inputs=[REPORTS, ACTIONS, OUTAGES], outputs=[INCIDENTS])
default_processors.register(incidents)


@incidents.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    """Fold reports, actions and outages into each venue's incidents; emit every change."""
    venues: dict[str, VenueIncidents] = {}
    for record in batch:
        event = record.data
        venue = event.venue
        state = venues.get(venue) or tx.state.get(incidents_key(venue), VenueIncidents)
        state = state or VenueIncidents()
        match event:
            case IncidentReport():
                changed = _reported(state, event, record.time)
            case IncidentAction():
                changed = _acted(state, event, record.time)
            case SourceDown():
                changed = _down(state, event, record.time)
            case SourceUp():
                changed = _up(state, event, record.time)
            case _:
                changed = None
        if changed is None:
            continue
        state, incident = changed
        tx.emit(INCIDENTS, incident, key=venue, causation_id=record.id)
        venues[venue] = state
    for venue, state in venues.items():
        tx.state.put(incidents_key(venue), state)


Change = tuple[VenueIncidents, Incident] | None


def _reported(state: VenueIncidents, event: IncidentReport, at: datetime) -> Change:
    for known in state.active.values():
        if (known.kind, known.zone) == (event.kind, event.zone):
            severity = max(known.severity, event.severity, key=_SEVERITY.index)
            merged = msgspec.structs.replace(
                known, reports=known.reports + 1, severity=severity, change=IncidentChange.MERGED
            )
            return _kept(state, merged), merged
    return _opened(
        state,
        venue=event.venue,
        zone=event.zone,
        kind=event.kind,
        severity=event.severity,
        source=event.source,
        detail=event.detail,
        opened_at=at,
    )


def _opened(state: VenueIncidents, **fields: Any) -> Change:
    number = state.opened + 1
    incident = Incident(
        id=f"{fields['venue']}-{number:05d}",
        status=IncidentStatus.OPEN,
        change=IncidentChange.OPENED,
        **fields,
    )
    active = {**state.active, incident.id: incident}
    return VenueIncidents(opened=number, active=active), incident


def _kept(state: VenueIncidents, incident: Incident) -> VenueIncidents:
    active = dict(state.active)
    if incident.status is IncidentStatus.RESOLVED:
        active.pop(incident.id, None)
    else:
        active[incident.id] = incident
    return msgspec.structs.replace(state, active=active)


def _acted(state: VenueIncidents, event: IncidentAction, at: datetime) -> Change:
    known = state.active.get(event.incident)
    if known is None:
        return None
    if event.action is OperatorAction.ACKNOWLEDGE and known.status is not IncidentStatus.OPEN:
        return None
    status, change, stamp = _STEPS[event.action]
    moved = msgspec.structs.replace(
        known, status=status, change=change, operator=event.operator, **{stamp: at}
    )
    return _kept(state, moved), moved


def _down(state: VenueIncidents, event: SourceDown, at: datetime) -> Change:
    assert event.venue is not None  # the relay keeps venue systems with a venue only
    for known in state.active.values():
        if known.kind is IncidentType.SYSTEM_OUTAGE and known.zone == event.source:
            return None  # already open: a second down of the same source adds nothing
    return _opened(
        state,
        venue=event.venue,
        zone=event.source,
        kind=IncidentType.SYSTEM_OUTAGE,
        severity=Severity.HIGH,
        source=event.source,
        system=event.kind,
        detail=event.detail or f"{event.kind} {event.source} {event.reason}",
        opened_at=at,
    )


def _up(state: VenueIncidents, event: SourceUp, at: datetime) -> Change:
    for known in state.active.values():
        if known.kind is IncidentType.SYSTEM_OUTAGE and known.zone == event.source:
            moved = msgspec.structs.replace(
                known,
                status=IncidentStatus.RESOLVED,
                change=IncidentChange.RECOVERED,
                resolved_at=at,
            )
            return _kept(state, moved), moved
    return None
