"""Routing decisions: which incidents apply to a delivery, its route, its ETA, its late risk.

An incident applies to a delivery when its time window overlaps the delivery's
``[departure, deadline]``: a closure (CIFS ``ROAD_CLOSED``) shuts its edges, a slowdown
(``JAM``) divides their speed by :data:`JAM_SLOWDOWN`'s inverse, a perimeter shuts its edges to
every vehicle class it does not allow. Other CIFS types are shown, never routed around.

Routes are computed from the delivery's origin (vehicle positions are not tracked): the ETA is
``departure + duration``. A late delivery's best alternative departure is the latest one that
still meets the deadline on the current network, or, when even leaving now is too late, the end
of the incident that caused the delay if travelling after it arrives in time.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path as FilePath

import msgspec

from flambeau.services.mobility.errors import UnknownPlaceError
from flambeau.services.mobility.geometry import EdgeIndex
from flambeau.services.mobility.network import Network, generate, load_graphml
from flambeau.services.mobility.router import Costs, Path, Router
from flambeau.services.mobility.schemas import (
    DeliveryRequested,
    IncidentType,
    Perimeter,
    RoadIncident,
)

__all__ = [
    "JAM_SLOWDOWN",
    "NETWORK_ENV",
    "REROUTE_BOUND",
    "Active",
    "Planner",
    "Tracked",
    "World",
    "as_us",
    "from_us",
    "world",
]

REROUTE_BOUND = 1.5
"""A reroute searches first within its old duration times this (then without a bound)."""
JAM_SLOWDOWN = 0.25
"""Speed factor on the edges of a CIFS ``JAM``."""
NETWORK_ENV = "FLAMBEAU_MOBILITY_NETWORK"
"""Environment variable naming a GraphML network to load instead of the generated one."""


def as_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


class Active(msgspec.Struct, frozen=True, kw_only=True):
    """An incident or perimeter in force, as mapped: its edges and window (µs since epoch).

    ``kind``: ``closure``, ``slowdown``, ``perimeter`` or ``alert`` (never routed around).
    """

    incident_id: str
    kind: str
    edges: list[int]
    start_us: int
    end_us: int | None = None
    allowed: list[str] = []
    event_id: str = ""

    def applies(self, delivery: DeliveryRequested) -> bool:
        if self.kind == "alert":
            return False
        if self.kind == "perimeter" and delivery.vehicle_class.value in self.allowed:
            return False
        starts_before = self.start_us < as_us(delivery.deadline)
        return starts_before and (self.end_us is None or self.end_us > as_us(delivery.departure))


class Tracked(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery the dispatcher follows: its request and current route."""

    request: DeliveryRequested
    edges: list[int]
    duration_s: float | None
    incident_id: str = ""


@dataclass(frozen=True)
class World:
    """The network, its router and its spatial index (one per process)."""

    network: Network
    router: Router
    index: EdgeIndex


@cache
def world() -> World:
    """The network named by :data:`NETWORK_ENV`, or the generated Paris-region one."""
    path = os.environ.get(NETWORK_ENV)
    network = load_graphml(FilePath(path)) if path else generate()
    return World(network, Router(network), EdgeIndex(network))


def mapped(event: RoadIncident | Perimeter, index: EdgeIndex, event_id: str) -> Active:
    """The incident's edges and window."""
    if isinstance(event, Perimeter):
        return Active(
            incident_id=event.perimeter_id,
            kind="perimeter",
            edges=[int(e) for e in index.area(event.polygon)],
            start_us=as_us(event.start),
            end_us=as_us(event.end),
            allowed=[c.value for c in event.allowed],
            event_id=event_id,
        )
    one_way = event.direction.value == "ONE_DIRECTION"
    kind = {IncidentType.ROAD_CLOSED: "closure", IncidentType.JAM: "slowdown"}.get(
        event.kind, "alert"
    )
    return Active(
        incident_id=event.incident_id,
        kind=kind,
        edges=[int(e) for e in index.closure(event.polyline, one_way)],
        start_us=as_us(event.starttime),
        end_us=as_us(event.endtime) if event.endtime else None,
        event_id=event_id,
    )


def costs_of(delivery: DeliveryRequested, incidents: Sequence[Active]) -> Costs:
    blocked: set[int] = set()
    slow: dict[int, float] = {}
    for incident in incidents:
        if not incident.applies(delivery):
            continue
        if incident.kind == "slowdown":
            slow.update((edge, JAM_SLOWDOWN) for edge in incident.edges)
        else:
            blocked.update(incident.edges)
    return Costs(frozenset(blocked), tuple(sorted(slow.items())))


class Planner:
    """Plans deliveries on a :class:`World` under a set of incidents."""

    def __init__(self, world: World) -> None:
        self.world = world

    def node(self, field: str, code: str) -> int:
        places = self.world.network.places
        if code not in places:
            raise UnknownPlaceError(field, code, sorted(places))
        return places[code]

    def plan(
        self,
        deliveries: Sequence[DeliveryRequested],
        incidents: Sequence[Active],
        bounds: Sequence[float] | None = None,
    ) -> list[Path | None]:
        """Each delivery's fastest path under the incidents that apply to it.

        ``bounds`` (seconds per delivery, see :meth:`.Router.many`) bound the searches.
        """
        groups: dict[Costs, list[int]] = defaultdict(list)
        for i, delivery in enumerate(deliveries):
            groups[costs_of(delivery, incidents)].append(i)
        paths: list[Path | None] = [None] * len(deliveries)
        for costs, members in groups.items():
            pairs = [
                (self.node("origin", deliveries[i].origin),
                 self.node("destination", deliveries[i].destination))
                for i in members
            ]  # fmt: skip
            bound = [bounds[i] for i in members] if bounds is not None else None
            found = self.world.router.many(pairs, costs, bound)
            for i, path in zip(members, found, strict=True):
                paths[i] = path
        return paths

    def best_departure(
        self,
        delivery: DeliveryRequested,
        duration_s: float | None,
        cause: Active | None,
        incidents: Sequence[Active],
        now: datetime,
    ) -> datetime | None:
        """The latest departure meeting the deadline, else the cause's end if that works."""
        if duration_s is not None:
            latest = (delivery.deadline - timedelta(seconds=duration_s)).replace(microsecond=0)
            if latest >= now:
                return latest
        if cause is None or cause.end_us is None:
            return None
        leave = max(from_us(cause.end_us), now)
        later = msgspec.structs.replace(delivery, departure=leave)
        others = [i for i in incidents if i.incident_id != cause.incident_id]
        [path] = self.plan([later], others)
        if path is not None and leave + timedelta(seconds=path.seconds) <= delivery.deadline:
            return leave
        return None

    def points(self, path: Path | None) -> list[tuple[float, float]]:
        if path is None:
            return []
        net = self.world.network
        return [(round(float(net.lat[n]), 6), round(float(net.lon[n]), 6)) for n in path.nodes]
