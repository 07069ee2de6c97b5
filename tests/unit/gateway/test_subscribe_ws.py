"""GET /v1/ws: subscriptions share a socket, resume exactly or say recovered:false."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
import websockets

from flambeau.events import NewEvent, Registry
from flambeau.gateway import GatewayConfig
from flambeau.gateway.sockets import CLOSE_SLOW_CONSUMER
from flambeau.log import open_log
from flambeau.log.base import Log, partition_for
from tests.unit.gateway.schemas import OddsChanged, Score, UnitStarted, make_registry
from tests.unit.gateway.served import (
    Served,
    arrival_by_partition,
    collect_events,
    next_op,
    serve,
    stored_by_partition,
)


def scores(count: int, unit: str | None = None, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(Score(unit=unit or f"u{i % 7}", points=start + i), key=unit or f"u{i % 7}")
        for i in range(count)
    ]


def points(events: list[dict[str, object]]) -> list[int]:
    """The points in the order they arrived (compare only within one partition)."""
    return [e["data"]["points"] for e in events]  # type: ignore[index]


async def subscribe(ws: websockets.ClientConnection, **op: object) -> dict[str, object]:
    await ws.send(json.dumps({"op": "subscribe", **op}))
    return await next_op(ws, "subscribed")


async def test_live_events_reach_every_subscriber_in_partition_order(
    served: Served, log: Log
) -> None:
    async with served.ws() as first, served.ws() as second:
        for ws in (first, second):
            await subscribe(ws, sub="a", stream="results.units")
        await log.append("results.units", scores(40))
        got = [await collect_events(ws, 40) for ws in (first, second)]
    stored = await stored_by_partition(log, "results.units")
    assert sum(map(len, stored.values())) == 40
    for events in got:
        assert arrival_by_partition(events) == stored  # per partition, in order, each once
    assert len(served.gateway.hub.readers) <= 4  # shared: one reader per partition


async def test_two_subscriptions_share_one_socket_and_unsubscribe_stops_one(
    served: Served, log: Log
) -> None:
    admin = served.admin_key
    async with served.ws(key=admin) as ws:
        await subscribe(ws, sub="units", stream="results.units")
        await subscribe(ws, sub="odds", stream="betting.odds")
        await log.append("results.units", scores(1))
        await log.append("betting.odds", [NewEvent(OddsChanged(market="m", price_milli=1500))])
        seen: dict[str, int] = {}
        async with asyncio.timeout(5):
            while len(seen) < 2:
                message = json.loads(await ws.recv())
                if message["op"] == "events":
                    seen[message["sub"]] = seen.get(message["sub"], 0) + len(message["events"])
        assert seen == {"units": 1, "odds": 1}
        await ws.send(json.dumps({"op": "unsubscribe", "sub": "units"}))
        gone = await next_op(ws, "unsubscribed")
        assert gone["sub"] == "units"
        await log.append("results.units", scores(1))
        await log.append("betting.odds", [NewEvent(OddsChanged(market="m", price_milli=1600))])
        message = await next_op(ws, "events")
        assert message["sub"] == "odds"


async def test_resume_from_a_cursor_replays_exactly_the_missed_events(
    served: Served, log: Log
) -> None:
    await log.append("results.units", scores(10))
    async with served.ws() as ws:
        await subscribe(ws, sub="a", stream="results.units", **{"from": "earliest"})
        events = await collect_events(ws, 10)
        frame_positions: list[str] = []
        # the position of the last frame is where this subscriber stands
        await log.append("results.units", scores(5, start=10))
        async with asyncio.timeout(5):
            while len(events) < 15:
                message = json.loads(await ws.recv())
                if message["op"] == "events":
                    events.extend(message["events"])
                    frame_positions.append(message["position"])
    await log.append("results.units", scores(7, start=15))  # missed while away
    async with served.ws() as ws:
        reply = await subscribe(
            ws, sub="b", stream="results.units", **{"from": frame_positions[-1]}
        )
        assert reply["recovered"] is True
        missed = await collect_events(ws, 7)
        await log.append("results.units", scores(1, start=22))
        live = await collect_events(ws, 1)
    stored = await stored_by_partition(log, "results.units")
    assert sum(map(len, stored.values())) == 23
    # per partition, in order: what was read, then what was missed, then live; each once
    assert arrival_by_partition(events + missed + live) == stored
    assert points(live) == [22]


async def test_explicit_partition_offsets_resume_that_partition(served: Served, log: Log) -> None:
    await log.append("results.units", scores(6, unit="solo"))
    part = partition_for("solo", 4)
    async with served.ws() as ws:
        reply = await subscribe(ws, stream="results.units", key="solo", **{"from": f"{part}:4"})
        assert reply["recovered"] is True
        events = await collect_events(ws, 2)
    assert points(events) == [4, 5]


async def test_another_epoch_answers_recovered_false_at_the_current_end(
    served: Served, log: Log
) -> None:
    await log.append("results.units", scores(3))
    async with served.ws() as ws:
        reply = await subscribe(ws, stream="results.units", **{"from": "0123456789abcdef/0.0.0.0"})
        assert reply["recovered"] is False
        assert "epoch" in str(reply["reason"])
        ends = await log.end_offsets("results.units")
        assert str(reply["position"]).endswith("/" + ".".join(str(ends[p]) for p in range(4)))
        await log.append("results.units", scores(1, start=3))
        [event] = await collect_events(ws, 1)
    assert event["data"]["points"] == 3


async def test_offsets_dropped_by_retention_answer_recovered_false(tmp_path: Path) -> None:
    registry = Registry()
    registry.register("results.units", Score, partitions=1, public=True, max_bytes=2000)
    log = await open_log("memory://", registry)
    try:
        epoch = (await log.info("results.units")).epoch
        for i in range(40):  # many small batches so retention can cut between them
            await log.append("results.units", [NewEvent(Score(unit="u", points=i), key="u")])
            await asyncio.sleep(0.03)
        start = (await log.info("results.units")).start[0]
        assert start > 0
        async with serve(log, tmp_path) as served, served.ws() as ws:
            reply = await subscribe(ws, stream="results.units", **{"from": f"{epoch}/0"})
            assert reply["recovered"] is False
            assert "no longer retained" in str(reply["reason"])
    finally:
        await log.aclose()


async def test_key_filter_delivers_only_that_key(served: Served, log: Log) -> None:
    async with served.ws() as ws:
        await subscribe(ws, stream="results.units", key="u3")
        await log.append("results.units", scores(70))
        events = await collect_events(ws, 10)
    assert {e["key"] for e in events} == {"u3"}
    assert points(events) == [i for i in range(70) if i % 7 == 3]


async def test_malformed_operations_get_error_messages_naming_the_field(served: Served) -> None:
    async with served.ws(key=served.admin_key) as ws:
        await ws.send("not json")
        bad = await next_op(ws, "error")
        await ws.send(json.dumps({"op": "subscribe", "stream": "results.units", "from": "x:y"}))
        bad_from = await next_op(ws, "error")
        await ws.send(json.dumps({"op": "subscribe", "stream": "nope.none"}))
        unknown = await next_op(ws, "error")
        await ws.send(json.dumps({"op": "unsubscribe", "sub": "ghost"}))
        ghost = await next_op(ws, "error")
    assert bad["problem"]["status"] == 400
    assert bad_from["problem"]["errors"][0]["field"] == "from"
    assert unknown["problem"]["status"] == 404
    assert ghost["problem"]["errors"][0]["field"] == "sub"


async def test_subscriptions_per_connection_are_limited(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path, max_subscriptions_per_connection=2)
    async with serve(log, tmp_path, config) as served, served.ws() as ws:
        await subscribe(ws, sub="a", stream="results.units")
        await subscribe(ws, sub="b", stream="results.units")
        await ws.send(json.dumps({"op": "subscribe", "sub": "c", "stream": "results.units"}))
        refused = await next_op(ws, "error")
    assert refused["problem"]["status"] == 429
    assert refused["problem"]["type"] == "urn:flambeau:problem:too-many-subscriptions"


async def test_connections_per_key_are_limited(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path, max_connections_per_key=1)
    async with serve(log, tmp_path, config) as served:
        key = await served.key("read:results.*")
        async with served.ws(key=key) as first:
            await subscribe(first, stream="results.units")
            async with served.ws(key=key) as second:
                refused = await next_op(second, "error")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await second.recv()
        assert refused["problem"]["status"] == 429
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4429


async def test_slow_consumer_is_closed_with_a_resumable_position(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path, buffer_bytes=20_000)
    async with serve(log, tmp_path, config) as served:
        # a tiny receive buffer and no reading: the server's writes back up, its outbox fills
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(served.base.rsplit(":", 1)[1])))
        sock.setblocking(False)
        async with websockets.connect(
            served.ws_base + "/v1/ws", sock=sock, max_size=None, max_queue=1
        ) as ws:
            await ws.send(json.dumps({"op": "subscribe", "sub": "slow", "stream": "results.units"}))
            await next_op(ws, "subscribed")
            for i in range(400):
                await log.append("results.units", scores(50, start=i * 50))
                await asyncio.sleep(0)
            received: list[dict[str, object]] = []
            overflow: dict[str, object] = {}
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await read_until_closed(ws, received, overflow)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CLOSE_SLOW_CONSUMER
        position = overflow["positions"]["slow"]  # type: ignore[index]
        # resuming from the position gives exactly what this subscriber had not received
        async with served.ws() as again:
            reply = await subscribe(again, stream="results.units", **{"from": position})
            assert reply["recovered"] is True
            total = sum((await log.end_offsets("results.units")).values())
            rest = await collect_events(again, total - len(received), timeout=20)
        seen = {(e["partition"], e["offset"]) for e in received + rest}
        assert len(received) + len(rest) == total == len(seen)


async def read_until_closed(
    ws: websockets.ClientConnection,
    received: list[dict[str, object]],
    overflow: dict[str, object],
) -> None:
    async with asyncio.timeout(20):
        while True:
            message = json.loads(await ws.recv())
            if message["op"] == "events":
                received.extend(message["events"])
            elif message["op"] == "overflow":
                overflow.update(message)


async def test_unit_started_defaults_are_encoded(served: Served, log: Log) -> None:
    async with served.ws() as ws:
        await subscribe(ws, stream="results.units")
        await log.append("results.units", [NewEvent(UnitStarted(unit="x"), key="x")])
        [event] = await collect_events(ws, 1)
    assert event["data"] == {"type": "unit_started", "unit": "x", "athletes": 0}


def test_registry_fixture_is_fresh() -> None:
    # each test gets its own registry: a stream one test registers is unknown to the next
    first, second = make_registry(), make_registry()
    first.register("results.extra", Score, partitions=1)
    assert "results.extra" in first
    assert "results.extra" not in second


async def test_a_failing_log_is_reported_to_subscribers_not_hidden(
    served: Served, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flambeau.errors import LogFailedError

    async with served.ws() as ws:
        await subscribe(ws, sub="a", stream="results.units")

        async def broken(*_: object, **__: object) -> list[object]:
            raise LogFailedError("disk full while persisting a write")

        monkeypatch.setattr(log, "read", broken)
        await log.append("results.units", scores(1))
        error = await next_op(ws, "error")
    assert error["sub"] == "a"
    assert error["problem"]["status"] == 503
    assert "disk full" in error["problem"]["detail"]
