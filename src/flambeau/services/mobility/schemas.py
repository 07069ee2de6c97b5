"""Payloads of the mobility streams.

Streams:

- ``mobility.incidents`` (written by ``POST /v1/adapters/cifs`` and ``POST
  /v1/mobility/perimeters``, 1 partition so every decision sees incidents in order):
  :class:`RoadIncident` (one Waze CIFS incident; a later one with the same ``incident_id``
  replaces it) and :class:`Perimeter` (a Games security perimeter: a polygon, a time window and
  the vehicle classes it lets in).
- ``mobility.deliveries`` (written by ``POST /v1/mobility/deliveries``, 1 partition):
  :class:`DeliveryRequested`, a supplier's delivery with its tenant.
- ``mobility.routes`` (private, per-record tenant): :class:`DeliveryRouted` (a delivery's
  route and ETA, on registration and after every reroute) and :class:`LateRisk` (its ETA is past
  the deadline). A key sees only the records of its own tenant (``tenant`` field).
- ``mobility.roads`` (public): :class:`RoadState`, a closure, slowdown or perimeter as mapped
  onto the network (the edges it touches), for the public display and the dashboard.
- ``mobility.feed`` (written by ``POST /v1/adapters/gtfs-rt``, keyed by route id):
  :class:`TransitAlert`, :class:`TripDelay` and :class:`VehicleSeen`, one per feed entity.
- ``mobility.transit`` (public): :class:`LineStatus`, each line's state (``open``,
  ``disrupted``, ``closed``) from the alerts; a strike is a NO_SERVICE alert on a route.
  :data:`VENUE_LINES` says which lines serve which venue.
- ``mobility.rejected``: bodies the adapters refused with a 400, kept whole.

Coordinates are WGS84 ``[lat, lon]`` pairs, as Waze CIFS writes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry

__all__ = [
    "CIFS_ROUTE",
    "DELIVERIES",
    "DELIVERIES_ROUTE",
    "FEED",
    "GTFS_ROUTE",
    "INCIDENTS",
    "PERIMETERS_ROUTE",
    "REJECTED",
    "ROADS",
    "ROUTES",
    "TRANSIT",
    "VENUE_LINES",
    "DeliveryRequested",
    "DeliveryRouted",
    "Direction",
    "IncidentType",
    "LateRisk",
    "LineState",
    "LineStatus",
    "Perimeter",
    "RejectedBody",
    "RoadIncident",
    "RoadState",
    "TransitAlert",
    "TripDelay",
    "VehicleClass",
    "VehicleSeen",
]

INCIDENTS = "mobility.incidents"
DELIVERIES = "mobility.deliveries"
ROUTES = "mobility.routes"
ROADS = "mobility.roads"
FEED = "mobility.feed"
TRANSIT = "mobility.transit"
REJECTED = "mobility.rejected"

GTFS_ROUTE = "/v1/adapters/gtfs-rt"
CIFS_ROUTE = "/v1/adapters/cifs"
PERIMETERS_ROUTE = "/v1/mobility/perimeters"
DELIVERIES_ROUTE = "/v1/mobility/deliveries"

Moment = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with a zone")]
Text = Annotated[str, msgspec.Meta(max_length=256)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Point = tuple[Lat, Lon]
Line = Annotated[list[Point], msgspec.Meta(min_length=2, max_length=10_000)]
Ring = Annotated[list[Point], msgspec.Meta(min_length=3, max_length=10_000)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]

VENUE_LINES: dict[str, tuple[str, ...]] = {
    "STA": ("RER-B", "RER-D", "M13"),
    "AQC": ("RER-B", "RER-D", "M13"),
    "BCY": ("M14", "M6", "RER-A"),
    "CDM": ("M6", "RER-C"),
    "EIF": ("M6", "RER-C"),
    "TRO": ("M6", "M9"),
    "CPL": ("M12", "T3b"),
    "DEF": ("RER-A", "M1", "T2"),
    "GRP": ("M1", "M13"),
    "INV": ("M8", "M13", "RER-C"),
    "LCO": ("M1", "M8", "M12"),
    "HDV": ("M1", "M11"),
    "PDP": ("M9", "M10"),
    "RGA": ("M9", "M10"),
    "SP1": ("M12", "T2", "T3a"),
    "NPA": ("RER-B",),
    "LBO": ("RER-B",),
    "VER": ("RER-C",),
    "VE1": ("RER-C",),
    "VN1": ("RER-E",),
    "YDM": ("RER-C",),
}
"""Transit lines serving each venue (GTFS ``route_id`` as the rehearsal feed names them, and as
``mobility.transit`` keys its :class:`LineStatus`): a reader of ``mobility.transit`` finds
here which venues a closed line serves."""


class VehicleClass(StrEnum):
    """Vehicle access classes, as the Games' perimeters distinguish them."""

    TRUCK = "truck"
    VAN = "van"
    CAR = "car"
    BUS = "bus"
    EMERGENCY = "emergency"


class Direction(StrEnum):
    """Waze CIFS ``direction``: the closure shuts the polyline's direction, or both."""

    ONE_DIRECTION = "ONE_DIRECTION"
    BOTH_DIRECTIONS = "BOTH_DIRECTIONS"


class IncidentType(StrEnum):
    """Waze CIFS incident ``type``. ``ROAD_CLOSED`` closes edges, ``JAM`` slows them."""

    ROAD_CLOSED = "ROAD_CLOSED"
    JAM = "JAM"
    ACCIDENT = "ACCIDENT"
    HAZARD = "HAZARD"
    POLICE = "POLICE"


class RoadIncident(Event, frozen=True, kw_only=True, tag="road_incident"):
    """One Waze CIFS incident, validated; the latest one per ``incident_id`` is in force.

    ``kind`` is the CIFS ``type`` (renamed: ``type`` tags every payload of the log).
    """

    incident_id: Ident
    kind: IncidentType
    subtype: Text = ""
    polyline: Line
    direction: Direction = Direction.BOTH_DIRECTIONS
    street: Text = ""
    starttime: Moment
    endtime: Moment | None = None
    description: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    source: Text = "cifs"


class Perimeter(Event, frozen=True, kw_only=True, tag="perimeter"):
    """A security perimeter: closed during ``[start, end)`` to every class not in ``allowed``."""

    perimeter_id: Ident
    name: Name
    polygon: Ring
    start: Moment
    end: Moment
    allowed: list[VehicleClass] = []
    colour: Annotated[str, msgspec.Meta(max_length=32)] = "red"


class _Delivery(Event, frozen=True, kw_only=True):
    """The fields every delivery event starts with: whose trip, from where to where, by which
    vehicle class, leaving when and due by when (as the supplier registered it)."""

    delivery_id: Ident
    tenant: Name
    origin: Ident
    destination: Ident
    vehicle_class: VehicleClass
    departure: Moment
    deadline: Moment


class DeliveryRequested(_Delivery, frozen=True, kw_only=True, tag="delivery_requested"):
    """A supplier's delivery: from a network place to another, by a class, before a deadline.

    ``origin`` and ``destination`` are place codes of the network (depots, venues, ``VIL``).
    """

    cargo: Annotated[str, msgspec.Meta(max_length=256)] = ""


class DeliveryRouted(_Delivery, frozen=True, kw_only=True, tag="delivery_routed"):
    """A delivery's current route and ETA.

    ``reason`` is ``registered``, ``closure``, ``perimeter``, ``slowdown`` or ``reopened``;
    ``incident_id`` names the incident that caused a reroute (the record's ``causation_id`` is
    that incident's event). ``path`` is the route as ``[lat, lon]`` points.
    """

    eta: Moment | None
    distance_m: float
    duration_s: Seconds
    path: list[Point]
    reason: Text
    incident_id: Text = ""
    reachable: bool = True


class LateRisk(Event, frozen=True, kw_only=True, tag="late_risk"):
    """A delivery's ETA is past its deadline (or it has no route at all).

    ``best_departure`` is the latest departure that still meets the deadline on today's
    network; ``None`` when none does (the deadline is impossible).
    """

    delivery_id: Ident
    tenant: Name
    cargo: Text = ""
    eta: Moment | None
    deadline: Moment
    late_by_s: Seconds
    incident_id: Text
    reason: Text
    best_departure: Moment | None


class RoadState(Event, frozen=True, kw_only=True, tag="road_state"):
    """An incident or perimeter as mapped onto the network, for displays.

    ``state`` is ``closed``, ``slowed``, ``restricted`` (a perimeter) or ``open`` (ended,
    withdrawn). ``edges`` counts the directed edges it touches.
    """

    incident_id: Ident
    kind: Text
    state: Text
    street: Text = ""
    edges: int
    polyline: list[Point]
    start: Moment | None = None
    end: Moment | None = None
    allowed: list[VehicleClass] = []


class TransitAlert(Event, frozen=True, kw_only=True, tag="transit_alert"):
    """One GTFS-Realtime Alert entity, for one informed route (or stop)."""

    alert_id: Text
    route_id: Text = ""
    stop_id: Text = ""
    agency_id: Text = ""
    cause: Text
    effect: Text
    header: Text = ""
    active: list[tuple[Moment | None, Moment | None]] = []


class TripDelay(Event, frozen=True, kw_only=True, tag="trip_delay"):
    """One GTFS-Realtime TripUpdate: the trip's route, its relationship and first delay."""

    trip_id: Text
    route_id: Text = ""
    relationship: Text = "SCHEDULED"
    stop_id: Text = ""
    delay_s: int = 0
    arrival: Moment | None = None


class VehicleSeen(Event, frozen=True, kw_only=True, tag="vehicle_seen"):
    """One GTFS-Realtime VehiclePosition."""

    vehicle_id: Text
    trip_id: Text = ""
    route_id: Text = ""
    lat: Lat
    lon: Lon
    stop_id: Text = ""


class LineState(StrEnum):
    """What a display shows for a transit line."""

    OPEN = "open"
    DISRUPTED = "disrupted"
    CLOSED = "closed"


class LineStatus(Event, frozen=True, kw_only=True, tag="line_status"):
    """A transit line's state after an alert: ``closed`` for NO_SERVICE (a strike)."""

    route_id: Text
    state: LineState
    effect: Text
    cause: Text
    alert_id: Text
    header: Text = ""


class RejectedBody(Event, frozen=True, kw_only=True, tag="rejected_body"):
    """A body an adapter refused with a 400, kept whole (``text`` if UTF-8, else ``raw``)."""

    adapter: Text
    error: Text
    field: Text
    reason: Annotated[str, msgspec.Meta(max_length=4096)]
    received_at: Moment
    content_type: Text | None = None
    key_id: Text | None = None
    text: str | None = None
    raw: bytes | None = None


default_registry.register(
    INCIDENTS,
    RoadIncident | Perimeter,
    partitions=1,
    description="road incidents (Waze CIFS) and security perimeters, in arrival order",
    writer=Writer.route(f"POST {CIFS_ROUTE}", f"POST {PERIMETERS_ROUTE}"),
)
default_registry.register(
    DELIVERIES,
    DeliveryRequested,
    partitions=1,
    description="supplier deliveries as registered, with their tenant",
    writer=Writer.route(f"POST {DELIVERIES_ROUTE}"),
)
default_registry.register(
    ROUTES,
    DeliveryRouted | LateRisk,
    partitions=4,
    description="delivery routes, ETAs and late-risk alerts; each key reads its tenant's only",
)
default_registry.register(
    ROADS,
    RoadState,
    partitions=1,
    public=True,
    description="road closures, slowdowns and perimeters as mapped onto the network",
)
default_registry.register(
    FEED,
    TransitAlert | TripDelay | VehicleSeen,
    partitions=4,
    max_age=timedelta(days=2),
    description="GTFS-Realtime entities (alerts, trip updates, vehicles), keyed by route",
    writer=Writer.route(f"POST {GTFS_ROUTE}"),
)
default_registry.register(
    TRANSIT,
    LineStatus,
    partitions=1,
    public=True,
    description="transit line states (open, disrupted, closed) from GTFS-RT alerts",
)
default_registry.register(
    REJECTED,
    RejectedBody,
    partitions=1,
    max_age=timedelta(days=7),
    description="request bodies the mobility adapters refused, kept for inspection",
    writer=Writer.route(f"POST {GTFS_ROUTE}", f"POST {CIFS_ROUTE}"),
)
