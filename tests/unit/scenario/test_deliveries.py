"""The suppliers' generator and the mobility incidents of the rehearsal, replayed through the
mobility service's parsers and dispatcher (so the scripted closure is known to hit a route)."""

from __future__ import annotations

import json
from datetime import timedelta

import msgspec
import pytest

from flambeau.events import NewEvent
from flambeau.scenario.generators.deliveries import (
    LEAD,
    deliveries,
    mobility_incidents,
)
from flambeau.scenario.mobility import strike_feed
from flambeau.scenario.schedule import DEFAULT_DAY, build_schedule
from flambeau.services.mobility.feeds import parse_cifs, parse_gtfs_rt
from flambeau.services.mobility.processors import dispatch
from flambeau.services.mobility.schemas import (
    DELIVERIES,
    INCIDENTS,
    DeliveryRequested,
    DeliveryRouted,
    TransitAlert,
    VehicleClass,
)
from flambeau.testing import run


def test_trucks_leave_every_half_hour_and_vans_before_each_venue_opens() -> None:
    schedule = build_schedule(DEFAULT_DAY, 0)
    planned = list(deliveries(schedule))
    trucks = [d for d in planned if d.body["destination"] == "VIL"]
    vans = [d for d in planned if d.body["destination"] != "VIL"]
    assert len(trucks) == 4 * 31
    assert {d.body["vehicle_class"] for d in vans} == {"van"}
    assert len({d.body["destination"] for d in vans}) == len(vans) > 5
    assert [d.time for d in planned] == sorted(d.time for d in planned)
    first = trucks[0].body
    assert first["registered_at"] == trucks[0].time.isoformat()
    assert first["departure"] == (trucks[0].time + LEAD).isoformat()
    assert planned == list(deliveries(schedule))


def test_the_incidents_are_a_strike_a_jam_and_two_closures_with_their_ends() -> None:
    kinds = [(i.kind, i.route) for i in mobility_incidents(DEFAULT_DAY)]
    assert kinds == [("transit_strike", "/v1/adapters/gtfs-rt"),
                     ("traffic_jam", "/v1/adapters/cifs"),
                     *[("road_closure", "/v1/adapters/cifs")] * 4]  # fmt: skip
    strike = next(mobility_incidents(DEFAULT_DAY))
    [alert] = [e.data for e in parse_gtfs_rt(strike_feed(strike))]
    assert isinstance(alert, TransitAlert)
    assert (alert.route_id, alert.effect, alert.cause) == ("RER-B", "NO_SERVICE", "STRIKE")


@pytest.mark.parametrize(("at", "rerouted"), [(2, "RUN-VIL-1130"), (4, "RUN-VIL-2100")])
def test_the_scripted_closures_reroute_the_trucks_on_the_villages_approach(
    at: int, rerouted: str
) -> None:
    schedule = build_schedule(DEFAULT_DAY, 0)
    incidents = list(mobility_incidents(DEFAULT_DAY))
    closure, reopening = incidents[at], incidents[at + 1]
    window = [d for d in deliveries(schedule)
              if d.body["destination"] == "VIL"
              and closure.time - timedelta(hours=2) < d.time < closure.time]  # fmt: skip
    items: list[tuple[str, NewEvent]] = []
    for d in window:
        fields = {k: v for k, v in d.body.items() if k != "registered_at"}
        request = msgspec.convert({**fields, "tenant": "rehearsal"}, DeliveryRequested)
        items.append((DELIVERIES, NewEvent(request, key=request.delivery_id, time=d.time)))
    for incident in (closure, reopening):
        [event] = parse_cifs(json.dumps(incident.body).encode())
        items.append((INCIDENTS, event))
    result = run(dispatch, items)
    routed = [e for e in result.events("mobility.routes") if isinstance(e, DeliveryRouted)]
    closed = {r.delivery_id for r in routed if r.reason == "closure"}
    assert {c.split("-")[0] for c in closed} >= {"RUN"}
    assert rerouted in closed
    assert all(r.vehicle_class is VehicleClass.TRUCK for r in routed)
    assert [r.state for r in result.events("mobility.roads")] == ["closed", "open"]
