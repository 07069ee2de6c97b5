"""``flambeau bench crowds``: sensor throughput at 1,000 zones, and a surge's alert latency.

1. **Throughput.** 50 venues of 20 zones each (1,000 zones: gates with exit widths, stands,
   concourses, forecourts) are configured, then density readings and gate counts spread over
   every zone are appended to a ``memory://`` log, and the real ``crowds.occupancy`` processor
   (a :class:`~flambeau.processing.Worker` draining the log) folds them: each reading updates
   its zone and emits a ``zone_crowd``. ``sensor_eps`` is sensor events processed per second,
   ``zone_updates_per_s`` the ``zone_crowd`` events emitted per second, ``cpu_eps`` the events
   per second of this process's CPU time.
2. **Alert latency.** The gateway (uvicorn) serves the same kind of log with the processor
   running beside it, as ``flambeau up`` runs them, and a WebSocket client subscribes to
   ``crowds.venues``. Round after round, a density surge (a zone going from level A to E) is
   appended with the log's client and the time runs until the client receives the
   ``crowd_alert`` it caused (matched by zone); a calm reading then clears the zone.
   ``alert_p99_ms`` (and p50, max) are over the rounds. All three parts share this process
   and its event loop, so the figure includes the subscriber's own work.

Goals (issue 16): ``sensor_eps`` ≥ 200,000, ``alert_p99_ms`` < 20.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta
from typing import Any

import msgspec

from flambeau.bench._common import percentiles_ms
from flambeau.bench.fanout import run_loop, started
from flambeau.events import NewEvent, default_registry, utc_now
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.crowds.processors import occupancy
from flambeau.services.crowds.schemas import (
    SENSORS,
    VENUES,
    AreaDensity,
    GateCount,
    ZoneConfigured,
    ZoneKind,
    ZoneRole,
)

__all__ = ["run"]

VENUES_COUNT = 50
ZONES_PER_VENUE = 20
AREA_M2 = 1_000
_ROLES = (ZoneRole.GATE, ZoneRole.STAND, ZoneRole.CONCOURSE, ZoneRole.FORECOURT)


def _venue(number: int) -> str:
    return f"V{number:03d}"


def _zones() -> list[NewEvent]:
    events = []
    for v in range(VENUES_COUNT):
        for z in range(ZONES_PER_VENUE):
            role = _ROLES[z % len(_ROLES)]
            zone = ZoneConfigured(
                venue=_venue(v), zone=f"Z{z:02d}", role=role, area_m2=AREA_M2,
                kind=ZoneKind.STAIR if role is ZoneRole.STAND else ZoneKind.WALKWAY,
                exit_width_m=4.0 if role is ZoneRole.GATE else 0.0,
            )  # fmt: skip
            events.append(NewEvent(zone, key=_venue(v)))
    return events


def _readings(count: int) -> list[NewEvent]:
    start = utc_now() - timedelta(days=1)
    events = []
    zones = VENUES_COUNT * ZONES_PER_VENUE
    for n in range(count):
        number = (n // VENUES_COUNT) % ZONES_PER_VENUE
        venue, zone = _venue(n % VENUES_COUNT), f"Z{number:02d}"
        at = start + timedelta(seconds=n // zones)  # every zone once a second
        if _ROLES[number % len(_ROLES)] is ZoneRole.GATE:  # gates count, the others measure
            event: Any = GateCount(venue=venue, gate=zone, entered=20 + n % 50)
        else:
            event = AreaDensity(venue=venue, area=zone, people=n % 900, area_m2=AREA_M2)
        events.append(NewEvent(event, key=venue, time=at))
    return events


async def _throughput(count: int) -> dict[str, Any]:
    readings = _readings(count)
    async with await open_log("memory://", default_registry) as log:
        await log.append(SENSORS, _zones())
        for i in range(0, len(readings), 50_000):
            await log.append(SENSORS, readings[i : i + 50_000])
        worker = Worker(log, [occupancy], batch_size=2_000, drain=True)
        began, cpu = time.perf_counter(), time.process_time()
        await worker.run()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        emitted = sum((await log.end_offsets(VENUES)).values())
    total = count + VENUES_COUNT * ZONES_PER_VENUE
    return {
        "sensor_eps": round(total / seconds),
        "cpu_eps": round(total / cpu),
        "zone_updates_per_s": round(emitted / seconds),
        "events": total,
        "seconds": round(seconds, 3),
    }


class _Probe(msgspec.Struct):
    type: str
    area: str = ""
    raised: bool = False


class _Event(msgspec.Struct):
    data: _Probe


class _Frame(msgspec.Struct):
    op: str
    events: list[_Event] = []


async def _latency(rounds: int) -> dict[str, Any]:
    import websockets

    from flambeau.gateway import GatewayConfig, create_app
    from flambeau.gateway.server import GatewayServer, bind, uvicorn_config

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = await open_log("memory://", default_registry)
    config = GatewayConfig(rate_per_key=1e9, rate_burst=10**9)
    server = GatewayServer(uvicorn_config(create_app(log, config)))
    serving = asyncio.get_running_loop().create_task(
        server.serve(sockets=[bind("127.0.0.1", port)])
    )
    worker = Worker(log, [occupancy], idle_wait=0.001)
    working = asyncio.get_running_loop().create_task(worker.run())
    try:
        await started(server)
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/ws", max_size=None) as ws:
            await ws.send(f'{{"op":"subscribe","stream":"{VENUES}","from":"latest"}}')
            await ws.recv()
            samples = await _surges(log, ws, rounds)
    finally:
        worker.stop()
        await working
        server.should_exit = True
        await serving
        await log.aclose()
    figures = percentiles_ms(samples)
    return {f"alert_{name}": value for name, value in figures.items()} | {"rounds": len(samples)}


async def _surges(log: Log, ws: Any, rounds: int) -> list[float]:
    decode = msgspec.json.Decoder(_Frame).decode
    samples = []
    for n in range(rounds):
        zone = f"Z{n % 200:03d}"
        surge = AreaDensity(venue="STA", area=zone, people=1_500, area_m2=AREA_M2)
        began = time.perf_counter()
        await log.append(SENSORS, [NewEvent(surge, key="STA")])
        while True:
            frame = decode(await asyncio.wait_for(ws.recv(), timeout=10))
            if any(e.data.type == "crowd_alert" and e.data.area == zone and e.data.raised
                   for e in frame.events):  # fmt: skip
                samples.append(time.perf_counter() - began)
                break
        calm = AreaDensity(venue="STA", area=zone, people=10, area_m2=AREA_M2)
        await log.append(SENSORS, [NewEvent(calm, key="STA")])
        await asyncio.sleep(0.005)
    return samples


def run(quick: bool) -> dict[str, Any]:
    """Both parts; ``quick``: 40,000 readings and 100 surges (else 400,000 and 1,000)."""
    count, rounds = (40_000, 100) if quick else (400_000, 1_000)

    async def main() -> dict[str, Any]:
        throughput = await _throughput(count)
        latency = await _latency(rounds)
        return {
            "sensor_eps": throughput["sensor_eps"],
            "alert_p99_ms": latency["alert_p99_ms"],
            "params": {
                "zones": VENUES_COUNT * ZONES_PER_VENUE,
                "readings": count,
                "surges": rounds,
            },
            "throughput": throughput,
            "latency": latency,
            "goals": {"sensor_eps": 200_000, "alert_p99_ms": 20},
        }

    result: dict[str, Any] = run_loop(main())
    return result
