"""Incident routes: ``GET /v1/crowds/incidents`` and ``POST /v1/crowds/incidents/{id}/ack|resolve``.

Reading needs ``read:crowds.incidents``; acknowledging and resolving needs
``write:crowds.actions``, the security operators' scope. An action is appended to
``crowds.actions`` (keyed by the incident's venue, with the id ``<incident>/<action>``, so a
repeated request is one action) and the incidents processor applies it; the reply is 202 with
the action. An unknown incident is 404; acknowledging one that is no longer open, or resolving
one already resolved, is 409. ``GET /v1/crowds/incidents/permissions`` (``read:crowds.incidents``)
tells the caller whether its key may act, so a console can disable its buttons up front.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import PathParameter, QueryParameter

from flambeau.events import NewEvent
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    ProblemError,
    ProblemKind,
    caught_up,
    gateway_of,
    problem_specs,
    read_view,
)
from flambeau.services.crowds.schemas import (
    ACTIONS,
    INCIDENTS,
    Incident,
    IncidentAction,
    IncidentStatus,
    OperatorAction,
)
from flambeau.services.crowds.views import incidents_view

__all__ = ["ActionAccepted", "ActionPermissions", "VenueFilter", "incident_routes"]

_SYNC_S = 2.0
_ID = re.compile(r"[A-Z0-9]{2,8}-[0-9]{5}")
# documented with _ID's pattern; the handler checks it and names the field
_IncidentPath = Annotated[
    str, PathParameter(schema_extra={"pattern": f"^{_ID.pattern}$"}, description="e.g. STA-00012")
]
_VENUE = r"^[A-Z0-9]{2,8}$"
VenueFilter = Annotated[str | None, QueryParameter(description="Only this venue.", pattern=_VENUE)]
"""The ``venue`` query parameter of the crowds listings: a venue code, or every venue."""
_WRITE_PROBLEMS = problem_specs(
    (400, "Malformed incident id"),
    *AUTH_PROBLEMS,
    (404, "No such incident"),
    (409, "The incident is past this step"),
    RATE_PROBLEM,
)


class ActionAccepted(msgspec.Struct, frozen=True):
    """The action was recorded; the incident changes once the incidents processor applies it."""

    incident: str
    action: OperatorAction
    operator: str


@get(
    "/v1/crowds/incidents",
    summary="Security incidents: reports and venue-system outages, with their lifecycle",
    tags=["crowds"],
    responses=problem_specs((400, "Bad parameter"), *AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_incidents(
    request: Request[Any, Any, Any],
    venue: VenueFilter = None,
    status: Annotated[
        IncidentStatus | None, QueryParameter(description="Only incidents in this status.")
    ] = None,
) -> list[Incident]:
    """Incidents, newest first."""
    _, model = await read_view(request, INCIDENTS, incidents_view, _SYNC_S)
    found = [
        i
        for i in model.incidents.values()
        if (venue is None or i.venue == venue) and (status is None or i.status is status)
    ]
    return sorted(found, key=lambda i: (i.opened_at, i.id), reverse=True)


@post(
    "/v1/crowds/incidents/{incident_id:str}/ack",
    status_code=202,
    summary="Acknowledge an open incident",
    tags=["crowds"],
    responses=_WRITE_PROBLEMS,
)
async def acknowledge(
    request: Request[Any, Any, Any], incident_id: _IncidentPath
) -> ActionAccepted:
    """An operator takes the incident in hand."""
    return await _act(request, incident_id, OperatorAction.ACKNOWLEDGE)


@post(
    "/v1/crowds/incidents/{incident_id:str}/resolve",
    status_code=202,
    summary="Resolve an incident",
    tags=["crowds"],
    responses=_WRITE_PROBLEMS,
)
async def resolve(request: Request[Any, Any, Any], incident_id: _IncidentPath) -> ActionAccepted:
    """An operator closes the incident."""
    return await _act(request, incident_id, OperatorAction.RESOLVE)


class ActionPermissions(msgspec.Struct, frozen=True):
    """Whether the caller's key may acknowledge and resolve incidents, and the scope it takes."""

    allowed: bool
    scope: str


@get(
    "/v1/crowds/incidents/permissions",
    summary="Whether the caller's key may acknowledge and resolve incidents",
    tags=["crowds"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def permissions(request: Request[Any, Any, Any]) -> ActionPermissions:
    """``allowed`` when the key holds ``write:crowds.actions``; reading it needs incidents."""
    principal = gateway_of(request).authorize(request, "read", INCIDENTS)
    return ActionPermissions(principal.grants("write", ACTIONS), f"write:{ACTIONS}")


async def _act(
    request: Request[Any, Any, Any], incident_id: str, action: OperatorAction
) -> ActionAccepted:
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", ACTIONS)
    if _ID.fullmatch(incident_id) is None:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"incident id {incident_id!r} is not <venue>-<5 digits>",
            [FieldError(message="expected e.g. STA-00012", field="incident_id")],
        )
    incident = (await caught_up(gateway.log, incidents_view, _SYNC_S)).incidents.get(incident_id)
    if incident is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"no incident {incident_id!r}")
    late = incident.status is IncidentStatus.RESOLVED or (
        action is OperatorAction.ACKNOWLEDGE and incident.status is not IncidentStatus.OPEN
    )
    if late:
        raise ProblemError.of(
            ProblemKind.CONFLICT, f"incident {incident_id!r} is {incident.status}: cannot {action}"
        )
    operator = principal.key_id or "anonymous"
    event = IncidentAction(
        venue=incident.venue, incident=incident_id, action=action, operator=operator
    )
    await gateway.log.append(
        ACTIONS, [NewEvent(event, key=incident.venue, id=f"{incident_id}/{action}")]
    )
    return ActionAccepted(incident=incident_id, action=action, operator=operator)


incident_routes = [list_incidents, permissions, acknowledge, resolve]
