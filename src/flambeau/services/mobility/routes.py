"""HTTP routes of the mobility service (the adapters are in :mod:`.adapters`).

- ``POST /v1/mobility/deliveries`` (``write`` on ``mobility.deliveries``): a supplier registers
  a delivery; its tenant is the key's, never the body's.
- ``GET /v1/mobility/deliveries`` and ``/{delivery}`` (``read`` on ``mobility.routes``): the
  caller's own deliveries only (a ``tenants:*`` or admin key: all), with route, ETA, late risk.
- ``POST /v1/mobility/perimeters`` (``write`` on ``mobility.incidents``): a security perimeter.
- ``GET /v1/mobility/roads`` (public): closures, slowdowns and perimeters as mapped.
- ``GET /v1/mobility/venues/{venue}/access`` (public): the display of one venue (see
  :mod:`.access`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath

from flambeau.events import NewEvent, new_event_id
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Gateway,
    Principal,
    ProblemError,
    ProblemKind,
    gateway_of,
    json_body_operation,
    problem_specs,
    read_view,
    standalone_schema,
)
from flambeau.services.mobility.access import VenueAccess, venue_access
from flambeau.services.mobility.adapters import post_cifs, post_gtfs_rt
from flambeau.services.mobility.dispatch import world
from flambeau.services.mobility.schemas import (
    DELIVERIES,
    DELIVERIES_ROUTE,
    INCIDENTS,
    PERIMETERS_ROUTE,
    ROADS,
    ROUTES,
    DeliveryRequested,
    Ident,
    Moment,
    Perimeter,
    RoadState,
    VehicleClass,
)
from flambeau.services.mobility.views import DeliveryView, MobilityModel, mobility_view

__all__ = ["DeliveryBody", "Registered", "routes"]

_SYNC_TIMEOUT_S = 2.0
_Body = TypeVar("_Body")
MAX_LEAD = timedelta(days=7)
"""Longest allowed time between a delivery's departure and its deadline."""


class DeliveryBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a supplier posts: place codes, vehicle class, departure, deadline, cargo."""

    origin: Ident
    destination: Ident
    vehicle_class: VehicleClass
    departure: Moment
    deadline: Moment
    cargo: Annotated[str, msgspec.Meta(max_length=256)] = ""
    delivery_id: Ident | None = None
    registered_at: Moment | None = None
    """When the supplier registered it (the event time; default: now). A replayed day sends
    its own clock here, so that "now" for the routing is the day's."""


class Registered(msgspec.Struct, frozen=True):
    """Where a delivery was stored; its route follows on ``mobility.routes``."""

    delivery_id: str
    tenant: str
    id: str
    duplicate: bool


def _field_problem(kind: ProblemKind, field: str, message: str) -> ProblemError:
    return ProblemError.of(kind, f"{field}: {message}", [FieldError(message, field)])


def _decode(body: bytes, type_: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as error:
        text = str(error)
        field = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else ""
        if text.startswith("Object missing required field `"):
            field = text.split("`")[1]
        raise _field_problem(ProblemKind.BAD_REQUEST, field, text) from None
    except msgspec.DecodeError as error:
        raise _field_problem(ProblemKind.MALFORMED_BODY, "", str(error)) from None


def _check_places(body: DeliveryBody) -> None:
    places = world().network.places
    for field in ("origin", "destination"):
        code = getattr(body, field)
        if code not in places:
            raise _field_problem(
                ProblemKind.INVALID_EVENTS, field,
                f"place {code!r} is not on the network; known: {', '.join(sorted(places))}",
            )  # fmt: skip
    if body.deadline <= body.departure:
        raise _field_problem(ProblemKind.INVALID_EVENTS, "deadline", "must be after departure")
    if body.deadline - body.departure > MAX_LEAD:
        raise _field_problem(ProblemKind.INVALID_EVENTS, "deadline", f"more than {MAX_LEAD}")


def _posting(
    path: str, status_code: int, body: type[Any], summary: str, *, malformed: str, refused: str
) -> post:
    """The route decorator of a ``POST`` of one JSON ``body``: 400 (``malformed``) for a body
    that does not decode, 422 (``refused``) for one that does but cannot be."""
    return post(
        path,
        status_code=status_code,
        operation_class=json_body_operation(standalone_schema(body)),
        summary=summary,
        tags=["mobility"],
        responses=problem_specs((400, malformed), *AUTH_PROBLEMS, (422, refused), RATE_PROBLEM),
    )


async def _written(
    request: Request[Any, Any, Any], stream: str, body: type[_Body]
) -> tuple[Gateway, Principal, _Body]:
    """The gateway, the caller once it may ``write`` ``stream``, and the request's body."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", stream)
    decoded: _Body = _decode(await request.body(), body)
    return gateway, principal, decoded


@_posting(
    DELIVERIES_ROUTE,
    201,
    DeliveryBody,
    "Register a delivery (route and ETA follow on mobility.routes)",
    malformed="Malformed body, unknown field or vehicle class; errors[0].field names it",
    refused="Unknown place or impossible times; errors[0].field names it",
)
async def register_delivery(request: Request[Any, Any, Any]) -> Registered:
    """Append a :class:`DeliveryRequested` for the key's tenant."""
    gateway, principal, body = await _written(request, DELIVERIES, DeliveryBody)
    _check_places(body)
    tenant = principal.tenant or "platform"
    delivery_id = body.delivery_id or new_event_id()
    event = DeliveryRequested(
        delivery_id=delivery_id, tenant=tenant, origin=body.origin,
        destination=body.destination, vehicle_class=body.vehicle_class,
        departure=body.departure, deadline=body.deadline, cargo=body.cargo,
    )  # fmt: skip
    event_id = f"delivery:{tenant}:{delivery_id}"
    stored = NewEvent(event, key=delivery_id, id=event_id, time=body.registered_at)
    [placed] = await gateway.log.append(DELIVERIES, [stored])
    return Registered(delivery_id, tenant, event_id, placed.duplicate)


async def _model(request: Request[Any, Any, Any], stream: str) -> tuple[Principal, MobilityModel]:
    return await read_view(request, stream, mobility_view, _SYNC_TIMEOUT_S)


@get(
    DELIVERIES_ROUTE,
    summary="The caller's deliveries: route, ETA, late risk",
    tags=["mobility"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_deliveries(request: Request[Any, Any, Any]) -> list[DeliveryView]:
    """Every delivery of the key's tenant (all of them for an admin key)."""
    principal, model = await _model(request, ROUTES)
    everyone = principal.all_tenants
    deliveries: list[DeliveryView] = model.of_tenant(None if everyone else principal.tenant)
    return deliveries


@get(
    f"{DELIVERIES_ROUTE}/{{delivery:str}}",
    summary="One of the caller's deliveries",
    tags=["mobility"],
    responses=problem_specs(
        *AUTH_PROBLEMS, (404, "No such delivery for this tenant"), RATE_PROBLEM
    ),
)
async def get_delivery(request: Request[Any, Any, Any], delivery: FromPath[str]) -> DeliveryView:
    """The delivery, or 404 (also when it is another tenant's)."""
    principal, model = await _model(request, ROUTES)
    found: DeliveryView | None = model.deliveries.get(delivery)
    if found is None or not (principal.all_tenants or found.route.tenant == principal.tenant):
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"no delivery {delivery!r} for this key")
    return found


@_posting(
    PERIMETERS_ROUTE,
    200,
    Perimeter,
    "Declare a security perimeter (polygon, time window, allowed classes)",
    malformed="Malformed body or unknown vehicle class; errors[0].field names it",
    refused="Impossible times (an end before the start); errors[0].field names it",
)
async def post_perimeter(request: Request[Any, Any, Any]) -> Registered:
    """Append a :class:`Perimeter` to ``mobility.incidents``."""
    gateway, principal, perimeter = await _written(request, INCIDENTS, Perimeter)
    if perimeter.end <= perimeter.start:
        raise _field_problem(ProblemKind.INVALID_EVENTS, "end", "must be after start")
    digest = msgspec.json.encode(perimeter).hex()[-24:]
    event_id = f"perimeter:{perimeter.perimeter_id}:{digest}"
    stored = NewEvent(perimeter, key=perimeter.perimeter_id, id=event_id)
    [placed] = await gateway.log.append(INCIDENTS, [stored])
    return Registered(perimeter.perimeter_id, principal.tenant or "", event_id, placed.duplicate)


@get(
    "/v1/mobility/roads",
    summary="Road closures, slowdowns and perimeters as mapped onto the network",
    tags=["mobility"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_roads(request: Request[Any, Any, Any]) -> list[RoadState]:
    """Every incident's latest state, by incident id."""
    _, model = await _model(request, ROADS)
    return [model.roads[k] for k in sorted(model.roads)]


@get(
    "/v1/mobility/venues/{venue:str}/access",
    summary="A venue's access display: roads, lines, travel times from the hubs",
    tags=["mobility"],
    responses=problem_specs(*AUTH_PROBLEMS, (404, "Unknown venue"), RATE_PROBLEM),
)
async def get_access(request: Request[Any, Any, Any], venue: FromPath[str]) -> VenueAccess:
    """Shaped for a station or stadium screen."""
    _, model = await _model(request, ROADS)
    access = venue_access(venue, model)
    if access is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"venue {venue!r} is not on the network")
    return access


routes = [
    post_gtfs_rt,
    post_cifs,
    register_delivery,
    list_deliveries,
    get_delivery,
    post_perimeter,
    list_roads,
    get_access,
]
