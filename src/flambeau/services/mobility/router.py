"""Shortest paths on the network with ``scipy.sparse.csgraph`` (Dijkstra in compiled code).

A :class:`Costs` says which edges are shut and which are slowed; the router builds the
weighted CSR matrix for it once and keeps the last few (:data:`CACHED_GRAPHS`), so rerouting a
thousand deliveries after one closure builds one matrix. :meth:`Router.many` runs one Dijkstra
per distinct origin (scipy's multi-source call) and reads every destination's path from the
predecessor rows.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from flambeau.services.mobility.network import Network

__all__ = ["CACHED_GRAPHS", "Costs", "Path", "Router"]

CACHED_GRAPHS = 16
"""Weighted matrices kept, one per distinct set of closures and slowdowns."""
_MIN_SECONDS = 1e-3


@dataclass(frozen=True)
class Costs:
    """Edges shut (``blocked``) and slowed (``slow``: edge → speed factor in (0, 1))."""

    blocked: frozenset[int] = frozenset()
    slow: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Path:
    """A route: its nodes, its edges, its free-flow-adjusted duration and its length."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    seconds: float
    metres: float


class _Graph:
    """One weighted matrix and the edge id of each of its entries."""

    def __init__(self, network: Network, costs: Costs) -> None:
        n = network.nodes
        seconds = network.seconds.copy()
        for edge, factor in costs.slow:
            seconds[edge] /= factor
        keep = np.ones(network.edges, dtype=bool)
        if costs.blocked:
            keep[np.fromiter(costs.blocked, dtype=np.int64)] = False
        ids = np.flatnonzero(keep)
        ids = ids[np.argsort(seconds[ids], kind="stable")]
        keys = network.src[ids].astype(np.int64) * n + network.dst[ids]
        keys, first = np.unique(keys, return_index=True)  # parallel edges: the fastest
        self.keys = keys
        self.ids = ids[first]
        rows, cols = np.divmod(keys, n)
        weights = np.maximum(seconds[self.ids], _MIN_SECONDS)
        self.matrix = csr_matrix((weights, (rows, cols)), shape=(n, n))
        self.seconds = seconds
        self.n = n

    def edge(self, u: int, v: int) -> int:
        where = int(np.searchsorted(self.keys, u * self.n + v))
        return int(self.ids[where])


class Router:
    """Routes on one network; thread-unsafe, one per process."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._graphs: OrderedDict[Costs, _Graph] = OrderedDict()

    def graph(self, costs: Costs) -> _Graph:
        graph = self._graphs.get(costs)
        if graph is None:
            graph = _Graph(self.network, costs)
            self._graphs[costs] = graph
            while len(self._graphs) > CACHED_GRAPHS:
                self._graphs.popitem(last=False)
        else:
            self._graphs.move_to_end(costs)
        return graph

    def route(self, origin: int, destination: int, costs: Costs = Costs()) -> Path | None:
        """The fastest path, or ``None`` when the destination cannot be reached."""
        return self.many([(origin, destination)], costs)[0]

    def many(self, pairs: Sequence[tuple[int, int]], costs: Costs = Costs()) -> list[Path | None]:
        """The fastest path of every ``(origin, destination)``, one Dijkstra per origin."""
        graph = self.graph(costs)
        origins = sorted({o for o, _ in pairs})
        row = {o: i for i, o in enumerate(origins)}
        dist, pred = dijkstra(graph.matrix, indices=origins, return_predecessors=True)
        return [self._walk(graph, dist[row[o]], pred[row[o]], o, d) for o, d in pairs]

    def _walk(self, graph: _Graph, dist: np.ndarray, pred: np.ndarray, origin: int,
              destination: int) -> Path | None:  # fmt: skip
        if not np.isfinite(dist[destination]):
            return None
        nodes = [destination]
        while nodes[-1] != origin:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        edges = tuple(graph.edge(u, v) for u, v in itertools.pairwise(nodes))
        metres = float(self.network.length_m[list(edges)].sum()) if edges else 0.0
        return Path(tuple(nodes), edges, float(dist[destination]), metres)
