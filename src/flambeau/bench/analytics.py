"""``flambeau bench analytics``: KPI events/s, and SQL p99 over buffered events against Parquet.

- ``kpi_eps``: facts (sales, gate entries, stakes; 3 venues, 3 categories) appended to
  ``analytics.facts`` on the memory backend (not timed), then a draining worker runs the
  ``analytics.kpis`` processor over them, per-minute windows committed per batch as in
  production. Wall clock, from the worker's start to caught up.
- ``sql_p99_ms``: the same facts folded into the live buffer (:mod:`.buffers`, 1,000,000 rows,
  100,000 with ``--quick``), then an analyst's question run through
  :func:`~flambeau.services.analytics.sql.run_query` (a fresh locked-down DuckDB per query, as
  the route does): sales by category at one venue over a 20-minute window.
- The peer: the same rows written once to a Parquet file, the same query run by a plain DuckDB
  connection over ``read_parquet``. ``ratio`` = peer p99 ÷ ours (≥ 0.67 means within 1.5x).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from flambeau.bench._common import percentiles_ms, ratio
from flambeau.events import NewEvent, Record, default_registry
from flambeau.log import open_log
from flambeau.processing import Worker
from flambeau.services.analytics.buffers import StreamBuffer, arrow_schema
from flambeau.services.analytics.processors import kpis
from flambeau.services.analytics.schemas import FACTS, Entries, Fact, Sale, Stake
from flambeau.services.analytics.sql import Limits, run_query

START = datetime(2024, 8, 4, 17, tzinfo=UTC)
VENUES = ("STA", "BCY", "PDP")
CATEGORIES = ("drink", "food", "merchandise")
QUERIES = 50
QUERY = (
    "SELECT category, sum(amount_cents) AS sales, count(*) AS payments, "
    "sum(amount_cents) / count(*) AS basket FROM {table} "
    "WHERE type = 'sale' AND venue = 'STA' "
    "AND _time >= TIMESTAMPTZ '2024-08-04 17:20:00+00' "
    "AND _time < TIMESTAMPTZ '2024-08-04 17:40:00+00' GROUP BY category ORDER BY category"
)


def _facts(count: int) -> list[NewEvent]:
    step = timedelta(hours=1) / count
    events = []
    for i in range(count):
        venue = VENUES[i % 3]
        fact: Any
        match i % 4:
            case 0 | 1:
                fact = Sale(venue=venue, category=CATEGORIES[i % 3], amount_cents=400 + i % 900)
            case 2:
                fact = Entries(venue=venue, entered=i % 40)
            case _:
                fact = Stake(event=f"FBL-{i % 5}", market=1, jurisdiction="FR", stake_cents=500)
        events.append(NewEvent(fact, key=venue, id=f"f{i}", time=START + i * step))
    return events


async def _kpi_eps(events: list[NewEvent]) -> dict[str, Any]:
    async with await open_log("memory://", default_registry) as log:
        for i in range(0, len(events), 50_000):
            await log.append(FACTS, events[i : i + 50_000])
        worker = Worker(log, [kpis], batch_size=10_000, drain=True)
        began = time.perf_counter()
        await worker.run()
        seconds = time.perf_counter() - began
        emitted = sum((await log.end_offsets("analytics.kpis")).values())
    return {"kpi_eps": round(len(events) / seconds), "kpi_events": emitted}


def _buffer(events: list[NewEvent]) -> StreamBuffer:
    buffer = StreamBuffer(arrow_schema(Fact), timedelta(hours=2))
    for offset, event in enumerate(events):
        assert event.time is not None
        buffer.add(
            Record(event.id or "", FACTS, event.key, 0, offset, event.time, event.time, None,
                   event.data)
        )  # fmt: skip
    return buffer


def _p99(run: Any) -> dict[str, float]:
    samples = []
    for _ in range(QUERIES):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return percentiles_ms(samples)


def run(*, quick: bool = False) -> dict[str, Any]:
    """Measure and return the figures (``quick``: 100,000 events instead of 1,000,000)."""
    count = 100_000 if quick else 1_000_000
    events = _facts(count)
    figures = asyncio.run(_kpi_eps(events))
    buffer = _buffer(events)
    table = buffer.table()
    tables = {FACTS: table}
    ours_sql = QUERY.format(table=f'"{FACTS}"')
    expected = run_query(ours_sql, tables, Limits()).to_pylist()
    ours = _p99(lambda: run_query(ours_sql, tables, Limits()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "facts.parquet"
        pq.write_table(table, path)
        con = duckdb.connect(":memory:")
        peer_sql = QUERY.format(table=f"read_parquet('{path}')")
        assert con.sql(peer_sql).to_arrow_table().to_pylist() == expected
        peer = _p99(lambda: con.sql(peer_sql).to_arrow_table())
        con.close()
    return {
        **figures,
        "buffered_events": table.num_rows,
        "sql_p99_ms": ours["p99_ms"],
        "sql_p50_ms": ours["p50_ms"],
        "parquet_p99_ms": peer["p99_ms"],
        "parquet_p50_ms": peer["p50_ms"],
        "ratio": ratio(peer["p99_ms"], ours["p99_ms"]),
    }
