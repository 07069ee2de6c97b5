"""The worker runtime: runs processors against a log, one task per owned partition.

Each partition task loads the partition's state and committed offsets, then loops: read a batch
from an input, let the :class:`~flambeau.processing.engine.PartitionEngine` process it, and
commit the resulting :class:`~flambeau.processing.engine.Step` with one ``Log.commit`` (state
changes, emitted events and the next offset, atomically). While a commit is in flight the task
already reads and processes the next batch; it never has more than one commit outstanding, and
a worker-wide semaphore bounds the batches read but not yet committed (backpressure).

Idle partitions wait on ``Log.wait`` (woken by the writer), or until their next processing-time
timer. :meth:`Worker.stop` (wired to SIGTERM and SIGINT by ``flambeau worker``) lets every task
finish and commit its in-flight batch, then :meth:`Worker.run` returns.

Task states::

    LOADING ──▶ RUNNING ──▶ STOPPING ──▶ STOPPED
       │                                   ▲
       └───────────────────────────────────┘  (stopped before it finished loading)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from enum import Enum
from pathlib import Path
from typing import NamedTuple, TypeVar

from flambeau.log import Log
from flambeau.machine import Machine
from flambeau.processing.assignment import Assignment, StaticAssignment
from flambeau.processing.clock import Clock, SystemClock
from flambeau.processing.engine import PartitionEngine, Step
from flambeau.processing.processor import Processor

__all__ = ["Lag", "TaskState", "Worker", "processor_lag"]

T = TypeVar("T")

logger = logging.getLogger("flambeau.worker")

DEFAULT_BATCH = 1000
DEFAULT_IN_FLIGHT = 16
DEFAULT_LOADING = 4
"""Partitions loading their state at once, per worker. A worker that takes over a third of a
cluster's partitions at once would otherwise scan them all together: on two loaded cores the
scans kept its event loop busy for longer than a lease's TTL, and it lost every lease it had."""


class Lag(NamedTuple):
    """How far a processor is behind on one input partition.

    Attributes:
        processor: The processor's name.
        stream: The input stream.
        partition: The partition.
        committed: The next offset the processor will read.
        end: The next offset the log will write.
    """

    processor: str
    stream: str
    partition: int
    committed: int
    end: int

    @property
    def behind(self) -> int:
        """Events written but not yet processed."""
        return max(0, self.end - self.committed)


async def processor_lag(log: Log, processors: Sequence[Processor]) -> list[Lag]:
    """Lag of every processor on every input partition, from the log alone.

    Any process can call it (the gateway's ``/metrics`` does), not just the worker.
    """
    lags: list[Lag] = []
    for processor in processors:
        for stream in processor.inputs:
            ends = await log.end_offsets(stream)
            committed = await log.committed(processor.name, stream)
            for partition in sorted(ends):
                lags.append(
                    Lag(
                        processor.name,
                        stream,
                        partition,
                        committed.get(partition, 0),
                        ends[partition],
                    )
                )
    return lags


class TaskState(Enum):
    """Lifecycle of one partition task."""

    LOADING = "loading"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


_MOVES = Machine(
    "partition task",
    {
        TaskState.LOADING: {TaskState.RUNNING, TaskState.STOPPING, TaskState.STOPPED},
        TaskState.RUNNING: {TaskState.STOPPING, TaskState.STOPPED},
        TaskState.STOPPING: {TaskState.STOPPED},
    },
)
transition = _MOVES.transition
"""The state after a move the lifecycle allows (else IllegalTransitionError)."""


class PartitionTask:
    """Runs one processor partition until stopped (or, when draining, until caught up)."""

    def __init__(self, worker: Worker, processor: Processor, partition: int) -> None:
        self.worker = worker
        self.processor = processor
        self.partition = partition
        self.state = TaskState.LOADING
        self.positions: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._pending: asyncio.Task[None] | None = None
        self.loaded = (0, 0.0)  # state keys loaded, and how long it took (seconds)

    def stop(self) -> None:
        """Ask the task to finish its in-flight batch, commit, and end."""
        if self.state in (TaskState.LOADING, TaskState.RUNNING):
            self.state = transition(self.state, TaskState.STOPPING)
        self._stop.set()

    async def run(self) -> None:
        """Load, then process until stopped; always waits for the last commit."""
        try:
            await self._run()
        finally:
            if self._pending is not None:
                await self._pending
            self.state = transition(self.state, TaskState.STOPPED)

    async def _run(self) -> None:
        worker, processor, partition = self.worker, self.processor, self.partition
        log = worker.log
        began = time.monotonic()
        async with worker.loading:
            stored = await self._unless_stopped(log.load_state(processor.name, partition))
        if stored is None:
            return  # stopped while loading: nothing read, nothing to commit
        self.loaded = (len(stored), time.monotonic() - began)
        for stream in processor.inputs:
            committed = await log.committed(processor.name, stream)
            self.positions[stream] = committed.get(partition, 0)
        engine = PartitionEngine(
            processor,
            partition,
            stored,
            registry=log.registry,
            clock=worker.clock,
            spill_dir=worker.spill_dir,
        )
        del stored  # the engine has it now, cold values on disk
        try:
            await self._loop(engine)
        finally:
            engine.close()  # a commit in flight holds its own copy of what it writes

    async def _unless_stopped(self, loading: Awaitable[T]) -> T | None:
        """``loading``'s result, or None once :meth:`stop` is called first (a large state can
        take a while to load, and a worker asked to stop should not wait for it)."""
        load = asyncio.ensure_future(loading)
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait((load, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not load.done():
                load.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await load
        return load.result() if not load.cancelled() else None

    async def _loop(self, engine: PartitionEngine) -> None:
        worker, processor, partition = self.worker, self.processor, self.partition
        log = worker.log
        if self._stop.is_set():
            return
        self.state = transition(self.state, TaskState.RUNNING)
        keys, seconds = self.loaded
        logger.info("%s[%d]: started at %s, %d state keys loaded in %.1f s",
                    processor.name, partition, self.positions, keys, seconds)  # fmt: skip
        while not self._stop.is_set():
            fired = engine.fire_processing_timers()
            if fired is not None:
                await worker.in_flight.acquire()
                await self._submit(fired)
            progressed = False
            for stream in processor.inputs:
                if self._stop.is_set():
                    break
                await worker.in_flight.acquire()
                try:
                    records = await log.read(
                        stream, partition, self.positions[stream], worker.batch_size
                    )
                    if records:
                        step = engine.process(stream, records)
                except BaseException:
                    worker.in_flight.release()
                    raise
                if not records:
                    worker.in_flight.release()
                    continue
                self.positions[stream] = records[-1].offset + 1
                progressed = True
                await self._submit(step)
            if not progressed:
                if worker.drain:
                    break
                await self._idle(engine)
        logger.info("%s[%d]: stopped at %s", processor.name, partition, self.positions)

    async def _submit(self, step: Step) -> None:
        """Commit ``step`` in the background once the previous commit has landed."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                await pending
            except BaseException:
                self.worker.in_flight.release()  # ``step`` will never commit: give its slot back
                raise
        self._pending = asyncio.create_task(self._commit(step))

    async def _commit(self, step: Step) -> None:
        try:
            await self.worker.log.commit(
                self.processor.name, step.offsets, state=step.state, emit=step.emit
            )
        finally:
            self.worker.in_flight.release()

    async def _idle(self, engine: PartitionEngine) -> None:
        """Wait for new input, the next processing-time timer, or a stop request."""
        timeout = self.worker.idle_wait
        due = engine.next_processing_due()
        if due is not None:
            timeout = min(timeout, max(0.0, (due - self.worker.clock.now()).total_seconds()))
        log, partition = self.worker.log, self.partition
        waits = [
            asyncio.ensure_future(log.wait(stream, {partition: offset}, timeout))
            for stream, offset in self.positions.items()
        ]
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([*waits, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*waits, stopping):
                task.cancel()
            for task in (*waits, stopping):
                with contextlib.suppress(asyncio.CancelledError):
                    await task


class Worker:
    """Runs processors against a log.

    Args:
        log: An open log; its registry must know every input and output stream.
        processors: The processors to run.
        assignment: Which partitions to run (all of them by default).
        clock: Processing time, for processing-time timers.
        batch_size: Most records read per batch.
        max_in_flight: Most batches read but not yet committed, over all partitions.
        drain: Stop each partition once it has caught up (for backfills and tests).
        idle_wait: Longest wait of an idle partition between checks of its timers (seconds).
        lost: Errors meaning another worker took a partition over (for example a commit
            conflict on a distributed log), or that the log was away for longer than its
            timeout: the partition task ends, and is reloaded from the log after ``idle_wait``
            if the assignment still grants it. Other errors stop the worker.
        spill_dir: Where partitions keep their cold state (see :mod:`.spill`); ``$TMPDIR``
            by default.
    """

    def __init__(
        self,
        log: Log,
        processors: Sequence[Processor],
        *,
        assignment: Assignment | None = None,
        clock: Clock | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
        drain: bool = False,
        idle_wait: float = 1.0,
        lost: tuple[type[BaseException], ...] = (),
        spill_dir: Path | None = None,
    ) -> None:
        if batch_size < 1 or max_in_flight < 1:
            raise ValueError("batch_size and max_in_flight must be at least 1")
        names = [p.name for p in processors]
        if len(set(names)) != len(names):
            raise ValueError(f"a processor is listed twice in {names}")
        self.log = log
        self.processors = list(processors)
        self.assignment: Assignment = assignment or StaticAssignment()
        self.clock: Clock = clock or SystemClock()
        self.batch_size = batch_size
        self.drain = drain
        self.idle_wait = idle_wait
        self.lost = lost
        self.spill_dir = spill_dir
        self._restarts = 0
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.loading = asyncio.Semaphore(DEFAULT_LOADING)
        self.tasks: dict[tuple[str, int], PartitionTask] = {}
        self._runs: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._failed: BaseException | None = None
        self._changed = asyncio.Event()
        self._assigned: set[str] = set()

    def stop(self) -> None:
        """Stop gracefully: every partition commits its in-flight batch, then ``run`` returns."""
        self._stop.set()

    async def lag(self) -> list[Lag]:
        """Lag of this worker's processors on every input partition."""
        return await processor_lag(self.log, self.processors)

    async def run(self) -> None:
        """Run until :meth:`stop` (or, when draining, until every partition has caught up).

        Raises:
            UnknownStreamError: an input stream is not registered.
            ProcessorConfigError: a processor is misconfigured.
            Exception: whatever made a partition task fail (for example a failed log).
        """
        counts = {}
        for processor in self.processors:
            counts[processor.name] = processor.partitions(self.log.registry)
            for stream in processor.inputs:
                await self.log.info(stream)  # create it, so reads and waits work at once
        supervisors = [
            asyncio.create_task(self._follow(p, counts[p.name])) for p in self.processors
        ]
        try:
            while not self._stop.is_set() and self._failed is None:
                if self.drain and self._settled():
                    break
                self._changed.clear()
                stopping = asyncio.ensure_future(self._stop.wait())
                changed = asyncio.ensure_future(self._changed.wait())
                await asyncio.wait([stopping, changed], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                changed.cancel()
        finally:
            for supervisor in supervisors:
                supervisor.cancel()
            await asyncio.gather(*supervisors, return_exceptions=True)
            for task in self.tasks.values():
                task.stop()
            await asyncio.gather(*self._runs.values(), return_exceptions=True)
        if self._failed is not None:
            raise self._failed

    def _settled(self) -> bool:
        """Draining: every processor has its partitions, and every partition has caught up."""
        return (
            len(self._assigned) == len(self.processors)
            and not self._restarts
            and all(run.done() for run in self._runs.values())
        )

    async def _follow(self, processor: Processor, partitions: int) -> None:
        """Start and stop partition tasks as the assignment changes."""
        async for owned in self.assignment.owned(processor.name, partitions):
            running = {p for (name, p) in self._runs if name == processor.name}
            for partition in sorted(running - owned):
                key = (processor.name, partition)
                self.tasks[key].stop()
                await asyncio.gather(self._runs[key], return_exceptions=True)
                del self.tasks[key], self._runs[key]
            for partition in sorted(owned - running):
                self._start(processor, partition)
            self._assigned.add(processor.name)
            self._changed.set()

    def _start(self, processor: Processor, partition: int) -> None:
        key = (processor.name, partition)
        task = self.tasks[key] = PartitionTask(self, processor, partition)
        run = self._runs[key] = asyncio.create_task(task.run(), name=f"{key[0]}[{partition}]")
        run.add_done_callback(lambda done: self._on_done(processor, partition, done))

    def _on_done(self, processor: Processor, partition: int, run: asyncio.Task[None]) -> None:
        error = None if run.cancelled() else run.exception()
        key = (processor.name, partition)
        if isinstance(error, self.lost) and not self._running:
            # stopping or failed: the partition is handed over anyway, and is nobody's failure
            logger.info("%s[%d]: lost the partition while stopping (%s)", *key, error)
        elif isinstance(error, self.lost):
            # another worker took the partition over, or the log was away for a while: drop
            # what we held, and reload it later if it is still ours
            logger.warning("%s[%d]: lost the partition (%s); reloading", *key, error)
            self._restarts += 1
            asyncio.get_running_loop().call_later(self.idle_wait, self._restart, processor,
                                                  partition, run)  # fmt: skip
        elif error is not None and self._failed is None:
            self._failed = error
            logger.error("%s[%d] failed: %r", *key, error, exc_info=error)
        self._changed.set()

    @property
    def _running(self) -> bool:
        """Neither stopping nor failed: a failed worker is on its way out, and a partition it
        restarted would run on without a lease, beside the worker that took it over."""
        return not self._stop.is_set() and self._failed is None

    def _restart(self, processor: Processor, partition: int, lost: asyncio.Task[None]) -> None:
        self._restarts -= 1
        if self._runs.get((processor.name, partition)) is lost and self._running:
            self._start(processor, partition)
        self._changed.set()
