"""``flambeau bench e2e``: from an HTTP POST to a WebSocket subscriber, through a processor.

Three processes:

- the gateway, serving an embedded SQLite log, with a worker in the same process running a
  trivial processor (``bench.forward``, from :mod:`flambeau.processing`) that forwards every
  event of ``bench.in`` to ``bench.out``; SQLite allows one process per log, so the worker
  shares the gateway's, as ``flambeau up`` runs them on one machine;
- a producer that POSTs JSON batches to ``/v1/streams/bench.in/events`` every 2 ms at a
  fixed rate, each event stamped with its creation time;
- a subscriber on ``/v1/ws`` following ``bench.out``, which records each event's delay from
  creation to receipt.

Figures: p50/p99/max at the fixed rate (default 2,000 events/s), then the rate is raised step
by step; ``max_sustained_eps`` is the highest rate the producer achieved (within 5 %) while the
p99 stayed under 100 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

import msgspec

from flambeau import heap
from flambeau.bench._common import percentiles_ms
from flambeau.bench.fanout import run_loop, started
from flambeau.events import Event, Registry

INPUT = "bench.in"
OUTPUT = "bench.out"
PARTITIONS = 4
TICK_S = 0.002
P99_LIMIT_MS = 100.0


class Ping(Event, frozen=True, tag="ping"):
    """A benchmark event: a sequence number and its creation time (Unix seconds)."""

    seq: int
    created: float


class _Data(msgspec.Struct):
    created: float


class _Event(msgspec.Struct):
    data: _Data


class _Frame(msgspec.Struct):
    op: str
    events: list[_Event] = []


_decode_frame = msgspec.json.Decoder(_Frame).decode


def registry() -> Registry:
    """``bench.in`` and ``bench.out`` (public reads), plus the key stream."""
    from flambeau.gateway.keys import register_keys_stream

    reg = Registry()
    reg.register(INPUT, Ping, partitions=PARTITIONS, public=True)
    reg.register(OUTPUT, Ping, partitions=PARTITIONS, public=True)
    register_keys_stream(reg)
    return reg


def serve(directory: str, ready: Any, stop: Any) -> None:
    """The gateway process: SQLite log, forwarding worker, gateway (until ``stop``)."""
    from flambeau.gateway import GatewayConfig, create_app
    from flambeau.gateway.keys import KeyStore
    from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
    from flambeau.log import open_log
    from flambeau.processing import Batch, Processor, Transaction, Worker

    async def main() -> None:
        import logging

        logging.getLogger("flambeau").setLevel(logging.WARNING)
        reg = registry()
        forward = Processor("bench.forward", inputs=[INPUT], outputs=[OUTPUT], registry=reg)

        @forward.on_batch
        def relay(batch: Batch[Ping], tx: Transaction) -> None:
            for record in batch:
                tx.emit(OUTPUT, record.data, key=record.key, causation_id=record.id)

        log = await open_log(f"sqlite:///{Path(directory) / 'log.db'}", reg)
        key, _ = await KeyStore(log).create("bench", ["write:bench.*"])
        worker = Worker(log, [forward])
        working = asyncio.get_running_loop().create_task(worker.run())
        config = GatewayConfig(rate_per_key=1e9, rate_burst=10**9, max_batch_events=10_000)
        server = GatewayServer(uvicorn_config(create_app(log, config)))
        sock = bind("127.0.0.1", 0)
        serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        await started(server)
        heap.settle()  # as flambeau up does
        ready.put((sock.getsockname()[1], key))
        await asyncio.to_thread(stop.wait)
        server.should_exit = True
        await serving
        worker.stop()
        await working
        await log.aclose()

    run_loop(main())


def subscribe(port: int, ready: Any, requests: Any, replies: Any) -> None:
    """The subscriber process: record each event's receipt time and delay; answer
    ``(start, end)`` requests with the delays of the events received in that window."""
    import websockets

    async def main() -> None:
        received = array("d")
        delays = array("d")
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/v1/ws", compression=None, max_size=None
        ) as ws:
            await ws.send(f'{{"op":"subscribe","stream":"{OUTPUT}","from":"latest"}}')
            await ws.recv()
            ready.set()

            async def read() -> None:
                while True:
                    frame = _decode_frame(await ws.recv())
                    now = time.time()
                    for event in frame.events:
                        received.append(now)
                        delays.append(now - event.data.created)

            reading = asyncio.get_running_loop().create_task(read())
            while True:
                request = await asyncio.to_thread(requests.get)
                if request is None:
                    break
                start, end = request
                await asyncio.sleep(max(0.0, end - time.time()))
                chosen = [d for t, d in zip(received, delays, strict=True) if start <= t <= end]
                replies.put({"delivered": len(chosen), **percentiles_ms(chosen)})
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading

    run_loop(main())


def produce(port: int, key: str, commands: Any, results: Any) -> None:
    """The producer process: for each ``(rate, start, end)`` command, POST at that rate."""
    import httpx

    failures: dict[str, int] = {}

    async def step(client: httpx.AsyncClient, rate: float, start: float, end: float) -> int:
        acked = 0
        gate = asyncio.Semaphore(16)
        pending: set[asyncio.Task[None]] = set()
        encode = msgspec.json.encode

        async def post(body: bytes, count: int) -> None:
            nonlocal acked
            async with gate:
                try:
                    reply = await client.post(f"/v1/streams/{INPUT}/events", content=body)
                except httpx.HTTPError as exc:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                    return
            if reply.status_code == 200:
                acked += count
            else:
                failures[str(reply.status_code)] = failures.get(str(reply.status_code), 0) + 1

        await asyncio.sleep(max(0.0, start - time.time()))
        sent = 0
        began = time.perf_counter()
        while time.time() < end:
            due = int((time.perf_counter() - began) * rate)
            if due > sent:
                now = time.time()
                body = encode(
                    [
                        {
                            "key": f"k{seq % 64}",
                            "data": {"type": "ping", "seq": seq, "created": now},
                        }
                        for seq in range(sent, due)
                    ]
                )
                task = asyncio.get_running_loop().create_task(post(body, due - sent))
                pending.add(task)
                task.add_done_callback(pending.discard)
                sent = due
            await asyncio.sleep(TICK_S)
        if pending:
            await asyncio.wait(pending, timeout=10)
        return acked

    async def main() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
        ) as client:
            await client.get("/healthz")
            results.put("ready")
            while True:
                command = await asyncio.to_thread(commands.get)
                if command is None:
                    return
                acked = await step(client, *command)
                results.put((acked, dict(failures)))
                failures.clear()

    run_loop(main())


def run(quick: bool) -> dict[str, Any]:
    """p50/p99/max at the fixed rate, then the highest rate sustained under a 100 ms p99."""
    fixed = float(os.environ.get("FLAMBEAU_BENCH_RATE", 2000))
    seconds = 3.0 if quick else 10.0
    step_seconds = 2.0 if quick else 5.0
    ramp = [5_000, 10_000, 20_000, 40_000]
    if not quick:
        ramp = [5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 60_000, 80_000]
    ctx = mp.get_context("spawn")
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews figures
    steps: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="flambeau-e2e-") as directory:
        ready, stop = ctx.Queue(), ctx.Event()
        server = ctx.Process(target=serve, args=(directory, ready, stop), daemon=True)
        server.start()
        port, key = ready.get(timeout=60)
        subscribed, requests, replies = ctx.Event(), ctx.Queue(), ctx.Queue()
        subscriber = ctx.Process(
            target=subscribe, args=(port, subscribed, requests, replies), daemon=True
        )
        subscriber.start()
        subscribed.wait(60)
        commands, acks = ctx.Queue(), ctx.Queue()
        producer = ctx.Process(target=produce, args=(port, key, commands, acks), daemon=True)
        producer.start()
        acks.get(timeout=60)  # the producer has its connection: steps start on time
        try:
            for rate, length in [(fixed, seconds), *[(r, step_seconds) for r in ramp]]:
                start = time.time() + 0.5
                commands.put((rate, start, start + length))
                acked, failures = acks.get(timeout=length + 60)
                if failures:
                    errors.append({"rate_eps": rate, **failures})
                # events created in the window arrive up to a little after it
                requests.put((start, start + length + 0.25))
                delays = replies.get(timeout=60)
                steps.append({"rate_eps": rate, "achieved_eps": round(acked / length), **delays})
                if len(steps) > 1 and not _sustained(steps[-1]):
                    break
        finally:
            commands.put(None)
            requests.put(None)
            stop.set()
            for process in (producer, subscriber, server):
                process.join(15)
                if process.is_alive():
                    process.kill()
    first = steps[0]
    return {
        "figures": {
            "p50_ms": first["p50_ms"],
            "p99_ms": first["p99_ms"],
            "max_ms": first["max_ms"],
            "max_sustained_eps": max(
                (s["achieved_eps"] for s in steps if _sustained(s)), default=0
            ),
        },
        "baseline": None,
        "ratio": None,
        "params": {
            "fixed_rate_eps": fixed,
            "fixed_seconds": seconds,
            "step_seconds": step_seconds,
            "steps": steps,
            "producer_errors": errors,
            "log": "sqlite (sync=normal)",
            "processor": "flambeau.processing Worker running bench.forward, in the gateway process",
            "producer_tick_ms": TICK_S * 1000,
            "load_avg_1m_before": load_before,
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "quick": quick,
        },
    }


def _sustained(step: dict[str, Any]) -> bool:
    """The producer kept its rate (within 5 %) and the p99 stayed under the limit."""
    p99 = step["p99_ms"]
    return bool(
        step["achieved_eps"] >= 0.95 * step["rate_eps"] and p99 == p99 and p99 <= P99_LIMIT_MS
    )
