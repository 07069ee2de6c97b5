"""Partner webhooks end to end: a real gateway, a receiver process killed mid-run, a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from flambeau.events import default_registry
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.services.crowds.schemas import SENSORS
from tests.unit.gateway.served import Served, serve

STREAM = SENSORS
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receiver(port: int, out: Path, secret: str) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.webhook_receiver", str(port), str(out), secret],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def received(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


async def append(served: Served, writer: str, start: int, count: int) -> None:
    events = [
        {"key": f"V{i % 7}", "data": {"type": "gate_count", "venue": f"V{i % 7}",
                                      "gate": f"g{i}", "entered": 1}}
        for i in range(start, start + count)
    ]  # fmt: skip
    async with served.client(writer) as client:
        for at in range(0, len(events), 100):
            reply = await client.post(f"/v1/streams/{STREAM}/events", json=events[at : at + 100])
            assert reply.status_code == 200, reply.text


async def stored(log: Log) -> set[tuple[int, int]]:
    ends = await log.end_offsets(STREAM)
    return {(p, o) for p, end in ends.items() for o in range(end)}


async def delivered_all(out: Path, log: Log) -> set[tuple[int, int]]:
    want = await stored(log)
    for _ in range(1500):
        got = {(e["partition"], e["offset"]) for e in received(out)}
        if got >= want:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"missing {sorted(want - got)[:10]} of {len(want)}")


LOCAL_RECEIVERS = ("127.0.0.0/8",)
"""The operator setting that lets webhooks reach the local receiver (refused by default)."""


@asynccontextmanager
async def gateway(
    log: Log, tmp: Path, allow: tuple[str, ...] = LOCAL_RECEIVERS
) -> AsyncIterator[tuple[Served, str]]:
    config = GatewayConfig(data_dir=tmp, webhook_allow_networks=allow)
    async with serve(log, tmp, config) as served:
        writer = await served.key(f"write:{STREAM}")
        yield served, writer


async def register(served: Served, port: int) -> tuple[str, str]:
    key = await served.key(f"read:{STREAM}")
    async with served.client(key) as client:
        bad = await client.post("/v1/webhooks", json={"stream": STREAM, "url": "http://x.example"})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "url"
        reply = await client.post(
            "/v1/webhooks",
            json={"stream": STREAM, "url": f"http://127.0.0.1:{port}/hook", "start": "earliest"},
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert body["secret"].startswith("whsec_")
        return body["id"], body["secret"]


async def test_every_event_arrives_though_the_receiver_is_killed_mid_run(tmp_path: Path) -> None:
    out = tmp_path / "received.jsonl"
    port = free_port()
    async with (
        await open_log("memory://", default_registry) as log,
        gateway(log, tmp_path) as (
            served,
            writer,
        ),
    ):
        webhook_id, secret = await register(served, port)
        with receiver(port, out, secret) as first:
            await append(served, writer, 0, 300)
            for _ in range(500):
                if len(received(out)) >= 100:
                    break
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait()
        await append(served, writer, 300, 300)
        await asyncio.sleep(0.3)
        with receiver(port, out, secret):
            got = await delivered_all(out, log)
        assert got == await stored(log)
        ids = {e["id"] for e in received(out)}
        assert len(ids) == 600
        async with served.client(served.admin_key) as admin:
            dead = await admin.get(f"/v1/webhooks/{webhook_id}/dead")
            assert dead.json() == []
            [status] = (await admin.get("/v1/webhooks")).json()
            assert status["retries"] > 0


async def test_a_restarted_gateway_resumes_from_the_last_acknowledged_position(
    tmp_path: Path,
) -> None:
    out = tmp_path / "received.jsonl"
    port = free_port()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    async with await open_log(url, default_registry) as log:
        async with gateway(log, tmp_path) as (served, writer):
            _, secret = await register(served, port)
            with receiver(port, out, secret):
                await append(served, writer, 0, 200)
                await delivered_all(out, log)
        before = len(received(out))
        async with gateway(log, tmp_path) as (served, writer):
            await append(served, writer, 200, 200)
            with receiver(port, out, secret):
                got = await delivered_all(out, log)
        assert got == await stored(log)
        resent = len(received(out)) - 400
        assert before == 200
        assert 0 <= resent < 200
