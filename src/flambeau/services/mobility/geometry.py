"""Incidents and perimeters mapped onto edges by geometry, with ``shapely``.

Edges are line strings in local metres (:func:`.network.metres_xy`) in an ``STRtree``.

- A closure's polyline is buffered by :data:`CLOSURE_BUFFER_M`; an edge is closed when at
  least :data:`MIN_OVERLAP` of its length lies in the buffer (a street crossing the closed
  one stays open). ``ONE_DIRECTION`` keeps only the edges running the polyline's way.
- A perimeter's polygon closes every edge that intersects it (for the excluded classes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from flambeau.services.mobility.network import Network, metres_xy

__all__ = ["CLOSURE_BUFFER_M", "MIN_OVERLAP", "EdgeIndex"]

CLOSURE_BUFFER_M = 25.0
"""How far from a closure's polyline an edge may lie and still be the closed road."""
MIN_OVERLAP = 0.5
"""Share of an edge's length that must lie in the closure's buffer."""


def _line(points: Sequence[tuple[float, float]]) -> shapely.LineString:
    lat = [p[0] for p in points]
    lon = [p[1] for p in points]
    x, y = metres_xy(lat, lon)
    return shapely.LineString(np.column_stack([x, y]))


class EdgeIndex:
    """A spatial index of a network's edges."""

    def __init__(self, network: Network) -> None:
        self.network = network
        x, y = metres_xy(network.lat, network.lon)
        self.x, self.y = x, y
        coords = np.stack(
            [np.column_stack([x[network.src], y[network.src]]),
             np.column_stack([x[network.dst], y[network.dst]])],
            axis=1,
        )  # fmt: skip
        self.lines = shapely.linestrings(coords)
        self.tree = shapely.STRtree(self.lines)

    def closure(self, polyline: Sequence[tuple[float, float]], one_way: bool) -> np.ndarray:
        """Edge ids a closure along ``polyline`` shuts (sorted)."""
        line = _line(polyline)
        zone = line.buffer(CLOSURE_BUFFER_M)
        found: np.ndarray = np.asarray(self.tree.query(zone, predicate="intersects"))
        if found.size == 0:
            return found
        inside = shapely.length(shapely.intersection(self.lines[found], zone))
        lengths = shapely.length(self.lines[found])
        found = found[inside >= MIN_OVERLAP * np.maximum(lengths, 1e-9)]
        if one_way and found.size:
            net = self.network
            start = shapely.line_locate_point(line, shapely.points(
                self.x[net.src[found]], self.y[net.src[found]]))  # fmt: skip
            end = shapely.line_locate_point(line, shapely.points(
                self.x[net.dst[found]], self.y[net.dst[found]]))  # fmt: skip
            found = found[end > start]
        return np.sort(found)

    def area(self, polygon: Sequence[tuple[float, float]]) -> np.ndarray:
        """Edge ids that intersect ``polygon`` (sorted)."""
        ring = _line([*polygon, polygon[0]])
        shape = shapely.Polygon(ring.coords)
        if not shape.is_valid:
            shape = shapely.make_valid(shape)
        found: np.ndarray = np.sort(self.tree.query(shape, predicate="intersects"))
        return found
