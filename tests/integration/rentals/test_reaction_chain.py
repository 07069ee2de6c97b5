"""Result to demand to price, end to end over HTTP, a real worker and SQLite, by causation_id.

A results source posts a final's start list naming France to ``/v1/results/documents``; the
results processors publish it on ``results.units``; ``rentals.units-by-event`` re-keys it by
event; ``rentals.games`` turns it into Games demand in the venue's area (configuration says the
venue lodges its fans in ``lyon``); and ``rentals.pricing`` raises the area's listing-nights.
Each price names the demand record as its cause, which names the ``rentals.units`` copy, which
names the ``results.units`` record, which names the document the source posted.

The second test plays the issue's chain: a semi-final's official result → demand in the
final's area → price change, with the final scheduled but its start list not yet out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from flambeau.app import gateway_routes
from flambeau.events import Record, default_registry
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.rentals.processors import PROCESSORS as RENTALS
from flambeau.services.rentals.schemas import (
    CONFIG,
    DEMAND,
    INVENTORY,
    PRICES,
    SIGNALS,
    UNITS_BY_EVENT,
    NationFans,
    PriceSet,
)
from flambeau.services.results.processors import schedule_state, unit_state
from flambeau.services.results.schemas import NATIVE, UNITS
from tests.unit.gateway.served import Served, serve

FINAL = "SWMW100MFR------------FNL-000100--"
SEMI = "SWMW100MFR------------SFNL000200--"
TODAY = date.today()
START = datetime.combine(TODAY + timedelta(days=10), time(19), UTC)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[tuple[Served, Log]]:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}", default_registry)
    worker = Worker(log, [unit_state, schedule_state, *RENTALS], idle_wait=0.02)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=gateway_routes) as served:
            yield served, log
    finally:
        worker.stop()
        await working
        await log.aclose()


async def records(log: Log, stream: str) -> list[Record[Any]]:
    found: list[Record[Any]] = []
    for partition in range(default_registry.spec(stream).partitions):
        found += [
            default_registry.decode(stream, r)
            for r in await log.read(stream, partition, 0, 100_000)
        ]
    return found


async def until(log: Log, stream: str, want: Any) -> list[Record[Any]]:
    for _ in range(500):
        found = [r for r in await records(log, stream) if want(r)]
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing wanted on {stream}")


def start_list() -> dict[str, Any]:
    return {"type": "unit_result", "competition": "OG2024", "unit": FINAL, "discipline": "SWM",
            "version": 1, "status": "start_list", "shape": "timed", "venue": "LYO",
            "start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat(),
            "competitors": [{"competitor": {"code": "1", "noc": "FRA"}},
                            {"competitor": {"code": "2", "noc": "AUS"}}]}  # fmt: skip


async def configured(served: Served, log: Log) -> list[Record[Any]]:
    """Configuration, two listings in ``lyon``: the first prices of the final's night."""
    config = await served.key(f"write:{CONFIG}", tenant="organiser")
    host = await served.key(f"write:{INVENTORY}", tenant="host-a")
    async with served.client(config) as client:
        reply = await client.post(f"/v1/streams/{CONFIG}/events", json=[
            {"key": "LYO", "data": {"type": "venue_area", "venue": "LYO", "area": "lyon"}},
            {"key": "FRA", "data": {"type": "nation_fans", "noc": "FRA", "fans": 40_000}},
        ])  # fmt: skip
        assert reply.status_code == 200, reply.text
    async with served.client(host) as client:
        for name in ("L1", "L2"):
            listing = {"listing": name, "kind": "flat", "area": "lyon", "capacity": 2,
                       "base_cents": 9_000, "floor_cents": 5_000, "ceiling_cents": 20_000,
                       "available_from": str(TODAY),
                       "available_to": str(TODAY + timedelta(days=20))}  # fmt: skip
            assert (await client.post("/v1/rentals/listings", json=listing)).status_code == 202
    before = await until(log, PRICES, lambda r: r.data.night == START.date())
    # both settings are copied to each of the 8 partitions of rentals.signals before the result
    await until(log, SIGNALS, lambda r: r.partition == 7 and isinstance(r.data, NationFans))
    return before


async def test_a_start_list_moves_prices_in_the_finals_area(platform: tuple[Served, Log]) -> None:
    served, log = platform
    source = await served.key(f"write:{NATIVE}", tenant="results")
    before = await configured(served, log)
    async with served.client(source) as client:
        posted = await client.post("/v1/results/documents", json=start_list())
        assert posted.status_code == 200, posted.text
    (demand,) = await until(log, DEMAND, lambda r: True)
    moved = await until(log, PRICES, lambda r: r.causation_id == demand.id)
    assert {(r.data.listing, r.data.night) for r in moved} == {
        (listing, START.date() + timedelta(days=d)) for listing in ("L1", "L2") for d in (-1, 0)
    }
    old = {r.data.listing: r.data.price_cents for r in before}
    for record in moved:
        price: PriceSet = record.data
        assert price.parts.games > 1
        if price.night == START.date():
            assert price.price_cents > old[price.listing]
    assert (demand.data.fans, demand.data.area) == (42_000, "lyon")
    assert document_of(demand, await chain(log)).data.unit == FINAL


async def chain(log: Log) -> dict[str, Record[Any]]:
    return {r.id: r for s in (UNITS_BY_EVENT, UNITS, NATIVE) for r in await records(log, s)}


def document_of(demand: Record[Any], known: dict[str, Record[Any]]) -> Record[Any]:
    """The native document at the root of ``demand``'s chain: rentals.units, results.units."""
    copy = known[demand.causation_id or ""]
    assert copy.stream == UNITS_BY_EVENT
    unit = known[copy.causation_id or ""]
    assert unit.stream == UNITS
    document = known[unit.causation_id or ""]
    assert document.stream == NATIVE
    return document


def semi_final_official() -> dict[str, Any]:
    begins = START - timedelta(days=1)
    return {"type": "unit_result", "competition": "OG2024", "unit": SEMI, "discipline": "SWM",
            "version": 3, "status": "official", "shape": "timed", "venue": "DEF",
            "start": begins.isoformat(), "end": (begins + timedelta(minutes=5)).isoformat(),
            "competitors": [{"competitor": {"code": "1", "noc": "FRA"}, "rank": 1},
                            {"competitor": {"code": "2", "noc": "GBR"}, "rank": 2},
                            {"competitor": {"code": "3", "noc": "USA"}, "rank": 3},
                            {"competitor": {"code": "4", "noc": "JPN"}, "rank": 4}]}  # fmt: skip


def final_schedule() -> dict[str, Any]:
    entry = {"unit": FINAL, "status": "scheduled", "start": START.isoformat(),
             "end": (START + timedelta(hours=1)).isoformat(), "venue": "LYO"}  # fmt: skip
    return {"type": "schedule_document", "competition": "OG2024", "discipline": "SWM",
            "version": 1, "full": True, "generated_at": (START - timedelta(days=2)).isoformat(),
            "units": [entry]}  # fmt: skip


async def test_an_official_semi_final_moves_prices_in_the_finals_area(
    platform: tuple[Served, Log],
) -> None:
    """Official semi-final result → demand in the final's area → price change."""
    served, log = platform
    source = await served.key(f"write:{NATIVE}", tenant="results")
    before = await configured(served, log)
    async with served.client(source) as client:
        posted = await client.post("/v1/results/documents", json=final_schedule())
        assert posted.status_code == 200, posted.text
        await until(log, UNITS_BY_EVENT, lambda r: r.data.unit == FINAL)
        posted = await client.post("/v1/results/documents", json=semi_final_official())
        assert posted.status_code == 200, posted.text
    (demand,) = await until(log, DEMAND, lambda r: True)
    assert (demand.data.unit, demand.data.nocs, demand.data.area) == (FINAL, ("FRA", "GBR"), "lyon")
    moved = await until(log, PRICES, lambda r: r.causation_id == demand.id)
    old = {r.data.listing: r.data.price_cents for r in before}
    raised = [r.data for r in moved if r.data.night == START.date()]
    assert {p.listing for p in raised} == {"L1", "L2"}
    assert all(p.price_cents > old[p.listing] and p.parts.games > 1 for p in raised)
    document = document_of(demand, await chain(log))
    assert (document.data.unit, document.data.status.value) == (SEMI, "official")
