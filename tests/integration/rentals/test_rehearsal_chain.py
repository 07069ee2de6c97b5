"""The rehearsal's own semi-final moves lodging prices in its final's area, by causation_id.

The simulator (the real driver, over HTTP) plays 4 August 2024, seed 0, from 16:40 (Paris): at
its start the rentals configuration, listings and earlier bookings (sent in the 39 Games
minutes, some 20 s at 120 times real time, before the first semi-final ends), then the kayak cross
semi-finals at Vaires (official at 17:19 and 17:27), whose final is played there at 17:50.
Results, rentals and the relays run in a real worker on SQLite; nothing else is needed. A
price in the final's area (``marne``) must have been moved by a Games demand that a
semi-final's official result caused:
``rentals.prices → rentals.demand → rentals.units → results.units → results.odf`` (the ODF
document the venue's results system posted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

import flambeau.app as assembly
from flambeau.events import Record, default_registry
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.scenario.driver import Driver, DriverConfig
from flambeau.services.rentals.processors import PROCESSORS as RENTALS
from flambeau.services.rentals.schemas import DEMAND, PRICES, UNITS_BY_EVENT
from flambeau.services.results.processors import schedule_state, unit_state
from flambeau.services.results.schemas import ODF, UNITS
from tests.unit.gateway.served import Served, serve

pytestmark = pytest.mark.timeout(300)

SEMI = "CSLMKAYAKCROSS--------SFNL"
FINAL = "CSLMKAYAKCROSS--------FNL-000100--"


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[tuple[Served, Log]]:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}", default_registry)
    worker = Worker(log, [unit_state, schedule_state, *RENTALS], idle_wait=0.02)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=assembly.gateway_routes) as served:
            yield served, log
    finally:
        worker.stop()
        await working
        await log.aclose()


async def everything(log: Log, *streams: str) -> dict[str, Record[Any]]:
    found: dict[str, Record[Any]] = {}
    for stream in streams:
        for partition in range(default_registry.spec(stream).partitions):
            for raw in await log.read(stream, partition, 0, 1_000_000):
                record = default_registry.decode(stream, raw)
                found[record.id] = record
    return found


async def test_the_rehearsals_semi_final_moves_prices_in_its_finals_area(
    platform: tuple[Served, Log], tmp_path: Path
) -> None:
    served, log = platform
    key = await served.key("write:*", "read:*", tenant="rehearsal")
    config = DriverConfig(
        target=served.base, key=key, day=date(2024, 8, 4), seed=0, start=time(16, 40),
        duration=45 * 60, speed=120.0, rate_multiplier=0.5, random_incidents=False,
        progress_every=0.0,
    )  # fmt: skip
    report = await Driver(config, printer=lambda line: None).run()
    assert report["state"] == "finished"
    assert report["by_kind"]["rentals_listing"] > 0

    chained: list[list[Record[Any]]] = []
    for _ in range(300):  # the worker catches up with what the driver sent
        known = await everything(log, PRICES, DEMAND, UNITS_BY_EVENT, UNITS, ODF)
        chained = [chain for r in known.values() if r.stream == PRICES
                   if len(chain := _chain(r, known)) == 5]  # fmt: skip
        if any(c[2].data.unit.startswith(SEMI) for c in chained):
            break
        await asyncio.sleep(0.1)
    by_semi = [c for c in chained if c[2].data.unit.startswith(SEMI)]
    assert by_semi, "no price was moved by a semi-final's result"
    price, demand, _, unit, document = by_semi[0]
    assert [r.stream for r in by_semi[0]] == [PRICES, DEMAND, UNITS_BY_EVENT, UNITS, ODF]
    assert (price.data.area, demand.data.area, demand.data.unit) == ("marne", "marne", FINAL)
    assert price.data.parts.games > 1
    assert unit.data.status.value == "official"
    assert document.key  # the venue's ODF document, as posted


def _chain(record: Record[Any], known: dict[str, Record[Any]]) -> list[Record[Any]]:
    """``record`` and its causes, as far as they are known."""
    chain = [record]
    while (cause := known.get(chain[-1].causation_id or "")) is not None and len(chain) < 8:
        chain.append(cause)
    return chain
