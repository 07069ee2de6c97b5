"""Partition leases: an even spread, hand-over on a clean stop, takeover when a worker dies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import nats.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.errors import IllegalTransitionError
from flambeau.log import open_log
from flambeau.log.nats import NatsLog
from flambeau.log.nats_leases import LeaseStatus, NatsLeases, leases_for, share, transition
from tests.integration.nats.schemas import make_registry

pytestmark = pytest.mark.nats

PROCESSOR = "it.counter"
TTL = 1.2


@given(
    workers=st.lists(
        st.text("abcdef", min_size=1, max_size=4), min_size=1, max_size=9, unique=True
    ),
    partitions=st.integers(min_value=1, max_value=64),
)
def test_shares_split_every_partition_evenly(workers: list[str], partitions: int) -> None:
    shares = [share(w, workers, partitions) for w in workers]
    assert sum(shares) == partitions
    assert max(shares) - min(shares) <= 1


def test_a_lost_lease_cannot_be_drained() -> None:
    assert transition(LeaseStatus.HELD, LeaseStatus.DRAINING) is LeaseStatus.DRAINING
    with pytest.raises(IllegalTransitionError, match="lost to draining"):
        transition(LeaseStatus.LOST, LeaseStatus.DRAINING)


class Follower:
    """Drives ``owned()`` as the runtime would, remembering the latest set."""

    def __init__(self, leases: NatsLeases) -> None:
        self.leases = leases
        self.current: frozenset[int] = frozenset()
        self._stream: AsyncIterator[frozenset[int]] = leases.owned(PROCESSOR, 12)
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for owned in self._stream:
            self.current = owned

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.leases.aclose()


async def settled(*followers: Follower, want: list[int]) -> None:
    for _ in range(300):
        sizes = sorted(len(f.current) for f in followers)
        union = set().union(*(f.current for f in followers))
        overlap = sum(len(f.current) for f in followers) != len(union)
        if sizes == sorted(want) and not overlap and len(union) == sum(want):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no settled spread {want}: {[sorted(f.current) for f in followers]}")


async def test_workers_share_hand_over_and_take_over(nats_url: str) -> None:
    logs = [await open_log(nats_url, make_registry()) for _ in range(3)]
    try:
        assert all(isinstance(log, NatsLog) for log in logs)
        a, b, c = (
            Follower(NatsLeases(log, worker=n, ttl=TTL)) for log, n in zip(logs, "abc", strict=True)
        )
        await settled(a, b, c, want=[4, 4, 4])
        await b.stop()  # a clean stop: its leases are handed over at once
        await settled(a, c, want=[6, 6])
        dead = c.leases
        c._task.cancel()  # dies without a word: its leases lapse after the TTL
        await asyncio.gather(c._task, return_exceptions=True)
        await settled(a, want=[12])
        holders = await a.leases.holders(PROCESSOR)
        assert set(holders.values()) == {"a"}
        assert dead.worker not in await a.leases.members(PROCESSOR)
        await a.stop()
    finally:
        for log in logs:
            await log.aclose()


async def test_only_a_nats_log_gets_leases(nats_url: str) -> None:
    memory = await open_log("memory://", make_registry())
    nats_log = await open_log(nats_url, make_registry())
    try:
        assert leases_for(memory) is None
        assert isinstance(leases_for(nats_log), NatsLeases)
    finally:
        await memory.aclose()
        await nats_log.aclose()


class Recorder(Follower):
    """A follower that remembers every set it was given."""

    def __init__(self, leases: NatsLeases) -> None:
        self.seen: list[frozenset[int]] = []
        super().__init__(leases)

    async def _follow(self) -> None:
        async for owned in self._stream:
            self.current = owned
            self.seen.append(owned)


async def test_a_renewal_whose_ack_was_lost_keeps_the_lease(nats_url: str) -> None:
    """On a loaded cluster an ack can time out after the write landed: the retry then finds the
    key past the revision it expects. That is still this worker's lease, and losing it would
    stop and reload a partition for nothing."""
    log = await open_log(nats_url, make_registry())
    assert isinstance(log, NatsLog)
    a = Recorder(NatsLeases(log, worker="acked-late", ttl=TTL))
    try:
        await settled(a, want=[12])
        real = log._js.publish
        lost: set[str] = set()

        async def ack_lost_once(subject: str, *args: Any, **kwargs: Any) -> Any:
            ack = await real(subject, *args, **kwargs)
            if ".l." in subject and subject not in lost:
                lost.add(subject)
                raise nats.errors.TimeoutError
            return ack

        log._js.publish = ack_lost_once  # type: ignore[method-assign]
        seen = len(a.seen)
        await asyncio.sleep(TTL * 2)  # several beats
        assert len(lost) == 12  # every lease lost one ack
        assert a.seen[seen - 1 :] == [frozenset(range(12))]  # and none of them changed hands
    finally:
        await a.stop()
        await log.aclose()
