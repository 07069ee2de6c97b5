"""Mobility reaction chains, end to end over HTTP, followed by ``causation_id``:

- closure → rerouted delivery → new ETA → the supplier's webhook;
- closure that makes a deadline impossible → late-risk alert (no alternative departure) → the
  supplier's webhook; another supplier's deliveries never reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flambeau.events import default_registry
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.processing import Worker
from flambeau.services.mobility.processors import dispatch, lines
from flambeau.services.mobility.routes import routes
from flambeau.services.mobility.schemas import DELIVERIES, ROUTES
from tests.integration.webhooks.test_delivery import (
    LOCAL_RECEIVERS,
    free_port,
    received,
    receiver,
)
from tests.unit.gateway.served import Served, serve
from tests.unit.services.mobility.feeds import cifs, closure


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with await open_log("memory://", default_registry) as log:
        worker = Worker(log, [dispatch, lines], idle_wait=0.02)
        working = asyncio.create_task(worker.run())
        try:
            config = GatewayConfig(data_dir=tmp_path, webhook_allow_networks=LOCAL_RECEIVERS)
            async with serve(log, tmp_path, config, routers=routes) as running:
                yield running
        finally:
            worker.stop()
            await working


async def deliver(served: Served, key: str, delivery_id: str, **times: str) -> None:
    body = {"origin": "RUN", "destination": "VIL", "vehicle_class": "truck",
            "cargo": "athletes' meals, Village", "delivery_id": delivery_id, **times}  # fmt: skip
    async with served.client(key) as client:
        reply = await client.post("/v1/mobility/deliveries", json=body)
        assert reply.status_code == 201, reply.text


async def hooked(out: Path, count: int) -> list[dict[str, Any]]:
    for _ in range(500):
        got = received(out)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"the webhook received {received(out)}")


async def test_closure_reroutes_and_alerts_reach_the_suppliers_webhook(
    served: Served, tmp_path: Path
) -> None:
    sodexo = await served.key(f"write:{DELIVERIES}", f"read:{ROUTES}", tenant="sodexo")
    elior = await served.key(f"write:{DELIVERIES}", tenant="elior")
    port, out = free_port(), tmp_path / "hook.jsonl"
    async with served.client(sodexo) as client:
        made = await client.post("/v1/webhooks", json={
            "stream": ROUTES, "url": f"http://127.0.0.1:{port}/", "start": "earliest"})  # fmt: skip
        assert made.status_code == 201, made.text
    with receiver(port, out, made.json()["secret"]):
        await deliver(served, sodexo, "on-time", departure=at(60), deadline=at(300))
        await deliver(served, elior, "other", departure=at(60), deadline=at(300))
        [first] = await hooked(out, 1)
        route = first["data"]
        free_s = route["duration_s"]
        tight = {"departure": at(-5), "deadline": at(-5 + free_s / 60 + 0.3)}
        await deliver(served, sodexo, "tight", **tight)
        await hooked(out, 2)
        path = route["path"]
        middle = [tuple(p) for p in path[len(path) // 2 - 1 : len(path) // 2 + 2]]
        incident = closure("on-route", middle, start=at(-10), end=at(540))
        async with served.client(served.admin_key) as admin:
            posted = await admin.post("/v1/adapters/cifs", content=cifs(incident),
                                      headers={"Content-Type": "application/json"})  # fmt: skip
        [cifs_event] = posted.json()["ids"]
        got = await hooked(out, 5)
    kinds = sorted((e["data"]["delivery_id"], e["data"]["type"], e["data"].get("reason", ""))
                   for e in got)  # fmt: skip
    assert kinds == [
        ("on-time", "delivery_routed", "closure"),
        ("on-time", "delivery_routed", "registered"),
        ("tight", "delivery_routed", "closure"),
        ("tight", "delivery_routed", "registered"),
        ("tight", "late_risk", "late"),
    ]
    rerouted = next(e for e in got if e["data"].get("reason") == "closure"
                    and e["data"]["delivery_id"] == "on-time")  # fmt: skip
    assert rerouted["causation_id"] == cifs_event
    assert rerouted["data"]["duration_s"] > free_s
    assert rerouted["data"]["eta"] > route["eta"]
    late = next(e for e in got if e["data"]["type"] == "late_risk")
    assert late["causation_id"] == cifs_event
    assert late["data"]["incident_id"] == "on-route"
    assert late["data"]["best_departure"] is None
    assert late["data"]["late_by_s"] > 0
