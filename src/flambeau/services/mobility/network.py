"""The road network: generated for the Paris region, or loaded from GraphML.

The shipped network is generated, deterministically and with no download: a grid of streets
over the Île-de-France box that holds the venues, the Village and the depots
(:data:`BOX`), every fifth street an arterial, a ring road around Paris at about the
Périphérique's radius and four radial expressways through the centre. Each place of
:mod:`.places` is snapped to its nearest node. ``step_m`` sets the density: the default
(400 m) gives about 9,300 nodes and 37,000 directed edges; the bench uses 150 m (about
65,000 nodes).

A real network (for example an OSMnx ``drive`` graph saved with
``osmnx.save_graphml``) loads with :func:`load_graphml`: nodes need ``x`` (lon) and ``y``
(lat), edges ``length`` (metres) and optionally ``speed_kph`` or ``maxspeed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from flambeau.services.mobility.errors import NetworkFormatError
from flambeau.services.mobility.places import PLACES, Place

__all__ = ["BOX", "DEFAULT_SPEED_KMH", "Network", "generate", "load_graphml", "metres_xy"]

BOX = (48.74, 1.94, 48.99, 2.66)
"""South, west, north, east of the generated network (degrees)."""
CENTRE = (48.8566, 2.3522)
DEFAULT_SPEED_KMH = 30.0
"""Speed of an edge whose GraphML has none."""
_LAT_M = 111_195.0
_RING_M = (4_400.0, 5_400.0)


def metres_xy(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 to local metres (equirectangular around Paris: metre-accurate here)."""
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    x = (lon_a - CENTRE[1]) * _LAT_M * math.cos(math.radians(CENTRE[0]))
    y = (lat_a - CENTRE[0]) * _LAT_M
    return x, y


@dataclass
class Network:
    """A directed road network as arrays.

    Attributes:
        lat: Node latitudes.
        lon: Node longitudes.
        src: Edge tails (node indexes).
        dst: Edge heads.
        length_m: Edge lengths in metres.
        speed_kmh: Edge free-flow speeds.
        places: Place code → node index.
        names: Place code → the place.
    """

    lat: np.ndarray
    lon: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray
    places: dict[str, int] = field(default_factory=dict)
    names: dict[str, Place] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        return int(self.lat.shape[0])

    @property
    def edges(self) -> int:
        return int(self.src.shape[0])

    @property
    def seconds(self) -> np.ndarray:
        """Free-flow travel time of every edge."""
        return self.length_m / (self.speed_kmh / 3.6)

    def nearest(self, lat: float, lon: float) -> int:
        """The node nearest ``(lat, lon)``."""
        x, y = metres_xy(self.lat, self.lon)
        px, py = metres_xy(lat, lon)
        return int(np.argmin((x - px) ** 2 + (y - py) ** 2))

    def snap(self, places: tuple[Place, ...] = PLACES) -> None:
        """Snap each place to its nearest node (places outside the network are skipped)."""
        south, west, north, east = self.bounds()
        for place in places:
            if south <= place.lat <= north and west <= place.lon <= east:
                self.places[place.code] = self.nearest(place.lat, place.lon)
                self.names[place.code] = place

    def bounds(self) -> tuple[float, float, float, float]:
        return (
            float(self.lat.min()),
            float(self.lon.min()),
            float(self.lat.max()),
            float(self.lon.max()),
        )


def _grid(step_m: float) -> tuple[np.ndarray, np.ndarray, int, int]:
    south, west, north, east = BOX
    lon_step = step_m / (_LAT_M * math.cos(math.radians(CENTRE[0])))
    lats = np.arange(south, north + 1e-9, step_m / _LAT_M)
    lons = np.arange(west, east + 1e-9, lon_step)
    grid_lat, grid_lon = np.meshgrid(lats, lons, indexing="ij")
    return grid_lat.ravel(), grid_lon.ravel(), len(lats), len(lons)


def _speeds(lat: np.ndarray, lon: np.ndarray, rows: int, cols: int, src: np.ndarray,
            dst: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    r_src, c_src = np.divmod(src, cols)
    r_dst, c_dst = np.divmod(dst, cols)
    speed = np.full(src.shape[0], DEFAULT_SPEED_KMH)
    arterial = ((r_src == r_dst) & (r_src % 5 == 0)) | ((c_src == c_dst) & (c_src % 5 == 0))
    speed[arterial] = 50.0
    x, y = metres_xy(lat, lon)
    radius = np.hypot(x, y)
    ring = (radius[src] > _RING_M[0]) & (radius[src] < _RING_M[1])
    ring &= (radius[dst] > _RING_M[0]) & (radius[dst] < _RING_M[1])
    speed[ring] = 70.0
    r_mid, c_mid = divmod(int(np.argmin(radius)), cols)
    radial = ((r_src == r_dst) & (r_src == r_mid)) | ((c_src == c_dst) & (c_src == c_mid))
    speed[radial & (radius[src] > _RING_M[0])] = 90.0
    return speed * rng.uniform(0.9, 1.1, src.shape[0])


def generate(step_m: float = 400.0, seed: int = 2024) -> Network:
    """The shipped Paris-region network, ``step_m`` metres between parallel streets.

    Every street is two-way (one directed edge each way). Speeds: 30 km/h streets, 50 km/h
    arterials, 70 km/h ring, 90 km/h radial expressways, each ±10 % (seeded).
    """
    lat, lon, rows, cols = _grid(step_m)
    index = np.arange(rows * cols).reshape(rows, cols)
    east = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    north = np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1)
    pairs = np.concatenate([east, north, east[:, ::-1], north[:, ::-1]])
    src, dst = pairs[:, 0], pairs[:, 1]
    x, y = metres_xy(lat, lon)
    length = np.hypot(x[src] - x[dst], y[src] - y[dst])
    rng = np.random.default_rng(seed)
    speed = _speeds(lat, lon, rows, cols, src, dst, rng)
    network = Network(lat, lon, src, dst, length, speed)
    network.snap()
    return network


def _speed_of(data: dict[str, object]) -> float:
    for name in ("speed_kph", "maxspeed"):
        value = data.get(name)
        if value is None:
            continue
        text = str(value).strip("[]'\" ").split(",")[0].split()[0]
        try:
            return float(text)
        except ValueError:
            continue
    return DEFAULT_SPEED_KMH


def load_graphml(path: Path) -> Network:
    """Load a directed network from GraphML (as OSMnx writes it); needs ``networkx``.

    Raises:
        NetworkFormatError: a node has no ``x``/``y``, an edge no ``length``, or the graph is
            empty.
    """
    import networkx  # optional: the "osm" extra

    graph = networkx.read_graphml(path)
    ids = {node: i for i, node in enumerate(graph.nodes)}
    if not ids:
        raise NetworkFormatError(str(path), "graph", "the graph has no node")
    lat = np.empty(len(ids))
    lon = np.empty(len(ids))
    for node, i in ids.items():
        data = graph.nodes[node]
        if "x" not in data or "y" not in data:
            raise NetworkFormatError(str(path), f"node {node}", "has no x (lon) or y (lat)")
        lon[i], lat[i] = float(data["x"]), float(data["y"])
    rows: list[tuple[int, int, float, float]] = []
    for u, v, data in graph.edges(data=True):
        if "length" not in data:
            raise NetworkFormatError(str(path), f"edge {u}->{v}", "has no length")
        rows.append((ids[u], ids[v], float(data["length"]), _speed_of(data)))
        if not graph.is_directed():
            rows.append((ids[v], ids[u], float(data["length"]), _speed_of(data)))
    table = np.array(rows, dtype=float).reshape(-1, 4)
    network = Network(
        lat, lon, table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
        table[:, 2], table[:, 3],
    )  # fmt: skip
    network.snap()
    return network
