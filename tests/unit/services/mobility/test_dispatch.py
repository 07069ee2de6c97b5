"""The dispatch and lines processors: routes, reroutes on closures, late risks, line states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.events import NewEvent
from flambeau.services.mobility.dispatch import world
from flambeau.services.mobility.feeds import parse_cifs, parse_gtfs_rt
from flambeau.services.mobility.processors import dispatch, lines
from flambeau.services.mobility.schemas import (
    DELIVERIES,
    FEED,
    INCIDENTS,
    ROADS,
    ROUTES,
    DeliveryRequested,
    DeliveryRouted,
    LateRisk,
    LineState,
    Perimeter,
    VehicleClass,
)
from flambeau.testing import run

from .feeds import cifs, closure, strike

DEPART = datetime(2024, 8, 1, 6, 0, tzinfo=UTC)


def delivery(
    delivery_id: str = "meals-1",
    *,
    deadline_s: float = 4 * 3600,
    vehicle: VehicleClass = VehicleClass.TRUCK,
    tenant: str = "sodexo",
) -> NewEvent:
    data = DeliveryRequested(
        delivery_id=delivery_id, tenant=tenant, origin="RUN", destination="VIL",
        vehicle_class=vehicle, departure=DEPART, deadline=DEPART + timedelta(seconds=deadline_s),
        cargo="athletes' meals, Village",
    )  # fmt: skip
    return NewEvent(data, key=delivery_id, time=DEPART - timedelta(hours=2))


def free_route() -> tuple[list[tuple[float, float]], float]:
    w = world()
    places = w.network.places
    path = w.router.route(places["RUN"], places["VIL"])
    assert path is not None
    middle = path.nodes[len(path.nodes) // 2 - 1 : len(path.nodes) // 2 + 2]
    return [(float(w.network.lat[n]), float(w.network.lon[n])) for n in middle], path.seconds


def incident(at: datetime, **fields: Any) -> tuple[str, NewEvent]:
    polyline, _ = free_route()
    [event] = parse_cifs(cifs(closure("closure-1", polyline, **fields)))
    return INCIDENTS, NewEvent(event.data, key=event.key, id=event.id, time=at)


def routed(result: Any) -> list[DeliveryRouted]:
    return [e for e in result.events(ROUTES) if isinstance(e, DeliveryRouted)]


def test_a_closure_on_the_route_reroutes_with_its_cause_and_a_later_eta() -> None:
    _, free_s = free_route()
    result = run(
        dispatch,
        [(DELIVERIES, delivery()), incident(DEPART - timedelta(hours=1))],
    )
    first, second = routed(result)
    assert (first.reason, first.incident_id) == ("registered", "")
    assert first.duration_s == round(free_s, 1)
    assert (second.reason, second.incident_id) == ("closure", "closure-1")
    assert second.eta is not None
    assert first.eta is not None
    assert second.eta > first.eta
    records = result.records(ROUTES)
    assert records[-1].causation_id == incident(DEPART)[1].id
    [road] = result.events(ROADS)
    assert (road.incident_id, road.state, road.edges) == ("closure-1", "closed", 4)
    assert not [e for e in result.events(ROUTES) if isinstance(e, LateRisk)]


def test_an_update_of_the_closure_replaces_it_and_an_ended_one_frees_the_route() -> None:
    _, free_s = free_route()
    result = run(
        dispatch,
        [
            (DELIVERIES, delivery()),
            incident(DEPART - timedelta(hours=1)),
            incident(DEPART - timedelta(minutes=30), end="2024-08-01T07:15:00+02:00"),
        ],
    )
    reasons = [(r.reason, r.duration_s) for r in routed(result)]
    assert reasons[0] == ("registered", round(free_s, 1))
    assert reasons[1][0] == "closure"
    assert reasons[2] == ("reopened", round(free_s, 1))
    incidents = [k for state in result.state.values() for k in state if k.startswith("i/")]
    assert incidents == ["i/closure-1"]
    assert [r.state for r in result.events(ROADS)] == ["closed", "open"]


def test_a_closure_off_the_route_reroutes_nothing() -> None:
    far = [(48.80, 2.60), (48.801, 2.601)]
    [event] = parse_cifs(cifs(closure("far", far)))
    result = run(
        dispatch,
        [(DELIVERIES, delivery()), (INCIDENTS, NewEvent(event.data, key="far", id=event.id))],
    )
    assert [r.reason for r in routed(result)] == ["registered"]


def test_a_closure_that_makes_the_delivery_late_raises_an_alert_with_a_departure() -> None:
    _, free_s = free_route()
    result = run(
        dispatch,
        [(DELIVERIES, delivery(deadline_s=free_s + 20)), incident(DEPART - timedelta(hours=1))],
    )
    [late] = [e for e in result.events(ROUTES) if isinstance(e, LateRisk)]
    rerouted = routed(result)[-1]
    assert (late.delivery_id, late.incident_id, late.reason) == ("meals-1", "closure-1", "late")
    assert late.cargo == "athletes' meals, Village"
    assert late.best_departure is not None
    assert late.best_departure < DEPART
    latest = late.deadline - timedelta(seconds=rerouted.duration_s)
    assert timedelta(0) <= latest - late.best_departure < timedelta(seconds=1)
    assert result.records(ROUTES)[-1].causation_id == incident(DEPART)[1].id


def test_a_closure_after_departure_can_make_the_deadline_impossible() -> None:
    _, free_s = free_route()
    result = run(
        dispatch,
        [(DELIVERIES, delivery(deadline_s=free_s + 20)), incident(DEPART + timedelta(minutes=5))],
    )
    [late] = [e for e in result.events(ROUTES) if isinstance(e, LateRisk)]
    assert late.best_departure is None
    assert late.late_by_s > 0


def test_a_perimeter_shuts_out_the_classes_it_does_not_allow() -> None:
    w = world()
    village = w.network.places["VIL"]
    lat, lon = float(w.network.lat[village]), float(w.network.lon[village])
    square = [(lat - 0.003, lon - 0.004), (lat - 0.003, lon + 0.004),
              (lat + 0.003, lon + 0.004), (lat + 0.003, lon - 0.004)]  # fmt: skip
    perimeter = Perimeter(
        perimeter_id="red-village", name="Village red zone", polygon=square,
        start=DEPART - timedelta(hours=3), end=DEPART + timedelta(hours=1),
        allowed=[VehicleClass.VAN],
    )  # fmt: skip
    result = run(
        dispatch,
        [
            (DELIVERIES, delivery("truck-1")),
            (DELIVERIES, delivery("van-1", vehicle=VehicleClass.VAN)),
            (INCIDENTS, NewEvent(perimeter, key="red-village", time=DEPART - timedelta(hours=1))),
        ],
    )
    after = {r.delivery_id: r for r in routed(result)[2:]}
    assert set(after) == {"truck-1"}
    assert (after["truck-1"].reason, after["truck-1"].reachable) == ("perimeter", False)
    [late] = [e for e in result.events(ROUTES) if isinstance(e, LateRisk)]
    assert (late.reason, late.best_departure) == ("unreachable", DEPART + timedelta(hours=1))


def test_a_strike_closes_its_line_and_an_ended_alert_opens_it() -> None:
    events = [(FEED, e) for e in parse_gtfs_rt(strike())]
    ended = [(FEED, e) for e in parse_gtfs_rt(strike(alert_id="strike-2", end=1_722_000_100))]
    result = run(lines, [*events, *ended])
    states = [(s.route_id, s.state) for s in result.events("mobility.transit")]
    assert states == [("RER-B", LineState.CLOSED), ("RER-B", LineState.OPEN)]
