"""The producers beside the results, payments, bets and crowds: suppliers, traffic, rentals.

Deliveries and mobility incidents are sent as they come (see :mod:`.mobility`). Rentals
actions go on a lane of their own, one request at a time in order (a listing before its
bookings, a booking before its cancellation): listings and bookings to the rentals routes,
the organiser's configuration to ``rentals.config`` through the generic ingest. A gateway that
does not serve the rentals routes gets nothing, as for deposits. An action with a note (an
incident, a scripted moment) is printed when it is queued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from flambeau.scenario.channels import Channels
from flambeau.scenario.client import GatewayClient
from flambeau.scenario.errors import Stopped
from flambeau.scenario.generators.deliveries import Delivery, MobilityIncident
from flambeau.scenario.generators.rentals import LISTINGS_ROUTE, RentalAction
from flambeau.scenario.lanes import Lane
from flambeau.scenario.mobility import send_delivery, send_incident
from flambeau.scenario.stats import PARIS

__all__ = ["Producers", "send_rentals"]


async def send_rentals(
    channels: Channels, actions: list[RentalAction], client: GatewayClient | None = None
) -> bool:
    """Send rentals actions in order, one request each; ``False`` if stopped first."""
    if LISTINGS_ROUTE not in channels.paths:
        return True
    http = client or channels.client
    try:
        for action in actions:
            if action.method == "INGEST":
                reply = await http.ingest(action.path, action.body)
            elif action.method == "DELETE":
                reply = await http.request("DELETE", action.path)
            else:
                reply = await http.post_json(action.path, action.body)
            sent = len(action.body) if action.method == "INGEST" else 1
            channels.count(f"rentals_{action.kind}", sent, reply)
    except Stopped:
        return False
    return True


class Producers:
    """Sends deliveries, mobility incidents and rentals actions for the driver."""

    def __init__(
        self, channels: Channels, client: GatewayClient, printer: Callable[[str], None]
    ) -> None:
        self.channels = channels
        self.print = printer
        self.rentals: Lane[RentalAction] = Lane(
            "rentals", partial(send_rentals, channels, client=client.fork()), max_batch=64
        )

    @property
    def lanes(self) -> list[Lane[Any]]:
        """The lanes to start, flush, drain and checkpoint with the driver's."""
        return [self.rentals]

    async def send(self, at: datetime, payload: object) -> None:
        """Send or queue one payload of these producers."""
        match payload:
            case Delivery():
                await send_delivery(self.channels, payload)
            case MobilityIncident():
                self.print(f"mobility incident at {payload.time.astimezone(PARIS):%H:%M}: "
                           f"{payload.kind}")  # fmt: skip
                await send_incident(self.channels, payload)
            case RentalAction():
                if payload.note:
                    self.print(f"rentals at {payload.time.astimezone(PARIS):%H:%M}: {payload.note}")
                await self.rentals.add(at, payload)
