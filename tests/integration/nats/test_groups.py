"""Offsets and state in JetStream KV: CAS fencing, crash recovery, outputs deduplicated."""

from __future__ import annotations

import asyncio
import time

import nats.js.errors
import pytest

from flambeau.errors import FlambeauError
from flambeau.events import NewEvent
from flambeau.log import Log, StateChange, _nats_groups, open_log
from flambeau.log._nats_groups import Checkpoint, b64
from flambeau.log.nats import CommitConflictError, NatsLog
from tests.integration.nats.schemas import Tick, make_registry

pytestmark = pytest.mark.nats


class Crash(Exception):
    """Stands for the process dying at a chosen point of a commit."""


async def opened(url: str) -> NatsLog:
    log = await open_log(url, make_registry())
    assert isinstance(log, NatsLog)
    return log


async def outputs(log: Log) -> list[str]:
    ids = []
    for part in range(4):
        ids.extend(r.id for r in await log.read("it.out", part, 0, 1000))
    return sorted(ids)


async def test_a_worker_that_lost_its_partition_cannot_commit(nats_url: str) -> None:
    old, new = await opened(nats_url), await opened(nats_url)
    try:
        await old.commit("g", {"it.ticks": {0: 3}}, state=[StateChange(0, "k", b"old")])
        assert await old.load_state("g", 0) == {"k": b"old"}
        assert await new.load_state("g", 0) == {"k": b"old"}  # the new owner takes over
        await new.commit("g", {"it.ticks": {0: 5}}, state=[StateChange(0, "k", b"new")])
        await new.commit("g", {"it.ticks": {0: 6}}, state=[StateChange(0, "j", b"new")])
        # the old owner's next commit would first write its own pending k=old: refused
        with pytest.raises(CommitConflictError, match="another worker"):
            await old.commit("g", {"it.ticks": {0: 4}}, state=[StateChange(0, "k", b"stale")])
        assert await new.committed("g", "it.ticks") == {0: 6}
        assert await new.load_state("g", 0) == {"k": b"new", "j": b"new"}
        assert issubclass(CommitConflictError, FlambeauError)
    finally:
        await old.aclose()
        await new.aclose()


async def test_other_partitions_of_the_group_commit_independently(nats_url: str) -> None:
    one, two = await opened(nats_url), await opened(nats_url)
    try:
        await one.load_state("g", 0)
        await two.load_state("g", 1)
        for n in range(3):
            await one.commit("g", {"it.ticks": {0: n}}, state=[StateChange(0, "n", b"%d" % n)])
            await two.commit("g", {"it.ticks": {1: n}}, state=[StateChange(1, "n", b"%d" % n)])
        assert await one.committed("g", "it.ticks") == {0: 2, 1: 2}
    finally:
        await one.aclose()
        await two.aclose()


async def test_committed_state_not_yet_in_its_keys_survives_a_crash(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashing = await opened(nats_url)
    try:
        await crashing.commit("g", {"it.ticks": {2: 1}}, state=[StateChange(2, "a", b"1")])
        await crashing.commit(
            "g", {"it.ticks": {2: 2}}, state=[StateChange(2, "a", None), StateChange(2, "b", b"2")]
        )
        groups = crashing._groups
        assert groups is not None

        async def die(*_: object) -> None:
            raise Crash

        # the third commit dies while writing the second one's changes to their keys
        monkeypatch.setattr(groups, "_apply", die)
        with pytest.raises(Crash):
            await crashing.commit("g", {"it.ticks": {2: 3}}, state=[StateChange(2, "x", b"x")])
    finally:
        await crashing.aclose()
    survivor = await opened(nats_url)
    try:
        assert await survivor.committed("g", "it.ticks") == {2: 2}
        assert await survivor.load_state("g", 2) == {"b": b"2"}
        await survivor.commit("g", {"it.ticks": {2: 3}}, state=[StateChange(2, "c", b"3")])
        await survivor.commit("g", {"it.ticks": {2: 4}})
    finally:
        await survivor.aclose()
    fresh = await opened(nats_url)  # every committed change reached its key for good
    try:
        assert await fresh.load_state("g", 2) == {"b": b"2", "c": b"3"}
        groups = fresh._groups
        assert groups is not None
        values, _ = await groups._scan("g", 2)
        assert values == {"b": b"2", "c": b"3"}
    finally:
        await fresh.aclose()


async def test_outputs_of_a_batch_replayed_after_a_crash_are_stored_once(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emit = [
        ("it.out", NewEvent(Tick(n=i), key=f"k{i}", id=f"proc-out-{i}", causation_id=f"in-{i}"))
        for i in range(20)
    ]
    crashing = await opened(nats_url)
    try:
        groups = crashing._groups
        assert groups is not None

        async def die(*_: object) -> None:
            raise Crash

        monkeypatch.setattr(groups, "_cas", die)  # outputs written, checkpoint not
        with pytest.raises(Crash):
            await crashing.commit("proc", {"it.ticks": {0: 20}}, emit=emit)
    finally:
        await crashing.aclose()
    restarted = await opened(nats_url)
    try:
        assert await restarted.committed("proc", "it.ticks") == {}  # the batch runs again
        replayed = await restarted.commit("proc", {"it.ticks": {0: 20}}, emit=emit)
        assert all(p.duplicate for p in replayed)
        assert await outputs(restarted) == sorted(f"proc-out-{i}" for i in range(20))
        assert await restarted.committed("proc", "it.ticks") == {0: 20}
    finally:
        await restarted.aclose()


async def test_large_state_with_deletes_round_trips(nats_url: str) -> None:
    log = await opened(nats_url)
    try:
        keys = [f"athlete:{i}/ü" for i in range(3000)]
        await log.commit("big", {}, state=[StateChange(3, k, k.encode()) for k in keys])
        await log.commit("big", {}, state=[StateChange(3, k, None) for k in keys[::2]])
    finally:
        await log.aclose()
    again = await opened(nats_url)
    try:
        assert await again.load_state("big", 3) == {k: k.encode() for k in keys[1::2]}
    finally:
        await again.aclose()


async def test_a_commit_larger_than_a_message_keeps_its_pending_state_in_chunks(
    nats_url: str,
) -> None:
    """3 MB of state changes in one commit: more than a NATS message (1 MB), so the pending
    list goes to chunk keys beside the checkpoint. A reader overlays them, the next commit
    applies them, and chunks left by a commit attempt that never reached its checkpoint (a
    crash) are recognised by their token and ignored."""
    big = [StateChange(1, f"k{i}", bytes([i % 251]) * 1000) for i in range(3000)]
    want = {c.key: c.value for c in big}
    log = await opened(nats_url)
    try:
        await log.commit("g", {"it.ticks": {1: 1}}, state=big)  # pending, in chunks
        reader = await opened(nats_url)
        try:
            assert await reader.load_state("g", 1) == want  # overlaid from the chunks
        finally:
            await reader.aclose()
        # a second large commit attempt writes its chunks, then "crashes" before its checkpoint
        groups = log._groups
        assert groups is not None
        plan = groups.plan("g", {"it.ticks": {1: 2}}, big[:1500])
        await groups.settle(plan)  # the first commit's pending, applied to the state keys
        known = groups._known[("g", 1)]
        attempt = Checkpoint({}, [(c.key, b"never committed") for c in big[:1500]], "attempt-2")
        await groups._write_chunks("g", 1, attempt, known.revision)
    finally:
        await log.aclose()
    again = await opened(nats_url)
    try:
        assert await again.committed("g", "it.ticks") == {1: 1}
        assert await again.load_state("g", 1) == want  # applied; the stray chunks ignored
        await again.commit("g", {"it.ticks": {1: 3}}, state=[StateChange(1, "k0", b"new")])
        assert (await again.load_state("g", 1))["k0"] == b"new"
    finally:
        await again.aclose()


async def test_a_state_value_larger_than_a_message_round_trips(nats_url: str) -> None:
    """The ledger keeps megabytes under one key: such a value is split into parts."""
    huge = bytes(range(256)) * 18_000  # 4.6 MB
    log = await opened(nats_url)
    try:
        await log.commit("g", {"it.ticks": {2: 1}}, state=[StateChange(2, "t/segment", huge)])
        await log.commit("g", {"it.ticks": {2: 2}}, state=[StateChange(2, "small", b"s")])
        await log.commit("g", {"it.ticks": {2: 3}})  # both now in their keys, not pending
    finally:
        await log.aclose()
    again = await opened(nats_url)
    try:
        assert await again.load_state("g", 2) == {"t/segment": huge, "small": b"s"}
        await again.commit("g", {"it.ticks": {2: 4}}, state=[StateChange(2, "t/segment", b"x")])
        await again.commit("g", {"it.ticks": {2: 5}})
        assert await again.load_state("g", 2) == {"t/segment": b"x", "small": b"s"}
    finally:
        await again.aclose()


async def test_state_of_many_large_values_loads_page_by_page(nats_url: str) -> None:
    """28 MB of state in 40 values under the message size: a scan pages it by bytes (a page
    of a thousand such values would overflow the client's subscription)."""
    big = {f"k{i}": bytes([i]) * 700_000 for i in range(40)}
    log = await opened(nats_url)
    try:
        state = [StateChange(0, k, v) for k, v in big.items()]
        await log.commit("g", {"it.ticks": {0: 1}}, state=state)
        await log.commit("g", {"it.ticks": {0: 2}})  # now in their keys, not pending
    finally:
        await log.aclose()
    again = await opened(nats_url)
    try:
        assert await again.load_state("g", 0) == big
    finally:
        await again.aclose()


async def test_a_deleted_state_key_leaves_no_marker_behind(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every load reads the last message of each key's subject: markers of deleted keys that
    never expire would make each load slower than the last."""
    monkeypatch.setattr(_nats_groups, "TOMBSTONE_TTL", "1s")
    log = await opened(nats_url)
    try:
        keys = [f"transfer:{i}" for i in range(20)]
        await log.commit("tomb", {}, state=[StateChange(0, k, b"held") for k in keys])
        await log.commit("tomb", {}, state=[StateChange(0, k, None) for k in keys[:15]])
        await log.commit("tomb", {}, state=[StateChange(0, "last", b"1")])  # applies the deletes
        left = await _subjects_left(log, keys)
        assert left == keys  # 15 markers and 5 values
        deadline = time.monotonic() + 10
        while left != keys[15:] and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            left = await _subjects_left(log, keys)
        assert left == keys[15:]
    finally:
        await log.aclose()
    again = await opened(nats_url)
    try:
        expected = {k: b"held" for k in keys[15:]} | {"last": b"1"}
        assert await again.load_state("tomb", 0) == expected
    finally:
        await again.aclose()


async def _subjects_left(log: NatsLog, keys: list[str]) -> list[str]:
    """The keys whose subject in the bucket still holds a message (a value or a marker)."""
    prefix = f"$KV.{_nats_groups.BUCKET}.{b64('tomb')}.st.0"
    left = []
    for key in keys:
        try:
            await log._js.get_last_msg(_nats_groups.KV_STREAM, f"{prefix}.{b64(key)}")
        except nats.js.errors.NotFoundError:
            continue
        left.append(key)
    return left
