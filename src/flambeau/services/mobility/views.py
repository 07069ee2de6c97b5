"""The mobility read model, folded from ``mobility.routes``, ``mobility.roads``,
``mobility.transit`` and ``mobility.feed``: each delivery's latest route and late risk, each
incident's latest mapping, each line's latest state and trip updates."""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.mobility.schemas import (
    FEED,
    ROADS,
    ROUTES,
    TRANSIT,
    DeliveryRouted,
    LateRisk,
    LineStatus,
    RoadState,
    TripDelay,
)

__all__ = ["MAX_TRIPS", "DeliveryView", "MobilityModel", "mobility_view"]

MAX_TRIPS = 50
"""Trip updates kept per line (the oldest go first)."""


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery as ``GET /v1/mobility/deliveries`` shows it: route, ETA, late risk.

    ``reroutes`` counts the routes after the first; ``routed_event`` is the id of the
    latest ``mobility.routes`` record (its ``causation_id`` leads to the incident).
    """

    route: DeliveryRouted
    late: LateRisk | None = None
    reroutes: int = 0
    routed_event: str = ""


class MobilityModel:
    """Deliveries by id, roads by incident id, lines by route id."""

    def __init__(self) -> None:
        self.deliveries: dict[str, DeliveryView] = {}
        self.roads: dict[str, RoadState] = {}
        self.lines: dict[str, LineStatus] = {}
        self.trips: dict[str, dict[str, TripDelay]] = {}

    def fold(self, record: Record[Any]) -> None:
        """Apply one record of the three streams."""
        match record.data:
            case DeliveryRouted() as routed:
                known = self.deliveries.get(routed.delivery_id)
                self.deliveries[routed.delivery_id] = DeliveryView(
                    route=routed,
                    late=None,
                    reroutes=0 if known is None else known.reroutes + 1,
                    routed_event=record.id,
                )
            case LateRisk() as late:
                view = self.deliveries.get(late.delivery_id)
                if view is not None:
                    self.deliveries[late.delivery_id] = msgspec.structs.replace(view, late=late)
            case RoadState() as road:
                self.roads[road.incident_id] = road
            case LineStatus() as line:
                self.lines[line.route_id] = line
            case TripDelay() as trip if trip.route_id:
                trips = self.trips.setdefault(trip.route_id, {})
                trips[trip.trip_id] = trip
                if len(trips) > MAX_TRIPS:
                    del trips[next(iter(trips))]

    def of_tenant(self, tenant: str | None) -> list[DeliveryView]:
        """The deliveries of ``tenant`` (every delivery for ``None``: an admin)."""
        return sorted(
            (v for v in self.deliveries.values() if tenant is None or v.route.tenant == tenant),
            key=lambda v: v.route.delivery_id,
        )


def mobility_view(log: Log) -> tuple[View, MobilityModel]:
    """The running view of the mobility streams over ``log``, and its model."""

    def factory() -> Any:
        return MobilityModel().fold

    view = view_of(log, "mobility.model", [ROUTES, ROADS, TRANSIT, FEED], factory)
    owner = getattr(view.fold, "__self__", None)
    if not isinstance(owner, MobilityModel):  # pragma: no cover - the factory always binds one
        raise TypeError("the mobility view folds into something other than a MobilityModel")
    return view, owner
