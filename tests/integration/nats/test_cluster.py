"""The ``nats://`` log on a three-node JetStream cluster with ``replicas=3``, as deployed.

A replicated stream refuses a write fenced on a subject while another write fenced on the same
subject is in flight (``wrong last sequence``, code 10164), which a single server never does:
state writes must reach the cluster as atomic batches. These tests run the commit paths on the
cluster, with more state keys than one atomic batch holds.
"""

from __future__ import annotations

import asyncio

import pytest

from flambeau.events import NewEvent
from flambeau.log import StateChange, open_log
from flambeau.log.nats import NatsLog
from tests.integration.nats import test_groups
from tests.integration.nats.schemas import Tick, make_registry
from tests.support.nats_server import NatsServer

pytestmark = pytest.mark.nats

KEYS = 2500  # more than the 1000 messages of one atomic batch


async def test_commits_with_thousands_of_state_keys_land_on_r3(cluster_url: str) -> None:
    log = await open_log(cluster_url, make_registry())
    try:
        assert await log.load_state("g", 2) == {}
        want: dict[str, bytes] = {}
        for round_ in range(4):
            changes = [
                StateChange(2, f"k{i}", None if (i + round_) % 7 == 0 else b"%d-%d" % (round_, i))
                for i in range(KEYS)
            ]
            await log.commit("g", {"it.ticks": {2: round_ + 1}}, state=changes)
            for change in changes:
                if change.value is None:
                    want.pop(change.key, None)
                else:
                    want[change.key] = change.value
        await log.commit("g", {"it.ticks": {2: 9}})  # applies the last pending changes
        again = await open_log(cluster_url, make_registry())
        try:
            assert await again.load_state("g", 2) == want
            assert await again.committed("g", "it.ticks") == {2: 9}
        finally:
            await again.aclose()
    finally:
        await log.aclose()


async def test_a_worker_that_lost_its_partition_cannot_commit_on_r3(cluster_url: str) -> None:
    await test_groups.test_a_worker_that_lost_its_partition_cannot_commit(cluster_url)


async def test_outputs_of_a_replayed_batch_are_stored_once_on_r3(
    cluster_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await test_groups.test_outputs_of_a_batch_replayed_after_a_crash_are_stored_once(
        cluster_url, monkeypatch
    )


async def test_a_client_whose_read_loop_died_reconnects_by_itself(
    own_nats_server: NatsServer,
) -> None:
    """nats-py's own ``flush``, cancelled, ends the client's read loop (its late PONG fails
    ``set_result``): the connection says it is connected and hears nothing. Unanswered pings
    must make the log reconnect, and its calls succeed again."""
    log = await open_log(f"{own_nats_server.url}?timeout=60", make_registry())
    assert isinstance(log, NatsLog)
    try:
        await log.append("it.ticks", [])
        client = log._nc
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0):
                await client.flush(timeout=5)  # cancelled: the bug this guards against
        await asyncio.sleep(0.5)
        assert client._reading_task is not None
        assert client._reading_task.done()
        # deaf now; reads still complete, because the log detects it and reconnects
        placed = await log.append("it.ticks", [NewEvent(Tick(n=1), key="a", id="t-1")])
        assert [r.id for r in await log.read("it.ticks", placed[0].partition, 0)] == ["t-1"]
    finally:
        await log.aclose()


async def test_a_commit_larger_than_a_message_on_r3(cluster_url: str) -> None:
    await test_groups.test_a_commit_larger_than_a_message_keeps_its_pending_state_in_chunks(
        cluster_url
    )


async def test_a_state_value_larger_than_a_message_on_r3(cluster_url: str) -> None:
    await test_groups.test_a_state_value_larger_than_a_message_round_trips(cluster_url)
