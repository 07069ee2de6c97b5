"""KPIs equal a brute-force computation over the same events, with and without ``kill -9``.

A real worker subprocess runs the analytics pipeline (the re-keying stages and the KPI windows)
over a SQLite log. One run is killed with SIGKILL at random moments and restarted each time;
both runs must produce exactly the KPIs the test computes itself, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.services.analytics.schemas import FACTS, KPIS, PARTITIONS, Kpi
from tests.chaos import workers
from tests.integration.analytics.workload import Row, expected, inputs

PROCESSORS = "analytics.sales,analytics.entries,analytics.stakes,analytics.fraud,analytics.kpis"
SEED = int(os.environ.get("FLAMBEAU_CHAOS_SEED", random.randrange(2**32)))
KILLS = 3


async def _load(url: str, streams: dict[str, list]) -> None:  # type: ignore[type-arg]
    async with await open_log(url) as log:
        for stream, events in streams.items():
            for i in range(0, len(events), 5_000):
                await log.append(stream, events[i : i + 5_000])


async def _kpis(url: str) -> tuple[set[Row], list[str]]:
    """The latest value of every KPI (a key's updates share its partition, in order), and
    the id of every KPI event."""
    latest: dict[tuple[object, ...], Row] = {}
    ids: list[str] = []
    async with await open_log(url) as log:
        for partition in range(PARTITIONS):
            offset = 0
            while batch := await log.read(KPIS, partition, offset, 10_000):
                for record in batch:
                    kpi = default_registry.decode(KPIS, record).data
                    assert isinstance(kpi, Kpi)
                    row = (
                        kpi.venue,
                        kpi.metric.value,
                        kpi.dimension,
                        kpi.minute,
                        kpi.value,
                        kpi.count,
                    )
                    latest[row[:4]] = row
                    ids.append(record.id)
                offset = batch[-1].offset + 1
    return set(latest.values()), ids


async def _progress(url: str) -> tuple[int, int]:
    """(facts the KPI processor has committed, facts in the log)."""
    async with await open_log(url) as log:
        done = sum((await log.committed("analytics.kpis", FACTS)).values())
        return done, sum((await log.end_offsets(FACTS)).values())


def _committed_facts(db: Path) -> int:
    """Facts the KPI processor has committed, read from the SQLite file beside the worker that
    holds the log (a read-only connection; the log itself admits one process)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        row = connection.execute(
            "SELECT COALESCE(SUM(next), 0) FROM offsets WHERE grp = ? AND stream = ?",
            ("analytics.kpis", FACTS),
        ).fetchone()
    return int(row[0])


def _worker(url: str, stderr: Path, *, drain: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from flambeau.cli.main import main; main()",
        "worker", "--log", url, "--processors", PROCESSORS, *(["--drain"] if drain else []),
    ]  # fmt: skip
    return workers.start(command, stderr)


def _drain(url: str, stderr: Path) -> float:
    """Drain until a pass changes nothing more (a stage's outputs feed the next); return how
    long the first pass worked, from "ready" to its exit."""
    worked = 0.0
    for attempt in range(4):
        err = stderr.with_suffix(f".{attempt}")
        proc = _worker(url, err, drain=True)
        workers.wait_ready(proc, err)
        began = time.monotonic()
        assert proc.wait(timeout=240) == 0, err.read_text()
        worked = worked or time.monotonic() - began
    return worked


@pytest.mark.timeout(300)
def test_kpis_equal_brute_force_across_kill_9(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    streams = inputs(SEED, 6_000)
    truth = expected(streams)
    assert {row[1] for row in truth} == {"sales", "entries", "bets", "payments", "fraud_alerts"}
    clean, chaos = (f"sqlite:///{tmp_path / name}.db" for name in ("clean", "chaos"))
    asyncio.run(_load(clean, streams))
    asyncio.run(_load(chaos, streams))

    worked = _drain(clean, tmp_path / "clean.err")
    seen: list[int] = []
    for kill in range(KILLS):
        stderr = tmp_path / f"chaos-{kill}.err"
        done, total = asyncio.run(_progress(chaos))
        proc = _worker(chaos, stderr, drain=False)
        workers.wait_ready(proc, stderr)
        # the kill lands once the KPIs have gone a random share of the way: a pause timed on
        # the clean run let every kill of a fast run come after the work
        target = done + rng.uniform(0.05, 0.5) * (total - done)
        while _committed_facts(tmp_path / "chaos.db") < target and proc.poll() is None:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        seen.append(asyncio.run(_progress(chaos))[0])
    _drain(chaos, tmp_path / "chaos-final.err")
    done, total = asyncio.run(_progress(chaos))
    assert done == total
    # at least one kill landed while the KPIs were still being computed
    note = f"(FLAMBEAU_CHAOS_SEED={SEED}, clean run worked {worked:.2f} s)"
    assert any(n < total for n in seen), f"every kill came after the work: {seen} of {total} {note}"

    for url in (clean, chaos):
        rows, ids = asyncio.run(_kpis(url))
        assert len(ids) == len(set(ids)), f"a KPI event was written twice ({url}, {note})"
        assert rows == truth, f"KPIs differ from brute force ({url}, {note})"
