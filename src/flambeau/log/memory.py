"""``memory://``: the in-process backend. A first-class backend, not a mock.

It keeps every retained record in memory and applies retention by age or size at the grain of
appended batches. It is what tests, benchmarks of the processing layer and short-lived tools
use; nothing survives the process.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import SplitResult

import msgspec

from flambeau.events import Record, Registry
from flambeau.log._core import Job, LogCore, StreamState
from flambeau.log._registry import reject_unknown, take_window
from flambeau.log.base import StateChange

RETENTION_EVERY_S = 1.0


class MemoryLog(LogCore):
    """A log held in process memory."""

    tail_max = None

    def __init__(self, url: str, registry: Registry, *, dedupe_window: timedelta) -> None:
        super().__init__(url, registry, dedupe_window=dedupe_window)
        self._state: dict[tuple[str, int], dict[str, bytes]] = defaultdict(dict)
        # per (stream, partition): first offset and ingest time of each appended batch
        self._marks: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        self._next_retention = 0.0

    async def _persist(self, job: Job) -> None:
        for segment in job.segments:
            offsets, times = self._marks[(segment.sid, segment.partition)]
            if not times or times[-1] != segment.ingested_us:
                offsets.append(segment.first)
                times.append(segment.ingested_us)
        self._apply_state(job.group, job.state)
        self._publish(job)
        if time.monotonic() >= self._next_retention:
            self._next_retention = time.monotonic() + RETENTION_EVERY_S
            self._retain()

    def _apply_state(self, group: str | None, changes: Sequence[StateChange]) -> None:
        if group is None:
            return
        for change in changes:
            store = self._state[(group, change.partition)]
            if change.value is None:
                store.pop(change.key, None)
            else:
                store[change.key] = change.value

    async def _read_stored(
        self, state: StreamState, partition: int, offset: int, end: int
    ) -> list[Record[msgspec.Raw]]:
        return []  # the tail holds everything retained

    async def load_state(self, group: str, partition: int) -> dict[str, bytes]:
        self._check_usable()
        return dict(self._state.get((group, partition), {}))

    def _retain(self) -> None:
        now_us = int(time.time() * 1_000_000)
        for state in self._streams.values():
            spec = state.spec
            if spec.max_age is None and spec.max_bytes is None:
                continue
            for index, part in enumerate(state.partitions):
                new_start = part.start
                offsets, times = self._marks[(state.sid, index)]
                if spec.max_age is not None and times:
                    cutoff = now_us - int(spec.max_age.total_seconds() * 1_000_000)
                    first_kept = bisect.bisect_left(times, cutoff)
                    new_start = offsets[first_kept] if first_kept < len(offsets) else part.end
                if spec.max_bytes is not None:
                    kept = 0
                    cut = part.end
                    for blob in reversed(part.tail):
                        if kept + len(blob) > spec.max_bytes:
                            break
                        kept += len(blob)
                        cut -= 1
                    new_start = max(new_start, cut)
                if new_start > part.start:
                    part.drop(new_start - part.base)
                    part.start = new_start
                    first = bisect.bisect_right(offsets, new_start) - 1
                    if first > 0:
                        del offsets[:first]
                        del times[:first]

    async def enforce_retention(self) -> None:
        self._check_usable()
        self._retain()

    async def aclose(self) -> None:
        self._closed = True
        self._wake_all()


async def open_backend(url: SplitResult, options: dict[str, str], registry: Registry) -> MemoryLog:
    """Open ``memory://`` (option: ``dedupe_window``)."""
    window = take_window(options, url)
    reject_unknown(options, url)
    return MemoryLog(url.geturl(), registry, dedupe_window=window)
