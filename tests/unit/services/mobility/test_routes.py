"""The mobility routes over a real gateway and worker: adapters, deliveries, tenants, access."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.unit.gateway.served import Served, serve

from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Worker
from flambeau.services.mobility.processors import dispatch, lines
from flambeau.services.mobility.routes import routes
from flambeau.services.mobility.schemas import DELIVERIES, FEED, INCIDENTS, REJECTED

from .feeds import cifs, closure, strike

PROTOBUF = {"Content-Type": "application/x-protobuf"}
LINE = [(48.90, 2.30), (48.91, 2.31)]


@dataclass
class Running:
    served: Served
    log: Log

    async def count(self, stream: str) -> int:
        return sum((await self.log.end_offsets(stream)).values())

    async def client(self, *scopes: str, tenant: str = "acme") -> httpx.AsyncClient:
        return self.served.client(await self.served.key(*scopes, tenant=tenant))


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    log = await open_log("memory://", default_registry)
    worker = Worker(log, [dispatch, lines], idle_wait=0.02)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as served:
            yield Running(served, log)
    finally:
        worker.stop()
        await working
        await log.aclose()


async def until(get: Callable[[], Any], check: Callable[[Any], bool]) -> Any:
    for _ in range(300):
        value = await get()
        if check(value):
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"never reached: {value}")


async def test_adapters_store_feeds_and_refuse_bad_bodies_naming_the_field(
    running: Running,
) -> None:
    async with await running.client(f"write:{FEED}", f"write:{INCIDENTS}") as client:
        ok = await client.post("/v1/adapters/gtfs-rt", content=strike(), headers=PROTOBUF)
        assert ok.status_code == 200, ok.text
        assert (ok.json()["accepted"], ok.json()["duplicates"]) == (3, 0)
        again = await client.post("/v1/adapters/gtfs-rt", content=strike(), headers=PROTOBUF)
        assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 3)
        bad = await client.post("/v1/adapters/gtfs-rt", content=b"\x08\xff", headers=PROTOBUF)
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["type"] == "urn:flambeau:problem:malformed-protobuf"
        assert bad.json()["errors"][0]["field"] == "FeedMessage"
        polyline = cifs(closure("c-1", LINE), {**closure("c-2", LINE), "polyline": "48.9 x"})
        refused = await client.post(
            "/v1/adapters/cifs", content=polyline, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "incidents[1].incident.polyline"
        wrong = await client.post("/v1/adapters/cifs", content=b"{}", headers=PROTOBUF)
        assert wrong.status_code == 415
    assert await running.count(FEED) == 3
    assert await running.count(INCIDENTS) == 0
    assert await running.count(REJECTED) == 2


async def test_adapters_need_the_write_scope(running: Running) -> None:
    async with await running.client(f"write:{FEED}") as client:
        reply = await client.post("/v1/adapters/cifs", json={"incidents": []})
        assert reply.status_code == 403
    async with running.served.client() as anonymous:
        reply = await anonymous.post("/v1/adapters/gtfs-rt", content=strike(), headers=PROTOBUF)
        assert reply.status_code == 401


def soon(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def body(**fields: Any) -> dict[str, Any]:
    return {
        "origin": "RUN",
        "destination": "VIL",
        "vehicle_class": "truck",
        "departure": soon(1),
        "deadline": soon(5),
        "cargo": "athletes' meals, Village",
        **fields,
    }


async def test_bad_deliveries_are_refused_naming_the_field_and_nothing_is_stored(
    running: Running,
) -> None:
    async with await running.client(f"write:{DELIVERIES}") as client:
        vehicle = await client.post("/v1/mobility/deliveries", json=body(vehicle_class="tank"))
        assert vehicle.status_code == 400
        assert vehicle.json()["errors"][0]["field"] == "vehicle_class"
        place = await client.post("/v1/mobility/deliveries", json=body(origin="NOWHERE"))
        assert place.status_code == 422
        assert place.json()["errors"][0]["field"] == "origin"
        times = await client.post("/v1/mobility/deliveries", json=body(deadline=soon(0.5)))
        assert times.status_code == 422
        assert times.json()["errors"][0]["field"] == "deadline"
        extra = await client.post("/v1/mobility/deliveries", json=body(tenant="someone-else"))
        assert extra.status_code == 400
    assert await running.count(DELIVERIES) == 0


async def test_a_supplier_sees_only_its_own_deliveries_rerouted_by_a_closure(
    running: Running,
) -> None:
    writer_a = await running.client(f"write:{DELIVERIES}", tenant="sodexo")
    writer_b = await running.client(f"write:{DELIVERIES}", tenant="elior")
    reader_a = await running.client("read:mobility.routes", tenant="sodexo")
    reader_b = await running.client("read:mobility.routes", tenant="elior")
    async with writer_a, writer_b, reader_a, reader_b:
        made = await writer_a.post("/v1/mobility/deliveries", json=body(delivery_id="m-1"))
        assert made.status_code == 201, made.text
        assert made.json()["tenant"] == "sodexo"
        await writer_b.post("/v1/mobility/deliveries", json=body(delivery_id="m-2"))
        mine = await until(
            lambda: reader_a.get("/v1/mobility/deliveries"), lambda r: len(r.json()) == 1
        )
        [view] = mine.json()
        assert view["route"]["delivery_id"] == "m-1"
        assert (await reader_b.get("/v1/mobility/deliveries/m-1")).status_code == 404
        path = view["route"]["path"]
        middle = path[len(path) // 2 - 1 : len(path) // 2 + 2]
        incident = closure("on-route", [tuple(p) for p in middle], start=soon(0), end=soon(9))
        json_type = {"Content-Type": "application/json"}
        async with running.served.client(running.served.admin_key) as client:
            posted = await client.post(
                "/v1/adapters/cifs", content=cifs(incident), headers=json_type
            )
            assert posted.status_code == 200, posted.text
        rerouted = await until(
            lambda: reader_a.get("/v1/mobility/deliveries/m-1"),
            lambda r: r.json()["reroutes"] == 1,
        )
        assert rerouted.json()["route"]["incident_id"] == "on-route"
        assert rerouted.json()["route"]["duration_s"] > view["route"]["duration_s"]


async def test_the_access_display_shows_lines_roads_and_hub_times(running: Running) -> None:
    admin = {"Authorization": f"Bearer {running.served.admin_key}"}
    async with running.served.client() as client:
        await client.post("/v1/adapters/gtfs-rt", content=strike(), headers={**admin, **PROTOBUF})
        near = closure("sta-gate", [(48.9220, 2.3560), (48.9260, 2.3560)], start=soon(0), end=None)
        await client.post("/v1/adapters/cifs", content=cifs(near),
                          headers={**admin, "Content-Type": "application/json"})  # fmt: skip
        access = await until(
            lambda: client.get("/v1/mobility/venues/STA/access"),
            lambda r: r.status_code == 200 and r.json()["roads"] and r.json()["state"] == "closed",
        )
        display = access.json()
        lines_by_id = {line["route_id"]: line for line in display["lines"]}
        assert lines_by_id["RER-B"]["state"] == "closed"
        assert lines_by_id["RER-D"]["state"] == "open"
        assert display["roads"][0]["incident_id"] == "sta-gate"
        assert {h["hub"] for h in display["from_hubs"]} == {"GDN", "CHT", "GDL", "LDF"}
        assert all(h["minutes"] > 0 for h in display["from_hubs"])
        roads = await client.get("/v1/mobility/roads")
        assert [r["incident_id"] for r in roads.json()] == ["sta-gate"]
        assert (await client.get("/v1/mobility/venues/XYZ/access")).status_code == 404
