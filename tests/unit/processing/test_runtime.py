"""The worker runtime over the memory backend: resume, stop, lag, assignment, backpressure."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from flambeau.errors import LogFailedError
from flambeau.events import NewEvent, Record
from flambeau.log import Log, open_log
from flambeau.processing import (
    Batch,
    ManualClock,
    Processor,
    ProcessorConfigError,
    StaticAssignment,
    Timer,
    Transaction,
    Worker,
    processor_lag,
)
from flambeau.processing.runtime import TaskState
from tests.unit.processing.schemas import T0, Deposit, Note, balances, make_registry


def _deposits(start: int, count: int) -> list[NewEvent]:
    return [
        NewEvent(Deposit(amount=1), key=f"acc-{i % 5}", id=f"d{i}", time=T0 + timedelta(seconds=i))
        for i in range(start, start + count)
    ]


async def _read_all(log: Log, stream: str) -> list[Record[msgspec.Raw]]:
    info = await log.info(stream)
    records: list[Record[msgspec.Raw]] = []
    for partition in range(info.partitions):
        records += await log.read(stream, partition, 0, 100_000)
    return records


async def _until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def test_a_worker_resumes_from_committed_offsets() -> None:
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as log:
        await log.append("bank.deposits", _deposits(0, 30))
        await Worker(log, [ledger], drain=True, batch_size=7).run()
        await log.append("bank.deposits", _deposits(30, 20))
        await Worker(log, [ledger], drain=True, batch_size=7).run()
        outputs = await _read_all(log, "bank.balances")
        assert sorted(r.causation_id for r in outputs) == sorted(f"d{i}" for i in range(50))
        state = {**await log.load_state("bank.ledger", 0), **await log.load_state("bank.ledger", 1)}
        assert {k: msgspec.msgpack.decode(v) for k, v in state.items() if k[0] != "~"} == {
            f"acc-{i}": 10 for i in range(5)
        }
        assert all(lag.behind == 0 for lag in await processor_lag(log, [ledger]))


async def test_lag_is_reported_per_processor_and_partition() -> None:
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as log:
        placed = await log.append("bank.deposits", _deposits(0, 12))
        lags = await processor_lag(log, [ledger])
        per_partition = {p: sum(1 for a in placed if a.partition == p) for p in range(2)}
        assert [(g.processor, g.stream, g.partition, g.committed, g.end) for g in lags] == [
            ("bank.ledger", "bank.deposits", p, 0, per_partition[p]) for p in range(2)
        ]
        worker = Worker(log, [ledger], drain=True)
        await worker.run()
        assert [g.behind for g in await worker.lag()] == [0, 0]


async def test_stop_commits_the_in_flight_batch_and_returns() -> None:
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as log:
        worker = Worker(log, [ledger], batch_size=5, idle_wait=0.05)
        running = asyncio.create_task(worker.run())
        await log.append("bank.deposits", _deposits(0, 40))

        async def caught_up() -> bool:
            return all(g.behind == 0 for g in await worker.lag())

        await _until(caught_up)
        await log.append("bank.deposits", _deposits(40, 3))
        worker.stop()
        await asyncio.wait_for(running, 10)
        committed = sum((await log.committed("bank.ledger", "bank.deposits")).values())
        outputs = await _read_all(log, "bank.balances")
        assert len(outputs) == committed  # outputs and offsets committed together, nothing half


async def test_a_static_assignment_runs_only_its_partitions() -> None:
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as log:
        placed = await log.append("bank.deposits", _deposits(0, 20))
        await Worker(log, [ledger], assignment=StaticAssignment([1]), drain=True).run()
        committed = await log.committed("bank.ledger", "bank.deposits")
        assert committed == {1: sum(1 for a in placed if a.partition == 1)}


async def test_processing_time_timers_fire_in_a_running_worker() -> None:
    registry = make_registry()
    registry.register("bank.reminders", Note, partitions=2)
    processor = Processor(
        "bank.remind", inputs=["bank.deposits"], outputs=["bank.reminders"], registry=registry
    )

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            tx.timers.after(record.key, timedelta(minutes=10), causation_id=record.id)

    @processor.on_timer
    def remind(timer: Timer, tx: Transaction) -> None:
        tx.emit("bank.reminders", Note(text=timer.key), key=timer.key)

    clock = ManualClock(T0)
    async with await open_log("memory://", registry) as log:
        worker = Worker(log, [processor], clock=clock, idle_wait=0.02)
        running = asyncio.create_task(worker.run())
        await log.append("bank.deposits", _deposits(0, 1))

        async def processed() -> bool:
            return all(g.behind == 0 for g in await worker.lag())

        async def reminded() -> bool:
            return bool(await _read_all(log, "bank.reminders"))

        await _until(processed)
        await asyncio.sleep(0.1)
        assert not await reminded()  # the clock has not moved yet
        clock.advance(timedelta(minutes=10))
        await _until(reminded)
        worker.stop()
        await running
        [reminder] = await _read_all(log, "bank.reminders")
        assert (reminder.key, reminder.causation_id) == ("acc-0", "d0")


class _CountingLog:
    """Wraps a log and records the most batches read but not yet committed at once."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self.registry = log.registry
        self.open = 0
        self.most = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)

    async def read(self, stream: str, partition: int, offset: int, limit: int = 1000) -> Any:
        records = await self._log.read(stream, partition, offset, limit)
        if records:
            self.open += 1
            self.most = max(self.most, self.open)
        return records

    async def commit(self, group: str, offsets: Mapping[str, Mapping[int, int]], *,
                     state: Sequence[Any] = (), emit: Sequence[Any] = ()) -> Any:  # fmt: skip
        await asyncio.sleep(0.001)  # a slow disk, so batches pile up if nothing holds them
        result = await self._log.commit(group, offsets, state=state, emit=emit)
        self.open -= 1
        return result


async def test_in_flight_batches_are_bounded() -> None:
    registry = make_registry(partitions=8)
    ledger = balances(registry)
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", [
            NewEvent(Deposit(amount=1), key=f"acc-{i % 64}") for i in range(2000)
        ])  # fmt: skip
        log = _CountingLog(inner)
        await Worker(log, [ledger], batch_size=10, max_in_flight=3, drain=True).run()  # type: ignore[arg-type]
        assert sum((await inner.committed("bank.ledger", "bank.deposits")).values()) == 2000
        assert 1 <= log.most <= 3


class _FailingLog(_CountingLog):
    async def commit(self, *args: Any, **kwargs: Any) -> Any:
        raise LogFailedError("disk full")


async def test_a_failing_log_stops_the_worker_with_its_error() -> None:
    registry = make_registry()
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", _deposits(0, 5))
        worker = Worker(_FailingLog(inner), [balances(registry)], drain=True)  # type: ignore[arg-type]
        with pytest.raises(LogFailedError, match="disk full"):
            await asyncio.wait_for(worker.run(), 10)


async def test_misconfigured_processors_fail_before_running() -> None:
    registry = make_registry()
    registry.register("bank.odd", Note, partitions=3)
    processor = Processor(
        "bank.odd-one", inputs=["bank.deposits", "bank.odd"], outputs=[], registry=registry
    )
    processor.on_batch(lambda batch, tx: None)
    async with await open_log("memory://", registry) as log:
        with pytest.raises(ProcessorConfigError, match="co-partitioned"):
            await Worker(log, [processor]).run()


def test_worker_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Worker(None, [], batch_size=0)  # type: ignore[arg-type]
    ledger = balances(make_registry())
    with pytest.raises(ValueError, match="twice"):
        Worker(None, [ledger, ledger])  # type: ignore[arg-type]


class PartitionTaken(Exception):
    """What a distributed log raises when another worker committed the partition meanwhile."""


class _StealingLog(_CountingLog):
    """Refuses the first two commits, as if another worker had taken the partition."""

    refusals = 2

    async def commit(self, *args: Any, **kwargs: Any) -> Any:
        if self.refusals:
            self.refusals -= 1
            raise PartitionTaken("someone else committed this partition")
        return await self._log.commit(*args, **kwargs)


async def test_a_lost_partition_is_reloaded_and_nothing_is_doubled() -> None:
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", _deposits(0, 40))
        log = _StealingLog(inner)
        worker = Worker(log, [ledger], drain=True, batch_size=8, idle_wait=0.01,  # type: ignore[arg-type]
                        lost=(PartitionTaken,))  # fmt: skip
        await asyncio.wait_for(worker.run(), 10)
        assert log.refusals == 0
        outputs = await _read_all(inner, "bank.balances")
        assert sorted(r.causation_id for r in outputs) == sorted(f"d{i}" for i in range(40))
        balances_by_key = {r.key: msgspec.msgpack.decode(r.data)["balance"] for r in outputs}
        assert balances_by_key == {f"acc-{i}": 8 for i in range(5)}


async def test_partitions_lost_again_and_again_never_exhaust_the_in_flight_slots() -> None:
    """Each loss used to keep the slot of the batch read after the refused commit: with more
    losses than ``max_in_flight`` slots, every partition waited for a slot forever."""
    registry = make_registry()
    ledger = balances(registry)
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", _deposits(0, 40))
        log = _StealingLog(inner)
        log.refusals = 12
        worker = Worker(log, [ledger], drain=True, batch_size=2, idle_wait=0.01,  # type: ignore[arg-type]
                        max_in_flight=4, lost=(PartitionTaken,))  # fmt: skip
        await asyncio.wait_for(worker.run(), 20)
        assert log.refusals == 0
        outputs = await _read_all(inner, "bank.balances")
        assert sorted(r.causation_id for r in outputs) == sorted(f"d{i}" for i in range(40))


async def test_other_errors_still_stop_the_worker() -> None:
    registry = make_registry()
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", _deposits(0, 5))
        worker = Worker(_FailingLog(inner), [balances(registry)], drain=True,  # type: ignore[arg-type]
                        lost=(PartitionTaken,))  # fmt: skip
        with pytest.raises(LogFailedError):
            await asyncio.wait_for(worker.run(), 10)


class _LosingThenFailingLog(_CountingLog):
    """The first partition to commit is always taken by "another worker"; once it has been
    refused three times, any other partition's commit fails for good."""

    def __init__(self, log: Log) -> None:
        super().__init__(log)
        self.taken: int | None = None
        self.refused = 0
        self.refused_thrice = asyncio.Event()

    async def commit(self, group: str, offsets: Any, *args: Any, **kwargs: Any) -> Any:
        partition = next(p for positions in offsets.values() for p in positions)
        if self.taken is None:
            self.taken = partition
        if partition == self.taken:
            self.refused += 1
            if self.refused == 3:
                self.refused_thrice.set()
            raise PartitionTaken("someone else committed this partition")
        if self.refused >= 3:
            raise LogFailedError("disk full")
        return await self._log.commit(group, offsets, *args, **kwargs)


async def test_a_failed_worker_restarts_no_lost_partition() -> None:
    """A failed worker stops following its leases: a lost partition it restarted then would run
    on without one, beside the worker that took it over (the cluster soak saw such a pair
    refuse each other's commits for minutes)."""
    registry = make_registry(partitions=4)
    async with await open_log("memory://", registry) as inner:
        await inner.append("bank.deposits", _deposits(0, 40))
        log = _LosingThenFailingLog(inner)
        worker = Worker(log, [balances(registry)], batch_size=4, idle_wait=0.01,  # type: ignore[arg-type]
                        lost=(PartitionTaken,))  # fmt: skip
        running = asyncio.create_task(worker.run())
        await asyncio.wait_for(log.refused_thrice.wait(), 10)
        await inner.append("bank.deposits", _deposits(40, 40))  # the others commit, and fail
        with pytest.raises(LogFailedError):
            await asyncio.wait_for(running, 10)
        refused = log.refused
        await asyncio.sleep(0.3)  # thirty restart periods
        assert log.refused == refused
        assert all(run.done() for run in worker._runs.values())


class _SlowLoadingLog(_CountingLog):
    """Loading a partition's state never ends (a very large state on a loaded cluster)."""

    def __init__(self, log: Log) -> None:
        super().__init__(log)
        self.loading = asyncio.Event()

    async def load_state(self, *args: Any) -> Any:
        self.loading.set()
        await asyncio.Event().wait()


async def test_a_worker_asked_to_stop_does_not_wait_for_a_load() -> None:
    registry = make_registry()
    async with await open_log("memory://", registry) as inner:
        log = _SlowLoadingLog(inner)
        worker = Worker(log, [balances(registry)])  # type: ignore[arg-type]
        running = asyncio.create_task(worker.run())
        await asyncio.wait_for(log.loading.wait(), 10)
        worker.stop()
        await asyncio.wait_for(running, 10)
        assert all(task.state is TaskState.STOPPED for task in worker.tasks.values())
