"""A gateway over the embedded SQLite log: positions and keys survive a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flambeau.events import NewEvent
from flambeau.log import open_log
from tests.unit.gateway.schemas import Score, make_registry, score
from tests.unit.gateway.served import (
    arrival_by_partition,
    collect_events,
    next_op,
    serve,
    stored_by_partition,
)


def scores(count: int, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(Score(unit=f"u{i % 3}", points=start + i), key=f"u{i % 3}") for i in range(count)
    ]


async def test_a_cursor_from_before_a_restart_replays_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = await open_log(url, make_registry())
    try:
        await log.append("results.units", scores(30))
        async with serve(log, tmp_path) as served, served.ws() as ws:
            await ws.send(
                json.dumps(
                    {"op": "subscribe", "sub": "a", "stream": "results.units", "from": "earliest"}
                )
            )
            await next_op(ws, "subscribed")
            positions = []
            before: list[dict[str, Any]] = []
            while len(before) < 30:
                frame = await next_op(ws, "events")
                before.extend(frame["events"])
                positions.append(frame["position"])
        await log.append("results.units", scores(12, start=30))
    finally:
        await log.aclose()
    reopened = await open_log(url, make_registry())
    try:
        await reopened.append("results.units", scores(5, start=42))
        async with serve(reopened, tmp_path) as served, served.ws() as ws:
            await ws.send(
                json.dumps({"op": "subscribe", "stream": "results.units", "from": positions[-1]})
            )
            reply = await next_op(ws, "subscribed")
            after = await collect_events(ws, 17)
        stored = await stored_by_partition(reopened, "results.units")
    finally:
        await reopened.aclose()
    assert reply["recovered"] is True
    # per partition, in order: every stored event once, none missing across the restart
    assert arrival_by_partition(before + after) == stored
    assert sum(map(len, stored.values())) == 47


async def test_keys_and_revocations_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = await open_log(url, make_registry())
    try:
        async with serve(log, tmp_path) as served:
            admin = served.admin_key
            kept = await served.key("write:results.*")
            gone = await served.key("write:results.*")
            await served.gateway.keys.revoke(gone.split("_")[1])
    finally:
        await log.aclose()
    reopened = await open_log(url, make_registry())
    try:
        async with serve(reopened, tmp_path) as served:
            assert served.admin_key == admin  # not regenerated
            async with served.client(kept) as client:
                ok = await client.post("/v1/streams/results.units/events", json=score("u", 1))
            async with served.client(gone) as client:
                refused = await client.post("/v1/streams/results.units/events", json=score("u", 1))
    finally:
        await reopened.aclose()
    assert ok.status_code == 200
    assert refused.status_code == 401


@pytest.mark.parametrize("count", [1, 2500])
async def test_ingest_round_trips_through_sqlite(tmp_path: Path, count: int) -> None:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}", make_registry())
    try:
        async with serve(log, tmp_path) as served:
            key = await served.key("write:results.*")
            lines = "\n".join(json.dumps(score(f"u{i % 9}", i, id=f"e{i}")) for i in range(count))
            async with served.client(key) as client:
                replies = []
                for chunk in range(0, count, 1000):
                    body = "\n".join(lines.split("\n")[chunk : chunk + 1000])
                    replies.append(
                        await client.post(
                            "/v1/streams/results.units/events",
                            content=body,
                            headers={"Content-Type": "application/x-ndjson"},
                        )
                    )
        assert all(r.status_code == 200 for r in replies)
        assert sum(r.json()["accepted"] for r in replies) == count
        assert sum((await log.end_offsets("results.units")).values()) == count
    finally:
        await log.aclose()
