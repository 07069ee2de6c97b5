"""Builders of GTFS-RT and CIFS bodies for the mobility tests."""

from __future__ import annotations

import json
from typing import Any

from google.transit import gtfs_realtime_pb2 as rt


def strike(route: str = "RER-B", alert_id: str = "strike-1", end: int = 0) -> bytes:
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    entity = message.entity.add()
    entity.id = alert_id
    entity.alert.cause = rt.Alert.STRIKE
    entity.alert.effect = rt.Alert.NO_SERVICE
    entity.alert.header_text.translation.add().text = f"Grève sur la ligne {route}"
    period = entity.alert.active_period.add()
    period.start = 1_722_000_000
    if end:
        period.end = end
    entity.alert.informed_entity.add().route_id = route
    trip = message.entity.add()
    trip.id = "trip-1"
    trip.trip_update.trip.trip_id = "T1"
    trip.trip_update.trip.route_id = "M13"
    stop = trip.trip_update.stop_time_update.add()
    stop.stop_id = "SDP"
    stop.arrival.delay = 120
    stop.arrival.time = 1_722_003_600
    vehicle = message.entity.add()
    vehicle.id = "bus-7"
    vehicle.vehicle.trip.route_id = "M13"
    vehicle.vehicle.position.latitude = 48.92
    vehicle.vehicle.position.longitude = 2.36
    return bytes(message.SerializeToString())


def cifs(*incidents: dict[str, Any]) -> bytes:
    return json.dumps({"incidents": [{"incident": i} for i in incidents]}).encode()


def closure(
    incident_id: str,
    points: list[tuple[float, float]],
    *,
    kind: str = "ROAD_CLOSED",
    start: str = "2024-08-01T06:00:00+02:00",
    end: str | None = "2024-08-01T20:00:00+02:00",
    direction: str = "BOTH_DIRECTIONS",
) -> dict[str, Any]:
    incident: dict[str, Any] = {
        "id": incident_id,
        "type": kind,
        "polyline": " ".join(f"{lat} {lon}" for lat, lon in points),
        "street": "Avenue test",
        "starttime": start,
        "direction": direction,
    }
    if end is not None:
        incident["endtime"] = end
    return incident
