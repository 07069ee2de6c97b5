"""Shortest paths on the network with ``scipy.sparse.csgraph`` (Dijkstra in compiled code).

A :class:`Costs` says which edges are shut and which are slowed; the router builds the
weighted CSR matrix for it once and keeps the last few (:data:`CACHED_GRAPHS`), so rerouting a
thousand deliveries after one closure builds one matrix. :meth:`Router.many` runs one Dijkstra
per distinct origin (scipy's multi-source call) and reads every destination's path from the
predecessor rows.
"""

from __future__ import annotations

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

    def edges(self, nodes: list[int]) -> tuple[int, ...]:
        """The edge ids along ``nodes`` (consecutive pairs), looked up at once."""
        path = np.asarray(nodes, dtype=np.int64)
        where = np.searchsorted(self.keys, path[:-1] * self.n + path[1:])
        return tuple(int(e) for e in self.ids[where])


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

    def many(
        self,
        pairs: Sequence[tuple[int, int]],
        costs: Costs = Costs(),
        bounds: Sequence[float] | None = None,
    ) -> list[Path | None]:
        """The fastest path of every ``(origin, destination)``, one Dijkstra per origin.

        ``bounds`` (seconds, one per pair) lets each origin's search stop at the largest bound
        of its pairs (scipy's ``limit``): a reroute's new path is rarely much longer than the
        old one, so the search settles a ball, not the whole network. A destination the
        bounded search does not reach is searched again without a bound.
        """
        graph = self.graph(costs)
        groups: dict[int, list[int]] = {}
        for i, (origin, _) in enumerate(pairs):
            groups.setdefault(origin, []).append(i)
        paths: list[Path | None] = [None] * len(pairs)
        for origin, members in groups.items():
            limit = max(bounds[i] for i in members) if bounds is not None else np.inf
            dist, pred = dijkstra(graph.matrix, indices=origin, return_predecessors=True,
                                  limit=limit)  # fmt: skip
            if np.isfinite(limit) and not all(np.isfinite(dist[pairs[i][1]]) for i in members):
                dist, pred = dijkstra(graph.matrix, indices=origin, return_predecessors=True)
            for i in members:
                paths[i] = self._walk(graph, dist, pred, origin, pairs[i][1])
        return paths

    def _walk(self, graph: _Graph, dist: np.ndarray, pred: np.ndarray, origin: int,
              destination: int) -> Path | None:  # fmt: skip
        if not np.isfinite(dist[destination]):
            return None
        nodes = [destination]
        while nodes[-1] != origin:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        edges = graph.edges(nodes)
        metres = float(self.network.length_m[list(edges)].sum()) if edges else 0.0
        return Path(tuple(nodes), edges, float(dist[destination]), metres)
