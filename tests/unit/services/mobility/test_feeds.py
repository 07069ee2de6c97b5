"""GTFS-Realtime and Waze CIFS parsing: the events they give and the fields they refuse."""

from __future__ import annotations

import pytest

from flambeau.services.mobility.errors import FeedError, MalformedProtobufError
from flambeau.services.mobility.feeds import parse_cifs, parse_gtfs_rt
from flambeau.services.mobility.schemas import (
    Direction,
    IncidentType,
    RoadIncident,
    TransitAlert,
    TripDelay,
    VehicleSeen,
)

from .feeds import cifs, closure, strike

LINE = [(48.90, 2.30), (48.91, 2.31)]


def test_a_feed_message_gives_alerts_trip_updates_and_vehicles() -> None:
    events = parse_gtfs_rt(strike())
    alert, trip, vehicle = (e.data for e in events)
    assert isinstance(alert, TransitAlert)
    assert (alert.route_id, alert.cause, alert.effect) == ("RER-B", "STRIKE", "NO_SERVICE")
    assert alert.header == "Grève sur la ligne RER-B"
    assert alert.active[0][0] is not None
    assert alert.active[0][1] is None
    assert isinstance(trip, TripDelay)
    assert (trip.route_id, trip.delay_s) == ("M13", 120)
    assert isinstance(vehicle, VehicleSeen)
    assert (vehicle.lat, vehicle.lon) == pytest.approx((48.92, 2.36), abs=1e-5)
    assert events[0].key == "RER-B"
    assert len({e.id for e in events}) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"\xff\xff\xff not protobuf", "FeedMessage"),
        (b"", "header.gtfs_realtime_version"),
    ],
)
def test_a_body_that_is_no_feed_message_names_where(body: bytes, field: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_gtfs_rt(body)
    assert caught.value.field == field
    if field == "FeedMessage":
        assert isinstance(caught.value, MalformedProtobufError)


def test_an_alert_naming_no_entity_is_refused_with_its_index() -> None:
    from google.transit import gtfs_realtime_pb2 as rt

    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.entity.add(id="ok").alert.informed_entity.add().route_id = "M1"
    message.entity.add(id="bad").alert.effect = rt.Alert.DETOUR
    with pytest.raises(FeedError) as caught:
        parse_gtfs_rt(message.SerializeToString())
    assert caught.value.field == "entity[1].alert.informed_entity"


def test_a_cifs_incident_becomes_a_road_incident_keyed_by_its_id() -> None:
    [event] = parse_cifs(cifs(closure("c-1", LINE, direction="ONE_DIRECTION")))
    incident = event.data
    assert isinstance(incident, RoadIncident)
    assert incident.kind is IncidentType.ROAD_CLOSED
    assert incident.direction is Direction.ONE_DIRECTION
    assert incident.polyline == LINE
    assert event.key == "c-1"


def test_an_update_of_an_incident_gets_a_new_event_id_a_resend_the_same() -> None:
    first = parse_cifs(cifs(closure("c-1", LINE)))[0].id
    again = parse_cifs(cifs(closure("c-1", LINE)))[0].id
    updated = parse_cifs(cifs(closure("c-1", LINE, end="2024-08-01T22:00:00+02:00")))[0].id
    assert first == again
    assert updated != first
    assert first is not None
    assert first.startswith("cifs:c-1:")
    assert first != "c-1"


@pytest.mark.parametrize(
    ("incident", "field"),
    [
        ({"polyline": "48.9 2.3 48.91"}, "incidents[0].incident.polyline"),
        ({"polyline": "48.9 2.3 abc 2.31"}, "incidents[0].incident.polyline"),
        ({"polyline": "148.9 2.3 48.91 2.31"}, "incidents[0].incident.polyline"),
        ({"type": "ROAD_OPENED"}, "incidents[0].incident.type"),
        ({"starttime": "tomorrow"}, "incidents[0].incident.starttime"),
        ({"direction": "SIDEWAYS"}, "incidents[0].incident.direction"),
    ],
)
def test_a_bad_cifs_incident_is_refused_naming_its_field(
    incident: dict[str, str], field: str
) -> None:
    body = cifs({**closure("c-1", LINE), **incident})
    with pytest.raises(FeedError) as caught:
        parse_cifs(body)
    assert caught.value.field == field


def test_a_cifs_body_missing_an_id_or_not_json_names_it() -> None:
    missing = closure("c-1", LINE)
    del missing["id"]
    with pytest.raises(FeedError) as caught:
        parse_cifs(cifs(missing))
    assert caught.value.field == "incidents[0].incident.id"
    with pytest.raises(FeedError) as caught:
        parse_cifs(b"{not json")
    assert caught.value.field == "body"
