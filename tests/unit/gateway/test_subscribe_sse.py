"""GET /v1/streams/{stream}/events as Server-Sent Events, resumed with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json

import httpx

from flambeau.events import NewEvent
from flambeau.log.base import Log
from tests.unit.gateway.schemas import Score
from tests.unit.gateway.served import (
    Served,
    arrival_by_partition,
    sse_messages,
    stored_by_partition,
)

PATH = "/v1/streams/results.units/events"


def scores(count: int, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(Score(unit=f"u{i % 5}", points=start + i), key=f"u{i % 5}") for i in range(count)
    ]


async def read_events(
    client: httpx.AsyncClient, count: int, **kwargs: object
) -> tuple[dict[str, object], list[dict[str, str]]]:
    """The ``subscribed`` message and the next ``count`` event messages."""
    subscribed: dict[str, object] = {}
    events: list[dict[str, str]] = []
    async with asyncio.timeout(10), client.stream("GET", PATH, **kwargs) as response:  # type: ignore[arg-type]
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for message in sse_messages(response):
            if message["event"] == "subscribed":
                subscribed = json.loads(message["data"])
            elif message["event"] == "message":
                events.append(message)
            if len(events) >= count:
                break
    return subscribed, events


async def test_each_event_id_is_a_cursor_that_resumes_with_no_gap(served: Served, log: Log) -> None:
    await log.append("results.units", scores(12))
    async with served.client() as client:
        subscribed, first = await read_events(client, 5, params={"from": "earliest"})
        assert subscribed["recovered"] is True
        await log.append("results.units", scores(6, start=12))
        last_id = first[-1]["id"]
        _, rest = await read_events(client, 13, headers={"Last-Event-ID": last_id})
    seen = [json.loads(m["data"]) for m in first + rest]
    stored = await stored_by_partition(log, "results.units")
    assert arrival_by_partition(seen) == stored  # per partition, in order, each once
    assert sum(map(len, stored.values())) == 18


async def test_last_event_id_wins_over_from(served: Served, log: Log) -> None:
    await log.append("results.units", scores(4))
    async with served.client() as client:
        _, first = await read_events(client, 4, params={"from": "earliest"})
        await log.append("results.units", scores(1, start=4))
        _, rest = await read_events(
            client, 1, params={"from": "earliest"}, headers={"Last-Event-ID": first[-1]["id"]}
        )
    assert json.loads(rest[0]["data"])["data"]["points"] == 4


async def test_a_stale_last_event_id_is_answered_recovered_false(served: Served, log: Log) -> None:
    await log.append("results.units", scores(3))
    async with (
        served.client() as client,
        client.stream(
            "GET", PATH, headers={"Last-Event-ID": "ffffffffffffffff/1.1.1.1"}
        ) as response,
    ):
        async for message in sse_messages(response):
            assert message["event"] == "subscribed"
            body = json.loads(message["data"])
            assert body["recovered"] is False
            assert message["id"] == body["position"]  # the browser now resumes from here
            break


async def test_event_key_filter_and_api_key_in_query(served: Served, log: Log) -> None:
    key = await served.key("read:betting.*")
    async with served.client() as client:
        refused = await client.get("/v1/streams/betting.odds/events")
        async with (
            asyncio.timeout(10),
            client.stream(
                "GET", "/v1/streams/betting.odds/events", params={"key": key}
            ) as response,
        ):
            assert response.status_code == 200
    assert refused.status_code == 401
    await log.append("results.units", scores(15))
    async with served.client() as client:
        _, events = await read_events(client, 3, params={"event_key": "u2", "from": "earliest"})
    assert [json.loads(m["data"])["key"] for m in events] == ["u2"] * 3


async def test_a_malformed_from_is_a_400_problem_naming_the_field(served: Served) -> None:
    async with served.client() as client:
        reply = await client.get(PATH, params={"from": "soon"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["field"] == "from"
