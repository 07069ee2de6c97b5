"""``flambeau bench fanout``: one stream broadcast to S WebSocket subscribers.

Two servers take the same load in the same run, one after the other, each in its own process:

- ours: the gateway (uvicorn, uvloop) over a ``memory://`` log; a producer task in the server
  process appends R events per second to one stream; every client subscribes over ``/v1/ws``;
- the baseline: a bare ``websockets`` server that ``broadcast``s each event as its own frame.

Subscribers are light asyncio clients spread over several client processes. Each event carries
its creation time; a client records the delay to its arrival. Figures count events received
during the measurement window (after a warm-up), so ``deliveries_per_s`` is what each server
actually sustained, and ``p99_ms`` is the 99th percentile of those events' delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
from array import array
from typing import Any

import msgspec

from flambeau.bench._common import percentiles_ms, ratio
from flambeau.events import Event, NewEvent, Registry

STREAM = "bench.ticks"
SUBSCRIBE = b'{"op":"subscribe","sub":"t","stream":"bench.ticks","from":"latest"}'


class Tick(Event, frozen=True, tag="tick"):
    """One broadcast event: its sequence number and creation time (Unix seconds)."""

    seq: int
    sent: float
    note: str = ""


class _Data(msgspec.Struct):
    sent: float


class _Event(msgspec.Struct):
    data: _Data


class _Frame(msgspec.Struct):
    op: str
    events: list[_Event] = []


_decode_frame = msgspec.json.Decoder(_Frame).decode
_decode_tick = msgspec.json.Decoder(_Data).decode


def registry() -> Registry:
    """The benchmark's own streams: ``bench.ticks`` (public, one partition)."""
    from flambeau.gateway.keys import register_keys_stream

    reg = Registry()
    reg.register(STREAM, Tick, partitions=1, public=True, description="benchmark ticks")
    register_keys_stream(reg)
    return reg


def run_loop(coro: Any) -> Any:
    """Run ``coro`` on uvloop (as the gateway is served)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


# -- servers ---------------------------------------------------------------------------------


async def started(server: Any) -> None:
    """Return once a uvicorn server is listening (it offers no event to wait on)."""
    for _ in range(6000):
        if server.started:
            return
        await asyncio.sleep(0.01)
    raise RuntimeError("the gateway did not start")


async def _produce(append: Any, rate: float, go: Any, stop_at: Any) -> None:
    """Emit ``rate`` events per second (in 1 ms ticks) from ``go`` until ``stop_at``."""
    await asyncio.to_thread(go.wait)
    seq = 0
    start = time.perf_counter()
    note = "x" * 64
    while time.time() < stop_at.value:
        due = int((time.perf_counter() - start) * rate)
        if due > seq:
            now = time.time()
            await append([Tick(seq=s, sent=now, note=note) for s in range(seq, due)])
            seq = due
        await asyncio.sleep(0.001)


def serve_ours(port: int, rate: float, ready: Any, go: Any, stop_at: Any) -> None:
    """The gateway over a memory log, with an in-process producer (a server process)."""
    from flambeau.gateway import GatewayConfig, create_app
    from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
    from flambeau.log import open_log

    async def main() -> None:
        log = await open_log("memory://", registry())
        config = GatewayConfig(
            max_connections_per_key=1_000_000, rate_per_key=1e9, rate_burst=10**9
        )
        app = create_app(log, config)
        server = GatewayServer(uvicorn_config(app, backlog=8192))
        task = asyncio.get_running_loop().create_task(
            server.serve(sockets=[bind("127.0.0.1", port)])
        )
        await started(server)
        ready.set()

        async def append(ticks: list[Tick]) -> None:
            await log.append(STREAM, [NewEvent(t) for t in ticks])

        await _produce(append, rate, go, stop_at)
        await asyncio.sleep(1.0)
        server.should_exit = True
        await task
        await log.aclose()

    run_loop(main())


def serve_bare(port: int, rate: float, ready: Any, go: Any, stop_at: Any) -> None:
    """The baseline: a bare ``websockets`` broadcast server, one event per frame."""
    import websockets
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()
    encode = msgspec.json.encode

    async def handler(connection: ServerConnection) -> None:
        clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            clients.discard(connection)

    async def main() -> None:
        async with serve(
            handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=8192
        ):
            ready.set()

            async def append(ticks: list[Tick]) -> None:
                for tick in ticks:
                    broadcast(
                        clients,
                        encode({"seq": tick.seq, "sent": tick.sent, "note": tick.note}).decode(),
                    )

            await _produce(append, rate, go, stop_at)
            await asyncio.sleep(1.0)

    del websockets
    run_loop(main())


# -- clients ---------------------------------------------------------------------------------


def subscribers(
    url: str,
    count: int,
    ours: bool,
    ready: Any,
    go: Any,
    window: Any,
    results: Any,
    subscribe: bytes = SUBSCRIBE,
) -> None:
    """Open ``count`` subscribers, then record deliveries inside ``window`` (a client process)."""
    import websockets

    async def main() -> tuple[int, bytes]:
        connections: list[Any] = []
        gate = asyncio.Semaphore(64)

        async def connect() -> None:
            async with gate:
                for attempt in range(20):
                    try:
                        ws = await websockets.connect(
                            url,
                            compression=None,
                            ping_interval=None,
                            max_size=None,
                            open_timeout=30,
                        )
                        break
                    except OSError:
                        await asyncio.sleep(0.05 * (attempt + 1))
                else:
                    raise RuntimeError(f"cannot connect to {url}")
                if ours:
                    await ws.send(subscribe.decode())
                    await ws.recv()  # subscribed
                connections.append(ws)

        await asyncio.gather(*(connect() for _ in range(count)))
        ready.set()
        await asyncio.to_thread(go.wait)
        start, end = window[0], window[1]
        delays = array("d")
        received = 0

        async def read(ws: Any) -> None:
            nonlocal received
            record = delays.append
            while True:
                message = await ws.recv()
                now = time.time()
                if now > end:
                    return
                if ours:
                    frame = _decode_frame(message)
                    if now >= start:
                        received += len(frame.events)
                        for event in frame.events:
                            record(now - event.data.sent)
                elif now >= start:
                    received += 1
                    record(now - _decode_tick(message).sent)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(read(ws) for ws in connections), return_exceptions=True),
                timeout=max(1.0, end - time.time() + 3.0),
            )
        for ws in connections:
            ws.transport.abort()
        return received, delays.tobytes()

    results.put(run_loop(main()))


def _free_port() -> int:
    from flambeau.gateway.server import bind

    with contextlib.closing(bind("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def measure(
    server: Any,
    path: str,
    ours: bool,
    count: int,
    rate: float,
    seconds: float,
    processes: int,
    warmup: float = 2.0,
) -> dict[str, Any]:
    """Run one server under the load; return deliveries/s and delay percentiles."""
    ctx = mp.get_context("spawn")
    port = _free_port()
    ready, go = ctx.Event(), ctx.Event()
    stop_at = ctx.Value("d", time.time() + 3600)
    window = ctx.Array("d", [0.0, 0.0])
    results = ctx.Queue()
    server_process = ctx.Process(target=server, args=(port, rate, ready, go, stop_at), daemon=True)
    server_process.start()
    if not ready.wait(60):
        server_process.kill()
        raise RuntimeError("the benchmark server did not start")
    url = f"ws://127.0.0.1:{port}{path}"
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    readies = [ctx.Event() for _ in shares]
    clients = [
        ctx.Process(
            target=subscribers, args=(url, share, ours, flag, go, window, results), daemon=True
        )
        for share, flag in zip(shares, readies, strict=True)
        if share
    ]
    for process in clients:
        process.start()
    for flag in readies:
        if not flag.wait(120):
            raise RuntimeError("subscribers did not connect in time")
    start = time.time() + warmup
    window[0], window[1] = start, start + seconds
    stop_at.value = start + seconds + 0.5
    go.set()
    cpu = _cpu_meter(server_process.pid, [p.pid for p in clients], start, seconds)
    received = 0
    delays = array("d")
    for _ in clients:
        got, blob = results.get(timeout=seconds + warmup + 60)
        received += got
        delays.frombytes(blob)
    for process in clients:
        process.join(10)
    # the figures are in: no need to wait for a graceful drain of every connection
    server_process.terminate()
    server_process.join(5)
    if server_process.is_alive():
        server_process.kill()
    return {
        "deliveries_per_s": round(received / seconds),
        **percentiles_ms(delays),
        "subscribers": count,
        **cpu.result(),
    }


class _CpuMeter:
    """CPU seconds per second of the server and of the clients during the window."""

    def __init__(self, server: int | None, clients: list[int | None], start: float, seconds: float):
        import threading

        self._values: dict[str, float] = {}
        self._thread = threading.Thread(
            target=self._measure, args=(server, clients, start, seconds), daemon=True
        )
        self._thread.start()

    def _measure(
        self, server: int | None, clients: list[int | None], start: float, seconds: float
    ) -> None:
        import psutil

        def used(pids: list[int | None]) -> float:
            total = 0.0
            for pid in pids:
                with contextlib.suppress(psutil.Error, TypeError):
                    times = psutil.Process(pid).cpu_times()
                    total += times.user + times.system
            return total

        time.sleep(max(0.0, start - time.time()))
        before = used([server]), used(clients)
        time.sleep(seconds)
        after = used([server]), used(clients)
        self._values = {
            "server_cpu": round((after[0] - before[0]) / seconds, 2),
            "clients_cpu": round((after[1] - before[1]) / seconds, 2),
        }

    def result(self) -> dict[str, float]:
        self._thread.join(5)
        return self._values


def _cpu_meter(
    server: int | None, clients: list[int | None], start: float, seconds: float
) -> _CpuMeter:
    return _CpuMeter(server, clients, start, seconds)


def run(quick: bool) -> dict[str, Any]:
    """Measure ours and the bare ``websockets`` baseline under the same load."""
    count = int(os.environ.get("FLAMBEAU_BENCH_SUBSCRIBERS", 500 if quick else 2000))
    rate = float(os.environ.get("FLAMBEAU_BENCH_RATE", 100))
    seconds = 3.0 if quick else 10.0
    warmup = 1.0 if quick else 2.0
    processes = 2 if quick else 4
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews figures
    ours = measure(serve_ours, "/v1/ws", True, count, rate, seconds, processes, warmup)
    bare = measure(serve_bare, "/", False, count, rate, seconds, processes, warmup)
    return {
        "figures": {
            "deliveries_per_s": ours["deliveries_per_s"],
            "p99_ms": ours["p99_ms"],
            "p50_ms": ours["p50_ms"],
            "max_ms": ours["max_ms"],
            "subscribers": count,
            "server_cpu": ours.get("server_cpu"),
            "clients_cpu": ours.get("clients_cpu"),
        },
        "baseline": {
            "name": "bare websockets broadcast, one event per frame",
            "deliveries_per_s": bare["deliveries_per_s"],
            "p99_ms": bare["p99_ms"],
            "p50_ms": bare["p50_ms"],
            "server_cpu": bare.get("server_cpu"),
            "clients_cpu": bare.get("clients_cpu"),
        },
        "ratio": ratio(ours["deliveries_per_s"], bare["deliveries_per_s"]),
        "params": {
            "subscribers": count,
            "rate_eps": rate,
            "offered_deliveries_per_s": round(count * rate),
            "seconds": seconds,
            "client_processes": processes,
            "load_avg_1m_before": load_before,
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "quick": quick,
        },
    }
