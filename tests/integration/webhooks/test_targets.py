"""SSRF: a real gateway refuses internal webhook targets at registration and at delivery."""

from __future__ import annotations

import asyncio
from pathlib import Path

from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.services.crowds.schemas import SENSORS
from tests.integration.webhooks.test_delivery import (
    append,
    free_port,
    gateway,
    received,
    receiver,
)
from tests.unit.gateway.served import Served

INTERNAL = [
    ("https://127.0.0.1:9443/hook", "127.0.0.1 is not a public address (loopback)"),
    ("https://localhost/hook", "host 'localhost' resolves to "),
    ("https://[::1]/hook", "::1 is not a public address (loopback)"),
    ("https://[::ffff:127.0.0.1]/hook", "::ffff:7f00:1 (carrying 127.0.0.1) is not a public"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is not a public address"),
    ("https://10.0.0.7/hook", "10.0.0.7 is not a public address (private)"),
    ("https://[fd00::7]/hook", "fd00::7 is not a public address (private)"),
    ("https://224.0.0.1/hook", "224.0.0.1 is not a public address (multicast)"),
    ("https://0.0.0.0/hook", "0.0.0.0 is not a public address (unspecified)"),
    ("https://240.0.0.9/hook", "240.0.0.9 is not a public address"),
    ("http://127.0.0.1:8080/hook", "must be https:// (plain http:// only to"),
]


async def registrations(log: Log) -> int:
    return (await log.end_offsets("admin.webhooks")).get(0, 0)


async def test_registering_an_internal_target_is_refused_by_default(tmp_path: Path) -> None:
    async with (
        await open_log("memory://", default_registry) as log,
        gateway(log, tmp_path, allow=()) as (served, _),
    ):
        key = await served.key(f"read:{SENSORS}")
        async with served.client(key) as client:
            for url, reason in INTERNAL:
                reply = await client.post("/v1/webhooks", json={"stream": SENSORS, "url": url})
                assert reply.status_code == 400, reply.text
                assert reply.headers["content-type"].startswith("application/problem+json")
                [error] = reply.json()["errors"]
                assert error["field"] == "url"
                assert error["message"].startswith(reason), (url, error)
                assert reply.json()["detail"] == f"url: {error['message']}"
        assert await registrations(log) == 0


async def refused_letters(served: Served, webhook_id: str) -> list[dict[str, object]]:
    async with served.client(served.admin_key) as admin:
        for _ in range(500):
            letters = (await admin.get(f"/v1/webhooks/{webhook_id}/dead")).json()
            if len(letters) == 5:
                return list(letters)
            await asyncio.sleep(0.02)
    raise AssertionError(f"dead letters: {letters}")


async def test_a_target_is_checked_again_at_delivery_and_refused_without_a_request(
    tmp_path: Path,
) -> None:
    """Registered while the operator allowed 127.0.0.0/8; a gateway without it sends nothing."""
    out, port = tmp_path / "received.jsonl", free_port()
    async with await open_log(f"sqlite:///{tmp_path / 'log.db'}", default_registry) as log:
        async with gateway(log, tmp_path) as (served, _):
            key = await served.key(f"read:{SENSORS}")
            async with served.client(key) as client:
                body = {"stream": SENSORS, "url": f"https://127.0.0.1:{port}/", "start": "earliest"}
                made = await client.post("/v1/webhooks", json=body)
                assert made.status_code == 201, made.text
        async with gateway(log, tmp_path, allow=()) as (served, writer):
            with receiver(port, out, made.json()["secret"]):
                await append(served, writer, 0, 5)
                letters = await refused_letters(served, made.json()["id"])
        assert received(out) == []
        assert {letter["attempts"] for letter in letters} == {1}
        assert {letter["error"] for letter in letters} == {
            "refused, nothing sent: url: 127.0.0.1 is not a public address (loopback)"
        }
