"""``flambeau bench process``: a 1-minute tumbling-window sum per key, ours against Bytewax.

``eps`` figures are wall-clock; ``cpu_eps`` divide by the process's CPU time instead, which
says more on a machine shared with other work.

The job: synthetic readings (one per millisecond of event time, values 0..99, keys assigned
round-robin) summed per key over 1-minute event-time tumbling windows with a 5-second grace,
each window emitted once when it closes. Ours runs it as a processor through the memory
backend: the events are appended first (not timed), then a draining worker reads them back,
folds each batch with numpy and commits window state and results per batch, as in production.
Bytewax runs the same job from an in-memory source (its best case) at 10 keys, in the same
process, as the baseline: ``ratio`` = ours at 10 keys ÷ Bytewax at 10 keys.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from flambeau.bench._common import ratio
from flambeau.events import Event, NewEvent, Registry
from flambeau.log import open_log
from flambeau.processing import Batch, Processor, Transaction, Tumbling, Worker

START = datetime(2024, 8, 11, 12, tzinfo=UTC)
WINDOW = timedelta(minutes=1)
GRACE = timedelta(seconds=5)
PARTITIONS = 4
BATCH = 10_000
INPUT, OUTPUT = "bench.readings", "bench.minute_sums"


class Reading(Event, frozen=True, tag="reading"):
    """One synthetic measurement."""

    value: float


class MinuteSum(Event, frozen=True, tag="minute_sum"):
    """The sum of one key's readings over one minute."""

    key: str
    start: datetime
    total: float
    count: int


def _rows(count: int, keys: int) -> list[tuple[str, float, datetime]]:
    step = timedelta(milliseconds=1)
    return [(f"sensor-{i % keys}", float(i % 100), START + i * step) for i in range(count)]


def _processor(registry: Registry) -> Processor:
    processor = Processor("bench.window-sums", inputs=[INPUT], outputs=[OUTPUT], registry=registry)
    window = processor.window(
        "minute",
        Tumbling(WINDOW),
        grace=GRACE,
        agg="sum",
        output=OUTPUT,
        to_event=lambda r: MinuteSum(key=r.key, start=r.start, total=float(r.value), count=r.count),
    )

    @processor.on_batch
    def add(batch: Batch[Reading], tx: Transaction) -> None:
        values = np.fromiter((reading.value for reading in batch.data), np.float64, len(batch))
        window.add(tx, batch, values)

    return processor


async def _ours_async(rows: list[tuple[str, float, datetime]]) -> dict[str, Any]:
    registry = Registry()
    registry.register(INPUT, Reading, partitions=PARTITIONS)
    registry.register(OUTPUT, MinuteSum, partitions=PARTITIONS)
    processor = _processor(registry)
    events = [NewEvent(Reading(value=v), key=k, time=t) for k, v, t in rows]
    async with await open_log("memory://", registry) as log:
        for i in range(0, len(events), 50_000):
            await log.append(INPUT, events[i : i + 50_000])
        worker = Worker(log, [processor], batch_size=BATCH, drain=True)
        began, cpu = time.perf_counter(), time.process_time()
        await worker.run()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        ends = await log.end_offsets(OUTPUT)
    return {
        "eps": round(len(rows) / seconds),
        "cpu_eps": round(len(rows) / cpu),
        "seconds": round(seconds, 3),
        "results": sum(ends.values()),
    }


def _ours(count: int, keys: int) -> dict[str, Any]:
    return asyncio.run(_ours_async(_rows(count, keys)))


def _bytewax(count: int, keys: int) -> dict[str, Any]:
    try:
        import bytewax.operators as op
        from bytewax.dataflow import Dataflow
        from bytewax.operators.windowing import EventClock, TumblingWindower, fold_window
        from bytewax.testing import TestingSink, TestingSource, run_main
    except ImportError as exc:
        return {"eps": None, "note": f"bytewax is not installed ({exc}); baseline skipped"}
    from importlib.metadata import version

    rows = _rows(count, keys)
    flow = Dataflow("bench_process")
    source = op.input("readings", flow, TestingSource(rows, batch_size=BATCH))
    keyed = op.key_on("key", source, lambda row: row[0])
    clock: Any = EventClock(lambda row: row[2], wait_for_system_duration=GRACE)
    windower = TumblingWindower(length=WINDOW, align_to=START)
    sums = fold_window(
        "minute", keyed, clock, windower,
        lambda: (0.0, 0), lambda acc, row: (acc[0] + row[1], acc[1] + 1),
        lambda a, b: (a[0] + b[0], a[1] + b[1]),
    )  # fmt: skip
    out: list[Any] = []
    op.output("sums", sums.down, TestingSink(out))
    began, cpu = time.perf_counter(), time.process_time()
    run_main(flow)  # type: ignore[no-untyped-call]
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "eps": round(count / seconds),
        "cpu_eps": round(count / cpu),
        "seconds": round(seconds, 3),
        "results": len(out),
        "engine": f"bytewax {version('bytewax')}",
    }


def run(quick: bool) -> dict[str, Any]:
    """Run the job at 1,000 and at 10 keys, and Bytewax at 10 keys; return the figures."""
    count = 200_000 if quick else 1_000_000
    at_1000 = _ours(count, 1000)
    at_10 = _ours(count, 10)
    baseline = _bytewax(count, 10)
    return {
        "figures": {
            "eps": at_1000["eps"],
            "eps_10_keys": at_10["eps"],
            "cpu_eps": at_1000["cpu_eps"],
            "cpu_eps_10_keys": at_10["cpu_eps"],
            "seconds": at_1000["seconds"],
            "seconds_10_keys": at_10["seconds"],
            "results": at_1000["results"],
            "results_10_keys": at_10["results"],
        },
        "baseline": baseline,
        "ratio": ratio(at_10["eps"], baseline["eps"] or 0),
        "params": {
            "events": count,
            "window": "tumbling 1 min",
            "grace_s": GRACE.total_seconds(),
            "event_time_step_ms": 1,
            "partitions": PARTITIONS,
            "batch_size": BATCH,
            "backend": "memory://",
            "emit": "final",
        },
    }
