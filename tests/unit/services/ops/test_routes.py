"""``GET /v1/ops/sources`` over a real gateway, worker and SQLite log, on the real clock."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.unit.gateway.served import Served, serve

from flambeau.events import default_registry
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.crowds.schemas import SENSORS
from flambeau.services.ops.processors import WATCHES, heartbeat_signs, liveness, watch_relay
from flambeau.services.ops.routes import routes
from flambeau.services.ops.schemas import HEALTH, HEARTBEATS, KeepAlive

# a gate counter expected every 200 ms: down after 400 ms of silence, so the test runs quickly
FAST_GATES = dataclasses.replace(
    WATCHES[0], name="ops.fast-gate-signs", interval=timedelta(milliseconds=200)
)


@dataclass
class Running:
    served: Served
    writer: str
    reader: str
    log: Log

    async def post(self, stream: str, *events: dict[str, Any]) -> None:
        async with self.served.client(self.writer) as client:
            reply = await client.post(f"/v1/streams/{stream}/events", json=list(events))
            assert reply.status_code == 200, reply.text
            assert reply.json()["rejected"] == 0

    async def sources_until(self, want: Any, **params: str) -> dict[str, Any]:
        """Poll ``GET /v1/ops/sources`` until ``want(body)`` holds (a liveness deadline is
        processing time, so the answer changes on its own)."""
        async with self.served.client(self.reader) as client:
            for _ in range(500):
                reply = await client.get("/v1/ops/sources", params=params)
                assert reply.status_code == 200, reply.text
                body: dict[str, Any] = reply.json()
                if want(body):
                    return body
                await asyncio.sleep(0.02)
        raise AssertionError(f"never reached the expected sources: {body}")

    async def health_until(self, source: str, want: list[str]) -> None:
        """Wait until ``ops.health`` starts with ``want`` (event types, in order) for ``source``.

        A fast source is up only until its next deadline, so the transitions are read from the
        stream, where none can be missed, rather than polled from the route.
        """
        decoder = default_registry.decoder(HEALTH)
        seen: list[str] = []
        for _ in range(500):
            seen = []
            for partition in range(default_registry.spec(HEALTH).partitions):
                for record in await self.log.read(HEALTH, partition, 0, 10_000):
                    data = decoder.decode(record.data)
                    if getattr(data, "source", None) == source and not isinstance(data, KeepAlive):
                        seen.append(type(data).__name__)
            if seen[: len(want)] == want:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{source} went {seen} on {HEALTH}, expected {want}")


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}", default_registry)
    processors = [heartbeat_signs, watch_relay(FAST_GATES, register=False), liveness]
    worker = Worker(log, processors, idle_wait=0.02)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as served:
            writer = await served.key(f"write:{SENSORS}", f"write:{HEARTBEATS}", tenant="venues")
            reader = await served.key("read:ops.health", tenant="security")
            yield Running(served, writer, reader, log)
    finally:
        worker.stop()
        await working
        await log.aclose()


def status_of(body: dict[str, Any], source: str) -> str | None:
    return next((s["status"] for s in body["sources"] if s["source"] == source), None)


GATE = {"type": "gate_count", "venue": "STA", "gate": "STA-G03", "entered": 12, "exited": 0}


async def test_a_silent_gate_counter_goes_down_and_comes_back_up(running: Running) -> None:
    await running.post(SENSORS, {"key": "STA", "data": GATE})
    await running.health_until("STA/STA-G03", ["SourceUp", "SourceDown"])
    down = await running.sources_until(lambda b: status_of(b, "STA/STA-G03") == "down")
    gate = down["sources"][0]
    assert (gate["kind"], gate["venue"]) == ("gate_counter", "STA")
    assert (gate["reason"], down["down"]) == ("silent", 1)

    await running.post(SENSORS, {"key": "STA", "data": {**GATE, "entered": 3}})
    await running.health_until("STA/STA-G03", ["SourceUp", "SourceDown", "SourceUp"])


async def test_heartbeats_report_failures_and_the_query_filters(running: Running) -> None:
    beat = {"type": "heartbeat", "source": "STA-ENC-1", "kind": "broadcast_encoder",
            "interval_ms": 60_000, "venue": "STA"}  # fmt: skip
    await running.post(
        HEARTBEATS,
        {"data": beat},
        {"key": "BCY-SB", "data": {**beat, "source": "BCY-SB", "kind": "scoreboard",
                                   "venue": "BCY"}},
    )  # fmt: skip
    await running.sources_until(lambda b: len(b["sources"]) == 2)
    await running.post(HEARTBEATS, {"data": {**beat, "status": "failed", "detail": "no SDI"}})
    body = await running.sources_until(
        lambda b: status_of(b, "STA-ENC-1") == "down", kind="broadcast_encoder"
    )
    assert [(s["source"], s["reason"], s["detail"]) for s in body["sources"]] == [
        ("STA-ENC-1", "failed", "no SDI")
    ]
    venue = await running.sources_until(lambda b: True, venue="BCY", status="up")
    assert [s["source"] for s in venue["sources"]] == ["BCY-SB"]


async def test_the_route_checks_scopes_and_parameters(running: Running) -> None:
    served = running.served
    other = await served.key("read:crowds.*")
    async with served.client() as anonymous:
        reply = await anonymous.get("/v1/ops/sources")
        assert reply.status_code == 401
        assert reply.headers["content-type"].startswith("application/problem+json")
    async with served.client(other) as client:
        reply = await client.get("/v1/ops/sources")
        assert reply.status_code == 403
        assert "ops.health" in reply.json()["detail"]
    async with served.client(running.reader) as client:
        for params in ({"kind": "toaster"}, {"status": "sideways"}, {"venue": "sta"}):
            reply = await client.get("/v1/ops/sources", params=params)
            assert reply.status_code == 400, params
            assert reply.headers["content-type"].startswith("application/problem+json")
            assert next(iter(params)) in reply.text


async def test_a_bad_heartbeat_is_refused_naming_the_field(running: Running) -> None:
    async with running.served.client(running.writer) as client:
        reply = await client.post(
            f"/v1/streams/{HEARTBEATS}/events",
            json=[{"data": {"type": "heartbeat", "source": "X", "kind": "toaster",
                            "interval_ms": 10}}],
        )  # fmt: skip
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert "data.kind" in reply.text


async def test_producers_cannot_forge_health_or_signs_but_may_post_heartbeats(
    running: Running,
) -> None:
    forger = await running.served.key("write:*", "read:*")
    down = {"type": "source_down", "source": "STA-ENC-1", "last_seen": "2024-08-04T17:00:00Z",
            "detected_at": "2024-08-04T17:00:10Z", "silence_ms": 10_000}  # fmt: skip
    async with running.served.client(forger) as client:
        for stream in ("ops.health", "ops.signs"):
            reply = await client.post(f"/v1/streams/{stream}/events", json=[{"data": down}])
            assert reply.status_code == 403, stream
            assert reply.json()["type"].endswith("derived-stream")
            assert stream in reply.json()["detail"]
    beat = {"type": "heartbeat", "source": "STA-ENC-1", "kind": "broadcast_encoder",
            "interval_ms": 5000}  # fmt: skip
    await running.post(HEARTBEATS, {"data": beat})
