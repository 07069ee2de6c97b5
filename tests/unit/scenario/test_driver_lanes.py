"""Lanes keep order, batch, bound their memory, and know what is still unanswered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from flambeau.scenario.lanes import Lane

T0 = datetime(2024, 8, 4, 12, tzinfo=UTC)


def at(n: int) -> datetime:
    return T0 + timedelta(seconds=n)


async def test_batches_go_out_in_order_and_full() -> None:
    sent: list[list[int]] = []

    async def send(batch: list[int]) -> bool:
        sent.append(batch)
        return True

    lane: Lane[int] = Lane("t", send, max_batch=3)
    lane.start()
    for n in range(8):
        await lane.add(at(n), n)
    assert await lane.drain(timeout=5)
    assert sent == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert lane.idle
    await lane.aclose()


async def test_the_oldest_unanswered_payload_holds_the_checkpoint() -> None:
    release = asyncio.Event()
    sent: list[list[int]] = []

    async def send(batch: list[int]) -> bool:
        await release.wait()
        sent.append(batch)
        return True

    lane: Lane[int] = Lane("t", send, max_batch=2)
    lane.start()
    assert lane.oldest_unanswered() is None
    await lane.add(at(5), 5)
    assert lane.oldest_unanswered() == at(5)  # still filling
    await lane.add(at(6), 6)
    await lane.add(at(7), 7)
    assert lane.oldest_unanswered() == at(5)  # in flight
    release.set()
    assert await lane.drain(timeout=5)
    assert lane.oldest_unanswered() is None
    await lane.aclose()


async def test_a_full_lane_refuses_offers_instead_of_growing() -> None:
    release = asyncio.Event()

    async def send(batch: list[int]) -> bool:
        await release.wait()
        return True

    lane: Lane[int] = Lane("t", send, max_batch=2, max_queued=1)
    lane.start()
    taken = [lane.offer(at(n), n) for n in range(20)]
    # one full batch queued and one payload filling the next: the rest is refused
    assert taken == [True, True, True] + [False] * 17
    release.set()
    assert await lane.drain(timeout=5)
    assert lane.offer(at(30), 30)
    await lane.aclose()


async def test_a_batch_that_was_not_answered_stays_for_the_resume() -> None:
    async def send(batch: list[int]) -> bool:
        return False  # the client was stopped before an answer

    lane: Lane[int] = Lane("t", send, max_batch=1)
    lane.start()
    await lane.add(at(1), 1)
    assert not await lane.drain(timeout=1)
    assert lane.oldest_unanswered() == at(1)
    await lane.aclose()


async def test_a_partial_batch_waits_at_most_max_wait_when_flushed_as_due() -> None:
    sent: list[list[int]] = []

    async def send(batch: list[int]) -> bool:
        sent.append(batch)
        return True

    lane: Lane[int] = Lane("t", send, max_batch=100, max_wait=0.01)
    lane.start()
    await lane.add(at(1), 1)
    lane.flush_ready(due_only=True)  # not due yet: keeps filling
    await lane.add(at(2), 2)
    await asyncio.sleep(0.02)
    lane.flush_ready(due_only=True)
    assert await lane.drain(timeout=5)
    assert sent == [[1, 2]]
    await lane.aclose()
