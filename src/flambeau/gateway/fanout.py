"""Fan-out: one shared reader per (stream, partition) feeding every subscriber.

A :class:`PartitionReader` reads its partition from the log, woken by the log's notification,
and encodes each record to JSON once into a :class:`Batch`. It hands the same batch to every
live :class:`Subscription`; the subscription appends a reference to it to its connection's
:class:`Outbox`. The connection's writer later takes everything queued and writes one frame per
subscription, so under load many events travel in one frame (coalescing) and the per-event cost
of a subscriber is one list append.

A new subscription that starts behind its reader *catches up*: from the reader's ring of recent
batches when they reach back far enough (no log read, no encode), otherwise by reading the log
privately, and then joins the reader. Joining happens with no ``await`` between the position
check and the join, so no event can slip between catch-up and live delivery.

Each connection's outbox is bounded in bytes. A live batch that would overflow it marks the
connection a slow consumer: queued events are dropped and the writer closes the connection with
the position of the last event it actually wrote, from which the client resumes. Catch-up never
overflows: it waits for room instead.

A subscription's lifecycle::

    CATCHING_UP ──(all its partitions joined their readers)──▶ LIVE
         │                                                     │
         └───────────────(unsubscribed / connection closed)────┴──▶ CLOSED
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import msgspec

from flambeau.errors import FlambeauError, LogClosedError
from flambeau.events import Record
from flambeau.gateway.cursor import format_cursor
from flambeau.gateway.tenancy import TENANT_FIELD
from flambeau.log.base import Log
from flambeau.machine import Machine

__all__ = [
    "Batch",
    "Hub",
    "Outbox",
    "PartitionReader",
    "SubState",
    "Subscription",
    "WireEvent",
]

_log = logging.getLogger("flambeau.gateway.fanout")
READER_LINGER_S = 2.0


class SubState(Enum):
    """Where a subscription is in its lifecycle (see the module docstring)."""

    CATCHING_UP = "catching_up"
    LIVE = "live"
    CLOSED = "closed"


_MOVES = Machine(
    "subscription",
    {
        SubState.CATCHING_UP: {SubState.LIVE, SubState.CLOSED},
        SubState.LIVE: {SubState.CLOSED},
    },
)
transition = _MOVES.transition
"""Return the target state if the lifecycle allows the move (else IllegalTransitionError)."""


class WireEvent(msgspec.Struct, frozen=True):
    """One event as subscribers receive it (JSON object, payload under ``data``)."""

    stream: str
    partition: int
    offset: int
    id: str
    key: str
    time: datetime
    ingested_at: datetime
    causation_id: str | None
    data: Any


_encode = msgspec.json.Encoder().encode


@dataclass(slots=True, eq=False)
class Batch:
    """Consecutive records of one partition, each encoded to JSON once for every subscriber."""

    stream: str
    partition: int
    offsets: list[int]
    keys: list[str]
    frames: list[str]
    ingested: float
    """The earliest ingest time, seconds since the epoch."""
    tenants: list[str | None] | None = None
    """Each record's tenant (payload field ``tenant``), or None when no record has one."""
    next: int = field(init=False)
    """The offset just past this batch."""
    joined: str = field(init=False)
    """Every frame joined with commas: what a subscriber without a key filter receives, built
    once for all of them."""
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.next = self.offsets[-1] + 1
        self.joined = ",".join(self.frames)
        self.size = len(self.joined) + 1


def encode_batch(log: Log, records: Sequence[Record[msgspec.Raw]]) -> Batch:
    """Decode each record's payload with its stream's schema and encode it as a wire event."""
    first = records[0]
    decode = log.registry.decoder(first.stream).decode
    payloads = [decode(r.data) for r in records]
    frames = [
        _encode(
            WireEvent(
                r.stream,
                r.partition,
                r.offset,
                r.id,
                r.key,
                r.time,
                r.ingested_at,
                r.causation_id,
                data,
            )
        ).decode()
        for r, data in zip(records, payloads, strict=True)
    ]
    tenants: list[str | None] = [getattr(data, TENANT_FIELD, None) for data in payloads]
    return Batch(
        first.stream,
        first.partition,
        [r.offset for r in records],
        [r.key for r in records],
        frames,
        first.ingested_at.timestamp(),
        tenants if any(t is not None for t in tenants) else None,
    )


Item = tuple["Subscription | None", "Batch | str", "Sequence[int] | None"]
"""What an outbox holds: (subscription, batch, indices or None for all) or (None, text, None)."""


class Outbox:
    """What one connection still has to write, bounded in bytes."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.items: list[Item] = []
        self.size = 0
        self.overflowed = False
        self.closed = False
        self._wake: asyncio.Future[None] | None = None
        self._room = asyncio.Event()
        self._room.set()

    def _notify(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def put_events(
        self,
        sub: Subscription,
        batch: Batch,
        indices: Sequence[int] | None,
        catch_up: bool = False,
    ) -> None:
        """Queue ``batch`` (or its records at ``indices``) for ``sub``.

        A live push that overflows the limit marks a slow consumer. A catch-up push never does:
        catch-up waits for :meth:`room` before each push, which bounds the queue instead.
        """
        if self.overflowed or self.closed:
            return
        self.size += (
            batch.size
            if indices is None
            else 16 * len(indices) + sum(len(batch.frames[i]) for i in indices)
        )
        if self.size > self.limit and not catch_up:
            self.overflowed = True
            self.items.clear()
            self.size = 0
        else:
            self.items.append((sub, batch, indices))
            if self.size > self.limit // 2:
                self._room.clear()
        self._notify()

    def put_control(self, text: str) -> None:
        """Queue a control message (subscribed, gap, ...): small, and never counted or dropped."""
        if self.closed:
            return
        self.items.append((None, text, None))
        self._notify()

    async def get(self) -> list[Item]:
        """Everything queued, once something is; ``[]`` once closed or overflowed."""
        while not self.items and not self.overflowed and not self.closed:
            self._wake = asyncio.get_running_loop().create_future()
            await self._wake
            self._wake = None
        if self.overflowed or self.closed:
            return []
        items, self.items = self.items, []
        self.size = 0
        self._room.set()
        return items

    async def room(self) -> None:
        """Wait until the queue is at most half full (catch-up's backpressure)."""
        await self._room.wait()

    def close(self) -> None:
        """Stop accepting items and wake the writer."""
        self.closed = True
        self.items.clear()
        self._room.set()
        self._notify()


class Subscription:
    """One subscriber's interest in one stream, and how far it has got."""

    __slots__ = (
        "epoch",
        "frame_prefix",
        "key",
        "offsets",
        "outbox",
        "partitions",
        "sent",
        "state",
        "stream",
        "sub_id",
        "task",
        "tenant_filter",
        "transport",
    )

    def __init__(
        self,
        sub_id: str,
        stream: str,
        epoch: str,
        offsets: list[int],
        partitions: list[int],
        key: str | None,
        outbox: Outbox,
        transport: str = "ws",
        tenant_filter: tuple[str | None] | None = None,
    ) -> None:
        self.sub_id = sub_id
        # (tenant,): only records of no tenant or of this one (see gateway.tenancy); None: all
        self.tenant_filter = tenant_filter
        self.stream = stream
        self.epoch = epoch
        self.offsets = list(offsets)  # next offset handed to the outbox, per partition
        self.sent = list(offsets)  # next offset written to the socket, per partition
        self.partitions = partitions
        self.key = key
        self.outbox = outbox
        self.transport = transport
        self.state = SubState.CATCHING_UP
        self.task: asyncio.Task[None] | None = None
        # the start of every events frame of this subscription, encoded once
        self.frame_prefix = '{"op":"events","sub":' + _encode(sub_id).decode() + ',"position":"'

    def push(self, batch: Batch, catch_up: bool = False) -> None:
        """Queue the records of ``batch`` this subscription has not had yet."""
        part = batch.partition
        want = self.offsets[part]
        offsets = batch.offsets
        if offsets[-1] < want:
            return
        start = 0 if offsets[0] >= want else bisect.bisect_left(offsets, want)
        indices: Sequence[int] | None
        if self.key is None:
            indices = None if start == 0 else range(start, len(offsets))
        else:
            key = self.key
            keys = batch.keys
            indices = [i for i in range(start, len(offsets)) if keys[i] == key]
        if self.tenant_filter is not None and batch.tenants is not None:
            own = self.tenant_filter[0]
            tenants = batch.tenants
            chosen = range(start, len(offsets)) if indices is None else indices
            indices = [i for i in chosen if tenants[i] is None or tenants[i] == own]
        self.offsets[part] = offsets[-1] + 1
        self.outbox.put_events(self, batch, indices, catch_up)

    def cursor(self) -> str:
        """The resumable position just past what was written to the socket."""
        return format_cursor(self.epoch, self.sent)

    def move(self, target: SubState) -> None:
        """Move to ``target`` (see :func:`transition`)."""
        self.state = transition(self.state, target)


class PartitionReader:
    """Reads one partition once for all its live subscribers."""

    def __init__(self, hub: Hub, stream: str, partition: int, start: int) -> None:
        self.hub = hub
        self.stream = stream
        self.partition = partition
        self.next = start
        self.live: dict[Subscription, None] = {}
        self.recent: deque[Batch] = deque()
        self.recent_count = 0
        self.recent_bytes = 0
        self.task: asyncio.Task[None] | None = None

    def covers(self, offset: int) -> bool:
        """Whether the recent batches reach back to ``offset``."""
        return bool(self.recent) and self.recent[0].offsets[0] <= offset

    def join(self, sub: Subscription) -> None:
        """Make ``sub`` live here; it must already have everything before :attr:`next`."""
        self.live[sub] = None

    def replay(self, sub: Subscription) -> None:
        """Push the recent batches ``sub`` lacks, until its outbox is half full."""
        part = self.partition
        outbox = sub.outbox
        for batch in self.recent:
            if batch.offsets[-1] >= sub.offsets[part]:
                sub.push(batch, catch_up=True)
                if outbox.size > outbox.limit // 2:
                    return

    def _remember(self, batch: Batch) -> None:
        """Keep ``batch`` in the ring, dropping the oldest beyond either of the hub's limits."""
        records, size = self.hub.recent_records, self.hub.recent_bytes
        if records <= 0 or size <= 0:
            return
        recent = self.recent
        recent.append(batch)
        self.recent_count += len(batch.offsets)
        self.recent_bytes += batch.size
        while len(recent) > 1 and (
            self.recent_count - len(recent[0].offsets) >= records
            or self.recent_bytes - recent[0].size >= size
        ):
            oldest = recent.popleft()
            self.recent_count -= len(oldest.offsets)
            self.recent_bytes -= oldest.size

    async def run(self) -> None:
        """Read, encode and fan out until no subscriber has been left for a while."""
        log = self.hub.log
        stream, part = self.stream, self.partition
        idle_since: float | None = None
        try:
            while True:
                records = await log.read(stream, part, self.next, self.hub.read_batch)
                if records:
                    idle_since = None
                    if records[0].offset > self.next:
                        for sub in self.live:
                            self.hub.gap(sub, part, self.next, records[0].offset)
                    batch = encode_batch(log, records)
                    self.next = batch.next
                    self._remember(batch)
                    for sub in self.live:
                        sub.push(batch)
                    continue
                if not self.live:
                    now = time.monotonic()
                    if idle_since is None:
                        idle_since = now
                    elif now - idle_since >= READER_LINGER_S:
                        return
                await log.wait(stream, {part: self.next}, READER_LINGER_S)
        except LogClosedError:
            return
        except FlambeauError as exc:
            # the log failed: say so to every subscriber rather than leave them waiting
            _log.exception("reader of %s/%d stopped", stream, part)
            for sub in self.live:
                self.hub.fail(sub, exc)
        finally:
            if self.hub.readers.get((stream, part)) is self:
                del self.hub.readers[(stream, part)]


class Hub:
    """The shared readers of one gateway, and the subscriptions attached to them."""

    def __init__(
        self,
        log: Log,
        *,
        read_batch: int = 1000,
        recent_records: int = 4096,
        recent_bytes: int = 256 << 10,
    ) -> None:
        self.log = log
        self.read_batch = read_batch
        self.recent_records = recent_records
        self.recent_bytes = recent_bytes
        self.readers: dict[tuple[str, int], PartitionReader] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self._closed = False

    def reader(self, stream: str, partition: int, start: int) -> PartitionReader:
        """The reader of ``(stream, partition)``, started at ``start`` if it did not exist."""
        reader = self.readers.get((stream, partition))
        if reader is None:
            reader = self.readers[(stream, partition)] = PartitionReader(
                self, stream, partition, start
            )
            reader.task = asyncio.get_running_loop().create_task(
                reader.run(), name=f"reader {stream}/{partition}"
            )
        return reader

    def attach(self, sub: Subscription, ends: Sequence[int]) -> None:
        """Start delivering to ``sub``: catch up where needed, then go live.

        ``ends`` are the partitions' end offsets as just read; a reader created now starts
        there, so replaying history falls to the subscriber that asked for it.
        """
        if self._closed:
            raise LogClosedError("the gateway is shutting down")
        label = (sub.stream, sub.transport)
        self.counts[label] = self.counts.get(label, 0) + 1
        sub.task = asyncio.get_running_loop().create_task(
            self._catch_up(sub, ends), name=f"catch-up {sub.sub_id}"
        )

    async def _catch_up(self, sub: Subscription, ends: Sequence[int]) -> None:
        log = self.log
        try:
            for part in sub.partitions:
                while sub.state is SubState.CATCHING_UP:
                    reader = self.reader(sub.stream, part, ends[part])
                    want = sub.offsets[part]
                    if want < reader.next and reader.covers(want):
                        reader.replay(sub)  # synchronous: the reader cannot move meanwhile
                        want = sub.offsets[part]
                    if want >= reader.next:
                        reader.join(sub)
                        break
                    await sub.outbox.room()
                    if sub.state is not SubState.CATCHING_UP:
                        return
                    if self.readers.get((sub.stream, part)) is reader and reader.covers(want):
                        continue  # the recent batches still reach back: replay more of them
                    if sub.state is not SubState.CATCHING_UP:
                        return
                    records = await log.read(sub.stream, part, want, self.read_batch)
                    if sub.state is not SubState.CATCHING_UP:
                        return
                    if not records:
                        info = await log.info(sub.stream)
                        if info.start[part] > want:
                            self.gap(sub, part, want, info.start[part])
                        else:
                            await log.wait(sub.stream, {part: want}, 0.1)
                        continue
                    if records[0].offset > want:
                        self.gap(sub, part, want, records[0].offset)
                    sub.push(encode_batch(log, records), catch_up=True)
            if sub.state is SubState.CATCHING_UP:
                sub.move(SubState.LIVE)
        except LogClosedError:
            return
        except FlambeauError as exc:
            _log.exception("catch-up of %s on %s stopped", sub.sub_id, sub.stream)
            self.fail(sub, exc)

    def fail(self, sub: Subscription, exc: Exception) -> None:
        """Tell ``sub`` that the log failed under it (an ``error`` message with a 503 problem)."""
        message = {
            "op": "error",
            "sub": sub.sub_id,
            "problem": {
                "type": "urn:flambeau:problem:log-unavailable",
                "title": "The log is unavailable",
                "status": 503,
                "detail": str(exc),
            },
        }
        sub.outbox.put_control(_encode(message).decode())

    def gap(self, sub: Subscription, partition: int, lost_from: int, lost_to: int) -> None:
        """Tell ``sub`` that retention dropped ``[lost_from, lost_to)`` before it was read."""
        sub.offsets[partition] = max(sub.offsets[partition], lost_to)
        message = {
            "op": "gap",
            "sub": sub.sub_id,
            "partition": partition,
            "from": lost_from,
            "to": lost_to,
        }
        sub.outbox.put_control(_encode(message).decode())

    def detach(self, sub: Subscription) -> None:
        """Stop delivering to ``sub`` (idempotent)."""
        if sub.state is SubState.CLOSED:
            return
        sub.move(SubState.CLOSED)
        label = (sub.stream, sub.transport)
        self.counts[label] = self.counts.get(label, 1) - 1
        for part in sub.partitions:
            reader = self.readers.get((sub.stream, part))
            if reader is not None:
                reader.live.pop(sub, None)
        if sub.task is not None and not sub.task.done():
            sub.task.cancel()

    async def aclose(self) -> None:
        """Stop every reader."""
        self._closed = True
        readers = list(self.readers.values())
        for reader in readers:
            if reader.task is not None:
                reader.task.cancel()
        for reader in readers:
            if reader.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await reader.task
