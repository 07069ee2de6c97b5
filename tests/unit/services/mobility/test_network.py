"""The generated network, GraphML loading, scipy routing and shapely edge mapping."""

from __future__ import annotations

from pathlib import Path

import networkx
import pytest

from flambeau.services.mobility.errors import NetworkFormatError
from flambeau.services.mobility.geometry import EdgeIndex
from flambeau.services.mobility.network import generate, load_graphml
from flambeau.services.mobility.places import PLACES
from flambeau.services.mobility.router import Costs, Router


@pytest.fixture(scope="module")
def parts() -> tuple[Router, EdgeIndex]:
    network = generate()
    return Router(network), EdgeIndex(network)


def test_the_network_holds_every_place_with_lengths_and_speeds() -> None:
    network = generate()
    assert {p.code for p in PLACES} <= set(network.places)
    assert network.nodes > 5_000
    assert network.edges > 4 * network.nodes - 2_000
    assert network.speed_kmh.min() > 25
    assert network.speed_kmh.max() < 100
    assert 390 < network.length_m.max() < 410
    again = generate()
    assert (again.speed_kmh == network.speed_kmh).all()


def test_a_route_between_depot_and_village_is_plausible(parts: tuple[Router, EdgeIndex]) -> None:
    router, _ = parts
    places = router.network.places
    path = router.route(places["RUN"], places["VIL"])
    assert path is not None
    assert path.nodes[0] == places["RUN"]
    assert path.nodes[-1] == places["VIL"]
    assert 15_000 < path.metres < 25_000
    assert 10 * 60 < path.seconds < 50 * 60
    assert [router.network.src[e] for e in path.edges] == list(path.nodes[:-1])


def test_a_closure_maps_onto_the_road_it_follows_and_routing_avoids_it(
    parts: tuple[Router, EdgeIndex],
) -> None:
    router, index = parts
    net = router.network
    path = router.route(net.places["RUN"], net.places["VIL"])
    assert path is not None
    middle = path.nodes[len(path.nodes) // 2 - 1 : len(path.nodes) // 2 + 2]
    polyline = [(float(net.lat[n]), float(net.lon[n])) for n in middle]
    both = set(index.closure(polyline, one_way=False).tolist())
    one = set(index.closure(polyline, one_way=True).tolist())
    assert len(both) == 4
    assert len(one) == 2
    assert one < both
    assert one <= set(path.edges)
    detour = router.route(net.places["RUN"], net.places["VIL"], Costs(frozenset(both)))
    assert detour is not None
    assert not both & set(detour.edges)
    assert detour.seconds > path.seconds


def test_a_perimeter_covers_the_edges_inside_and_can_cut_a_place_off(
    parts: tuple[Router, EdgeIndex],
) -> None:
    router, index = parts
    net = router.network
    village = net.places["VIL"]
    lat, lon = float(net.lat[village]), float(net.lon[village])
    square = [(lat - 0.003, lon - 0.004), (lat - 0.003, lon + 0.004),
              (lat + 0.003, lon + 0.004), (lat + 0.003, lon - 0.004)]  # fmt: skip
    inside = index.area(square)
    assert len(inside) > 4
    assert router.route(net.places["RUN"], village, Costs(frozenset(inside.tolist()))) is None


def test_many_gives_each_pair_what_route_gives(parts: tuple[Router, EdgeIndex]) -> None:
    router, _ = parts
    p = router.network.places
    pairs = [(p["RUN"], p["VIL"]), (p["RUN"], p["STA"]), (p["GEN"], p["BCY"])]
    assert router.many(pairs) == [router.route(o, d) for o, d in pairs]


def test_a_real_network_loads_from_graphml(tmp_path: Path) -> None:
    graph = networkx.MultiDiGraph()
    graph.add_node(1, x=2.35, y=48.85)
    graph.add_node(2, x=2.36, y=48.85)
    graph.add_node(3, x=2.36, y=48.86)
    graph.add_edge(1, 2, length=733.0, maxspeed="50")
    graph.add_edge(2, 3, length=1112.0, speed_kph=30.0)
    graph.add_edge(1, 3, length=5000.0)
    path = tmp_path / "small.graphml"
    networkx.write_graphml(graph, path)
    network = load_graphml(path)
    assert (network.nodes, network.edges) == (3, 3)
    route = Router(network).route(0, 2)
    assert route is not None
    assert route.nodes == (0, 1, 2)
    del graph.nodes[3]["x"]
    networkx.write_graphml(graph, path)
    with pytest.raises(NetworkFormatError, match="node 3"):
        load_graphml(path)
