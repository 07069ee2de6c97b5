"""Incident routes over a real gateway and worker: reports in, operators acknowledge and resolve."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.unit.gateway.served import Served, serve

from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.processing import Worker
from flambeau.services.crowds.incidents import incidents
from flambeau.services.crowds.routes import routes
from flambeau.services.crowds.schemas import ACTIONS, INCIDENTS, REPORTS


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    log = await open_log("memory://", default_registry)
    worker = Worker(log, [incidents], idle_wait=0.05)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as running:
            yield running
    finally:
        worker.stop()
        await working
        await log.aclose()


def report(zone: str, kind: str = "abandoned_object") -> dict[str, Any]:
    return {"key": "STA", "data": {"type": "incident_report", "venue": "STA", "zone": zone,
            "kind": kind, "reporter": "steward", "source": "STEWARD-7"}}  # fmt: skip


async def incidents_until(
    served: Served, key: str, ready: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    async with served.client(key) as client:
        for _ in range(200):
            reply = await client.get("/v1/crowds/incidents")
            assert reply.status_code == 200, reply.text
            body: list[dict[str, Any]] = reply.json()
            if ready(body):
                return body
            await asyncio.sleep(0.02)
    raise AssertionError(f"incidents never became ready: {body}")


async def test_an_operator_acknowledges_then_resolves_a_reported_incident(served: Served) -> None:
    steward = await served.key(f"write:{REPORTS}", tenant="stewards")
    operator = await served.key(f"write:{ACTIONS}", f"read:{INCIDENTS}", tenant="security")
    async with served.client(steward) as client:
        sent = [report("STA-GATE-3"), report("STA-GATE-3"), report("STA-STAND-N", "fire")]
        reply = await client.post(f"/v1/streams/{REPORTS}/events", json=sent)
        assert reply.json()["rejected"] == 0
        bad = await client.post(
            f"/v1/streams/{REPORTS}/events", json=[report("STA-GATE-3", "alien_landing")]
        )
        assert bad.status_code == 422
        assert "kind" in bad.text
    body = await incidents_until(served, operator, lambda b: len(b) == 2 and b[-1]["reports"] == 2)
    gate = next(i for i in body if i["zone"] == "STA-GATE-3")
    assert (gate["id"], gate["status"], gate["reports"]) == ("STA-00001", "open", 2)
    async with served.client(operator) as client:
        ack = await client.post("/v1/crowds/incidents/STA-00001/ack")
        assert ack.status_code == 202, ack.text
    await incidents_until(served, operator, lambda b: b[-1]["status"] == "acknowledged")
    async with served.client(operator) as client:
        again = await client.post("/v1/crowds/incidents/STA-00001/ack")
        assert again.status_code == 409
        assert "acknowledged" in again.json()["detail"]
        done = await client.post("/v1/crowds/incidents/STA-00001/resolve")
        assert done.status_code == 202
    body = await incidents_until(served, operator, lambda b: b[-1]["status"] == "resolved")
    assert body[-1]["operator"] == served.gateway.keys.records()[-1].key_id


async def test_incident_routes_check_scopes_and_ids(served: Served) -> None:
    reader = await served.key(f"read:{INCIDENTS}")
    async with served.client() as anonymous:
        assert (await anonymous.get("/v1/crowds/incidents")).status_code == 401
        assert (await anonymous.post("/v1/crowds/incidents/STA-00001/ack")).status_code == 401
    async with served.client(reader) as client:
        assert (await client.get("/v1/crowds/incidents")).json() == []
        refused = await client.post("/v1/crowds/incidents/STA-00001/resolve")
        assert refused.status_code == 403
        assert ACTIONS in refused.json()["detail"]
    operator = await served.key(f"write:{ACTIONS}")
    async with served.client(operator) as client:
        malformed = await client.post("/v1/crowds/incidents/nope/ack")
        assert malformed.status_code == 400
        assert malformed.json()["errors"][0]["field"] == "incident_id"
        assert (await client.post("/v1/crowds/incidents/STA-00042/ack")).status_code == 404
    writer = await served.key(f"write:{ACTIONS}")
    async with served.client(writer) as client:
        direct = await client.post(f"/v1/streams/{ACTIONS}/events", json=[{"key": "STA", "data": {
            "type": "incident_action", "venue": "STA", "incident": "STA-00001",
            "action": "resolve", "operator": "me"}}])  # fmt: skip
        assert direct.status_code == 403  # only the routes write crowds.actions


async def test_a_key_learns_whether_it_may_act_on_incidents(served: Served) -> None:
    operator = await served.key(f"write:{ACTIONS}", f"read:{INCIDENTS}", tenant="security")
    reader = await served.key("read:*", tenant="room")
    stranger = await served.key(f"read:{REPORTS}", tenant="other")
    path = "/v1/crowds/incidents/permissions"
    for key, allowed in ((operator, True), (reader, False)):
        async with served.client(key) as client:
            reply = await client.get(path)
            assert reply.status_code == 200, reply.text
            assert reply.json() == {"allowed": allowed, "scope": f"write:{ACTIONS}"}
    async with served.client(stranger) as client:
        refused = await client.get(path)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
    async with served.client(None) as client:
        assert (await client.get(path)).status_code == 401
