"""Sending the suppliers' deliveries and the mobility incidents over HTTP.

Deliveries go to ``POST /v1/mobility/deliveries``; road incidents to ``POST
/v1/adapters/cifs`` as CIFS JSON; the transit strike to ``POST /v1/adapters/gtfs-rt`` as a
GTFS-Realtime ``FeedMessage`` built with ``gtfs-realtime-bindings``. A gateway that does not
serve the route gets nothing, as for deposits.
"""

from __future__ import annotations

from google.transit import gtfs_realtime_pb2 as rt

from flambeau.scenario.channels import Channels
from flambeau.scenario.errors import Stopped
from flambeau.scenario.generators.deliveries import DELIVERIES_ROUTE, Delivery, MobilityIncident

__all__ = ["send_delivery", "send_incident", "strike_feed"]


def strike_feed(incident: MobilityIncident) -> bytes:
    """A ``FeedMessage`` with one NO_SERVICE alert (cause STRIKE) on the incident's route."""
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(incident.time.timestamp())
    entity = message.entity.add()
    entity.id = str(incident.body["alert_id"])
    entity.alert.cause = rt.Alert.STRIKE
    entity.alert.effect = rt.Alert.NO_SERVICE
    route = str(incident.body["route_id"])
    entity.alert.header_text.translation.add().text = f"Grève : pas de service sur {route}"
    entity.alert.active_period.add().start = int(incident.time.timestamp())
    entity.alert.informed_entity.add().route_id = route
    return bytes(message.SerializeToString())


def _served(channels: Channels, route: str) -> bool:
    return route in channels.paths


async def send_delivery(channels: Channels, delivery: Delivery) -> None:
    """Register one delivery."""
    if not _served(channels, DELIVERIES_ROUTE):
        return
    try:
        reply = await channels.client.post_json(DELIVERIES_ROUTE, delivery.body)
    except Stopped:
        return
    channels.count("delivery", 1, reply)


async def send_incident(channels: Channels, incident: MobilityIncident) -> None:
    """Post one mobility incident to its adapter."""
    if not _served(channels, incident.route):
        return
    try:
        if incident.kind == "transit_strike":
            reply = await channels.client.request(
                "POST", incident.route, content=strike_feed(incident),
                content_type="application/x-protobuf",
            )  # fmt: skip
        else:
            reply = await channels.client.post_json(incident.route, incident.body)
    except Stopped:
        return
    channels.count(incident.kind, 1, reply)
