"""Lanes: ordered, batched, bounded queues from the driver to the gateway.

The driver adds each payload to a lane; the lane groups payloads into batches (up to
``max_batch``, or whatever is waiting after ``max_wait`` seconds) and one worker sends the
batches in order, one request at a time, so the order of a lane is the order on the wire. A lane
holds at most ``max_queued`` batches: when the platform is slower than the scenario,
:meth:`Lane.add` waits (the scenario falls behind) and :meth:`Lane.offer` refuses (the driver
sheds the payload and counts it); either way memory stays bounded.

Each lane knows the Games time of the oldest payload not yet answered. The driver checkpoints
the smallest of these: everything before it has been answered, so a restart resumes there and
sends nothing twice that the platform has not already deduplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["Lane"]

logger = logging.getLogger("flambeau.scenario")

T = TypeVar("T")


class Lane(Generic[T]):
    """One ordered stream of payloads of one kind, sent in batches by ``send``.

    Args:
        name: For logs and the report.
        send: Sends one batch and returns ``True`` once it is answered (a refusal is an
            answer; the caller counts it), or ``False`` when it was not (the client was
            stopped): the lane then stops, and the batch stays unanswered for the checkpoint.
        max_batch: Most payloads per batch.
        max_wait: Longest a payload waits for its batch to fill, in seconds.
        max_queued: Batches waiting to be sent before :meth:`add` waits.
    """

    def __init__(
        self,
        name: str,
        send: Callable[[list[T]], Awaitable[bool]],
        *,
        max_batch: int = 1000,
        max_wait: float = 0.05,
        max_queued: int = 4,
    ) -> None:
        self.name = name
        self.send = send
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._filling: list[T] = []
        self._filling_at: datetime | None = None
        self._since = 0.0
        self._queue: asyncio.Queue[tuple[datetime, list[T]] | None] = asyncio.Queue(max_queued)
        self._unanswered: deque[datetime] = deque()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        """Start the worker (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._work(), name=self.name)

    async def add(self, at: datetime, payload: T) -> None:
        """Queue ``payload`` produced at Games time ``at``; waits while the lane is full."""
        if not self._filling:
            self._filling_at = at
            self._since = asyncio.get_running_loop().time()
        self._filling.append(payload)
        if len(self._filling) >= self.max_batch:
            await self.flush()

    def offer(self, at: datetime, payload: T) -> bool:
        """Queue ``payload`` unless that would wait: ``False`` means the lane is full (the
        platform is behind) and the payload was not taken."""
        if len(self._filling) + 1 >= self.max_batch and self._queue.full():
            return False
        if not self._filling:
            self._filling_at = at
            self._since = asyncio.get_running_loop().time()
        self._filling.append(payload)
        if len(self._filling) >= self.max_batch:
            self._hand_over()
        return True

    def _hand_over(self) -> None:
        batch, at = self._filling, self._filling_at
        assert at is not None
        self._filling, self._filling_at = [], None
        self._unanswered.append(at)
        self._queue.put_nowait((at, batch))

    async def flush(self) -> None:
        """Hand the batch being filled to the worker, waiting for room if need be."""
        if not self._filling:
            return
        batch, at = self._filling, self._filling_at
        assert at is not None
        self._filling, self._filling_at = [], None
        self._unanswered.append(at)
        await self._queue.put((at, batch))

    def flush_ready(self, *, due_only: bool = False) -> None:
        """Hand over the batch being filled if there is room (``due_only``: and it has waited
        ``max_wait``); never waits."""
        if not self._filling or self._queue.full():
            return
        if due_only and asyncio.get_running_loop().time() - self._since < self.max_wait:
            return
        self._hand_over()

    def oldest_unanswered(self) -> datetime | None:
        """Games time of the oldest payload added but not answered yet."""
        if self._unanswered:
            return self._unanswered[0]
        return self._filling_at

    @property
    def idle(self) -> bool:
        """Nothing is waiting or in flight."""
        return not self._filling and not self._unanswered

    async def drain(self, timeout: float | None = None) -> bool:
        """Flush and wait until every batch is answered; ``False`` if ``timeout`` passed."""
        await self.flush()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._unanswered:
            if deadline is not None and loop.time() >= deadline:
                return False
            if self._task is None or self._task.done():
                return False
            await asyncio.sleep(0.02)
        return True

    async def aclose(self) -> None:
        """Stop the worker; batches not sent yet are dropped (a restart sends them again)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            _, batch = item
            try:
                answered = await self.send(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one batch must not stop the rehearsal
                logger.exception("lane %s failed to send a batch of %d", self.name, len(batch))
                answered = True  # sending it again would fail the same way
            if not answered:
                return
            self.batches += 1
            self._unanswered.popleft()
