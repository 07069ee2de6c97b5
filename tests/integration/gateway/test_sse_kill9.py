"""SSE resume across ``kill -9`` of a real gateway process on the embedded SQLite log.

The gateway dies with a subscriber connected and events it has not yet delivered; it comes
back on the same port over the same log, and the subscriber resumes with ``Last-Event-ID``.
Every acknowledged event arrives once, in its partition's order, with nothing missing.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from flambeau.gateway.keys import ADMIN_KEY_FILE
from tests.integration.gateway.test_cli import start_gateway, stop
from tests.unit.gateway.served import arrival_by_partition, sse_messages

STREAM = "crowds.sensors"  # an input stream of the crowds service, 4 partitions
PATH = f"/v1/streams/{STREAM}/events"


def gate_counts(start: int, count: int) -> list[dict[str, Any]]:
    at = datetime(2024, 7, 26, 19, 30, tzinfo=UTC).isoformat()
    return [
        {
            "id": f"count-{n}",
            "key": f"STA/gate-{n % 6}",
            "time": at,
            "data": {"type": "gate_count", "venue": "STA", "gate": f"g{n % 6}", "entered": n},
        }
        for n in range(start, start + count)
    ]


async def post(url: str, key: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST ``events``; every one must be newly stored. Their placements, in order."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        reply = await client.post(PATH, json=events, headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["accepted"] == len(events), body
    return list(body["results"])


async def create_key(url: str, admin: str, *scopes: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        reply = await client.post(
            "/v1/keys",
            json={"tenant": "ops-room", "scopes": list(scopes)},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["key"])


async def follow(
    url: str,
    key: str,
    received: list[dict[str, Any]],
    want: int,
    connected: Callable[[], None] = lambda: None,
    **request: Any,
) -> str:
    """Append event messages to ``received`` until it holds ``want``.

    ``connected()`` runs then, with the connection still open. Returns the id of the last
    event read: the cursor to resume from.
    """
    headers = {"Authorization": f"Bearer {key}", **request.pop("headers", {})}
    last = ""
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as client,
        client.stream("GET", PATH, headers=headers, **request) as response,
    ):
        assert response.status_code == 200
        async for message in sse_messages(response):
            if message["event"] == "message":
                received.append(json.loads(message["data"]))
                last = message["id"]
            if len(received) >= want:
                connected()
                break
    return last


async def test_sse_resumes_after_kill_9_with_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, url = start_gateway(data)

    def kill_9() -> None:
        process.kill()  # SIGKILL, the subscriber still connected
        process.communicate(timeout=30)

    try:
        admin = (data / ADMIN_KEY_FILE).read_text().strip()
        writer = await create_key(url, admin, f"write:{STREAM}")
        reader = await create_key(url, admin, f"read:{STREAM}")
        placed = await post(url, writer, gate_counts(0, 40))
        received: list[dict[str, Any]] = []
        # 25 of the 40 read, then the server dies: 15 are owed
        last_id = await follow(url, reader, received, 25, kill_9, params={"from": "earliest"})
    finally:
        if process.poll() is None:
            kill_9()
    assert process.returncode == -signal.SIGKILL

    port = int(url.rsplit(":", 1)[1])
    process, again = start_gateway(data, port=port)  # the same URL the client knows
    try:
        assert again == url
        placed += await post(url, writer, gate_counts(40, 20))
        await follow(url, reader, received, len(placed), headers={"Last-Event-ID": last_id})
    finally:
        code, _, err = stop(process)
    assert code == 0, err
    expected: dict[int, list[tuple[int, str]]] = {}
    for where in placed:
        expected.setdefault(where["partition"], []).append((where["offset"], where["id"]))
    assert len(received) == 60
    assert arrival_by_partition(received) == expected  # per partition: in order, each once
