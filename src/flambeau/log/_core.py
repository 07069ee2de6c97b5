"""The event-loop side of the in-process backends (``memory://`` and ``sqlite://``).

Both backends keep the same bookkeeping on the event loop: the streams, per partition the next
offset to assign and the end readers may see, the recent records in a tail buffer, the dedupe
window of event ids, and the tasks waiting for new data. Appending validates the whole batch
first (nothing is half-written), then assigns ids, partitions and offsets and encodes each
record once. The backend makes a *job* durable (``_persist``) and then calls :meth:`_publish`
in the order jobs were made, which moves ends forward and wakes waiters.

Offsets are assigned here, on the loop, so one writer order exists even with many appenders;
a backend that fails to persist a job marks the whole log failed rather than leave a hole.
"""

from __future__ import annotations

import itertools
import os
import time
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import msgspec

from flambeau.errors import InvalidEventError, LogClosedError, LogFailedError
from flambeau.events import (
    MAX_ID_BYTES,
    MAX_KEY_BYTES,
    NewEvent,
    Record,
    Registry,
    StreamSpec,
    utc_now,
)
from flambeau.log._waiters import Waiters
from flambeau.log.base import (
    Appended,
    LogBase,
    Offsets,
    StateChange,
    StreamInfo,
    encode_record,
)

DEFAULT_DEDUPE_WINDOW = timedelta(minutes=5)
DEFAULT_DEDUPE_MAX = 1_000_000

_ID_PREFIX = os.urandom(6).hex() + "-"
_id_counter = itertools.count(1)
_decode_raw_record = msgspec.msgpack.Decoder(Record[msgspec.Raw]).decode


class Partition:
    """Loop-side state of one partition."""

    __slots__ = ("assigned", "base", "end", "size", "start", "tail")

    def __init__(self, start: int, end: int) -> None:
        self.start = start  # first retained offset
        self.end = end  # next offset readers may see
        self.assigned = end  # next offset to hand out
        self.base = end  # offset of tail[0]
        self.tail: list[bytes] = []  # encoded records base .. end-1
        self.size = 0  # bytes in the tail

    def extend(self, first: int, blobs: list[bytes]) -> None:
        """Append the encoded records ``first`` .. ``first + len(blobs) - 1`` to the tail."""
        if not self.tail:
            self.base = first
        self.tail.extend(blobs)
        self.size += sum(map(len, blobs))
        self.end = first + len(blobs)

    def drop(self, count: int) -> None:
        """Forget the oldest ``count`` records of the tail."""
        if count <= 0:
            return
        self.size -= sum(map(len, self.tail[:count]))
        del self.tail[:count]
        self.base += count

    def trim(self, records: int, size: int) -> None:
        """Keep about the newest ``records`` records and ``size`` bytes.

        Trims only once a bound is passed by a quarter, so the cost stays amortised.
        """
        excess = len(self.tail) - records
        if excess > records // 4:
            self.drop(excess)
        if self.size > size + size // 4:
            over, freed, count = self.size - size, 0, 0
            for blob in self.tail:
                if freed >= over:
                    break
                freed += len(blob)
                count += 1
            self.drop(count)


@dataclass(eq=False)
class StreamState:
    """Loop-side state of one stream."""

    spec: StreamSpec
    sid: int
    epoch: str
    partitions: list[Partition]
    ids: dict[str, tuple[int, int]] = field(default_factory=dict)
    waiters: Waiters = field(default_factory=Waiters)

    def info(self) -> StreamInfo:
        return StreamInfo(
            name=self.spec.name,
            partitions=len(self.partitions),
            epoch=self.epoch,
            start={i: p.start for i, p in enumerate(self.partitions)},
            end={i: p.end for i, p in enumerate(self.partitions)},
        )


class Segment(NamedTuple):
    """Consecutive records of one partition appended together: the unit of storage."""

    sid: int
    partition: int
    first: int
    ingested_us: int
    blobs: list[bytes]


@dataclass
class Job:
    """Everything one append or commit makes durable, atomically."""

    new_streams: list[StreamState] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    group: str | None = None
    offsets: list[tuple[str, int, int]] = field(default_factory=list)
    state: Sequence[StateChange] = ()


class LogCore(LogBase):
    """Shared loop-side log; subclasses persist jobs and read what the tail no longer holds."""

    tail_max: int | None = None  # records kept per partition in memory; None keeps all
    tail_bytes: int = 1 << 62  # and bytes, when ``tail_max`` is set

    def __init__(
        self,
        url: str,
        registry: Registry,
        *,
        dedupe_window: timedelta = DEFAULT_DEDUPE_WINDOW,
        dedupe_max: int = DEFAULT_DEDUPE_MAX,
    ) -> None:
        self.url = url
        self.registry = registry
        self._streams: dict[str, StreamState] = {}
        self._by_sid: dict[int, StreamState] = {}
        self._dedupe_window_us = int(dedupe_window.total_seconds() * 1_000_000)
        self._dedupe_max = dedupe_max
        # batches of ids in arrival order, so the window expires a batch at a time
        self._dedupe_order: deque[tuple[int, StreamState, list[str]]] = deque()
        self._dedupe_count = 0
        self._groups: dict[tuple[str, str], dict[int, int]] = {}
        self._closed = False
        self._failed: BaseException | None = None

    # -- hooks for backends -------------------------------------------------------------------

    async def _persist(self, job: Job) -> None:
        """Make ``job`` durable, then call :meth:`_publish` (in job order)."""
        raise NotImplementedError

    async def _read_stored(
        self, state: StreamState, partition: int, offset: int, end: int
    ) -> list[Record[msgspec.Raw]]:
        """Records at ``offset <= o < end`` that the tail buffer no longer holds."""
        raise NotImplementedError

    def _next_sid(self) -> int:
        return max(self._by_sid, default=0) + 1

    def _new_stream(self, spec: StreamSpec) -> StreamState:
        sid = self._next_sid()
        parts = [Partition(0, 0) for _ in range(spec.partitions)]
        state = StreamState(spec=spec, sid=sid, epoch=os.urandom(8).hex(), partitions=parts)
        self._add_stream(state)
        return state

    def _add_stream(self, state: StreamState) -> None:
        self._streams[state.spec.name] = state
        self._by_sid[state.sid] = state

    # -- helpers ------------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed:
            raise LogClosedError(f"log {self.url} is closed")
        if self._failed is not None:
            raise LogFailedError(
                f"log {self.url} failed to persist a write and must be reopened: {self._failed}"
            ) from self._failed

    def _stream(self, name: str, job: Job | None) -> StreamState:
        state = self._streams.get(name)
        if state is None:
            spec = self.registry.spec(name)
            state = self._stored_stream(spec)
            if state is not None:
                self._add_stream(state)
            else:
                state = self._new_stream(spec)
                if job is not None:
                    job.new_streams.append(state)
        return state

    def _stored_stream(self, spec: StreamSpec) -> StreamState | None:
        """A stream the backend stored before ``spec`` was registered in this process."""
        return None

    def _validate(self, name: str, events: Sequence[NewEvent]) -> None:
        types = self.registry.spec(name).types
        for index, event in enumerate(events):
            if type(event.data) not in types:
                self.registry.check(name, event.data)
            if event.time is not None and event.time.utcoffset() is None:
                raise InvalidEventError(f"event {index}: time has no timezone; use UTC")
            if event.id is not None and not 0 < len(event.id) <= MAX_ID_BYTES:
                raise InvalidEventError(f"event {index}: id must be 1 to {MAX_ID_BYTES} bytes")
            if len(event.key) > MAX_KEY_BYTES // 4 and len(event.key.encode()) > MAX_KEY_BYTES:
                raise InvalidEventError(f"event {index}: key is longer than {MAX_KEY_BYTES} bytes")

    def _remember(self, now_us: int, state: StreamState, batch_ids: list[str]) -> None:
        """Keep a batch's ids in the dedupe window, dropping what fell out of it."""
        order = self._dedupe_order
        if batch_ids:
            order.append((now_us, state, batch_ids))
            self._dedupe_count += len(batch_ids)
        cutoff = now_us - self._dedupe_window_us
        while order and (order[0][0] < cutoff or self._dedupe_count > self._dedupe_max):
            _, old_state, old_ids = order.popleft()
            self._dedupe_count -= len(old_ids)
            pop = old_state.ids.pop
            for event_id in old_ids:
                pop(event_id, None)

    def _place(self, name: str, events: Sequence[NewEvent], job: Job) -> list[Appended]:
        """Dedupe, assign partitions and offsets, and encode; add the rows to ``job``."""
        state = self._stream(name, job)
        sid = state.sid
        parts = state.partitions
        ids = state.ids
        batch_ids: list[str] = []
        blobs: list[list[bytes]] = [[] for _ in parts]
        firsts = [p.assigned for p in parts]
        now = utc_now()
        now_us = int(now.timestamp() * 1_000_000)
        placed: list[Appended] = []
        try:
            self._place_each(name, events, state, blobs, placed, batch_ids, now)
        except InvalidEventError:
            for part, first in zip(parts, firsts, strict=True):  # nothing of the batch stays
                part.assigned = first
            for event_id in batch_ids:
                ids.pop(event_id, None)
            raise
        self._remember(now_us, state, batch_ids)
        job.segments.extend(
            Segment(sid, index, firsts[index], now_us, part_blobs)
            for index, part_blobs in enumerate(blobs)
            if part_blobs
        )
        return placed

    @staticmethod
    def _place_each(
        name: str,
        events: Sequence[NewEvent],
        state: StreamState,
        blobs: list[list[bytes]],
        placed: list[Appended],
        batch_ids: list[str],
        now: datetime,
    ) -> None:
        parts = state.partitions
        count = len(parts)
        ids = state.ids
        remember = batch_ids.append
        crc32 = zlib.crc32
        counter = _id_counter
        for position, event in enumerate(events):
            event_id = event.id or f"{_ID_PREFIX}{next(counter):x}"
            seen = ids.get(event_id)
            if seen is not None:  # a retry: acknowledged, if it could have been stored
                encode_record(event.data, position)
                placed.append(Appended(seen[0], seen[1], True))
                continue
            key = event.key
            index = crc32((key or event_id).encode()) % count if count > 1 else 0
            part = parts[index]
            offset = part.assigned
            part.assigned = offset + 1
            record = Record(
                event_id,
                name,
                key,
                index,
                offset,
                event.time or now,
                now,
                event.causation_id,
                event.data,
            )
            blobs[index].append(encode_record(record, position))
            ids[event_id] = (index, offset)
            remember(event_id)
            placed.append(Appended(index, offset, False))

    def _publish(self, job: Job) -> None:
        """Make a durable job visible: move ends forward, fill tails, wake waiters."""
        touched: set[StreamState] = set()
        by_sid = self._by_sid
        for segment in job.segments:
            state = by_sid[segment.sid]
            part = state.partitions[segment.partition]
            part.extend(segment.first, segment.blobs)
            touched.add(state)
        if job.group is not None:
            for stream, index, offset in job.offsets:
                self._groups.setdefault((job.group, stream), {})[index] = offset
        for state in touched:
            if self.tail_max is not None:
                for part in state.partitions:
                    part.trim(self.tail_max, self.tail_bytes)
            state.waiters.wake()

    # -- the Log interface --------------------------------------------------------------------

    async def append(self, stream: str, events: Sequence[NewEvent]) -> list[Appended]:
        self._check_usable()
        self._validate(stream, events)
        job = Job()
        placed = self._place(stream, events, job)
        if placed or job.new_streams:
            # a batch of duplicates too waits its turn: it answers once the originals are durable
            await self._persist(job)
        return placed

    async def commit(
        self,
        group: str,
        offsets: Offsets,
        *,
        state: Sequence[StateChange] = (),
        emit: Sequence[tuple[str, NewEvent]] = (),
    ) -> list[Appended]:
        self._check_usable()
        by_stream: dict[str, list[int]] = {}
        for position, (stream, _) in enumerate(emit):
            by_stream.setdefault(stream, []).append(position)
        for stream, positions in by_stream.items():
            self._validate(stream, [emit[i][1] for i in positions])
        for stream in offsets:
            self.registry.spec(stream)
        job = Job(group=group, state=state)
        placed: list[Appended | None] = [None] * len(emit)
        for stream, positions in by_stream.items():
            results = self._place(stream, [emit[i][1] for i in positions], job)
            for i, result in zip(positions, results, strict=True):
                placed[i] = result
        for stream, parts in offsets.items():
            self._stream(stream, job)
            job.offsets.extend((stream, index, offset) for index, offset in parts.items())
        await self._persist(job)
        return [p for p in placed if p is not None]

    async def read(
        self, stream: str, partition: int, offset: int, limit: int = 1000
    ) -> list[Record[msgspec.Raw]]:
        self._check_usable()
        state = self._streams.get(stream)
        if state is None:
            self.registry.spec(stream)
            return []
        part = state.partitions[partition]
        offset = max(offset, part.start)
        end = min(part.end, offset + limit)
        if offset >= end:
            return []
        if offset >= part.base:
            return [_decode_raw_record(b) for b in part.tail[offset - part.base : end - part.base]]
        return await self._read_stored(state, partition, offset, min(end, part.base))

    async def wait(self, stream: str, after: Mapping[int, int], timeout: float) -> bool:
        self._check_usable()
        state = self._stream(stream, None)
        deadline = time.monotonic() + timeout
        while True:
            parts = state.partitions
            for index, offset in after.items():
                if 0 <= index < len(parts) and parts[index].end > offset:
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return False
            if not await state.waiters.wait(remaining):
                return False

    async def info(self, stream: str) -> StreamInfo:
        self._check_usable()
        known = stream in self._streams
        job = Job()
        state = self._stream(stream, job)
        if not known:
            await self._persist(job)
        return state.info()

    async def streams(self) -> list[StreamInfo]:
        self._check_usable()
        return [self._streams[name].info() for name in sorted(self._streams)]

    async def end_offsets(self, stream: str) -> dict[int, int]:
        return (await self.info(stream)).end

    async def committed(self, group: str, stream: str) -> dict[int, int]:
        self._check_usable()
        return dict(self._groups.get((group, stream), {}))

    def _wake_all(self) -> None:
        for state in self._streams.values():
            state.waiters.wake()

    def debug_state(self) -> dict[str, Any]:
        """Counters for metrics and tests: dedupe window size, tail sizes, pending waits."""
        streams = self._streams.values()
        return {
            "dedupe_ids": self._dedupe_count,
            "tail_records": sum(len(p.tail) for s in streams for p in s.partitions),
            "tail_bytes": sum(p.size for s in streams for p in s.partitions),
            "waiters": sum(len(s.waiters) for s in streams),
        }
