"""The rehearsal driver against a real gateway serving the services' routes: what it sends,
what it counts, how it resumes, and how it behaves when the platform refuses or is gone."""

from __future__ import annotations

import asyncio
import json
import socket
import time as clock
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

import flambeau.app as assembly
from flambeau.events import NewEvent, default_registry
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.scenario import resume
from flambeau.scenario.driver import Driver, DriverConfig
from flambeau.scenario.generators.incidents import ScriptEntry, SourceSilence
from flambeau.scenario.payloads import WALLET_FUNDS
from flambeau.scenario.timeline import ActionKind, ScenarioConfig, Timeline
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.schemas import (
    CashOutRequest,
    CustomerDeposit,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    TicketChange,
    TicketSubmitted,
)
from flambeau.services.crowds.schemas import (
    GateCount,
    VenueConfigured,
    ZoneConfigured,
    ZoneRole,
)
from flambeau.services.payments.schemas import CreateAccounts, CreateTransfers
from flambeau.services.results.odf import parse
from tests.unit.gateway.served import Served, serve

START = time(19, 0)  # Paris: 17:00 UTC, a busy evening
START_UTC = datetime(2024, 8, 4, 17, 0, tzinfo=UTC)
MINUTES = 6
TENNIS = "TENMSINGLES-----------FNL-000100--"  # live in the window, with bets on it


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@pytest.fixture
async def log() -> AsyncIterator[Log]:
    opened = await open_log("memory://", default_registry)
    yield opened
    await opened.aclose()


@pytest.fixture
async def served(log: Log, tmp_path: Path) -> AsyncIterator[Served]:
    async with serve(log, tmp_path / "gateway", routers=assembly.gateway_routes) as running:
        yield running


def config(served: Served, key: str, tmp_path: Path, **changes: Any) -> DriverConfig:
    base = DriverConfig(
        target=served.base,
        key=key,
        start=START,
        duration=MINUTES * 60,
        speed=240.0,
        rate_multiplier=0.1,
        random_incidents=False,
        status_file=tmp_path / "status.json",
        state_dir=tmp_path,
        progress_every=0.0,
    )
    return replace(base, **changes)


async def records(log: Log, stream: str) -> list[Any]:
    decoder = log.registry.decoder(stream)
    info = await log.info(stream)
    out = []
    for partition in range(info.partitions):
        for record in await log.read(stream, partition, 0, 100_000):
            out.append((record, decoder.decode(record.data)))
    return out


async def test_a_window_of_the_day_reaches_every_route_as_its_producers_would(
    served: Served, log: Log, tmp_path: Path
) -> None:
    key = await served.key("write:*", "read:*", tenant="rehearsal")
    lines: list[str] = []
    report = await Driver(config(served, key, tmp_path), printer=lines.append).run()

    assert report["state"] == "finished"
    assert (report["rejected"], report["failed"]) == (0, 0)
    assert {"result", "keep_alive", "crowd", "purchase", "accounts"} <= set(report["by_kind"])
    assert report["accepted"] + report["duplicates"] == report["sent"]

    odf = await records(log, "results.odf")
    assert len(odf) == report["by_kind"]["result"] + report["by_kind"]["keep_alive"]
    headers = [parse(doc.xml).header for _, doc in odf]
    window_end = START_UTC + timedelta(minutes=MINUTES)
    played = [h for h in headers if h.document_type.value in ("DT_RESULT", "DT_KA")]
    assert all(START_UTC <= h.generated_at < window_end for h in played)
    assert {h.document_type.value for h in headers} >= {"DT_RESULT", "DT_KA", "DT_SCHEDULE"}

    sensors = [data for _, data in await records(log, "crowds.sensors")]
    assert any(isinstance(d, VenueConfigured) for d in sensors)
    assert any(isinstance(d, GateCount) for d in sensors)
    zones = {(z.role, z.zone) for z in sensors if isinstance(z, ZoneConfigured)}
    gates = {g.gate for g in sensors if isinstance(g, GateCount)}
    assert {zone for role, zone in zones if role is ZoneRole.GATE} == gates
    assert any(role is ZoneRole.STATION for role, _ in zones)

    requests = [data for _, data in await records(log, "payments.requests")]
    assert sum(isinstance(r, CreateAccounts) for r in requests) == 1
    transfers = [t for r in requests if isinstance(r, CreateTransfers) for t in r.transfers]
    assert len(transfers) == report["by_kind"]["purchase"]
    assert all(len(r.contexts) == len(r.transfers) for r in requests
               if isinstance(r, CreateTransfers))  # fmt: skip

    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "finished"
    assert status["sim_time"].startswith("19:0")
    assert {"events_per_s", "rejected", "p99_ms", "behind_s"} <= status.keys()

    # The day asked for is played: running again sends nothing.
    again = await Driver(config(served, key, tmp_path), printer=lines.append).run()
    assert again["sent"] == 0
    assert any("nothing to do" in line for line in lines)
    assert len(await records(log, "results.odf")) == len(odf)


def odds_for(event: str) -> OddsChange:
    def outcomes(**odds: float) -> tuple[OddsOutcome, ...]:
        return tuple(OddsOutcome(id=name, odds=value) for name, value in odds.items())

    markets = (
        OddsMarket(id=186, status=MarketStatus.ACTIVE, outcomes=outcomes(**{"4": 1.6, "5": 2.4})),
        OddsMarket(id=18, specifiers="total=3.5", status=MarketStatus.ACTIVE,
                   outcomes=outcomes(**{"12": 1.9, "13": 1.9})),
    )  # fmt: skip
    return OddsChange(event_id=event, timestamp=START_UTC, markets=markets)


async def test_bets_are_placed_at_the_odds_last_seen_on_the_odds_stream(
    served: Served, log: Log, tmp_path: Path
) -> None:
    await log.append("betting.odds", [NewEvent(odds_for(TENNIS), key=TENNIS)])
    key = await served.key("write:*", "read:*", tenant="rehearsal")
    report = await Driver(config(served, key, tmp_path)).run()

    placed = await records(log, "betting.bets")
    tickets = [data for _, data in placed if isinstance(data, TicketSubmitted)]
    assert tickets
    # Each bettor's wallet is funded once, by a deposit ahead of its first bet in its partition.
    first: dict[str, Any] = {}
    for _, data in sorted(placed, key=lambda pair: (pair[0].partition, pair[0].offset)):
        first.setdefault(data.customer_id, data)
    assert all(isinstance(data, CustomerDeposit) for data in first.values())
    deposits = [data for _, data in placed if isinstance(data, CustomerDeposit)]
    assert sorted(d.customer_id for d in deposits) == sorted(first)
    assert {d.amount_cents for d in deposits} == {WALLET_FUNDS}
    # The changes and cash-outs their bettors tried go on tickets that were sent.
    moves = [data for _, data in placed if isinstance(data, TicketChange | CashOutRequest)]
    assert {m.ticket_id for m in moves} <= {t.ticket_id for t in tickets}
    assert len(deposits) + len(tickets) + len(moves) == len(placed)
    for ticket in tickets:
        (selection,) = ticket.selections
        assert selection.event_id == TENNIS
        expected = {(186, "4"): 1.6, (186, "5"): 2.4, (18, "12"): 1.9, (18, "13"): 1.9}
        assert selection.odds == expected[(selection.market_id, selection.outcome_id)]
        assert ticket.operator == "rehearsal"  # the key's tenant is the operator
    assert report["by_kind"]["bet"] == len(tickets)
    assert report["bets_without_odds"] > 0  # bets on matches with no odds seen are not placed


async def identities(log: Log) -> set[str]:
    """Ids of what the scenario decides alone (keep-alives are thinned by the wall clock)."""
    ids = {record.id for record, _ in await records(log, "crowds.sensors")}
    documents = await records(log, "results.odf")
    return ids | {r.id for r, doc in documents if doc.header.document_type.value != "DT_KA"}


async def test_a_stopped_rehearsal_resumes_without_losing_or_repeating(
    log: Log, tmp_path: Path
) -> None:
    reference_log = await open_log("memory://", default_registry)
    try:
        async with serve(reference_log, tmp_path / "ref", routers=assembly.gateway_routes) as ref:
            key = await ref.key("write:*", "read:*", tenant="rehearsal")
            await Driver(config(ref, key, tmp_path / "ref", state_dir=None)).run()
        expected = await identities(reference_log)
    finally:
        await reference_log.aclose()

    async with serve(log, tmp_path / "gw", routers=assembly.gateway_routes) as served:
        key = await served.key("write:*", "read:*", tenant="rehearsal")
        first = Driver(config(served, key, tmp_path))
        running = asyncio.create_task(first.run())
        await until(lambda: first.counters.sent > 300)
        first.stop()
        stopped = await running
        assert stopped["state"] == "stopped"
        halfway = await identities(log)
        assert 0 < len(halfway) < len(expected)
        second = await Driver(config(served, key, tmp_path)).run()
        assert second["state"] == "finished"
        assert await identities(log) == expected
        # Only what was around the checkpoint is sent again (and deduplicated).
        assert second["duplicates"] < stopped["sent"]


async def test_refused_events_are_counted_and_shown_while_the_rest_flows(
    served: Served, tmp_path: Path
) -> None:
    key = await served.key(
        "write:results.*",
        "write:payments.*",
        "write:betting.*",
        "write:rentals.*",
        "read:*",
        tenant="rehearsal",
    )
    report = await Driver(config(served, key, tmp_path)).run()
    assert report["rejected"] == report["rejected_by_kind"]["crowd"] > 0
    assert set(report["rejected_by_kind"]) == {"crowd"}
    assert "crowds.sensors" in report["last_problem"]
    assert report["by_kind"]["result"] > 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_gateway_that_is_gone_is_retried_and_ctrl_c_still_stops_cleanly(
    tmp_path: Path,
) -> None:
    driver = Driver(
        DriverConfig(
            target=f"http://127.0.0.1:{free_port()}",
            key="fbk_0_0",
            state_dir=tmp_path,
            status_file=tmp_path / "status.json",
            progress_every=0.0,
        )
    )
    running = asyncio.create_task(driver.run())
    await until(lambda: driver.client.retries >= 2)
    driver.stop()
    report = await running
    assert report["state"] == "stopped"
    assert report["sent"] == 0
    assert json.loads((tmp_path / "status.json").read_text())["state"] == "stopped"


async def test_a_silent_source_holds_its_documents_then_delivers_them_in_order(
    served: Served, log: Log, tmp_path: Path
) -> None:
    timeline = Timeline(ScenarioConfig(start=START_UTC, end=START_UTC + timedelta(minutes=3),
                                       random_incidents=False, rate_multiplier=0.1))  # fmt: skip
    first = next(a for a in timeline if a.kind is ActionKind.RESULT and a.at > START_UTC)
    source = first.source
    script = (ScriptEntry(first.at - timedelta(seconds=1), SourceSilence(source, seconds=1)),)
    lines: list[tuple[float, str]] = []
    key = await served.key("write:*", "read:*", tenant="rehearsal")
    driver = Driver(
        config(served, key, tmp_path, script=script, duration=180, speed=60.0),
        printer=lambda line: lines.append((clock.monotonic(), line)),
    )
    report = await driver.run()
    assert report["incidents"]
    incident = next(at for at, line in lines if "source_silence" in line)
    heard, text = next((at, line) for at, line in lines if "heard again" in line)
    assert heard - incident >= 1.0  # silent in wall time, whatever the speed
    assert source in text
    held = int(text.split("(")[1].split()[0])
    assert held > 0
    from_source = sorted(
        ((record.partition, record.offset), parse(doc.xml).header)
        for record, doc in await records(log, "results.odf")
    )
    times = [h.generated_at for _, h in from_source if h.source == source]
    assert times == sorted(times)  # held documents went out in the order they were made


async def test_a_run_that_never_reached_the_gateway_keeps_the_checkpoint_it_would_resume(
    tmp_path: Path,
) -> None:
    base = DriverConfig(target=f"http://127.0.0.1:{free_port()}", key="fbk_0_0",
                        state_dir=tmp_path, progress_every=0.0)  # fmt: skip
    checkpoint = datetime(2024, 8, 4, 9, 30, tzinfo=UTC)
    resume.save(tmp_path, base.identity(), resume.Progress(base.day, checkpoint))
    driver = Driver(base)
    running = asyncio.create_task(driver.run())
    await until(lambda: driver.client.retries >= 3)
    await asyncio.sleep(1.5)  # the status ticker has run meanwhile
    driver.stop()
    assert (await running)["state"] == "stopped"
    assert resume.load(tmp_path, base.identity()) == resume.Progress(base.day, checkpoint)
