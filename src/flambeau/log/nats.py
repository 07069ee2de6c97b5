"""``nats://host:port``: the distributed log on NATS JetStream.

Mapping. Partition ``p`` of Flambeau stream ``s`` is the JetStream stream ``FB_<s>_<p>`` (dots
in ``s`` become ``~``, which stream names allow and Flambeau names do not) capturing exactly one
subject, ``fb.<s>.<p>``. One JetStream stream per partition, rather than one per Flambeau
stream, because then a message's stream sequence *is* its offset plus one: offsets per
partition are dense and strictly increasing with no bookkeeping, reading from an offset is a
direct get by sequence, retention by size is per partition as the interface defines it, and
in a cluster each partition has its own RAFT group, so the partitions spread over the servers.

Records are MessagePack :class:`~flambeau.events.Record` arrays, as in every backend. The
offset is not known when the record is encoded (the server assigns the sequence), so it is
stored as 0 and filled in from ``Nats-Sequence`` when read.

Append publishes the whole batch in one buffer and awaits the acks together
(:mod:`flambeau.log._nats_wire`). Each message carries the event id as ``Nats-Msg-Id``: within
the duplicate window, JetStream answers a repeated id with the original sequence and
``duplicate: true``, which is also what makes resending after a reconnect safe. Ids are
deduplicated per partition (the key picks the partition, so a repeated event lands on the same
one); within one batch they are deduplicated per stream before sending.

Readers wait on a plain subscription to ``fbn.<s>.*``: every partition stream republishes the
headers of each stored message there (JetStream ``RePublish``), carrying its sequence, so a
waiter learns the new end without polling. The epoch of each partition lives in its stream's
metadata, so it survives restarts and reconnects and changes when the stream is deleted.

Offsets and processor state live in a KV bucket, committed with revision CAS
(:mod:`flambeau.log._nats_groups`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from functools import partial
from urllib.parse import SplitResult

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamInfo

from flambeau.errors import (
    BackendUnavailableError,
    InvalidEventError,
    LogClosedError,
)
from flambeau.events import (
    NewEvent,
    Record,
    Registry,
    StreamSpec,
    check_envelope,
    utc_now,
)
from flambeau.log._nats_atomic import AtomicBatches, flush
from flambeau.log._nats_connect import probe, unreachable
from flambeau.log._nats_frames import frames, placed_of
from flambeau.log._nats_groups import CommitConflictError, Groups
from flambeau.log._nats_options import Options, parse_options
from flambeau.log._nats_streams import (
    META_EPOCH,
    META_PARTITIONS,
    META_STREAM,
    StreamView,
    bounds,
    cut,
    epoch_of,
    jetstream_name,
    notify_subject,
    ready,
    stream_config,
    subject,
)
from flambeau.log._nats_wire import (
    ClusterCatchingUpError,
    PubAck,
    Publisher,
    Reader,
    Retrier,
)
from flambeau.log.base import Appended, LogBase, Offsets, StateChange
from flambeau.log.base import StreamInfo as LogStreamInfo

__all__ = ["CommitConflictError", "NatsLog", "open_backend"]

logger = logging.getLogger(__name__)

RECONNECT_WAIT_S = 1
PING_INTERVAL_S = 3
"""The client pings the server this often; ``MAX_OUTSTANDING_PINGS`` unanswered pings in a row
mean a dead link (or a client that no longer reads), and the client reconnects."""
MAX_OUTSTANDING_PINGS = 2
_LAGGING_REPLICA_PAUSES_S = (0.001, 0.005, 0.02)

_decode_raw_record = msgspec.msgpack.Decoder(Record[msgspec.Raw]).decode
_replace = msgspec.structs.replace
_NAME_IN_USE = 10058


class NatsLog(LogBase):
    """A log on NATS JetStream: partitions are JetStream streams, groups live in KV."""

    def __init__(self, url: str, registry: Registry, options: Options) -> None:
        self.url = url
        self.registry = registry
        self.options = options
        self._nc = Client()
        self._js = self._nc.jetstream(timeout=5.0)
        self._retry = Retrier(url, options.timeout, lambda: self._closed)
        self._publisher = Publisher(self._nc, url, options.timeout)
        self._reader = Reader(self._nc, url, options.timeout)
        self._batches = AtomicBatches(self._nc, url, options.timeout)
        self._groups: Groups | None = None
        self._streams: dict[str, StreamView] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._closed = False
        self._resync_task: asyncio.Task[None] | None = None

    # -- connection -----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect, retrying with back-off while the server is down, and check JetStream.

        Raises:
            BackendUnavailableError: no server answered within ``open_timeout``, or JetStream
                is not enabled on it.
        """
        opts = self.options
        deadline = time.monotonic() + opts.open_timeout
        await probe(self.url, opts, deadline)
        try:
            await asyncio.wait_for(
                self._nc.connect(
                    servers=opts.servers,
                    name="flambeau",
                    connect_timeout=2,
                    reconnect_time_wait=RECONNECT_WAIT_S,
                    max_reconnect_attempts=-1,
                    ping_interval=PING_INTERVAL_S,
                    max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    user_credentials=opts.creds,
                ),
                max(deadline - time.monotonic(), 1.0),
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise unreachable(self.url, opts, exc) from exc
        try:
            await self._start()
        except BaseException:
            await self._nc.close()
            raise

    async def _start(self) -> None:
        """Check JetStream (retried: a cluster may be electing its meta leader), then set up
        the publisher, the readers and the groups store."""

        async def account() -> None:
            try:
                await self._js.account_info()
            except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError) as exc:
                raise BackendUnavailableError(
                    f"the NATS server at {self.url} does not have JetStream enabled "
                    "(start it with -js, or set jetstream in its config)"
                ) from exc

        await self._retry("answer a JetStream request", account)
        await self._publisher.start()
        await self._reader.start()
        await self._batches.start()
        opts = self.options
        self._groups = Groups(
            self._js,
            self._batches,
            self._reader,
            self._retry,
            url=self.url,
            replicas=opts.replicas,
            memory=opts.memory,
            max_payload=self._nc.max_payload,
        )
        await self._groups.start()

    async def _on_error(self, exc: Exception) -> None:
        logger.debug("NATS connection to %s: %r", self.url, exc)

    async def _on_disconnected(self) -> None:
        if self._closed:
            return
        logger.warning("disconnected from NATS at %s; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        logger.warning("reconnected to NATS at %s", self.url)
        await self._publisher.on_reconnected()
        await self._reader.on_reconnected()
        await self._batches.on_reconnected()
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.create_task(self._resync())

    async def _resync(self) -> None:
        """After a reconnect: learn what was written meanwhile, and wake the waiters."""
        for stream in list(self._streams.values()):
            if stream.watch is None or self._closed:
                continue
            with contextlib.suppress(
                BackendUnavailableError, LogClosedError, nats.js.errors.NotFoundError
            ):
                await self._refresh(stream)
            stream.wake()

    def _check_usable(self) -> None:
        if self._closed:
            raise LogClosedError(f"log {self.url} is closed")

    # -- streams --------------------------------------------------------------------------------

    async def _partition(
        self, spec: StreamSpec, partition: int, count: int, epoch: str, create: bool
    ) -> StreamInfo | None:
        """The partition's JetStream stream, created with ``epoch`` if missing and ``create``."""
        name = jetstream_name(spec.name, partition)

        async def ensure() -> StreamInfo | None:
            try:
                return await self._js.stream_info(name)
            except nats.js.errors.NotFoundError:
                if not create:
                    return None
            try:
                return await self._js.add_stream(
                    stream_config(spec, partition, count, epoch, self.options)
                )
            except nats.js.errors.BadRequestError as exc:
                if exc.err_code != _NAME_IN_USE:
                    raise
            try:
                return await self._js.stream_info(name)  # another process created it first
            except nats.js.errors.NotFoundError:
                # it exists, yet is not found: a cluster server that does not know it yet
                raise ClusterCatchingUpError(f"stream {name} exists but is not found") from None

        return await self._retry(f"open stream {name}", ensure)

    async def _stream(self, name: str, *, create: bool) -> StreamView | None:
        """This process's view of stream ``name``; ``None`` if it does not exist and not ``create``.

        Raises:
            UnknownStreamError: ``name`` is not registered.
        """
        known = self._streams.get(name)
        if known is not None:
            return known
        spec = self.registry.spec(name)
        lock = self._opening.setdefault(name, asyncio.Lock())
        async with lock:
            known = self._streams.get(name)
            if known is not None:
                return known
            # partition 0 first: it fixes the partition count and the epoch for the others
            first = await self._partition(spec, 0, spec.partitions, os.urandom(8).hex(), create)
            if first is None:
                return None
            meta = first.config.metadata or {}
            count = int(meta.get(META_PARTITIONS, spec.partitions))
            epoch = meta.get(META_EPOCH, "")
            rest = await asyncio.gather(
                *(self._partition(spec, p, count, epoch, True) for p in range(1, count))
            )
            infos = [first, *(info for info in rest if info is not None)]
            await self._reconcile(spec, infos, count)
            limits = [bounds(info) for info in infos]
            stream = StreamView(
                spec=spec,
                epoch=epoch_of(infos),
                names=[jetstream_name(name, p) for p in range(count)],
                subjects=[subject(name, p).encode() for p in range(count)],
                start=[b[0] for b in limits],
                end=[b[1] for b in limits],
            )
            self._streams[name] = stream
            return stream

    async def _reconcile(self, spec: StreamSpec, infos: Sequence[StreamInfo], count: int) -> None:
        """Apply a changed retention or duplicate window of the registry to existing streams."""
        for partition, info in enumerate(infos):
            meta = info.config.metadata or {}
            wanted = stream_config(spec, partition, count, meta.get(META_EPOCH, ""), self.options)
            have = info.config
            if (
                (have.max_age or 0) == (wanted.max_age or 0)
                and (have.max_bytes or -1) == wanted.max_bytes
                and abs(have.duplicate_window - wanted.duplicate_window) < 1e-6
            ):
                continue
            wanted.metadata = {k: v for k, v in meta.items() if not k.startswith("_nats")}
            await self._retry(
                f"update stream {wanted.name}", partial(self._js.update_stream, wanted)
            )

    async def _refresh(self, stream: StreamView) -> None:
        """Re-read start, end and epoch of every partition from the server."""

        async def one(name: str) -> StreamInfo:
            return await self._retry(f"read stream {name}", lambda: self._js.stream_info(name))

        try:
            infos = await asyncio.gather(*(one(name) for name in stream.names))
        except nats.js.errors.NotFoundError:
            # deleted under us (the log was reset): forget it; the next use recreates it
            self._streams.pop(stream.spec.name, None)
            stream.wake()
            raise
        for partition, info in enumerate(infos):
            start, end = bounds(info)
            stream.start[partition] = start
            if end < stream.end[partition]:  # purged and recreated: a new epoch follows
                stream.end[partition] = end
            stream.advance(partition, end)
        stream.epoch = epoch_of(infos)

    # -- appending ------------------------------------------------------------------------------

    def _validate(self, name: str, events: Sequence[NewEvent]) -> None:
        types = self.registry.spec(name).types
        for index, event in enumerate(events):
            if type(event.data) not in types:
                self.registry.check(name, event.data)
            try:
                check_envelope(event)
            except InvalidEventError as exc:
                raise InvalidEventError(f"event {index}: {exc}") from None

    async def _publish(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> list[PubAck]:
        """Publish and return the acks, with ``duplicate`` cleared where the "original" is
        this very message, stored by an earlier send whose ack was lost."""
        acks, resent = await self._publisher.publish(items)
        for index in resent:
            ack = acks[index]
            if ack.duplicate:
                stored, _ = await self._reader.get(ack.stream, ack.seq, 1)
                if stored and stored[0] == (ack.seq, items[index][2]):
                    acks[index] = PubAck(ack.stream, ack.seq, False)
        return acks

    async def append(self, stream: str, events: Sequence[NewEvent]) -> list[Appended]:
        self._check_usable()
        self._validate(stream, events)
        state = await self._stream(stream, create=True)
        assert state is not None
        items: list[tuple[bytes, bytes, bytes]] = []
        where: list[int] = []
        refs = frames(state, events, items, where, self._nc.max_payload)
        acks = await self._publish(items)
        return placed_of(state, refs, acks, where)

    # -- reading --------------------------------------------------------------------------------

    async def read(
        self, stream: str, partition: int, offset: int, limit: int = 1000
    ) -> list[Record[msgspec.Raw]]:
        self._check_usable()
        state = await self._stream(stream, create=False)
        if state is None or not 0 <= partition < state.partitions or limit <= 0:
            return []
        name = state.names[partition]
        messages, last = await self._reader.get(name, offset + 1, limit)
        for pause in _LAGGING_REPLICA_PAUSES_S:
            if messages or max(offset, state.start[partition]) >= state.end[partition]:
                break
            # known to exist, not served: a replica answered before catching up (R3 direct gets)
            await asyncio.sleep(pause)
            messages, last = await self._reader.get(name, offset + 1, limit)
        if last >= 0:
            state.advance(partition, last)
        return [_replace(_decode_raw_record(data), offset=seq - 1) for seq, data in messages]

    async def wait(self, stream: str, after: Mapping[int, int], timeout: float) -> bool:
        self._check_usable()
        state = await self._stream(stream, create=True)
        assert state is not None
        deadline = time.monotonic() + timeout
        if ready(state, after):
            return True
        if state.watch is None:
            try:
                await self._watch(state)
            except nats.js.errors.NotFoundError:
                # deleted, or (in a cluster) not known to the server that answered yet: the
                # caller waits again, and the next call opens the stream afresh
                return False
            if ready(state, after):
                return True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return False
            if not await state.waiters.wait(remaining):
                return False
            if ready(state, after):
                return True

    async def _watch(self, stream: StreamView) -> None:
        """Subscribe to the stream's republished headers, then catch up on what came before."""

        async def notified(msg: Msg) -> None:
            headers = msg.headers
            if not headers:
                return
            seq = headers.get("Nats-Sequence")
            partition = msg.subject.rpartition(".")[2]
            if seq is not None and partition.isdigit() and int(partition) < stream.partitions:
                stream.advance(int(partition), int(seq))

        stream.watch = await self._nc.subscribe(notify_subject(stream.spec.name), cb=notified)
        await self._retry("flush a subscription", lambda: flush(self._nc, 5.0))
        await self._refresh(stream)

    # -- describing -----------------------------------------------------------------------------

    async def info(self, stream: str) -> LogStreamInfo:
        self._check_usable()
        state = await self._stream(stream, create=True)
        assert state is not None
        try:
            await self._refresh(state)
        except nats.js.errors.NotFoundError:
            state = await self._stream(stream, create=True)
            assert state is not None
        return state.info()

    async def streams(self) -> list[LogStreamInfo]:
        self._check_usable()
        names: set[str] = set()
        offset = 0
        while True:
            page = await self._retry("list streams", partial(self._js.streams_info, offset))
            for info in page:
                meta = info.config.metadata or {}
                name = meta.get(META_STREAM)
                if name is not None and name in self.registry:
                    names.add(name)
            offset += len(page)
            if not page or len(page) < 256:
                break
        return [await self.info(name) for name in sorted(names)]

    async def end_offsets(self, stream: str) -> dict[int, int]:
        return (await self.info(stream)).end

    # -- groups ---------------------------------------------------------------------------------

    def _group_store(self) -> Groups:
        self._check_usable()
        assert self._groups is not None, "connect() first"
        return self._groups

    async def commit(
        self,
        group: str,
        offsets: Offsets,
        *,
        state: Sequence[StateChange] = (),
        emit: Sequence[tuple[str, NewEvent]] = (),
    ) -> list[Appended]:
        """Commit outputs, then state and offsets (see :mod:`flambeau.log._nats_groups`).

        Raises:
            CommitConflictError: another worker committed one of these partitions meanwhile.
        """
        groups = self._group_store()
        by_stream: dict[str, list[int]] = {}
        for position, (name, _) in enumerate(emit):
            by_stream.setdefault(name, []).append(position)
        for name, positions in by_stream.items():
            self._validate(name, [emit[i][1] for i in positions])
        for name in offsets:
            self.registry.spec(name)
        plan = groups.plan(group, offsets, state)
        placed: list[Appended | None] = [None] * len(emit)
        items: list[tuple[bytes, bytes, bytes]] = []
        jobs = []
        for name, positions in by_stream.items():
            target = await self._stream(name, create=True)
            assert target is not None
            first = len(items)
            where: list[int] = []
            refs = frames(
                target, [emit[i][1] for i in positions], items, where, self._nc.max_payload
            )
            jobs.append((target, positions, refs, first, where))
        # outputs, and the previous commit's pending state, both before the checkpoint
        acks, _ = await asyncio.gather(self._publish(items), groups.settle(plan))
        for target, positions, refs, first, where in jobs:
            mine = acks[first : first + len(where)]
            local = [r - first if r >= 0 else r for r in refs]
            for i, result in zip(positions, placed_of(target, local, mine, where), strict=True):
                placed[i] = result
        await groups.commit(plan)
        return [p for p in placed if p is not None]

    async def committed(self, group: str, stream: str) -> dict[int, int]:
        groups = self._group_store()
        state = await self._stream(stream, create=False)
        count = state.partitions if state is not None else self.registry.spec(stream).partitions
        return await groups.committed(group, stream, count)

    async def load_state(self, group: str, partition: int) -> dict[str, bytes]:
        return await self._group_store().load_state(group, partition)

    # -- retention ------------------------------------------------------------------------------

    async def enforce_retention(self) -> None:
        """Drop records older than ``max_age`` now (the server also does it continuously).

        Retention by size needs nothing here: JetStream applies ``max_bytes`` on every write.
        """
        self._check_usable()
        now = utc_now()
        for info in await self.streams():
            spec = self.registry.spec(info.name)
            if spec.max_age is None:
                continue
            cutoff = (now - spec.max_age).isoformat().replace("+00:00", "Z")
            for name in self._streams[info.name].names:
                await self._retry(
                    f"apply retention to {name}", partial(cut, self._nc, self._js, name, cutoff)
                )

    # -- closing --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._publisher.close()
        self._reader.close()
        self._batches.close()
        for stream in self._streams.values():
            stream.wake()
        if self._resync_task is not None:
            self._resync_task.cancel()
        if not self._nc.is_closed:
            await self._nc.close()


async def open_backend(url: SplitResult, options: dict[str, str], registry: Registry) -> NatsLog:
    """Open ``nats://host:port[,host:port...]``.

    Options: ``dedupe_window=SECONDS`` (default 300), ``replicas=N`` (default 1; 3 in a
    cluster), ``storage=file|memory`` (default file), ``timeout=SECONDS`` (default 30: how long
    a write or read waits for the server across reconnects), ``open_timeout=SECONDS`` (default
    10: how long to retry, with back-off, when the server is down at open), ``creds=PATH``.

    Raises:
        InvalidLogURLError: a malformed URL or option.
        BackendUnavailableError: the server cannot be reached, or has no JetStream.
    """
    opts = parse_options(url, options)
    log = NatsLog(url.geturl(), registry, opts)
    await log.connect()
    return log
