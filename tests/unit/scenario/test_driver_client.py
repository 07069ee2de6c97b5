"""The rehearsal's HTTP client and subscriber against a real gateway: answers, refusals,
retries, and subscriptions that resume without a gap after the gateway drops them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import get

from flambeau.events import NewEvent, default_registry
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.scenario.client import GatewayClient, Subscriber, WireEvent
from flambeau.scenario.errors import Stopped
from flambeau.services.crowds.schemas import SENSORS, GateCount
from tests.unit.gateway.served import Served, serve


@get("/test/broken")
async def broken() -> None:
    raise RuntimeError("a bug behind the gateway")


@pytest.fixture
async def log() -> AsyncIterator[Log]:
    opened = await open_log("memory://", default_registry)
    yield opened
    await opened.aclose()


@pytest.fixture
async def served(log: Log, tmp_path: Path) -> AsyncIterator[Served]:
    async with serve(log, tmp_path, routers=[broken]) as running:
        yield running


def reading(n: int, **data: Any) -> dict[str, Any]:
    body = {"type": "gate_count", "venue": "STA", "gate": f"STA-G{n:02d}", "entered": n}
    body.update(data)
    return {"id": f"r-{n}", "key": "STA", "time": "2024-08-04T17:00:00Z", "data": body}


async def test_an_ingest_answer_counts_each_event(served: Served) -> None:
    client = GatewayClient(served.base, await served.key("write:crowds.*"))
    try:
        first = await client.ingest(SENSORS, [reading(1), reading(2)])
        assert (first.status, first.accepted, first.duplicates, first.rejected) == (200, 2, 0, 0)
        assert first.ids == ("r-1", "r-2")
        again = await client.ingest(SENSORS, [reading(2), reading(3, entered=-4)])
        assert (again.accepted, again.duplicates, again.rejected) == (0, 1, 1)
        assert "entered" in again.problem or ">= 0" in again.problem
    finally:
        await client.aclose()


async def test_a_refusal_is_an_answer_naming_the_stream(served: Served) -> None:
    client = GatewayClient(served.base, await served.key("write:results.*"))
    try:
        reply = await client.ingest(SENSORS, [reading(1), reading(2)])
        assert (reply.status, reply.rejected, reply.accepted) == (403, 2, 0)
        assert SENSORS in reply.problem
        assert client.retries == 0
    finally:
        await client.aclose()


async def test_a_server_error_is_retried_then_given_up(served: Served) -> None:
    client = GatewayClient(served.base, await served.key("read:*"), give_up_s=0.3)
    try:
        reply = await client.request("GET", "/test/broken")
        assert reply.failed
        assert reply.status == 500
        assert client.retries >= 1
    finally:
        await client.aclose()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (polled: these conditions have no event to wait on)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_dead_gateway_is_retried_until_the_client_is_stopped() -> None:
    client = GatewayClient(f"http://127.0.0.1:{free_port()}", "fbk_x_y", timeout=1.0)
    try:
        waiting = asyncio.create_task(client.ingest(SENSORS, [reading(1)]))
        await until(lambda: client.retries >= 2)
        assert not waiting.done()  # still trying: a network error is never final
        client.stop()
        with pytest.raises(Stopped):
            await waiting
    finally:
        await client.aclose()


async def test_several_gateways_fail_over_to_one_that_answers(served: Served) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = GatewayClient(f"{dead},{served.base}", await served.key("write:crowds.*"))
    try:
        reply = await client.ingest(SENSORS, [reading(1)])
        assert (reply.status, reply.accepted) == (200, 1)
        assert client.base == served.base  # it stays on the live one
        assert client.retries == 1
    finally:
        await client.aclose()


async def test_a_subscription_fails_over_to_a_live_gateway(served: Served, log: Log) -> None:
    seen: list[WireEvent] = []
    key = await served.key("read:crowds.*")
    dead = f"ws://127.0.0.1:{free_port()}/v1/ws"
    urls = [dead, served.ws_base + "/v1/ws"]
    subscriber = Subscriber(urls, key, {SENSORS: "earliest"}, lambda _, got: seen.extend(got))
    stop = asyncio.Event()
    running = asyncio.create_task(subscriber.run(stop))
    try:
        await log.append(SENSORS, [NewEvent(GateCount(venue="STA", gate="G", entered=1), id="f")])
        await until(lambda: len(seen) >= 1)
        assert [e.id for e in seen] == ["f"]
    finally:
        stop.set()
        await running


async def test_the_rate_limit_is_waited_out(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path, max_batch_events=10, rate_burst=10, rate_per_key=40)
    async with serve(log, tmp_path, config) as served:
        client = GatewayClient(served.base, await served.key("write:crowds.*"))
        try:
            for batch in range(3):
                reply = await client.ingest(SENSORS, [reading(batch * 10 + n) for n in range(10)])
                assert reply.accepted == 10
            assert client.retries >= 1  # at least one 429 was waited out, none lost
        finally:
            await client.aclose()


async def test_a_subscription_resumes_where_it_was_dropped(served: Served, log: Log) -> None:
    seen: list[WireEvent] = []
    key = await served.key("read:crowds.*")

    def take(stream: str, events: list[WireEvent]) -> None:
        seen.extend(events)

    async def append(first: int, count: int) -> None:
        events = [
            NewEvent(GateCount(venue="STA", gate=f"G{n}", entered=n), key="STA", id=f"e-{n}")
            for n in range(first, first + count)
        ]
        await log.append(SENSORS, events)

    subscriber = Subscriber([served.ws_base + "/v1/ws"], key, {SENSORS: "earliest"}, take)
    stop = asyncio.Event()
    running = asyncio.create_task(subscriber.run(stop))
    try:
        await append(0, 3)
        await until(lambda: len(seen) >= 3)
        await served.gateway.drain()  # the gateway closes the connection with its positions
        await append(3, 2)
        await until(lambda: len(seen) >= 5)
        await asyncio.sleep(0.2)
        assert subscriber.reconnects >= 1
        assert [e.id for e in seen] == [f"e-{n}" for n in range(5)]  # no gap, no repeat
    finally:
        stop.set()
        await running
