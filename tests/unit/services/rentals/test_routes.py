"""The rentals routes over a real gateway, worker and SQLite log: entitlement and prices."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.unit.gateway.served import Served, serve

from flambeau.events import default_registry
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.rentals.processors import pricing
from flambeau.services.rentals.routes import routes
from flambeau.services.rentals.schemas import INVENTORY

TODAY = date.today()


@dataclass
class Running:
    served: Served
    log: Log
    host_a: str
    host_b: str
    platform: str


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}", default_registry)
    worker = Worker(log, [pricing], idle_wait=0.02)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as served:
            a = await served.key(f"write:{INVENTORY}", tenant="host-a")
            b = await served.key(f"write:{INVENTORY}", tenant="host-b")
            platform = await served.key("read:rentals.prices", tenant="platform")
            yield Running(served, log, a, b, platform)
    finally:
        worker.stop()
        await working
        await log.aclose()


def listing(name: str, **changes: Any) -> dict[str, Any]:
    return {"listing": name, "kind": "flat", "area": "lyon", "capacity": 2,
            "base_cents": 9_000, "floor_cents": 5_000, "ceiling_cents": 15_000,
            "available_from": str(TODAY), "available_to": str(TODAY + timedelta(days=20)),
            **changes}  # fmt: skip


async def price_until(running: Running, key: str, listing: str, night: date, want: Any) -> Any:
    async with running.served.client(key) as client:
        for _ in range(300):
            reply = await client.get(
                f"/v1/rentals/listings/{listing}/price", params={"date": str(night)}
            )
            if reply.status_code == 200 and want(reply.json()):
                return reply.json()
            await asyncio.sleep(0.02)
    raise AssertionError(
        f"no such price of {listing} for {night}: {reply.status_code} {reply.text}"
    )


async def inventory_size(log: Log) -> int:
    return sum((await log.end_offsets(INVENTORY)).values())


async def test_a_host_cannot_read_or_move_another_hosts_listings(running: Running) -> None:
    night = TODAY + timedelta(days=5)
    async with (
        running.served.client(running.host_a) as a,
        running.served.client(running.host_b) as b,
    ):
        assert (await a.post("/v1/rentals/listings", json=listing("L1"))).status_code == 202
        assert (await b.post("/v1/rentals/listings", json=listing("L2"))).status_code == 202
        await price_until(running, running.host_a, "L1", night, lambda body: True)
        size = await inventory_size(running.log)
        stay = {
            "booking": "b9",
            "check_in": str(night),
            "check_out": str(night + timedelta(days=2)),
        }
        refused = [
            await b.get("/v1/rentals/listings/L1/price", params={"date": str(night)}),
            await b.post("/v1/rentals/listings/L1/bookings", json=stay),
            await b.post("/v1/rentals/listings", json=listing("L1", base_cents=5_000)),
        ]
        assert (await a.post("/v1/rentals/listings/L1/bookings", json=stay)).status_code == 202
        refused.append(await b.delete("/v1/rentals/listings/L1/bookings/b9"))
        for reply in refused:
            assert reply.status_code == 403, reply.text
            assert reply.headers["content-type"].startswith("application/problem+json")
            assert "'L1' belongs to another host" in reply.json()["detail"]
        assert await inventory_size(running.log) == size + 1  # only host A's booking
        assert (await a.delete("/v1/rentals/listings/L1/bookings/b9")).status_code == 202
        missing = await a.delete("/v1/rentals/listings/L1/bookings/b9")
        assert missing.status_code == 404


async def test_prices_are_explained_and_listed_by_area(running: Running) -> None:
    night = TODAY + timedelta(days=3)
    async with running.served.client(running.host_a) as a:
        # an empty area's demand sits low: let it move freely below the default bound
        body = listing("L1", floor_cents=3_000, settings={"demand_min": 0.3})
        assert (await a.post("/v1/rentals/listings", json=body)).status_code == 202
        first = await price_until(running, running.host_a, "L1", night, lambda body: True)
        search = {
            "area": "lyon",
            "check_in": str(night),
            "check_out": str(night + timedelta(days=1)),
        }
        for _ in range(5):
            assert (await a.post("/v1/rentals/searches", json=search)).status_code == 202
    moved = await price_until(
        running, running.host_a, "L1", night,
        lambda body: body["price"]["price_cents"] > first["price"]["price_cents"],
    )  # fmt: skip
    assert moved["causation_id"] != first["causation_id"]
    f = moved["price"]["factors"]
    product = math.prod(
        f[k] for k in ("season_dow", "demand", "lead_time", "last_minute", "orphan", "clamp")
    )
    assert math.isclose(f["base_cents"] * product, moved["price"]["price_cents"], rel_tol=1e-9)
    assert moved["price"]["parts"]["pressure"] > 1
    async with running.served.client(running.platform) as platform:
        reply = await platform.get(
            "/v1/rentals/prices", params={"area": "lyon", "date": str(night)}
        )
        assert reply.status_code == 200, reply.text
        assert [p["price"]["listing"] for p in reply.json()["prices"]] == ["L1"]
    async with running.served.client(running.host_a) as a:
        forbidden = await a.get("/v1/rentals/prices", params={"area": "lyon", "date": str(night)})
        assert forbidden.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (listing("L1", base_cents=20_000), "base_cents"),
        (listing("L1", colour="red"), "colour"),
        (listing("L1", host="host-b"), "host"),
        (listing("L1", settings={"weekend": -1}), "settings.weekend"),
        (listing("L1", kind="boat"), "kind"),
    ],
)
async def test_bad_listings_are_refused_naming_the_field(
    running: Running, body: dict[str, Any], field: str
) -> None:
    async with running.served.client(running.host_a) as a:
        reply = await a.post("/v1/rentals/listings", json=body)
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in reply.json()["errors"]] == [field]
    assert await inventory_size(running.log) == 0


async def test_bad_nights_are_refused_naming_the_field(running: Running) -> None:
    night = str(TODAY + timedelta(days=2))
    async with running.served.client(running.host_a) as a:
        assert (await a.post("/v1/rentals/listings", json=listing("L1"))).status_code == 202
        size = await inventory_size(running.log)
        stay = {"booking": "b1", "check_in": night, "check_out": night}
        search = {"area": "lyon", "check_in": night, "check_out": str(TODAY)}
        replies = [
            await a.post("/v1/rentals/listings/L1/bookings", json=stay),
            await a.post(
                "/v1/rentals/listings/L1/views", json={"check_in": night, "check_out": night}
            ),
            await a.post("/v1/rentals/searches", json=search),
        ]
    for reply in replies:
        assert reply.status_code == 400, reply.text
        assert [e["field"] for e in reply.json()["errors"]] == ["check_out"]
    assert await inventory_size(running.log) == size


async def test_writes_carry_the_producers_event_time(running: Running) -> None:
    """A platform replaying 2024 prices 2024 nights: lead times count from its own clock."""
    when = "2024-07-30T10:00:00+02:00"
    replayed = {"available_from": "2024-07-25", "available_to": "2024-08-11", "occurred_at": when}
    night = date(2024, 8, 2)
    async with running.served.client(running.host_a) as a:
        posted = await a.post("/v1/rentals/listings", json=listing("L1", **replayed))
        assert posted.status_code == 202, posted.text
        priced = await price_until(running, running.host_a, "L1", night, lambda body: True)
        # 3 nights ahead of the producer's clock: last-minute (the gateway's clock would
        # have found every 2024 night in the past and priced none)
        assert priced["price"]["factors"]["last_minute"] < 1
        stay = {"booking": "b1", "check_in": "2024-08-05", "check_out": "2024-08-07",
                "occurred_at": "2024-07-30T11:00:00+02:00"}  # fmt: skip
        assert (await a.post("/v1/rentals/listings/L1/bookings", json=stay)).status_code == 202
        cancelled = await a.delete(
            "/v1/rentals/listings/L1/bookings/b1",
            params={"occurred_at": "2024-07-30T12:00:00+02:00"},
        )
        assert cancelled.status_code == 202, cancelled.text
        size = await inventory_size(running.log)
        ahead = str(date.today() + timedelta(days=2)) + "T00:00:00+00:00"
        refused = [
            await a.post("/v1/rentals/searches", json={"area": "lyon", "check_in": "2024-08-01",
                                                       "check_out": "2024-08-02",
                                                       "occurred_at": ahead}),
            await a.post("/v1/rentals/listings/L1/views", json={
                "check_in": "2024-08-01", "check_out": "2024-08-02",
                "occurred_at": "2024-07-30T10:00:00"}),
        ]  # fmt: skip
    for reply in refused:  # ahead of the gateway's clock; without a zone
        assert reply.status_code == 400, reply.text
        assert [e["field"] for e in reply.json()["errors"]] == ["occurred_at"]
    assert await inventory_size(running.log) == size
    stored = [
        default_registry.decode(INVENTORY, r)
        for p in range(4)
        for r in await running.log.read(INVENTORY, p, 0, 100)
    ]
    assert sorted(r.time.isoformat() for r in stored) == [
        "2024-07-30T08:00:00+00:00", "2024-07-30T09:00:00+00:00", "2024-07-30T10:00:00+00:00"
    ]  # fmt: skip
