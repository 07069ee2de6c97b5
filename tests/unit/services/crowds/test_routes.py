"""``GET /v1/crowds/venues`` over a real gateway and worker: readings in, venues out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.unit.gateway.served import Served, serve

from flambeau.events import NewEvent, default_registry
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Worker
from flambeau.services.crowds.processors import occupancy, situation, staffing
from flambeau.services.crowds.routes import routes
from flambeau.services.crowds.schemas import FORECASTS, SENSORS, STAFFING, UNITS, VenueUnitEnd


@dataclass
class Running:
    served: Served
    log: Log
    writer: str

    async def post(self, *events: dict[str, Any]) -> None:
        async with self.served.client(self.writer) as client:
            reply = await client.post(f"/v1/streams/{SENSORS}/events", json=list(events))
            assert reply.status_code == 200, reply.text
            assert reply.json()["rejected"] == 0


async def start(tmp_path: Path, config: GatewayConfig | None = None) -> AsyncIterator[Running]:
    log = await open_log("memory://", default_registry)
    worker = Worker(log, [occupancy, situation, staffing], idle_wait=0.05)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, config, routers=routes) as served:
            writer = await served.key(f"write:{SENSORS}", tenant="venues")
            yield Running(served, log, writer)
    finally:
        worker.stop()
        await working
        await log.aclose()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for value in start(tmp_path):
        yield value


@pytest.fixture
async def private(tmp_path: Path) -> AsyncIterator[Running]:
    async for value in start(tmp_path, GatewayConfig(data_dir=tmp_path, public_streams=())):
        yield value


def sensor(data: dict[str, Any], minute: int) -> dict[str, Any]:
    return {"key": data["venue"], "time": f"2024-08-04T16:{minute:02d}:00Z", "data": data}


async def venues_until(running: Running, count: int, **params: str) -> list[dict[str, Any]]:
    async with running.served.client() as client:
        for _ in range(200):
            reply = await client.get("/v1/crowds/venues", params=params)
            assert reply.status_code == 200, reply.text
            body: list[dict[str, Any]] = reply.json()
            if len(body) >= count:
                return body
            await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} venues after waiting: {body}")


async def test_venues_show_occupancy_level_and_alert(running: Running) -> None:
    await running.post(
        sensor({"type": "venue_configured", "venue": "STA", "capacity": 77000,
                "area": "STA-F", "area_m2": 1000}, 0),
        sensor({"type": "gate_count", "venue": "STA", "gate": "STA-G01", "entered": 900,
                "exited": 10}, 1),
        sensor({"type": "area_density", "venue": "STA", "area": "STA-F", "people": 1500,
                "area_m2": 1000}, 1),
        sensor({"type": "area_density", "venue": "BCY", "area": "BCY-F", "people": 10,
                "area_m2": 800}, 1),
    )  # fmt: skip
    body = await venues_until(running, 2)
    assert [v["venue"] for v in body] == ["BCY", "STA"]
    sta = body[1]
    assert (sta["occupancy"], sta["capacity"], sta["level"], sta["alert"]) == (
        890,
        77000,
        "E",
        True,
    )
    dense = await venues_until(running, 1, min_level="D")
    assert [v["venue"] for v in dense] == ["STA"]
    async with running.served.client() as client:
        one = await client.get("/v1/crowds/venues/BCY")
        assert one.status_code == 200
        assert one.json()["level"] == "A"
        missing = await client.get("/v1/crowds/venues/XYZ")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert "XYZ" in missing.json()["detail"]


async def test_public_venues_need_no_key_but_a_bad_or_revoked_key_is_refused(
    running: Running,
) -> None:
    served = running.served
    revoked = await served.key("read:*")
    record = next(r for r in served.gateway.keys.records() if r.tenant == "acme")
    await served.gateway.keys.revoke(record.key_id)
    async with served.client() as anonymous:
        assert (await anonymous.get("/v1/crowds/venues")).status_code == 200
    async with served.client("fbk_000000000000_not-a-key") as wrong:
        assert (await wrong.get("/v1/crowds/venues")).status_code == 401
    async with served.client(revoked) as client:
        reply = await client.get("/v1/crowds/venues")
        assert reply.status_code == 401
        assert "revoked" in reply.json()["detail"]


async def test_private_deployment_needs_a_key_with_read_scope(private: Running) -> None:
    served = private
    other = await served.served.key("read:results.*")
    reader = await served.served.key("read:crowds.venues")
    async with served.served.client() as anonymous:
        assert (await anonymous.get("/v1/crowds/venues")).status_code == 401
    async with served.served.client(other) as client:
        reply = await client.get("/v1/crowds/venues/STA")
        assert reply.status_code == 403
        assert "crowds.venues" in reply.json()["detail"]
    async with served.served.client(reader) as client:
        assert (await client.get("/v1/crowds/venues")).json() == []


async def until(running: Running, path: str, ready: Any, key: str | None = None) -> Any:
    async with running.served.client(key) as client:
        for _ in range(200):
            reply = await client.get(path)
            assert reply.status_code in (200, 404), reply.text
            if reply.status_code == 200 and ready(reply.json()):
                return reply.json()
            await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never became ready: {reply.text}")


async def test_zones_of_a_venue_and_their_alerts(running: Running) -> None:
    await running.post(
        sensor({"type": "zone_configured", "venue": "STA", "zone": "STA-G01", "role": "gate",
                "area_m2": 200, "exit_width_m": 4.0}, 0),
        sensor({"type": "zone_configured", "venue": "STA", "zone": "STA-STAND-N",
                "role": "stand", "kind": "stair", "area_m2": 1000}, 0),
        sensor({"type": "gate_count", "venue": "STA", "gate": "STA-G01", "entered": 400}, 1),
        sensor({"type": "area_density", "venue": "STA", "area": "STA-STAND-N", "people": 600,
                "area_m2": 1000}, 1),
        sensor({"type": "gate_count", "venue": "STA", "gate": "STA-G01", "entered": 40}, 2),
    )  # fmt: skip
    zones = await until(running, "/v1/crowds/venues/STA/zones", lambda b: b[0]["flow"] == 10)
    assert [(z["zone"], z["role"], z["kind"], z["level"], z["alert"]) for z in zones] == [
        ("STA-G01", "gate", "walkway", "A", False),
        ("STA-STAND-N", "stand", "stair", "B", False),
    ]
    alerts = await until(running, "/v1/crowds/alerts", lambda b: len(b) == 1)
    assert [(a["zone"], a["open"], a["level"], a["flow"]) for a in alerts] == [
        ("STA-G01", False, "A", 10.0)  # raised at 100 p/m/min, cleared at 10
    ]
    async with running.served.client() as client:
        assert (await client.get("/v1/crowds/alerts", params={"open": "true"})).json() == []
        missing = await client.get("/v1/crowds/venues/BCY/zones")
        assert missing.status_code == 404
        assert "BCY" in missing.json()["detail"]
        bad = await client.get("/v1/crowds/alerts", params={"venue": "not a venue"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")


async def test_forecasts_need_a_key_that_may_read_them(running: Running) -> None:
    end = VenueUnitEnd(venue="STA", unit="FBLMTEAM11------------FNL-000100--",
                       estimated_end=datetime(2024, 8, 9, 18, 50, tzinfo=UTC))  # fmt: skip
    await running.log.append(UNITS, [NewEvent(end, key="STA")])
    await running.post(
        sensor({"type": "zone_configured", "venue": "STA", "zone": "STA-G01", "role": "gate",
                "area_m2": 200, "exit_width_m": 10.0}, 0),
        sensor({"type": "gate_count", "venue": "STA", "gate": "STA-G01", "entered": 8200}, 1),
    )  # fmt: skip
    reader = await running.served.key(f"read:{FORECASTS}")
    other = await running.served.key("read:crowds.venues")
    body = await until(
        running, "/v1/crowds/forecasts?venue=STA", lambda b: b and b[0]["occupancy"], reader
    )
    assert (body[0]["egress_s"], body[0]["over_limit"], body[0]["empties_at"]) == (
        600, True, "2024-08-09T19:00:00Z"
    )  # fmt: skip
    planner = await running.served.key(f"read:{STAFFING}")
    plans = await until(running, "/v1/crowds/staffing?venue=STA", lambda b: b, planner)
    (plan,) = plans
    assert plan["unit"] == "FBLMTEAM11------------FNL-000100--"
    # 8,200 inside at a final: 55 stewards (1 per 150), 14 more for the long egress, 17 police
    assert [(s["stewards"], s["police"]) for s in plan["slots"]] == [(69, 17), (69, 17)]
    async with running.served.client() as anonymous:
        assert (await anonymous.get("/v1/crowds/forecasts")).status_code == 401
        assert (await anonymous.get("/v1/crowds/staffing")).status_code == 401
    async with running.served.client(other) as client:
        refused = await client.get("/v1/crowds/forecasts")
        assert refused.status_code == 403
        assert FORECASTS in refused.json()["detail"]
        assert (await client.get("/v1/crowds/staffing")).status_code == 403
