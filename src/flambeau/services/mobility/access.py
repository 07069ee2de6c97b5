"""The public access display of a venue: roads and lines serving it, next departures, and
travel times by road from the main hubs under the closures in force.

Roads within :data:`NEAR_M` of the venue are listed with their state; lines are those of
:data:`.places.VENUE_LINES` (``open`` until an alert says otherwise); next departures are the
latest trip updates of those lines; travel times are computed for a car, so perimeters that
do not let cars in count as closed.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Protocol

import msgspec

from flambeau.services.mobility.dispatch import JAM_SLOWDOWN, world
from flambeau.services.mobility.network import metres_xy
from flambeau.services.mobility.places import HUBS, VENUE_LINES
from flambeau.services.mobility.router import Costs
from flambeau.services.mobility.schemas import LineState, LineStatus, RoadState, TripDelay

__all__ = ["NEAR_M", "VenueAccess", "venue_access"]

NEAR_M = 2_000.0
"""Roads whose incident lies this close to the venue are shown on its display."""
DEPARTURES = 3
"""Next departures shown per line."""


class Road(msgspec.Struct, frozen=True):
    incident_id: str
    state: str
    street: str
    distance_m: int


class Line(msgspec.Struct, frozen=True):
    route_id: str
    state: LineState
    effect: str = ""
    header: str = ""
    next_departures: list[datetime] = []


class HubTime(msgspec.Struct, frozen=True):
    hub: str
    name: str
    minutes: float | None
    disrupted: bool


class VenueAccess(msgspec.Struct, frozen=True):
    """One venue's display: overall ``state`` is the worst of its roads and lines."""

    venue: str
    name: str
    state: str
    roads: list[Road]
    lines: list[Line]
    from_hubs: list[HubTime]


class _Model(Protocol):
    roads: dict[str, RoadState]
    lines: dict[str, LineStatus]
    trips: dict[str, dict[str, TripDelay]]


def _distance(road: RoadState, lat: float, lon: float) -> float:
    xs, ys = metres_xy([p[0] for p in road.polyline], [p[1] for p in road.polyline])
    x, y = metres_xy(lat, lon)
    return float(
        min(math.hypot(px - float(x), py - float(y)) for px, py in zip(xs, ys, strict=True))
    )


def _costs(roads: list[RoadState]) -> Costs:
    index = world().index
    blocked: set[int] = set()
    slow: dict[int, float] = {}
    for road in roads:
        if road.state == "closed":
            blocked.update(int(e) for e in index.closure(road.polyline, False))
        elif road.state == "restricted" and "car" not in road.allowed:
            blocked.update(int(e) for e in index.area(road.polyline))
        elif road.state == "slowed":
            slow.update((int(e), JAM_SLOWDOWN) for e in index.closure(road.polyline, False))
    return Costs(frozenset(blocked), tuple(sorted(slow.items())))


def _lines(venue: str, model: _Model) -> list[Line]:
    lines = []
    for route_id in VENUE_LINES.get(venue, ()):
        status = model.lines.get(route_id)
        trips = sorted(
            (t.arrival for t in model.trips.get(route_id, {}).values() if t.arrival is not None),
        )[:DEPARTURES]
        if status is None:
            lines.append(Line(route_id, LineState.OPEN, next_departures=trips))
        else:
            lines.append(Line(route_id, status.state, status.effect, status.header, trips))
    return lines


def venue_access(venue: str, model: _Model) -> VenueAccess | None:
    """The display of ``venue``, or ``None`` when the network does not know it."""
    w = world()
    place = w.network.names.get(venue)
    if place is None or place.kind != "venue":
        return None
    roads = [r for r in model.roads.values() if r.state != "open"]
    near = sorted(
        (Road(r.incident_id, r.state, r.street, int(d)) for r in roads
         if (d := _distance(r, place.lat, place.lon)) <= NEAR_M),
        key=lambda road: road.distance_m,
    )  # fmt: skip
    costs = _costs(roads)
    hubs = [h for h in HUBS if h in w.network.places]
    pairs = [(w.network.places[h], w.network.places[venue]) for h in hubs]
    free = w.router.many(pairs)
    now = w.router.many(pairs, costs)
    times = [
        HubTime(hub, w.network.names[hub].name,
                round(path.seconds / 60, 1) if path else None,
                path is None or (base is not None and path.seconds > base.seconds * 1.1))
        for hub, path, base in zip(hubs, now, free, strict=True)
    ]  # fmt: skip
    lines = _lines(venue, model)
    states = {r.state for r in near} | {line.state.value for line in lines}
    state = "closed" if "closed" in states else "disrupted" if states - {"open"} else "open"
    return VenueAccess(venue, place.name, state, near, lines, times)
