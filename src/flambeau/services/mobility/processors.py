"""The mobility processors.

``mobility.dispatch`` reads ``mobility.incidents`` and ``mobility.deliveries`` (one partition
each, so it sees every incident and delivery in order) and keeps the incidents in force
(``i/<incident id>``: a CIFS update replaces its incident) and the deliveries it follows
(``d/<delivery id>``). A delivery is routed when registered; an incident reroutes every
followed delivery whose route uses one of its edges, or that it rerouted before (an update or
an ended closure may free the old way). Each route goes to ``mobility.routes`` as a
:class:`DeliveryRouted`, caused by the incident's event; an ETA past the deadline adds a
:class:`LateRisk`. Each incident's mapping goes to ``mobility.roads``.

``mobility.lines`` reads ``mobility.feed`` and turns alerts on routes into line states on
``mobility.transit``: NO_SERVICE is ``closed`` (a strike), other effects ``disrupted``, and an
alert whose every active period has ended ``open``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.mobility.dispatch import (
    REROUTE_BOUND,
    Active,
    Planner,
    Tracked,
    as_us,
    from_us,
    mapped,
    world,
)
from flambeau.services.mobility.router import Path
from flambeau.services.mobility.schemas import (
    DELIVERIES,
    FEED,
    INCIDENTS,
    ROADS,
    ROUTES,
    TRANSIT,
    DeliveryRequested,
    DeliveryRouted,
    LateRisk,
    LineState,
    LineStatus,
    Perimeter,
    RoadIncident,
    RoadState,
    TransitAlert,
)

__all__ = ["FOLLOW_AFTER_DEADLINE", "dispatch", "lines"]

FOLLOW_AFTER_DEADLINE = timedelta(hours=6)
"""A delivery is forgotten once an incident arrives this long after its deadline."""

dispatch = Processor("mobility.dispatch", inputs=[INCIDENTS, DELIVERIES], outputs=[ROUTES, ROADS])
lines = Processor("mobility.lines", inputs=[FEED], outputs=[TRANSIT])
default_processors.register(dispatch)
default_processors.register(lines)

_STATE = {"closure": "closed", "slowdown": "slowed", "perimeter": "restricted", "alert": "open"}


def _incidents(tx: Transaction) -> list[Active]:
    return [value for _, value in tx.state.scan("i/", Active)]


def _emit_route(tx: Transaction, planner: Planner, tracked: Tracked, path: Path | None,
                reason: str, cause: Active | None, record: Record[Any],
                incidents: Sequence[Active]) -> Tracked:  # fmt: skip
    request = tracked.request
    duration = path.seconds if path is not None else None
    eta = request.departure + timedelta(seconds=duration) if duration is not None else None
    incident_id = cause.incident_id if cause is not None else ""
    tx.emit(
        ROUTES,
        DeliveryRouted(
            delivery_id=request.delivery_id, tenant=request.tenant, origin=request.origin,
            destination=request.destination, vehicle_class=request.vehicle_class,
            departure=request.departure, deadline=request.deadline, eta=eta,
            distance_m=round(path.metres, 1) if path else 0.0,
            duration_s=round(duration, 1) if duration is not None else 0.0,
            path=planner.points(path), reason=reason, incident_id=incident_id,
            reachable=path is not None,
        ),
        key=request.delivery_id,
        causation_id=record.id,
    )  # fmt: skip
    if eta is None or eta > request.deadline:
        _emit_late(tx, planner, request, eta, duration, cause, record, incidents)
    edges = list(path.edges) if path is not None else []
    return Tracked(request=request, edges=edges, duration_s=duration, incident_id=incident_id)


def _emit_late(tx: Transaction, planner: Planner, request: DeliveryRequested,
               eta: datetime | None, duration: float | None, cause: Active | None,
               record: Record[Any], incidents: Sequence[Active]) -> None:  # fmt: skip
    best = planner.best_departure(request, duration, cause, incidents, record.time)
    late_by = (eta - request.deadline).total_seconds() if eta is not None else 0.0
    tx.emit(
        ROUTES,
        LateRisk(
            delivery_id=request.delivery_id, tenant=request.tenant, cargo=request.cargo[:256],
            eta=eta, deadline=request.deadline, late_by_s=max(0.0, late_by),
            incident_id=cause.incident_id if cause is not None else "",
            reason="unreachable" if eta is None else "late", best_departure=best,
        ),
        key=request.delivery_id,
        causation_id=record.id,
    )  # fmt: skip


def _registered(tx: Transaction, planner: Planner, record: Record[Any]) -> None:
    request: DeliveryRequested = record.data
    incidents = _incidents(tx)
    [path] = planner.plan([request], incidents)
    blocking = [i for i in incidents if i.applies(request) and i.kind != "slowdown"]
    cause = blocking[0] if path is None and blocking else None
    tracked = Tracked(request=request, edges=[], duration_s=None)
    tracked = _emit_route(tx, planner, tracked, path, "registered", cause, record, incidents)
    tx.state.put(f"d/{request.delivery_id}", tracked)


def _incident(tx: Transaction, planner: Planner, record: Record[Any]) -> None:
    event: RoadIncident | Perimeter = record.data
    active = mapped(event, planner.world.index, record.id)
    old = tx.state.get(f"i/{active.incident_id}", Active)
    tx.state.put(f"i/{active.incident_id}", active)
    ended = active.end_us is not None and active.end_us <= as_us(record.time)
    tx.emit(
        ROADS,
        RoadState(
            incident_id=active.incident_id, kind=active.kind,
            state="open" if ended else _STATE[active.kind],
            street=getattr(event, "street", "") or getattr(event, "name", ""),
            edges=len(active.edges),
            polyline=list(event.polyline if isinstance(event, RoadIncident) else event.polygon),
            start=from_us(active.start_us),
            end=from_us(active.end_us) if active.end_us is not None else None,
            allowed=event.allowed if isinstance(event, Perimeter) else [],
        ),
        key=active.incident_id,
        causation_id=record.id,
    )  # fmt: skip
    touched = set(active.edges) | set(old.edges if old is not None else ())
    _reroute(tx, planner, record, active, touched)


def _reroute(tx: Transaction, planner: Planner, record: Record[Any], cause: Active,
             touched: set[int]) -> None:  # fmt: skip
    horizon = as_us(record.time) - int(FOLLOW_AFTER_DEADLINE.total_seconds() * 1e6)
    affected: list[Tracked] = []
    for key, tracked in tx.state.scan("d/", Tracked):
        if as_us(tracked.request.deadline) < horizon:
            tx.state.delete(key)
        elif tracked.incident_id == cause.incident_id or (
            cause.applies(tracked.request) and touched.intersection(tracked.edges)
        ):
            affected.append(tracked)
    if not affected:
        return
    incidents = _incidents(tx)
    bounds = [REROUTE_BOUND * (t.duration_s or float("inf")) for t in affected]
    paths = planner.plan([t.request for t in affected], incidents, bounds)
    applies = {t.request.delivery_id: cause.applies(t.request) for t in affected}
    for tracked, path in zip(affected, paths, strict=True):
        hit = applies[tracked.request.delivery_id]
        reason = {"closure": "closure", "slowdown": "slowdown", "perimeter": "perimeter"}.get(
            cause.kind, "incident"
        ) if hit else "reopened"  # fmt: skip
        updated = _emit_route(tx, planner, tracked, path, reason, cause, record, incidents)
        tx.state.put(f"d/{tracked.request.delivery_id}", updated)


@dispatch.on_batch
def apply_dispatch(batch: Batch[Any], tx: Transaction) -> None:
    """Route new deliveries; map incidents and reroute the deliveries they touch."""
    planner = Planner(world())
    for record in batch:
        if isinstance(record.data, DeliveryRequested):
            _registered(tx, planner, record)
        else:
            _incident(tx, planner, record)


def _line_state(alert: TransitAlert, at: datetime) -> LineState:
    periods = alert.active
    if periods and all(end is not None and end <= at for _, end in periods):
        return LineState.OPEN
    return LineState.CLOSED if alert.effect == "NO_SERVICE" else LineState.DISRUPTED


@lines.on_batch
def apply_lines(batch: Batch[Any], tx: Transaction) -> None:
    """Emit a line status for each alert that informs a route."""
    for record in batch:
        alert = record.data
        if not isinstance(alert, TransitAlert) or not alert.route_id:
            continue
        tx.emit(
            TRANSIT,
            LineStatus(
                route_id=alert.route_id, state=_line_state(alert, record.time),
                effect=alert.effect, cause=alert.cause, alert_id=alert.alert_id,
                header=alert.header,
            ),
            key=alert.route_id,
            causation_id=record.id,
        )  # fmt: skip
