"""``flambeau bench mobility``: reroutes after a closure, and webhook deliveries per second.

1. **Reroute.** The generated Paris-region network at 150 m (about 65,000 nodes and 260,000
   directed edges). 1,000 active deliveries between 60 origins and 60 destinations are routed.
   Each round closes a road that the most routes share: its polyline is mapped onto edges with
   shapely (the service's :class:`~flambeau.services.mobility.geometry.EdgeIndex`), and it is
   widened to the next most shared roads until at least 100 routes are touched. The round's
   time runs from the closure's polyline to the last affected delivery's new path: mapping,
   finding the affected routes, building the closed network's matrix and rerouting every
   affected delivery (the service's :class:`~flambeau.services.mobility.router.Router`, one
   Dijkstra per distinct origin). ``reroute_p99_ms`` is the p99 over the rounds.
   The **peer** is a plain scipy loop on the same closed matrix: one
   ``scipy.sparse.csgraph.dijkstra`` call per affected delivery with predecessors, and the
   path walked back. ``ratio`` = our reroutes/s ÷ the peer's.
2. **Webhooks.** 20,000 events on a stream, one webhook (the gateway's
   :class:`~flambeau.gateway.webhooks.Deliverer`, signing every delivery with
   ``standardwebhooks``) to a local endpoint run by uvicorn in another process.
   ``webhook_deliveries_per_s`` is the events acknowledged per second, checked against the
   distinct ids the endpoint counted. The sender runs on uvloop, as the gateway is served.

The reroute figures are the dispatch core in one process, not the path through the log and the
processor (whose batch commit adds its own time).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import numpy as np
from scipy.sparse.csgraph import dijkstra

from flambeau.bench._common import percentiles_ms, ratio
from flambeau.bench.fanout import run_loop
from flambeau.events import NewEvent, utc_now
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.webhooks import Deliverer, WebhookRegistered, new_secret
from flambeau.log import open_log
from flambeau.services.mobility.geometry import EdgeIndex
from flambeau.services.mobility.network import Network, generate
from flambeau.services.mobility.router import Costs, Path, Router
from flambeau.services.mobility.schemas import ROADS, RoadState

__all__ = ["run"]

STEP_M = 150.0
DELIVERIES = 1_000
ENDS = 60
MIN_AFFECTED = 100
_DETOUR = 1.5
"""Search bound of a reroute: its old duration times this (the service's own bound)."""


def _deliveries(network: Network, rng: np.random.Generator) -> list[tuple[int, int]]:
    origins = rng.choice(network.nodes, ENDS, replace=False)
    destinations = rng.choice(network.nodes, ENDS, replace=False)
    return [(int(rng.choice(origins)), int(rng.choice(destinations))) for _ in range(DELIVERIES)]


def _polyline(network: Network, edge: int) -> list[tuple[float, float]]:
    ends = (int(network.src[edge]), int(network.dst[edge]))
    return [(float(network.lat[n]), float(network.lon[n])) for n in ends]


def _round(
    router: Router,
    index: EdgeIndex,
    pairs: list[tuple[int, int]],
    paths: list[Path | None],
    candidates: list[int],
) -> tuple[float, float, int]:
    """One closure: (our seconds, the peer's seconds, deliveries rerouted)."""
    network = router.network
    started = time.perf_counter()
    closed: set[int] = set()
    affected: list[int] = []
    for edge in candidates:
        closed.update(int(e) for e in index.closure(_polyline(network, edge), one_way=False))
        affected = [i for i, p in enumerate(paths) if p is not None and closed & set(p.edges)]
        if len(affected) >= MIN_AFFECTED:
            break
    costs = Costs(frozenset(closed))
    bounds = [_DETOUR * p.seconds for i in affected if (p := paths[i]) is not None]
    router.many([pairs[i] for i in affected], costs, bounds)
    ours = time.perf_counter() - started
    matrix = router.graph(costs).matrix
    started = time.perf_counter()
    for i in affected:
        origin, destination = pairs[i]
        _, pred = dijkstra(matrix, indices=origin, return_predecessors=True)
        node = destination
        while node != origin and node >= 0:
            node = pred[node]
    peer = time.perf_counter() - started
    return ours, peer, len(affected)


def _reroute(quick: bool) -> dict[str, Any]:
    network = generate(step_m=STEP_M)
    router, index = Router(network), EdgeIndex(network)
    rng = np.random.default_rng(17)
    pairs = _deliveries(network, rng)
    paths = router.many(pairs)
    rounds = 5 if quick else 30
    shared = Counter(e for p in paths if p is not None for e in p.edges)
    top = [edge for edge, _ in shared.most_common(rounds * 3 + 400)]
    ours, peers, counts = [], [], []
    for r in range(rounds):
        mine, peer, count = _round(router, index, pairs, paths, top[r * 3 :])
        ours.append(mine)
        peers.append(peer)
        counts.append(count)
    our_rate = sum(counts) / sum(ours)
    peer_rate = sum(counts) / sum(peers)
    return {
        "reroute_p99_ms": percentiles_ms(ours)["p99_ms"],
        "reroute_p50_ms": percentiles_ms(ours)["p50_ms"],
        "peer_reroute_p99_ms": percentiles_ms(peers)["p99_ms"],
        "reroutes_per_s": round(our_rate, 1),
        "peer_reroutes_per_s": round(peer_rate, 1),
        "ratio": ratio(our_rate, peer_rate),
        "params": {"nodes": network.nodes, "edges": network.edges, "deliveries": len(pairs),
                   "origins": len({o for o, _ in pairs}),
                   "destinations": len({d for _, d in pairs}),
                   "rounds": rounds, "affected_min": min(counts), "affected_max": max(counts),
                   "peer": "scipy.sparse.csgraph.dijkstra, one call per affected delivery"},
    }  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _webhooks(url: str, events: int) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
        async with await open_log("memory://") as log:
            road = RoadState(incident_id="c-1", kind="closure", state="closed", edges=4,
                             polyline=[(48.9, 2.3), (48.91, 2.31)])  # fmt: skip
            for at in range(0, events, 1000):
                batch = [NewEvent(road, key=f"c-{i}") for i in range(at, at + 1000)]
                await log.append(ROADS, batch)
            hook = WebhookRegistered(
                webhook_id="wh_bench", tenant="", key_id="", admin=True, stream=ROADS,
                url=url, secret=new_secret(), positions=[0], created_at=utc_now(),
            )  # fmt: skip
            config = GatewayConfig(webhook_allow_networks=("127.0.0.0/8",))
            deliverer = Deliverer(log, config, hook, [0])
            started = time.perf_counter()
            deliverer.start()
            for _ in range(10**9):
                if deliverer.positions[0] >= events:
                    break
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            await deliverer.stop()
        counted = int((await client.get(url)).text)
    return {
        "webhook_deliveries_per_s": round(events / elapsed, 1),
        "webhook_params": {"events": events, "received": counted,
                           "in_flight": config.webhook_in_flight,
                           "connections": config.webhook_connections, "loop": "uvloop",
                           "elapsed_s": round(elapsed, 3)},
    }  # fmt: skip


def run(quick: bool) -> dict[str, Any]:
    """Run both parts; see the module docstring."""
    figures = _reroute(quick)
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "flambeau.bench._webhook_sink:app", "--port",
         str(port), "--log-level", "warning", "--no-access-log"],
    )  # fmt: skip
    try:
        events = 4_000 if quick else 20_000
        figures.update(run_loop(_webhooks(f"http://127.0.0.1:{port}/", events)))
    finally:
        sink.terminate()
        sink.wait()
    figures["goals"] = {"reroute_p99_ms": "< 200", "webhook_deliveries_per_s": ">= 5000"}
    return figures
