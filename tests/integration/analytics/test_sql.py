"""``POST /v1/analytics/sql`` and ``GET /v1/analytics/kpis`` over a real gateway and worker.

The KPI pipeline runs on the workload's inputs; queries then run over the live buffers. Each
refusal (writes, ATTACH, COPY, INSTALL, files, several statements, SET), the time and row
limits, and the scope check of every named stream are tested; so is the forecast, moved by an
extra time and by a strike.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from flambeau.events import NewEvent, default_registry
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Worker
from flambeau.services.analytics.processors import (
    entries,
    fraud,
    kpis,
    sales,
    stakes,
    unit_ends,
)
from flambeau.services.analytics.routes import routes
from flambeau.services.analytics.schemas import FACTS
from flambeau.services.analytics.transit import TRANSIT_SHARE
from flambeau.services.mobility.processors import lines
from flambeau.services.mobility.schemas import FEED, TransitAlert
from flambeau.services.results.schemas import (
    UNITS,
    EndAdjustment,
    UnitEndEstimated,
    UnitScheduleChanged,
    UnitStatus,
)
from tests.integration.analytics.workload import START, expected, inputs
from tests.unit.gateway.served import Served, serve

SALES_BY_CATEGORY = (
    'SELECT category, sum(amount_cents) AS total, count(*) AS n FROM "analytics.facts" '
    "WHERE type = 'sale' GROUP BY category ORDER BY category"
)


@dataclass
class Running:
    served: Served
    log: Log
    reader: str
    streams: dict[str, list[Any]]

    async def sql(self, body: dict[str, Any], key: str | None = None, **headers: str) -> Any:
        async with self.served.client(key or self.reader) as client:
            return await client.post("/v1/analytics/sql", json=body, headers=headers)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    log = await open_log("memory://", default_registry)
    streams = inputs(7, 400)
    for stream, events in streams.items():
        await log.append(stream, events)
    worker = Worker(log, [sales, entries, stakes, fraud, kpis, unit_ends, lines], idle_wait=0.05)
    working = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as served:
            reader = await served.key("read:analytics.facts", "read:analytics.kpis")
            yield Running(served, log, reader, streams)
    finally:
        worker.stop()
        await working
        await log.aclose()


def _sales_truth(streams: dict[str, list[Any]]) -> list[list[Any]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for venue, metric, category, _, value, count in expected(streams):
        if metric == "sales":
            del venue
            totals[category][0] += value
            totals[category][1] += count
    return [[category, *totals[category]] for category in sorted(totals)]


async def _until_settled(running: Running) -> list[list[Any]]:
    truth = _sales_truth(running.streams)
    rows: list[list[Any]] = []
    for _ in range(300):
        reply = await running.sql({"sql": SALES_BY_CATEGORY})
        assert reply.status_code == 200, reply.text
        rows = reply.json()["rows"]
        if rows == truth:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"sales by category {rows} never reached {truth}")


async def test_sql_answers_from_the_buffers_as_json_and_arrow(running: Running) -> None:
    rows = await _until_settled(running)
    reply = await running.sql(
        {"sql": SALES_BY_CATEGORY}, accept="application/vnd.apache.arrow.stream"
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/vnd.apache.arrow.stream")
    table = pa.ipc.open_stream(reply.content).read_all()
    assert [list(r.values()) for r in table.to_pylist()] == rows


async def test_kpis_route_shows_the_latest_value_of_each_minute(running: Running) -> None:
    await _until_settled(running)
    truth = {row for row in expected(running.streams) if row[0] == "STA"}
    async with running.served.client(running.reader) as client:
        for _ in range(300):
            reply = await client.get("/v1/analytics/kpis", params={"venue": "STA", "minutes": 60})
            assert reply.status_code == 200, reply.text
            got = {(r["venue"], r["metric"], r["dimension"], r["minute"], r["value"], r["count"])
                   for r in reply.json()}  # fmt: skip
            wanted = {
                (*row[:3], row[3].isoformat().replace("+00:00", "Z"), *row[4:]) for row in truth
            }
            if got == wanted:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"KPIs of STA: {sorted(got - wanted)[:3]} vs {sorted(wanted - got)[:3]}")


REFUSED = [
    ('INSERT INTO "analytics.kpis" VALUES (1)', "INSERT statement"),
    ("CREATE TABLE t AS SELECT 1", "CREATE statement"),
    ("ATTACH '/tmp/other.db' AS other", "ATTACH statement"),
    ("COPY (SELECT 1) TO '/tmp/out.csv'", "COPY statement"),
    ("INSTALL httpfs", "LOAD statement"),
    ("SET enable_external_access = true", "SET statement"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    ("SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')", "disabled"),
    ("SELEKT 1", "does not parse"),
]


async def test_sql_refuses_writes_attach_copy_install_and_files(running: Running) -> None:
    for sql, says in REFUSED:
        reply = await running.sql({"sql": sql})
        assert reply.status_code == 400, (sql, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json")
        problem = reply.json()
        assert says in problem["detail"], (sql, problem)
        assert problem["errors"][0]["field"] == "sql"


async def test_sql_times_out_and_limits_rows(running: Running) -> None:
    slow = {"sql": "SELECT count(*) FROM range(1000000000) a, range(1000) b", "timeout_ms": 200}
    reply = await running.sql(slow)
    assert reply.status_code == 422, reply.text
    assert reply.json()["type"] == "urn:flambeau:problem:query-timeout"
    many = await running.sql({"sql": "SELECT * FROM range(50)", "max_rows": 10})
    assert many.status_code == 422, many.text
    assert many.json()["type"] == "urn:flambeau:problem:row-limit"
    assert "more than 10 rows" in many.json()["detail"]
    bad = await running.sql({"sql": "SELECT 1", "max_rows": 0})
    assert bad.status_code == 400
    assert "max_rows" in bad.text


async def test_sql_checks_the_scope_of_every_stream(running: Running) -> None:
    kpis_only = await running.served.key("read:analytics.kpis")
    ok = await running.sql({"sql": 'SELECT count(*) FROM "analytics.kpis"'}, kpis_only)
    assert ok.status_code == 200, ok.text
    both = 'SELECT count(*) FROM "analytics.kpis" k, "analytics.facts" f WHERE k.venue = f.venue'
    refused = await running.sql({"sql": both}, kpis_only)
    assert refused.status_code == 403, refused.text
    assert "analytics.facts" in refused.json()["detail"]
    unknown = await running.sql({"sql": 'SELECT * FROM "payments.requests"'})
    assert unknown.status_code == 404
    assert "payments.requests" in unknown.json()["detail"]


FINAL = "FBLMTEAM11------------FNL-000100--"


def _estimate(minutes: int, *adjustments: EndAdjustment) -> NewEvent:
    end = START + timedelta(minutes=minutes)
    estimate = UnitEndEstimated(competition="OG2024", unit=FINAL, discipline="FBL",
                                estimated_end=end, adjustments=adjustments)  # fmt: skip
    return NewEvent(estimate, key=FINAL, time=START + timedelta(minutes=11))


async def _plan_when(
    running: Running, venue: str, ready: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    plans: dict[str, Any] = {}
    async with running.served.client(running.reader) as client:
        for _ in range(300):
            reply = await client.get("/v1/analytics/forecast")
            assert reply.status_code == 200, reply.text
            plans = {p["forecast"]["venue"]: p for p in reply.json()}
            if venue in plans and ready(plans[venue]):
                return plans[venue]
            await asyncio.sleep(0.05)
    raise AssertionError(f"the forecast of {venue} never showed {what}: {plans}")


async def _plan(running: Running, unit_end: str) -> dict[str, Any]:
    def ends_at(plan: dict[str, Any]) -> bool:
        return [end for _, end in plan["forecast"]["ends"]] == [unit_end]

    return await _plan_when(running, "STA", ends_at, f"the final ending at {unit_end}")


async def test_extra_time_moves_the_forecast_and_its_actions(running: Running) -> None:
    await _until_settled(running)
    scheduled = UnitScheduleChanged(competition="OG2024", unit=FINAL, discipline="FBL",
                                    status=UnitStatus.RUNNING, venue="STA")  # fmt: skip
    await running.log.append(UNITS, [NewEvent(scheduled, key=FINAL, time=START), _estimate(30)])
    before = await _plan(running, "2024-08-04T17:30:00Z")
    await running.log.append(UNITS, [_estimate(62, EndAdjustment.EXTRA_TIME)])
    after = await _plan(running, "2024-08-04T18:02:00Z")

    first = datetime.fromisoformat(before["forecast"]["start"])
    assert first == START + timedelta(minutes=12)  # the minute after the newest one seen

    def surge_starts(plan: dict[str, Any]) -> int:
        sales = plan["forecast"]["sales"]
        return next(i for i, value in enumerate(sales) if value > sales[0])

    assert surge_starts(before) == 30 - 12
    assert surge_starts(after) == 62 - 12
    assert sum(after["forecast"]["sales"]) < sum(before["forecast"]["sales"])  # surge past the hour
    stands = [a for a in before["actions"] if a["kind"] == "open_stands"]
    assert stands
    assert FINAL in stands[0]["cause"]
    assert "17:30" in stands[0]["cause"]
    moved = [a for a in after["actions"] if a["kind"] == "open_stands"]
    assert moved
    assert "18:02" in moved[0]["cause"]


async def test_a_strike_moves_the_forecast(running: Running) -> None:
    """A NO_SERVICE alert on RER B, through mobility's own processor, cuts the forecast of the
    venue it serves (STA: one of its three lines) and of no other venue."""
    await _until_settled(running)
    before = {v: await _plan_when(running, v, lambda _: True, "a plan") for v in ("STA", "BCY")}
    alert = TransitAlert(alert_id="strike-rer-b", route_id="RER-B", cause="STRIKE",
                         effect="NO_SERVICE", header="RER B: no service (strike)")  # fmt: skip
    at = START + timedelta(minutes=11, seconds=30)  # within the newest minute
    await running.log.append(FEED, [NewEvent(alert, key="RER-B", time=at)])
    after = await _plan_when(running, "STA", lambda p: p["forecast"]["closed_lines"], "a strike")

    service = 1 - TRANSIT_SHARE / 3
    assert after["forecast"]["service"] == pytest.approx(service)
    assert after["forecast"]["closed_lines"] == ["RER-B"]
    for series in ("sales", "entries"):
        pace = before["STA"]["forecast"][f"{series}_pace"]
        assert pace > 0
        assert after["forecast"][f"{series}_pace"] == pytest.approx(pace * service)
        assert sum(after["forecast"][series]) < sum(before["STA"]["forecast"][series])
    bcy = await _plan_when(running, "BCY", lambda _: True, "a plan")
    assert bcy["forecast"] == before["BCY"]["forecast"]  # RER B does not serve Bercy


async def _records(log: Log, stream: str) -> list[Any]:
    found = []
    for partition in range(default_registry.spec(stream).partitions):
        for record in await log.read(stream, partition, 0, 100_000):
            found.append(default_registry.decode(stream, record))
    return found


async def test_each_kpi_traces_back_to_its_source_event(running: Running) -> None:
    await _until_settled(running)
    by_id = {
        r.id: r
        for stream in (
            "payments.requests",
            "payments.alerts",
            "crowds.sensors",
            "betting.bets",
            FACTS,
        )
        for r in await _records(running.log, stream)
    }
    kpi_records = await _records(running.log, "analytics.kpis")
    roots: dict[str, set[str]] = defaultdict(set)
    for record in kpi_records:
        fact = by_id[record.causation_id]  # the fact that changed the minute
        source = by_id[fact.causation_id]  # the input the fact was carried from
        kpi = record.data
        key = fact.data.event if kpi.metric == "bets" else fact.data.venue
        assert key == kpi.venue
        roots[kpi.metric].add(source.stream)
        if kpi.metric == "sales":
            contexts = [c for c in source.data.contexts if c.venue == kpi.venue]
            assert any(c.category == kpi.dimension for c in contexts)
    assert roots == {
        "sales": {"payments.requests"},
        "payments": {"payments.requests"},
        "entries": {"crowds.sensors"},
        "bets": {"betting.bets"},
        "fraud_alerts": {"payments.alerts"},
    }
