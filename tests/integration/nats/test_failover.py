"""Three worker processes share twelve partitions through NATS leases; one is killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import pytest

from flambeau.events import NewEvent
from flambeau.log import Appended, Log, open_log
from flambeau.log.nats import NatsLog
from flambeau.log.nats_leases import NatsLeases
from tests.integration.nats.lease_job import INPUT, OUTPUT, PARTITIONS, REGISTRY, Amount, Running
from tests.support.nats_server import NatsServer

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[3]
TTL = 3.0
KEYS = 48
PER_PHASE = 1500
WORKERS = ("w1", "w2", "w3")
DECODE = msgspec.msgpack.Decoder(Running).decode


def spawn(url: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.nats.lease_worker", url, str(TTL)],
        cwd=ROOT,
        env={**os.environ, "LEASE_WORKER": name},
        stdout=subprocess.DEVNULL,
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def outputs(log: Log) -> list[tuple[str | None, Running]]:
    """(causation id, output) of every output event."""
    found = []
    for part in range(PARTITIONS):
        offset = 0
        while records := await log.read(OUTPUT, part, offset, 1000):
            found.extend((r.causation_id, DECODE(r.data)) for r in records)
            offset = records[-1].offset + 1
    return found


Placed = list[tuple[str, Appended, NewEvent]]


async def produce(log: Log, first: int, count: int, placed: Placed, half: asyncio.Event) -> None:
    """Append ``count`` inputs in batches of 50, setting ``half`` halfway through."""
    for start in range(first, first + count, 50):
        events = [
            NewEvent(Amount(n=i % 7 + 1), key=f"k{i % KEYS}", id=f"in-{i}")
            for i in range(start, start + 50)
        ]
        for event, where in zip(events, await log.append(INPUT, events), strict=True):
            placed.append((event.id or "", where, event))
        if start - first >= count // 2:
            half.set()
        await asyncio.sleep(0.02)


def spread(holders: dict[int, str]) -> Counter[str]:
    return Counter(holders.values())


async def test_three_workers_process_every_input_once_and_take_over_a_killed_one(
    own_nats_server: NatsServer,
) -> None:
    url = own_nats_server.url
    log = await open_log(url, REGISTRY)
    assert isinstance(log, NatsLog)
    observer = NatsLeases(log, worker="observer", ttl=TTL)  # reads the leases, never joins
    workers = {name: spawn(url, name) for name in WORKERS}
    try:
        await until(
            lambda: _spread_is(observer, {"w1": 4, "w2": 4, "w3": 4}), "an even spread of 3 x 4"
        )
        before = await observer.holders(sums_name())
        placed: Placed = []
        await produce(log, 0, PER_PHASE, placed, asyncio.Event())
        await until(lambda: _count(log, len(placed)), "the first phase to be processed")
        half = asyncio.Event()
        killed_at = 0

        async def kill_midway() -> None:
            nonlocal killed_at
            await half.wait()
            workers["w1"].send_signal(signal.SIGKILL)
            await asyncio.to_thread(workers["w1"].wait)
            killed_at = len(placed)

        await asyncio.gather(produce(log, PER_PHASE, PER_PHASE, placed, half), kill_midway())
        await until(lambda: _spread_is(observer, {"w2": 6, "w3": 6}), "w1's partitions moved")
        await until(lambda: _count(log, len(placed)), "every input to be processed")
        found = await outputs(log)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            process.wait(timeout=60)
        await log.aclose()

    # every input had exactly one effect: one output, whatever worker or replay produced it
    by_input = Counter(cause for cause, _ in found)
    assert set(by_input) == {input_id for input_id, _, _ in placed}
    assert max(by_input.values()) == 1
    # and state was applied exactly once: each key's totals are the prefix sums of its inputs
    out = {cause: running for cause, running in found}
    per_key: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for input_id, where, event in placed:
        assert isinstance(event.data, Amount)
        per_key[event.key].append((where.offset, input_id, event.data.n))
    for key, inputs in per_key.items():
        total = 0
        for _, input_id, n in sorted(inputs):
            total += n
            assert out[input_id].total == total, f"key {key}: state applied twice or lost"
    # the load moved: w1's partitions were processed by the survivors after it died
    w1_parts = {p for p, holder in before.items() if holder == "w1"}
    assert len(w1_parts) == 4
    late = [out[i].worker for i, where, _ in placed[killed_at:] if where.partition in w1_parts]
    assert late, "no input reached w1's partitions after it was killed"
    assert set(late) <= {"w2", "w3"}


def sums_name() -> str:
    return "lease.sums"


async def _spread_is(observer: NatsLeases, want: dict[str, int]) -> bool:
    holders = await observer.holders(sums_name())
    return len(holders) == PARTITIONS and spread(holders) == Counter(want)


async def _count(log: Log, want: int) -> bool:
    return len(await outputs(log)) >= want
