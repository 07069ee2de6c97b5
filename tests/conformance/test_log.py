"""The log conformance suite: every backend keeps the same promises."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from flambeau.errors import (
    InvalidEventError,
    InvalidLogURLError,
    LogLockedError,
    SchemaMismatchError,
    UnknownBackendError,
    UnknownStreamError,
)
from flambeau.events import NewEvent, Registry
from flambeau.log import Appended, Log, StateChange, open_log, partition_for
from tests.conformance.conftest import PERSISTENT, OpenLog
from tests.conformance.schemas import Other, Ping, Pong

DECODE = msgspec.msgpack.Decoder(Ping | Pong).decode


def pings(start: int, count: int, *, key: str | None = None) -> list[NewEvent]:
    return [
        NewEvent(Ping(n=i), key=key if key is not None else f"k{i % 7}")
        for i in range(start, start + count)
    ]


async def read_all(log: Log, stream: str) -> dict[int, list[msgspec.Struct]]:
    info = await log.info(stream)
    out: dict[int, list[msgspec.Struct]] = {}
    for part in range(info.partitions):
        offset = info.start[part]
        records = []
        while True:
            batch = await log.read(stream, part, offset, 333)
            if not batch:
                break
            records.extend(batch)
            offset = batch[-1].offset + 1
        out[part] = records
    return out


async def test_offsets_strictly_increase_and_order_is_kept_per_partition(log: Log) -> None:
    for chunk in range(5):
        await log.append("test.pings", pings(chunk * 100, 100))
    parts = await read_all(log, "test.pings")
    assert sum(len(r) for r in parts.values()) == 500
    for part, records in parts.items():
        offsets = [r.offset for r in records]
        assert offsets == sorted(set(offsets)), "offsets must strictly increase"
        assert all(r.partition == part for r in records)
        by_key: dict[str, list[int]] = {}
        for r in records:
            by_key.setdefault(r.key, []).append(DECODE(r.data).n)
        for key, values in by_key.items():
            assert values == sorted(values), f"key {key} out of order"


async def test_key_picks_partition_by_stable_hash(log: Log) -> None:
    placed = await log.append("test.pings", [NewEvent(Ping(n=1), key="athlete-42")])
    assert placed[0].partition == partition_for("athlete-42", 4)


async def test_append_reports_positions_that_read_returns(log: Log) -> None:
    t = datetime(2024, 8, 4, 12, 0, tzinfo=UTC)
    placed = await log.append(
        "test.pings", [NewEvent(Ping(n=5, pad="x"), key="a", id="e-1", time=t, causation_id="c-0")]
    )
    (where,) = placed
    assert not where.duplicate
    (record,) = await log.read("test.pings", where.partition, where.offset, 1)
    assert (record.id, record.key, record.offset, record.stream) == (
        "e-1",
        "a",
        where.offset,
        "test.pings",
    )
    assert record.time == t
    assert record.causation_id == "c-0"
    assert record.ingested_at.tzinfo is not None
    assert DECODE(record.data) == Ping(n=5, pad="x")


async def test_read_from_position_and_limit(log: Log) -> None:
    await log.append("test.single", pings(0, 50, key="same"))
    got = await log.read("test.single", 0, 20, 10)
    assert [r.offset for r in got] == list(range(20, 30))
    assert [DECODE(r.data).n for r in got] == list(range(20, 30))
    assert await log.read("test.single", 0, 50, 10) == []


async def test_duplicate_ids_inside_one_batch_and_across_batches(log: Log) -> None:
    first = await log.append(
        "test.single",
        [NewEvent(Ping(n=1), id="a"), NewEvent(Ping(n=2), id="b"), NewEvent(Ping(n=1), id="a")],
    )
    assert [p.duplicate for p in first] == [False, False, True]
    assert (first[2].partition, first[2].offset) == (first[0].partition, first[0].offset)
    again = await log.append(
        "test.single", [NewEvent(Ping(n=1), id="b"), NewEvent(Ping(n=3), id="c")]
    )
    assert again[0] == Appended(first[1].partition, first[1].offset, True)
    assert not again[1].duplicate
    records = (await read_all(log, "test.single"))[0]
    assert [r.id for r in records] == ["a", "b", "c"]


async def test_ids_without_producer_id_are_generated_and_unique(log: Log) -> None:
    await log.append("test.single", pings(0, 200))
    records = (await read_all(log, "test.single"))[0]
    assert len({r.id for r in records}) == 200


async def test_wait_is_woken_by_an_append(log: Log) -> None:
    await log.append("test.single", pings(0, 1))
    end = await log.end_offsets("test.single")
    waiter = asyncio.create_task(log.wait("test.single", end, timeout=30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await log.append("test.single", pings(1, 1))
    assert await asyncio.wait_for(waiter, 10) is True


async def test_wait_returns_at_once_when_data_is_there_and_false_on_timeout(log: Log) -> None:
    await log.append("test.single", pings(0, 3))
    assert await log.wait("test.single", {0: 2}, timeout=5) is True
    assert await log.wait("test.single", {0: 3}, timeout=0.05) is False


async def test_group_offsets_commit_and_fetch(log: Log) -> None:
    await log.append("test.pings", pings(0, 10))
    assert await log.committed("g1", "test.pings") == {}
    await log.commit("g1", {"test.pings": {0: 3, 2: 5}})
    await log.commit("g1", {"test.pings": {0: 4}})
    assert await log.committed("g1", "test.pings") == {0: 4, 2: 5}
    assert await log.committed("g2", "test.pings") == {}


async def test_commit_writes_state_offsets_and_outputs_together(log: Log) -> None:
    await log.append("test.single", pings(0, 2))
    emitted = await log.commit(
        "proc",
        {"test.single": {0: 2}},
        state=[StateChange(1, "total", b"\x01"), StateChange(1, "gone", b"x")],
        emit=[
            ("test.out", NewEvent(Pong(n=1), key="k", id="proc-1")),
            ("test.out", NewEvent(Pong(n=2), key="k", id="proc-2")),
        ],
    )
    assert [e.duplicate for e in emitted] == [False, False]
    await log.commit(
        "proc",
        {"test.single": {0: 2}},
        state=[StateChange(1, "gone", None)],
        emit=[("test.out", NewEvent(Pong(n=1), key="k", id="proc-1"))],
    )
    assert await log.load_state("proc", 1) == {"total": b"\x01"}
    assert await log.load_state("proc", 0) == {}
    assert await log.committed("proc", "test.single") == {0: 2}
    outputs = [r for recs in (await read_all(log, "test.out")).values() for r in recs]
    assert sorted(r.id for r in outputs) == ["proc-1", "proc-2"]


async def test_concurrent_appenders_never_share_an_offset(log: Log) -> None:
    async def producer(n: int) -> None:
        for i in range(20):
            await log.append(
                "test.pings",
                [NewEvent(Ping(n=n * 1000 + i * 10 + j), key=f"p{n}") for j in range(10)],
            )

    await asyncio.gather(*(producer(n) for n in range(8)))
    parts = await read_all(log, "test.pings")
    values = [DECODE(r.data).n for recs in parts.values() for r in recs]
    assert sorted(values) == sorted(n * 1000 + i for n in range(8) for i in range(200))
    for records in parts.values():
        offsets = [r.offset for r in records]
        assert len(offsets) == len(set(offsets))


async def test_reader_keeps_up_while_writes_continue(log: Log) -> None:
    total = 3000

    async def writer() -> None:
        for i in range(0, total, 100):
            await log.append("test.single", pings(i, 100))
            await asyncio.sleep(0)

    async def reader() -> list[int]:
        seen: list[int] = []
        offset = 0
        while len(seen) < total:
            batch = await log.read("test.single", 0, offset, 250)
            if not batch:
                assert await log.wait("test.single", {0: offset}, timeout=10)
                continue
            seen.extend(DECODE(r.data).n for r in batch)
            offset = batch[-1].offset + 1
        return seen

    _, seen = await asyncio.gather(writer(), reader())
    assert seen == list(range(total))


async def test_long_partitions_read_back_whole_from_storage(open_test_log: OpenLog) -> None:
    log = await open_test_log()
    for start in range(0, 12_000, 1000):
        await log.append("test.single", pings(start, 1000))
    numbers = [DECODE(r.data).n for r in (await read_all(log, "test.single"))[0]]
    assert numbers == list(range(12_000))
    middle = await log.read("test.single", 0, 5_555, 10)
    assert [r.offset for r in middle] == list(range(5_555, 5_565))


async def test_reopened_log_reads_back_what_it_stored(backend: str, open_test_log: OpenLog) -> None:
    if backend not in PERSISTENT:
        pytest.skip(f"{backend}:// keeps nothing across close by design")
    log = await open_test_log()
    for start in range(0, 3000, 300):
        await log.append("test.pings", pings(start, 300))
    before = await read_all(log, "test.pings")
    await log.aclose()
    log = await open_test_log()
    after = await read_all(log, "test.pings")
    assert {p: [r.id for r in rs] for p, rs in after.items()} == {
        p: [r.id for r in rs] for p, rs in before.items()
    }
    assert sum(len(rs) for rs in after.values()) == 3000


async def test_unknown_stream_is_refused_by_name(log: Log) -> None:
    with pytest.raises(UnknownStreamError, match=r"nope\.stream"):
        await log.append("nope.stream", pings(0, 1))
    with pytest.raises(UnknownStreamError):
        await log.read("nope.stream", 0, 0)


async def test_schema_mismatch_writes_nothing(log: Log) -> None:
    with pytest.raises(SchemaMismatchError, match="other"):
        await log.append("test.single", [*pings(0, 3), NewEvent(Other(n=1))])
    assert (await log.info("test.single")).end == {0: 0}


async def test_naive_time_is_refused(log: Log) -> None:
    with pytest.raises(InvalidEventError, match="timezone"):
        await log.append("test.single", [NewEvent(Ping(n=1), time=datetime(2024, 8, 4, 12))])


async def test_retention_by_size_moves_the_start(log: Log) -> None:
    for i in range(40):
        await log.append("test.sized", [NewEvent(Ping(n=i, pad="x" * 100))])
    await log.enforce_retention()
    info = await log.info("test.sized")
    assert info.end[0] == 40
    assert 0 < info.start[0] < 40
    first = await log.read("test.sized", 0, 0, 1)
    assert first[0].offset == info.start[0]


async def test_retention_by_age_moves_the_start(log: Log) -> None:
    await log.append("test.aged", pings(0, 5))
    await asyncio.sleep(0.3)
    await log.append("test.aged", pings(5, 5))
    await log.enforce_retention()
    info = await log.info("test.aged")
    assert info.start[0] == 5
    assert [DECODE(r.data).n for r in await log.read("test.aged", 0, 0)] == list(range(5, 10))


async def test_reopen_keeps_events_offsets_state_epoch_and_dedupe(
    backend: str, open_test_log: OpenLog
) -> None:
    if backend not in PERSISTENT:
        pytest.skip(f"{backend}:// keeps nothing across close by design")
    log = await open_test_log()
    await log.append("test.single", [NewEvent(Ping(n=i), id=f"id-{i}") for i in range(10)])
    await log.commit("g", {"test.single": {0: 7}}, state=[StateChange(0, "k", b"v")])
    before = await log.info("test.single")
    await log.aclose()
    log = await open_test_log()
    after = await log.info("test.single")
    assert (after.end, after.epoch) == (before.end, before.epoch)
    assert await log.committed("g", "test.single") == {0: 7}
    assert await log.load_state("g", 0) == {"k": b"v"}
    again = await log.append(
        "test.single", [NewEvent(Ping(n=3), id="id-3"), NewEvent(Ping(n=10), id="id-10")]
    )
    assert [a.duplicate for a in again] == [True, False]
    assert again[1].offset == 10


async def test_sqlite_log_refuses_a_second_opener(tmp_path: Path, registry: Registry) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    async with await open_log(url, registry):
        with pytest.raises(LogLockedError, match="another process"):
            await open_log(url, registry)
    async with await open_log(url, registry) as again:  # released on close
        assert await again.streams() == []


async def test_unknown_scheme_and_option_are_named(registry: Registry) -> None:
    with pytest.raises(UnknownBackendError, match="kafka"):
        await open_log("kafka://localhost:9092", registry)
    with pytest.raises(InvalidLogURLError, match="bogus"):
        await open_log("memory://?bogus=1", registry)


async def test_an_integer_messagepack_cannot_hold_refuses_the_batch_and_leaves_no_gap(
    log: Log,
) -> None:
    await log.append("test.single", [NewEvent(Ping(n=1), id="kept")])
    with pytest.raises(InvalidEventError, match="event 1: an integer"):
        await log.append("test.single", [NewEvent(Ping(n=2)), NewEvent(Ping(n=2**64))])
    with pytest.raises(InvalidEventError, match="event 0: an integer"):  # a retry too
        await log.append("test.single", [NewEvent(Ping(n=-(2**63) - 1), id="kept")])
    await log.append("test.single", [NewEvent(Ping(n=3))])
    records = (await read_all(log, "test.single"))[0]
    assert [r.offset for r in records] == [0, 1]  # nothing of the refused batch took an offset
