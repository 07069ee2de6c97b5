"""Processing health for ``/healthz``: each processor's lag, and whether it is committing.

The gateway does not run processors, so it judges them from the log alone, as ``/metrics`` does:
the lag rows of every processor (committed offset and end of every input partition) and, on a
``nats://`` log whose workers hold partition leases, who holds each partition. A partition is

- *stalled* when it has a backlog and its committed offsets have not moved for ``stall_s``
  seconds, as this gateway saw them between two checks (the first check sees none stalled);
- *unowned* when its processor has live workers but no worker holds the partition's lease.

Either makes ``processing.ok`` false. The gateway's own liveness (``status``) does not depend
on it: a load balancer must not drop every gateway because one processor stopped. Nor does it
wait for it: computing lags takes many log requests on a big ``nats://`` deployment, so
:meth:`ProcessingHealth.current` returns the latest result, refreshed in the background at
most every ``refresh_s`` seconds (the first call waits for one, briefly).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import msgspec

from flambeau.gateway.metrics import LagRow, MetricsSource

__all__ = ["STALL_S", "LeaseHolders", "Processing", "ProcessingHealth", "ProcessorHealth"]

STALL_S = 30.0
"""Seconds without a commit, with a backlog, after which a partition counts as stalled."""
REFRESH_S = 5.0
"""Seconds between two background computations of processing health."""
FIRST_WAIT_S = 2.0
"""How long the first ``/healthz`` call waits for the first computation."""

_log = logging.getLogger("flambeau.gateway.health")

LeaseHolders = Callable[[str], Awaitable[dict[int, str] | None]]
"""Processor name -> partition -> the worker holding its lease; ``None`` when the processor has
no leasing workers (one process runs everything, or the log is not ``nats://``)."""


class ProcessorHealth(msgspec.Struct, frozen=True):
    """One processor, over all its input partitions."""

    name: str
    behind: int
    """Events written to its inputs and not yet processed."""
    partitions: int
    stalled: list[int]
    """Partitions with a backlog whose commits have not moved for ``stall_s`` seconds."""
    unowned: list[int] | None
    """Partitions no live worker holds (``None``: ownership is not leased, so unknown)."""


class Processing(msgspec.Struct, frozen=True):
    """``processing`` in ``/healthz``: ``ok`` unless a partition is stalled or unowned."""

    ok: bool
    stall_s: float
    processors: list[ProcessorHealth]


class ProcessingHealth:
    """Remembers when each processor partition last committed, across ``/healthz`` calls."""

    def __init__(
        self,
        sources: Sequence[MetricsSource],
        holders: LeaseHolders | None = None,
        *,
        stall_s: float = STALL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources = list(sources)
        self.holders = holders
        self.stall_s = stall_s
        self._clock = clock
        self._seen: dict[tuple[str, int], tuple[int, float]] = {}
        self._latest: Processing | None = None
        self._latest_at = float("-inf")
        self._refreshing: asyncio.Task[None] | None = None

    async def current(
        self, *, refresh_s: float = REFRESH_S, first_wait_s: float = FIRST_WAIT_S
    ) -> Processing | None:
        """The latest health, refreshed in the background when older than ``refresh_s``;
        ``None`` while the first computation has not finished within ``first_wait_s``."""
        stale = self._clock() - self._latest_at >= refresh_s
        if stale and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        if self._latest is None and self._refreshing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._refreshing), first_wait_s)
        return self._latest

    async def _refresh(self) -> None:
        try:
            self._latest = await self.check()
            self._latest_at = self._clock()
        except Exception:
            _log.exception("processing health could not be computed")

    async def aclose(self) -> None:
        """Stop a computation in progress."""
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refreshing

    async def check(self) -> Processing:
        """The health of every processor now."""
        rows: list[LagRow] = []
        for source in self.sources:
            produced = source()
            if inspect.isawaitable(produced):
                produced = await produced
            rows.extend(LagRow(*row) for row in produced)
        now = self._clock()
        behind: dict[tuple[str, int], int] = {}
        progress: dict[tuple[str, int], int] = {}
        for row in rows:
            slot = (row.processor, row.partition)
            behind[slot] = behind.get(slot, 0) + max(0, row.end - row.committed)
            progress[slot] = progress.get(slot, 0) + row.committed
        stalled: set[tuple[str, int]] = set()
        for slot, done in progress.items():
            last, since = self._seen.get(slot, (-1, now))
            if done != last:
                self._seen[slot] = (done, now)
            elif behind[slot] and now - since >= self.stall_s:
                stalled.add(slot)
        processors = []
        for name in sorted({p for p, _ in progress}):
            parts = sorted(p for n, p in progress if n == name)
            owners = await self.holders(name) if self.holders is not None else None
            processors.append(
                ProcessorHealth(
                    name,
                    sum(behind[(name, p)] for p in parts),
                    len(parts),
                    [p for p in parts if (name, p) in stalled],
                    None if owners is None else [p for p in parts if p not in owners],
                )
            )
        ok = all(not p.stalled and not p.unowned for p in processors)
        return Processing(ok, self.stall_s, processors)
