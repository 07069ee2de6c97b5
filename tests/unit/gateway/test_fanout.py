"""Shared readers, catch-up and outboxes, driven directly (no server)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flambeau.errors import IllegalTransitionError
from flambeau.events import NewEvent
from flambeau.gateway.fanout import (
    Batch,
    Hub,
    Outbox,
    PartitionReader,
    Subscription,
    SubState,
    transition,
)
from flambeau.log import open_log
from flambeau.log.base import Log, partition_for
from tests.unit.gateway.schemas import Score, make_registry


def batch(offsets: list[int], keys: list[str] | None = None, partition: int = 0) -> Batch:
    return Batch(
        "results.units",
        partition,
        offsets,
        keys or ["k"] * len(offsets),
        [f'{{"o":{o}}}' for o in offsets],
        0.0,
    )


def delivered(outbox: Outbox) -> list[int]:
    """The offsets queued in ``outbox`` (drained)."""
    out: list[int] = []
    for _, queued, indices in outbox.items:
        assert isinstance(queued, Batch)
        chosen = range(len(queued.offsets)) if indices is None else indices
        out.extend(queued.offsets[i] for i in chosen)
    outbox.items.clear()
    outbox.size = 0
    return out


def test_lifecycle_moves() -> None:
    assert transition(SubState.CATCHING_UP, SubState.LIVE) is SubState.LIVE
    assert transition(SubState.LIVE, SubState.CLOSED) is SubState.CLOSED
    for illegal in [(SubState.LIVE, SubState.CATCHING_UP), (SubState.CLOSED, SubState.LIVE)]:
        with pytest.raises(IllegalTransitionError):
            transition(*illegal)


async def test_push_skips_what_the_subscription_already_has() -> None:
    outbox = Outbox(1 << 20)
    sub = Subscription("s", "results.units", "e", [3], [0], None, outbox)
    sub.push(batch([0, 1, 2]))
    sub.push(batch([2, 3, 4]))
    sub.push(batch([5]))
    assert delivered(outbox) == [3, 4, 5]
    assert sub.offsets == [6]


async def test_key_filter_keeps_matching_records_and_still_advances() -> None:
    outbox = Outbox(1 << 20)
    sub = Subscription("s", "results.units", "e", [0], [0], "b", outbox)
    sub.push(batch([0, 1, 2, 3], ["a", "b", "a", "b"]))
    sub.push(batch([4, 5], ["a", "a"]))
    assert delivered(outbox) == [1, 3]
    assert sub.offsets == [6]


async def test_a_live_push_beyond_the_limit_marks_a_slow_consumer() -> None:
    outbox = Outbox(100)
    sub = Subscription("s", "results.units", "e", [0], [0], None, outbox)
    sub.push(batch(list(range(5))))
    assert not outbox.overflowed
    sub.push(batch(list(range(5, 20))))
    assert outbox.overflowed
    assert outbox.items == []
    assert await outbox.get() == []


async def test_catch_up_pushes_never_overflow_but_wait_for_room() -> None:
    outbox = Outbox(100)
    sub = Subscription("s", "results.units", "e", [0], [0], None, outbox)
    sub.push(batch(list(range(50))), catch_up=True)
    assert not outbox.overflowed
    waiting = asyncio.ensure_future(outbox.room())
    await asyncio.sleep(0)
    assert not waiting.done()
    assert len(await outbox.get()) == 1
    await asyncio.wait_for(waiting, 1)


@pytest.mark.parametrize(
    ("records", "size", "kept"),
    [
        # at least the bound is kept: the oldest batch goes once the others reach it alone
        (10, 1 << 20, [[8, 9, 10, 11], [12, 13, 14, 15], [16, 17]]),  # by records
        (1000, 40, [[12, 13, 14, 15], [16, 17]]),  # by bytes: these two are 36 + 18 bytes
        (1000, 1, [[16, 17]]),  # never less than the newest batch
    ],
)
async def test_the_recent_ring_is_bounded_by_records_and_by_bytes(
    records: int, size: int, kept: list[list[int]]
) -> None:
    async with await open_log("memory://", make_registry()) as log:
        hub = Hub(log, recent_records=records, recent_bytes=size)
        reader = PartitionReader(hub, "results.units", 0, 0)
        for first in range(0, 18, 4):
            reader._remember(batch(list(range(first, min(first + 4, 18)))))
    assert [b.offsets for b in reader.recent] == kept
    assert reader.recent_bytes == sum(b.size for b in reader.recent)


async def test_one_reader_per_partition_serves_every_subscriber(log: Log) -> None:
    hub = Hub(log)
    ends = [0, 0, 0, 0]
    outboxes = [Outbox(1 << 20) for _ in range(5)]
    subs = [
        Subscription(f"s{i}", "results.units", "e", [0] * 4, [0, 1, 2, 3], None, box)
        for i, box in enumerate(outboxes)
    ]
    for sub in subs:
        hub.attach(sub, ends)
    await asyncio.sleep(0.05)
    assert all(sub.state is SubState.LIVE for sub in subs)
    await log.append(
        "results.units", [NewEvent(Score(unit="u", points=i), key=f"k{i}") for i in range(20)]
    )
    await asyncio.sleep(0.05)
    assert len(hub.readers) == 4
    assert all(len(delivered(box)) == 20 for box in outboxes)
    for sub in subs:
        hub.detach(sub)
    await hub.aclose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(
        st.one_of(
            st.tuples(st.just("append"), st.integers(1, 30)),
            st.tuples(st.just("subscribe"), st.integers(0, 100)),
            st.tuples(st.just("drain"), st.just(0)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_subscriber_gets_exactly_the_log_from_its_start(
    plan: list[tuple[str, int]],
) -> None:
    """Whatever the interleaving of appends, subscriptions and slow writers: no gap, no repeat."""

    async def scenario() -> None:
        log = await open_log("memory://", make_registry())
        hub = Hub(log, read_batch=7, recent_records=10)
        subs: list[tuple[Subscription, list[int], list[list[int]]]] = []
        written = 0
        try:
            for action, amount in plan:
                if action == "append":
                    events = [
                        NewEvent(Score(unit="u", points=written + i), key="solo")
                        for i in range(amount)
                    ]
                    written += amount
                    await log.append("results.units", events)
                elif action == "subscribe":
                    start = min(amount, written)
                    info = await log.info("results.units")
                    part = partition_for("solo", info.partitions)  # every event lands here
                    offsets = [info.end[p] for p in range(info.partitions)]
                    offsets[part] = start
                    box = Outbox(1 << 30)
                    sub = Subscription("s", "results.units", info.epoch, offsets, [part], None, box)
                    got: list[list[int]] = [[] for _ in range(info.partitions)]
                    subs.append((sub, [start], got))
                    hub.attach(sub, [info.end[p] for p in range(info.partitions)])
                await asyncio.sleep(0)
                if action == "drain":
                    for sub, _, got in subs:
                        for offset in delivered(sub.outbox):
                            got[0].append(offset)
            for _ in range(50):
                await asyncio.sleep(0.002)
            for sub, (start,), got in subs:
                got[0].extend(delivered(sub.outbox))
                assert got[0] == list(range(start, written))
                hub.detach(sub)
        finally:
            await hub.aclose()
            await log.aclose()

    asyncio.run(scenario())
