"""Read models for queries: fold streams into memory by following the log.

A service's query routes (``GET /v1/results/medals``, ``GET /v1/betting/tickets/{id}``) answer
from a :class:`View`: an in-memory fold of the service's output streams, kept current by a
task that reads every partition and waits on the log for more. Views are per process and
derived, never a source of truth, so any gateway can rebuild one from the log at start; on
``nats://`` that is what lets gateways stay stateless.

Read-your-writes: :meth:`View.sync` waits until the view has applied everything the log held
when it was called, and :meth:`View.wait_until` waits for a condition (for example "this
ticket has a decision") with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from flambeau.errors import FlambeauError
from flambeau.events import Record
from flambeau.log import Log

__all__ = ["View", "view_of"]

logger = logging.getLogger("flambeau.view")

Fold = Callable[[Record[Any]], None]
"""Applies one typed record (payload decoded with the stream's schema) to the view's state."""

_views: weakref.WeakKeyDictionary[Log, dict[str, View]] = weakref.WeakKeyDictionary()


class View:
    """Follows ``streams`` from the start of the log and folds each record with ``fold``."""

    def __init__(self, log: Log, name: str, streams: Sequence[str], fold: Fold) -> None:
        self.log = log
        self.name = name
        self.streams = tuple(streams)
        self.fold = fold
        self.positions: dict[str, dict[int, int]] = {}
        self.applied = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start following (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow_all(), name=f"view {self.name}")

    async def stop(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sync(self, timeout: float = 5.0) -> bool:
        """Wait until everything in the log at call time is applied; ``False`` on timeout."""
        targets = {stream: await self.log.end_offsets(stream) for stream in self.streams}

        def reached() -> bool:
            for stream, ends in targets.items():
                done = self.positions.get(stream, {})
                if any(done.get(part, 0) < end for part, end in ends.items()):
                    return False
            return True

        return await self.wait_until(reached, timeout)

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds after some fold; ``False`` when ``timeout`` passes."""
        self.start()
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    async def _follow_all(self) -> None:
        await asyncio.gather(*(self._follow(stream) for stream in self.streams))

    async def _follow(self, stream: str) -> None:
        info = await self.log.info(stream)
        positions = self.positions.setdefault(stream, dict(info.start))
        decode = self.log.registry.decoder(stream).decode
        while True:
            progressed = False
            for part in range(info.partitions):
                try:
                    records = await self.log.read(stream, part, positions[part], 1000)
                except FlambeauError:
                    return  # the log closed or failed: a view simply stops
                for record in records:
                    typed: Record[Any] = Record(
                        record.id, record.stream, record.key, record.partition, record.offset,
                        record.time, record.ingested_at, record.causation_id,
                        decode(record.data),
                    )  # fmt: skip
                    try:
                        self.fold(typed)
                    except Exception:  # a fold bug must not stop the view for everyone else
                        logger.exception("view %s failed to apply %s", self.name, record.position)
                    positions[part] = record.offset + 1
                    self.applied += 1
                    progressed = True
            if progressed:
                async with self._changed:
                    self._changed.notify_all()
                continue
            try:
                await self.log.wait(stream, positions, timeout=1.0)
            except FlambeauError:
                return


def view_of(log: Log, name: str, streams: Sequence[str], fold_factory: Callable[[], Fold]) -> View:
    """The running view ``name`` over ``log``, created and started on first use.

    ``fold_factory`` builds the fold (and the state it closes over) the first time only, so
    every route of a service shares one view per log.
    """
    views = _views.setdefault(log, {})
    view = views.get(name)
    if view is None:
        view = views[name] = View(log, name, streams, fold_factory())
        view.start()
    return view
