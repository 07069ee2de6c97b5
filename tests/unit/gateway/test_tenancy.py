"""Per-record tenancy: a subscription sees the records of its key's tenant (and untenanted ones);
the gateway's admin.* streams are readable by admin keys only."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flambeau.events import NewEvent, default_registry
from flambeau.gateway.auth import Principal
from flambeau.log import open_log
from flambeau.services.mobility.schemas import ROUTES, LateRisk
from tests.unit.gateway.served import serve

AT = datetime(2024, 8, 1, 8, tzinfo=UTC)


def alert(delivery: str, tenant: str) -> NewEvent:
    data = LateRisk(delivery_id=delivery, tenant=tenant, eta=AT, deadline=AT, late_by_s=60.0,
                    incident_id="c-1", reason="late", best_departure=None)  # fmt: skip
    return NewEvent(data, key=delivery)


async def events_seen(ws: Any, count: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while len(seen) < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        seen.extend(message.get("events", []))
    return seen


async def test_a_subscription_sees_only_its_tenants_records(tmp_path: Path) -> None:
    async with await open_log("memory://", default_registry) as log, serve(log, tmp_path) as served:
        await log.append(ROUTES, [alert("a-1", "sodexo"), alert("b-1", "elior"),
                                  alert("a-2", "sodexo")])  # fmt: skip
        sodexo = await served.key(f"read:{ROUTES}", tenant="sodexo")
        async with served.ws(key=sodexo) as ws:
            await ws.send(json.dumps({"op": "subscribe", "stream": ROUTES, "from": "earliest"}))
            await log.append(ROUTES, [alert("a-3", "sodexo")])
            seen = await events_seen(ws, 3)
        assert sorted(e["data"]["delivery_id"] for e in seen) == ["a-1", "a-2", "a-3"]
        async with served.ws(key=served.admin_key) as ws:
            await ws.send(json.dumps({"op": "subscribe", "stream": ROUTES, "from": "earliest"}))
            assert len(await events_seen(ws, 4)) == 4


def test_no_pattern_grants_the_gateways_admin_streams() -> None:
    reader = Principal("k1", "acme", ("read:*", "write:*"), "key:k1")
    assert reader.grants("read", ROUTES)
    assert not reader.grants("read", "admin.webhooks")
    assert not reader.grants("read", "admin.webhook_dead")
    assert Principal("k2", "op", ("admin",), "key:k2").grants("read", "admin.webhooks")


def test_the_tenants_scope_lifts_per_record_tenancy() -> None:
    from flambeau.gateway.keys import validate_scope

    assert validate_scope("tenants:*") == "tenants:*"
    room = Principal("k3", "ops-room", ("read:*", "tenants:*"), "key:k3")
    supplier = Principal("k4", "sodexo", ("read:*",), "key:k4")
    assert room.all_tenants
    assert not supplier.all_tenants
