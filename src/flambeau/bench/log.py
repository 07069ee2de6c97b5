"""``flambeau bench log``: append then read ~200-byte events through the SQLite backend.

The baseline runs in the same process: raw ``sqlite3`` ``executemany`` into a table of the same
shape (same primary key, same columns), with the same journal mode and synchronous level, the
rows already encoded, one transaction per batch. The ratio is ours ÷ raw at batch 1000.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from rich.progress import Progress

from flambeau.bench._common import ratio
from flambeau.events import Event, NewEvent, Record, Registry, utc_now
from flambeau.log import open_log
from flambeau.log.sqlite import connect

STREAM = "bench.log"
RAW_TABLE = """
CREATE TABLE events (
    sid INTEGER NOT NULL,
    part INTEGER NOT NULL,
    off INTEGER NOT NULL,
    ingested_us INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sid, part, off)
) WITHOUT ROWID
"""
PARTITIONS = 4


class Reading(Event, frozen=True, tag="reading"):
    """A sensor-like reading, padded so that a stored record is about 200 bytes."""

    sensor: str
    value: int
    note: str


def _events(count: int) -> list[NewEvent]:
    note = "x" * 96
    return [
        NewEvent(Reading(sensor=f"gate-{i % 64}", value=i, note=note), key=f"gate-{i % 64}")
        for i in range(count)
    ]


async def _ours(path: Path, batch: int, count: int, progress: Progress) -> dict[str, float]:
    registry = Registry()
    registry.register(STREAM, Reading, partitions=PARTITIONS)
    url = f"sqlite:///{path}"
    events = _events(count)
    task = progress.add_task(f"flambeau append batch={batch}", total=count)
    async with await open_log(url, registry) as log:
        started = time.perf_counter()
        for start in range(0, count, batch):
            await log.append(STREAM, events[start : start + batch])
            progress.advance(task, batch)
        append_s = time.perf_counter() - started
        record_bytes = len(msgspec.msgpack.encode((await log.read(STREAM, 0, 0, 1))[0]))
    async with await open_log(url, registry) as log:  # reopened: the tail is cold
        started = time.perf_counter()
        total = 0
        for part in range(PARTITIONS):
            offset = 0
            while records := await log.read(STREAM, part, offset, 1000):
                total += len(records)
                offset = records[-1].offset + 1
        read_s = time.perf_counter() - started
    assert total == count, f"read back {total} of {count} events"
    return {
        "append_eps": count / append_s,
        "read_eps": count / read_s,
        "record_bytes": record_bytes,
    }


def _raw(path: Path, batch: int, count: int, progress: Progress) -> dict[str, float]:
    encode = msgspec.msgpack.Encoder().encode
    now = utc_now()
    now_us = int(now.timestamp() * 1e6)
    rows = []
    for i, event in enumerate(_events(count)):
        part = i % PARTITIONS
        record = Record(
            f"id-{i}", STREAM, event.key, part, i // PARTITIONS, now, now, None, event.data
        )
        rows.append((1, part, i // PARTITIONS, now_us, encode(record)))
    conn = connect(path, "normal")
    conn.execute(RAW_TABLE)
    task = progress.add_task(f"raw sqlite3 batch={batch}", total=count)
    started = time.perf_counter()
    for start in range(0, count, batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO events (sid, part, off, ingested_us, data) VALUES (?, ?, ?, ?, ?)",
            rows[start : start + batch],
        )
        conn.execute("COMMIT")
        progress.advance(task, batch)
    append_s = time.perf_counter() - started
    started = time.perf_counter()
    total = 0
    for part in range(PARTITIONS):
        offset = 0
        while True:
            got = conn.execute(
                "SELECT off, data FROM events WHERE sid = 1 AND part = ? AND off >= ? "
                "ORDER BY off LIMIT 1000",
                (part, offset),
            ).fetchall()
            if not got:
                break
            total += len(got)
            offset = got[-1][0] + 1
    read_s = time.perf_counter() - started
    conn.close()
    assert total == count
    return {"append_eps": count / append_s, "read_eps": count / read_s}


def run(quick: bool) -> dict[str, Any]:
    """Measure append and read rates at batch sizes 1, 100 and 1000, ours and raw."""
    counts = (
        {1: 5_000, 100: 100_000, 1000: 300_000}
        if quick
        else {1: 20_000, 100: 500_000, 1000: 1_000_000}
    )
    ours: dict[int, dict[str, float]] = {}
    raw: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, Progress(transient=True) as progress:
        for batch, count in counts.items():
            ours[batch] = asyncio.run(_ours(Path(tmp) / f"ours-{batch}.db", batch, count, progress))
            raw[batch] = _raw(Path(tmp) / f"raw-{batch}.db", batch, count, progress)
    top = max(counts)
    return {
        "figures": {
            "append_eps": round(ours[top]["append_eps"]),
            "read_eps": round(ours[top]["read_eps"]),
            "by_batch": {str(b): {k: round(v) for k, v in ours[b].items()} for b in counts},
        },
        "baseline": {
            "append_eps": round(raw[top]["append_eps"]),
            "read_eps": round(raw[top]["read_eps"]),
            "by_batch": {str(b): {k: round(v) for k, v in raw[b].items()} for b in counts},
        },
        "ratio": ratio(ours[top]["append_eps"], raw[top]["append_eps"]),
        "params": {
            "backend": "sqlite",
            "sync": "normal",
            "journal": "wal",
            "partitions": PARTITIONS,
            "events": counts,
            "ratio_at_batch": top,
            "record_bytes": round(ours[top]["record_bytes"]),
            "producers": 1,
        },
    }
