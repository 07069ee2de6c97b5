"""Only the platform writes what the platform derives: every written stream refuses ingest.

A real gateway (uvicorn) serves every service's streams and routes, as ``flambeau up`` does.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import pkgutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import flambeau.app as assembly
import flambeau.services
from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import default_processors
from tests.unit.gateway.served import Served, serve

DERIVED = "urn:flambeau:problem:derived-stream"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Served, Log]]:
    log = await open_log("memory://", default_registry)
    try:
        async with serve(log, tmp_path, routers=assembly.gateway_routes) as running:
            yield running, log
    finally:
        await log.aclose()


async def _partner_key(running: Served, *scopes: str) -> str:
    """A key created as an admin creates one: over HTTP."""
    async with running.client(running.admin_key) as admin:
        reply = await admin.post("/v1/keys", json={"tenant": "partner", "scopes": list(scopes)})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["key"])


async def test_a_write_star_key_cannot_grant_itself_an_admin_key(
    served: tuple[Served, Log],
) -> None:
    running, log = served
    partner = await _partner_key(running, "write:*", "read:*")
    chosen = "fbk_0123456789ab_" + "x" * 40
    forged = {
        "data": {
            "type": "key_created",
            "key_id": "0123456789ab",
            "tenant": "x",
            "scopes": ["admin"],
            "sha256": hashlib.sha256(chosen.encode()).hexdigest(),
            "created_at": "2024-07-26T19:30:00Z",
        }
    }
    default_registry.json_decoder("admin.keys").decode(json.dumps(forged["data"]))  # valid
    async with running.client(partner) as client:
        refused = await client.post("/v1/streams/admin.keys/events", json=forged)
        hidden = await client.get("/v1/streams/admin.keys")
    async with running.client(running.admin_key) as admin:
        by_admin = await admin.post("/v1/streams/admin.keys/events", json=forged)
    assert refused.status_code == 403
    assert refused.json()["type"] == DERIVED
    assert "the gateway" in refused.json()["detail"]
    assert "POST /v1/keys" in refused.json()["detail"]
    assert by_admin.status_code == 403
    assert by_admin.json()["type"] == DERIVED
    assert hidden.status_code == 403  # read:* does not read admin.keys either
    await running.gateway.keys.refresh()
    async with running.client(chosen) as client:
        assert (await client.get("/v1/keys")).status_code == 401
    keys = [record.key_id for record in running.gateway.keys.records()]
    assert "0123456789ab" not in keys
    assert (await log.info("admin.keys")).end == {0: len(keys)}


async def test_a_results_key_cannot_forge_the_medal_table(served: tuple[Served, Log]) -> None:
    running, log = served
    results = await _partner_key(running, "write:results.*")
    count = {
        "key": "OG2024",
        "data": {
            "type": "medal_count",
            "competition": "OG2024",
            "noc": "FRA",
            "gold": 99,
            "silver": 0,
            "bronze": 0,
            "total": 99,
        },
    }
    default_registry.json_decoder("results.medals").decode(json.dumps(count["data"]))  # valid
    async with running.client(results) as client:
        reply = await client.post("/v1/streams/results.medals/events", json=count)
        described = await client.get("/v1/streams/results.medals")
    assert reply.status_code == 403
    problem = reply.json()
    assert problem["type"] == DERIVED
    assert "processor results.medal-table" in problem["detail"]
    assert "results.odf (POST /v1/adapters/odf)" in problem["detail"]
    assert "results.native (POST /v1/results/documents)" in problem["detail"]
    assert set((await log.info("results.medals")).end.values()) == {0}
    assert described.json()["writer"]["processors"] == ["results.medal-table"]


def _route_appends() -> set[str]:
    """Streams a service module appends to with ``<...>.log.append(STREAM, ...)``, found by
    reading every service module's source, so a new route cannot forget to declare itself."""
    found: set[str] = set()
    for info in pkgutil.walk_packages(flambeau.services.__path__, "flambeau.services."):
        module = importlib.import_module(info.name)
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if node.func.attr != "append" or not (
                isinstance(owner, ast.Attribute) and owner.attr == "log"
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant):
                found.add(str(first.value))
            else:
                assert isinstance(first, ast.Name), ast.unparse(node)
                found.add(str(getattr(module, first.id)))
    return found


async def test_every_stream_a_route_appends_to_declares_that_route(
    served: tuple[Served, Log],
) -> None:
    running, _ = served
    appended = _route_appends()
    assert {"results.odf", "results.native", "results.rejected"} <= appended
    assert {"payments.requests", "betting.bets"} <= appended
    async with running.client() as client:
        document = (await client.get("/schema/openapi.json")).json()
    served_routes = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    for stream in appended:
        writer = default_registry.spec(stream).writer
        assert writer is not None, f"{stream} is appended to by a route but declares no writer"
        assert writer.kind == "route", stream
        assert set(writer.routes) <= served_routes, (stream, writer.routes)


async def test_every_stream_a_processor_or_route_writes_refuses_every_key(
    served: tuple[Served, Log],
) -> None:
    running, log = served
    written = {stream for p in default_processors for stream in p.writes} | _route_appends()
    assert {"results.medals", "payments.transfers", "betting.odds", "crowds.venues"} <= written
    assert {"ops.health", "results.unit-state.late", "payments.ledger.dead"} <= written
    producers = {spec.name for spec in default_registry if spec.writer is None}
    assert producers.isdisjoint(written)
    assert "crowds.sensors" in producers
    star = await _partner_key(running, "write:*", "read:*")
    before = {stream: await log.end_offsets(stream) for stream in written}
    for key in (running.admin_key, star):
        async with running.client(key) as client:
            for stream in sorted(written):
                body = {"data": {"type": "anything"}}
                reply = await client.post(f"/v1/streams/{stream}/events", json=body)
                assert (reply.status_code, reply.json()["type"]) == (403, DERIVED), stream
                writer = default_registry.spec(stream).writer
                assert writer is not None
                assert writer.describe() in reply.json()["detail"]
    assert {stream: await log.end_offsets(stream) for stream in written} == before
