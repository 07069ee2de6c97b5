"""A nats-server that crashes and comes back in the middle of a run loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

import msgspec
import pytest

from flambeau.events import NewEvent
from flambeau.log import Appended, Log, open_log, partition_for
from tests.integration.nats.schemas import Tick, make_registry
from tests.support.nats_server import NatsServer

pytestmark = pytest.mark.nats

STREAM = "it.ticks"
BATCHES = 60
BATCH = 50
TOTAL = BATCHES * BATCH
DECODE = msgspec.msgpack.Decoder(Tick).decode


async def follow(log: Log, partitions: int, want: int) -> list[tuple[int, int, str, int]]:
    """Read every partition from 0 until ``want`` records were seen: (part, offset, id, n)."""
    positions = dict.fromkeys(range(partitions), 0)
    seen: list[tuple[int, int, str, int]] = []
    while len(seen) < want:
        progressed = False
        for part, offset in positions.items():
            records = await log.read(STREAM, part, offset, 500)
            if records:
                progressed = True
                seen.extend((part, r.offset, r.id, DECODE(r.data).n) for r in records)
                positions[part] = records[-1].offset + 1
        if not progressed:
            await log.wait(STREAM, positions, timeout=2.0)
    return seen


@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "sigterm"])
async def test_restart_under_load_loses_and_duplicates_nothing(
    own_nats_server: NatsServer, kill: bool
) -> None:
    url = f"{own_nats_server.url}?timeout=60"
    writer_log = await open_log(url, make_registry())
    reader_log = await open_log(url, make_registry())
    placed: list[Appended] = []
    restarted = asyncio.Event()
    a_third = asyncio.Event()

    async def writer() -> None:
        for b in range(BATCHES):
            events = [
                NewEvent(Tick(n=b * BATCH + i), key=f"k{i % 13}", id=f"e-{b * BATCH + i}")
                for i in range(BATCH)
            ]
            placed.extend(await writer_log.append(STREAM, events))
            if len(placed) >= TOTAL // 3:
                a_third.set()
            await asyncio.sleep(0.005)  # keep the run long enough to crash in the middle

    async def crash() -> None:
        await a_third.wait()
        await asyncio.to_thread(own_nats_server.restart, kill=kill)
        restarted.set()

    try:
        _, seen, _ = await asyncio.gather(writer(), follow(reader_log, 4, TOTAL), crash())
    finally:
        await writer_log.aclose()
        await reader_log.aclose()
    assert restarted.is_set()
    ids = Counter(event_id for _, _, event_id, _ in seen)
    assert set(ids) == {f"e-{n}" for n in range(TOTAL)}, "an event was lost"
    assert max(ids.values()) == 1, "an event was stored twice"
    assert not any(p.duplicate for p in placed), "a first append was reported as a duplicate"
    by_offset = {(part, offset): n for part, offset, _, n in seen}
    for where, n in zip(placed, range(TOTAL), strict=True):
        assert by_offset[(where.partition, where.offset)] == n
    for part in range(4):
        offsets = [o for p, o, _, _ in seen if p == part]  # in the order they were read
        assert offsets == list(range(len(offsets))), f"partition {part}: hole or reordering"


async def test_a_waiting_reader_resumes_after_a_restart(own_nats_server: NatsServer) -> None:
    reader = await open_log(own_nats_server.url, make_registry())
    try:
        await reader.append(STREAM, [NewEvent(Tick(n=0), key="a")])
        end = await reader.end_offsets(STREAM)
        await asyncio.to_thread(own_nats_server.restart, kill=True)
        waiting = asyncio.create_task(reader.wait(STREAM, end, timeout=30))
        writer = await open_log(own_nats_server.url, make_registry())
        try:
            await writer.append(STREAM, [NewEvent(Tick(n=1), key="a")])
        finally:
            await writer.aclose()
        assert await waiting is True
        part = partition_for("a", 4)
        got = await reader.read(STREAM, part, end[part])
        assert [DECODE(r.data).n for r in got] == [1]
    finally:
        await reader.aclose()
