"""Suppliers and road incidents: meal deliveries to the Village and the venues, and the
mobility incidents that move them.

Deliveries: every depot (Rungis, Gennevilliers, Bonneuil, Roissy) sends a truck of athletes'
meals to the Athletes' Village every 30 minutes from 06:00 to 21:00 (Paris), and a van to each
venue with a session that day an hour before its first session. Each is registered 45 minutes
before it leaves (``registered_at``: the day's clock), with a deadline 90 minutes after
departure (60 for the vans). The supplier is named in the cargo; all are posted with the
simulator's key, so they share its tenant.

Incidents (each a :class:`MobilityIncident`, posted when it takes effect, stamped with the
day's clock):

- ``transit_strike``: a GTFS-RT ``NO_SERVICE`` alert (cause ``STRIKE``) on RER B from 07:00;
- ``traffic_jam``: a CIFS ``JAM`` on the Village's western approach, 08:10 to 09:10;
- ``road_closure``: a CIFS ``ROAD_CLOSED`` on the Village's eastern approach, where the
  trucks from Rungis, Bonneuil and Roissy arrive, 11:40 to 14:40 (a scripted closure on the
  deliveries' route); at 14:40 an update of the same incident id reopens it. The same road
  closes again in the evening, 20:20 to 21:20 (``closure-vil-east-evening``), on the route of
  the 21:00 trucks (registered at 20:15), and reopens at 21:20: the evening rehearsal window
  of the reaction-chain test sees a reroute too.

The polylines are coordinates, as a traffic authority would send them; nothing here imports
the mobility service.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from flambeau.scenario.schedule import Schedule

__all__ = ["DEPOTS", "Delivery", "MobilityIncident", "deliveries", "mobility_incidents"]

_PARIS = timezone(timedelta(hours=2))
DEPOTS: dict[str, str] = {"RUN": "Rungis", "GEN": "Gennevilliers", "BON": "Bonneuil",
                          "ROI": "Roissy"}  # fmt: skip
"""Depot code → supplier."""
_VENUES = frozenset({"AQC", "BCY", "CDM", "CPL", "CSB", "DEF", "EIF", "ELA", "GRP", "HDV",
                     "INV", "LBO", "LCO", "LCS", "LGN", "NPA", "PDP", "RGA", "SP1", "STA",
                     "TRO", "VE1", "VER", "VN1", "YDM"})  # fmt: skip
LEAD = timedelta(minutes=45)
"""How long before it leaves a delivery is registered."""
CIFS_ROUTE = "/v1/adapters/cifs"
GTFS_ROUTE = "/v1/adapters/gtfs-rt"
DELIVERIES_ROUTE = "/v1/mobility/deliveries"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery registered at ``time``: the body of ``POST /v1/mobility/deliveries``."""

    time: datetime
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MobilityIncident:
    """A mobility incident taking effect at ``time``: where it goes and what.

    ``body`` is a CIFS document for ``road_closure`` and ``traffic_jam``; for
    ``transit_strike`` it names the ``route_id`` and ``alert_id`` of the GTFS-RT alert.
    """

    time: datetime
    kind: str
    route: str
    body: dict[str, Any]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), _PARIS).astimezone(UTC)


def deliveries(schedule: Schedule, *, start: datetime | None = None,
               end: datetime | None = None) -> Iterator[Delivery]:  # fmt: skip
    """The day's deliveries in registration order."""
    out: list[Delivery] = []
    day = schedule.day
    for depot, supplier in DEPOTS.items():
        leave = _at(day, 6)
        while leave <= _at(day, 21):
            code = f"{depot}-VIL-{leave.astimezone(_PARIS):%H%M}"
            out.append(_delivery(code, depot, "VIL", "truck", leave, 90,
                                 f"athletes' meals, Village ({supplier})"))  # fmt: skip
            leave += timedelta(minutes=30)
    first: dict[str, datetime] = {}
    for session in schedule.sessions:
        if session.venue in _VENUES:
            first[session.venue] = min(first.get(session.venue, session.start), session.start)
    for n, (venue, opens) in enumerate(sorted(first.items())):
        depot = list(DEPOTS)[n % len(DEPOTS)]
        out.append(_delivery(f"{depot}-{venue}", depot, venue, "van", opens - timedelta(hours=1),
                             60, f"athletes' meals, {venue} ({DEPOTS[depot]})"))  # fmt: skip
    for delivery in sorted(out, key=lambda d: (d.time, d.body["delivery_id"])):
        if (start is None or delivery.time >= start) and (end is None or delivery.time < end):
            yield delivery


def _delivery(code: str, origin: str, destination: str, vehicle: str, leave: datetime,
              minutes: int, cargo: str) -> Delivery:  # fmt: skip
    registered = leave - LEAD
    body = {"delivery_id": code, "origin": origin, "destination": destination,
            "vehicle_class": vehicle, "departure": leave.isoformat(),
            "deadline": (leave + timedelta(minutes=minutes)).isoformat(), "cargo": cargo,
            "registered_at": registered.isoformat()}  # fmt: skip
    return Delivery(registered, body)


def _cifs(incident_id: str, kind: str, points: list[tuple[float, float]], begins: datetime,
          ends: datetime, street: str, sent: datetime) -> dict[str, Any]:  # fmt: skip
    incident = {"id": incident_id, "type": kind, "street": street,
                "polyline": " ".join(f"{lat} {lon}" for lat, lon in points),
                "direction": "BOTH_DIRECTIONS", "starttime": begins.isoformat(),
                "endtime": ends.isoformat()}  # fmt: skip
    return {"timestamp": sent.isoformat(), "incidents": [{"incident": incident}]}


def mobility_incidents(day: date, *, start: datetime | None = None,
                       end: datetime | None = None) -> Iterator[MobilityIncident]:  # fmt: skip
    """The day's scripted mobility incidents, in time order."""
    east = [(48.9127, 2.3395), (48.9127, 2.3498)]  # the Village's eastern approach
    west = [(48.9199, 2.3175), (48.9199, 2.3330)]
    strike = _at(day, 7)
    jam, cleared = _at(day, 8, 10), _at(day, 9, 10)
    closed, lifted = _at(day, 11, 40), _at(day, 14, 40)
    evening, reopened = _at(day, 20, 20), _at(day, 21, 20)
    incidents = [
        MobilityIncident(strike, "transit_strike", GTFS_ROUTE,
                         {"route_id": "RER-B", "alert_id": f"strike-{day}"}),
        MobilityIncident(jam, "traffic_jam", CIFS_ROUTE,
                         _cifs("jam-vil-west", "JAM", west, jam, cleared, "Quai de Seine", jam)),
        MobilityIncident(closed, "road_closure", CIFS_ROUTE,
                         _cifs("closure-vil-east", "ROAD_CLOSED", east, closed, lifted,
                               "Avenue du Village", closed)),
        MobilityIncident(lifted, "road_closure", CIFS_ROUTE,
                         _cifs("closure-vil-east", "ROAD_CLOSED", east, closed, lifted,
                               "Avenue du Village (reopened)", lifted)),
        MobilityIncident(evening, "road_closure", CIFS_ROUTE,
                         _cifs("closure-vil-east-evening", "ROAD_CLOSED", east, evening,
                               reopened, "Avenue du Village", evening)),
        MobilityIncident(reopened, "road_closure", CIFS_ROUTE,
                         _cifs("closure-vil-east-evening", "ROAD_CLOSED", east, evening,
                               reopened, "Avenue du Village (reopened)", reopened)),
    ]  # fmt: skip
    for incident in incidents:
        if (start is None or incident.time >= start) and (end is None or incident.time < end):
            yield incident
