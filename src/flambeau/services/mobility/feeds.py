"""Feed parsing: GTFS-Realtime protobuf and Waze CIFS JSON into stream events.

Both parsers take the whole body and either return every event or raise :class:`FeedError`
whose ``field`` names the offending place (``entity[2].alert.informed_entity``,
``incidents[0].incident.polyline``): a body is stored whole or not at all.

Event ids are derived from content: ``gtfs:<entity id>:<digest>`` and
``cifs:<incident id>:<digest>``. An exact re-send is a duplicate the log drops; an update of
the same incident gets a new id (the incident id alone would be dropped as a repeat inside the
log's dedupe window) and replaces the incident downstream, where state is keyed by incident id.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import msgspec
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as rt

from flambeau.events import NewEvent
from flambeau.services.mobility.errors import FeedError, MalformedProtobufError
from flambeau.services.mobility.schemas import (
    RoadIncident,
    TransitAlert,
    TripDelay,
    VehicleSeen,
)

__all__ = ["MAX_ENTITIES", "CifsDocument", "parse_cifs", "parse_gtfs_rt"]

MAX_ENTITIES = 10_000
"""Most entities (GTFS-RT) or incidents (CIFS) in one body."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _moment(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _text(translated: Any) -> str:
    return str(translated.translation[0].text)[:256] if translated.translation else ""


def _alert(entity: Any, where: str) -> list[TransitAlert]:
    alert = entity.alert
    if not alert.informed_entity:
        raise FeedError("gtfs-rt", f"{where}.alert.informed_entity", "an alert must name an entity")
    cause = rt.Alert.Cause.Name(alert.cause) if alert.HasField("cause") else "UNKNOWN_CAUSE"
    effect = rt.Alert.Effect.Name(alert.effect) if alert.HasField("effect") else "UNKNOWN_EFFECT"
    active = [(_moment(p.start), _moment(p.end)) for p in alert.active_period]
    return [
        TransitAlert(
            alert_id=entity.id[:256],
            route_id=informed.route_id[:256],
            stop_id=informed.stop_id[:256],
            agency_id=informed.agency_id[:256],
            cause=cause,
            effect=effect,
            header=_text(alert.header_text),
            active=active,
        )
        for informed in alert.informed_entity
    ]


def _trip(entity: Any) -> TripDelay:
    update = entity.trip_update
    first = update.stop_time_update[0] if update.stop_time_update else None
    event = first.arrival if first is not None and first.HasField("arrival") else None
    return TripDelay(
        trip_id=update.trip.trip_id[:256],
        route_id=update.trip.route_id[:256],
        relationship=rt.TripDescriptor.ScheduleRelationship.Name(update.trip.schedule_relationship),
        stop_id=first.stop_id[:256] if first is not None else "",
        delay_s=int(event.delay) if event is not None else int(update.delay),
        arrival=_moment(int(event.time)) if event is not None else None,
    )


def _vehicle(entity: Any, where: str) -> VehicleSeen:
    vehicle = entity.vehicle
    if not vehicle.HasField("position"):
        raise FeedError("gtfs-rt", f"{where}.vehicle.position", "a vehicle needs a position")
    position = vehicle.position
    if not (-90 <= position.latitude <= 90 and -180 <= position.longitude <= 180):
        raise FeedError("gtfs-rt", f"{where}.vehicle.position", "latitude/longitude out of range")
    return VehicleSeen(
        vehicle_id=(vehicle.vehicle.id or entity.id)[:256],
        trip_id=vehicle.trip.trip_id[:256],
        route_id=vehicle.trip.route_id[:256],
        lat=position.latitude,
        lon=position.longitude,
        stop_id=vehicle.stop_id[:256],
    )


def parse_gtfs_rt(body: bytes) -> list[NewEvent]:
    """One event per alert's informed entity, per trip update, per vehicle position."""
    message = rt.FeedMessage()
    try:
        message.ParseFromString(body)
    except (DecodeError, RuntimeWarning, ValueError) as error:
        raise MalformedProtobufError(
            "gtfs-rt", "FeedMessage", f"not a FeedMessage: {error}"
        ) from None
    if not message.header.gtfs_realtime_version:
        raise FeedError("gtfs-rt", "header.gtfs_realtime_version", "the header is required")
    if len(message.entity) > MAX_ENTITIES:
        raise FeedError(
            "gtfs-rt", "entity", f"{len(message.entity)} entities; limit {MAX_ENTITIES}"
        )
    sent = _moment(int(message.header.timestamp))  # the feed's own time, when it gives one
    events: list[NewEvent] = []
    for i, entity in enumerate(message.entity):
        where = f"entity[{i}]"
        digest = _digest(entity.SerializeToString(deterministic=True))
        base = f"gtfs:{entity.id[:64]}:{digest}"
        payloads: list[TransitAlert | TripDelay | VehicleSeen]
        if entity.HasField("alert"):
            payloads = list(_alert(entity, where))
        elif entity.HasField("trip_update"):
            payloads = [_trip(entity)]
        elif entity.HasField("vehicle"):
            payloads = [_vehicle(entity, where)]
        else:
            raise FeedError("gtfs-rt", where, "holds no alert, trip_update or vehicle")
        for n, payload in enumerate(payloads):
            key = getattr(payload, "route_id", "") or getattr(payload, "stop_id", "") or entity.id
            events.append(NewEvent(payload, key=key[:128], id=f"{base}:{n}", time=sent))
    return events


class _CifsIncident(msgspec.Struct, frozen=True):
    id: str
    type: str
    polyline: str
    starttime: str
    subtype: str = ""
    street: str = ""
    endtime: str | None = None
    description: str = ""
    direction: str = "BOTH_DIRECTIONS"


class _CifsItem(msgspec.Struct, frozen=True):
    incident: _CifsIncident


class CifsDocument(msgspec.Struct, frozen=True):
    """A Waze CIFS document in its JSON form: the incidents, and when the feed was written."""

    incidents: list[_CifsItem]
    timestamp: datetime | None = None  # Flambeau's extension: when the feed was written


def _polyline(text: str, where: str) -> list[tuple[float, float]]:
    parts = text.split()
    if len(parts) < 4 or len(parts) % 2:
        raise FeedError("cifs", where, "needs at least two 'lat lon' pairs, space-separated")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise FeedError("cifs", where, f"not a number in {text[:80]!r}") from None
    points = list(zip(numbers[::2], numbers[1::2], strict=True))
    for lat, lon in points:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise FeedError("cifs", where, f"point {lat} {lon} is out of range")
    return points


def _incident(raw: _CifsIncident, where: str) -> RoadIncident:
    fields: dict[str, Any] = {
        "incident_id": raw.id,
        "kind": raw.type,
        "subtype": raw.subtype,
        "polyline": _polyline(raw.polyline, f"{where}.polyline"),
        "direction": raw.direction,
        "street": raw.street,
        "starttime": raw.starttime,
        "endtime": raw.endtime,
        "description": raw.description,
    }
    try:
        return msgspec.convert(fields, RoadIncident, strict=False)
    except msgspec.ValidationError as error:
        path = str(error).rsplit("`$.", 1)[-1].rstrip("`") if "`$." in str(error) else ""
        field = {"incident_id": "id", "kind": "type"}.get(path.split("[")[0], path.split("[")[0])
        raise FeedError("cifs", f"{where}.{field}" if field else where, str(error)) from None


def _where(text: str) -> str:
    """The field path of a msgspec validation message (``incidents[0].incident.id``)."""
    path = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else ""
    if text.startswith("Object missing required field `"):
        missing = text.split("`")[1]
        path = f"{path}.{missing}" if path else missing
    return path or "body"


def parse_cifs(body: bytes) -> list[NewEvent]:
    """One :class:`RoadIncident` event per CIFS incident, keyed by incident id."""
    try:
        document = msgspec.json.decode(body, type=CifsDocument)
    except msgspec.ValidationError as error:
        raise FeedError("cifs", _where(str(error)), str(error)) from None
    except msgspec.DecodeError as error:
        raise FeedError("cifs", "body", f"not JSON: {error}") from None
    if len(document.incidents) > MAX_ENTITIES:
        raise FeedError(
            "cifs", "incidents", f"{len(document.incidents)} incidents; limit {MAX_ENTITIES}"
        )
    stamp = document.timestamp
    if stamp is not None and stamp.tzinfo is None:
        raise FeedError("cifs", "timestamp", "needs a time zone (RFC 3339)")
    events = []
    for i, item in enumerate(document.incidents):
        incident = _incident(item.incident, f"incidents[{i}].incident")
        digest = _digest(msgspec.json.encode(incident))
        event_id = f"cifs:{incident.incident_id}:{digest}"
        events.append(NewEvent(incident, key=incident.incident_id, id=event_id, time=stamp))
    return events
