"""Consumer-group offsets and processor state in a JetStream KV bucket, committed with CAS.

JetStream has no transaction spanning several keys, so each ``(group, partition)`` has one
*checkpoint* key that is the commit point, written with revision CAS
(``Nats-Expected-Last-Subject-Sequence``). It holds the group's next offsets for that partition
(of every input stream) and the state changes of the last commit, the *pending* redo list.
State values live in their own keys and are brought up to date from the checkpoint, one commit
later, while the next commit's outputs are being written (two round trips per commit)::

    commit N:  outputs N  ‖  apply pending N-1  ─▶  CAS checkpoint {offsets N, pending N}
    load:      read checkpoint ─▶ scan state keys ─▶ re-read checkpoint (retry if it moved)
               ─▶ state keys overlaid with the checkpoint's pending changes

A crash at any point loses nothing. Before the CAS, offsets and state are as they were, so the
batch is processed again and its outputs, which carry deterministic ids, are deduplicated.
After it, readers overlay the pending list and the next commit applies it (puts and deletes are
idempotent) before replacing it.

Every state write is fenced on the checkpoint: it carries
``Nats-Expected-Last-Subject-Sequence-Subject: <checkpoint key>`` with the checkpoint revision it
belongs to, so JetStream refuses it once anyone has committed past that revision. Without the
fence, a worker that lost its partition could write an old value over a newer one for good.

The revision a log instance last read (``load_state`` or ``committed``) or wrote is what its next
commit expects; a commit by anyone else in between makes it fail with
:class:`CommitConflictError`, which fences a worker that lost its partition without knowing it.

Key layout in bucket ``fb_groups`` (group names and state keys are base64url encoded, so any
string is a valid key)::

    <group>.ck.<partition>          the checkpoint (MessagePack)
    <group>.st.<partition>.<key>    one state value
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, KeyValueConfig, StorageType
from nats.js.client import JetStreamContext

from flambeau.errors import BackendUnavailableError, FlambeauError
from flambeau.log._nats_atomic import BATCH_LIMIT, AtomicBatches
from flambeau.log._nats_parts import Item, assemble, is_pointer, split, value_items
from flambeau.log._nats_wire import (
    JetStreamRefusedError,
    Reader,
    Retrier,
)
from flambeau.log.base import StateChange

BUCKET = "fb_groups"
KV_STREAM = f"KV_{BUCKET}"
SCAN_ATTEMPTS = 20
SCAN_PAGE = 1000
_WRONG_LAST_SEQUENCE = (10071, 10164)  # "wrong last sequence: N", and its constant variant
_CHECKPOINT_MARGIN = 4096
TOMBSTONE_TTL = "60s"
"""How long a deleted state key's marker stays in the bucket (JetStream per-message TTL).

A KV delete leaves a marker message under the key's subject, and a state scan reads the last
message of every subject: without a TTL, every key a processor ever deleted would be read again
at each load (the payments ledger's partition had 220,000 markers for 10,000 live keys after a
ten-minute rehearsal, and took a minute to load). The marker replaces the key's value at once
(the bucket keeps one message per key), so its expiry only forgets that the key existed.
"""


class CommitConflictError(FlambeauError):
    """Someone else committed this group's partition since this log last read or wrote it.

    The worker that gets it no longer owns the partition: it must stop processing it, and reload
    offsets and state before it processes that partition again.
    """


class Checkpoint(msgspec.Struct, array_like=True):
    """The commit point of one ``(group, partition)``."""

    offsets: dict[str, int] = {}
    pending: list[tuple[str, bytes | None]] = []
    token: str = ""
    chunks: int = 0
    """When the pending list is too large for this message: it is in ``chunks`` chunk keys."""


class Chunk(msgspec.Struct, array_like=True):
    """One piece of a large pending list's encoding, tagged with its checkpoint's token."""

    token: str
    data: bytes


_encode = msgspec.msgpack.Encoder().encode
_decode_checkpoint = msgspec.msgpack.Decoder(Checkpoint).decode
_decode_chunk = msgspec.msgpack.Decoder(Chunk).decode
_decode_pending = msgspec.msgpack.Decoder(list[tuple[str, bytes | None]]).decode


def b64(text: str) -> str:
    """``text`` as unpadded base64url: always a valid KV key token."""
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def unb64(token: str) -> str:
    """The inverse of :func:`b64`."""
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


@dataclass
class _Known:
    """The checkpoint revision this log instance last saw, and whether its pending is applied."""

    revision: int
    checkpoint: Checkpoint
    applied: bool


@dataclass
class Plan:
    """A commit's offsets and state changes, grouped by partition, checked for size."""

    group: str
    parts: dict[int, tuple[dict[str, int], dict[str, bytes | None]]]


class Groups:
    """Offsets and state of consumer groups, over one KV bucket."""

    def __init__(
        self,
        js: JetStreamContext,
        batches: AtomicBatches,
        reader: Reader,
        retry: Retrier,
        *,
        url: str,
        replicas: int,
        memory: bool,
        max_payload: int,
    ) -> None:
        self._js = js
        self._batches = batches
        self._reader = reader
        self._retry = retry
        self._url = url
        self._replicas = replicas
        self._memory = memory
        self._max_payload = max_payload
        self._known: dict[tuple[str, int], _Known] = {}

    async def start(self) -> None:
        """Create the bucket unless it exists."""

        async def ensure() -> None:
            try:
                await self._js.key_value(BUCKET)
            except nats.js.errors.BucketNotFoundError:
                storage = StorageType.MEMORY if self._memory else StorageType.FILE
                config = KeyValueConfig(
                    bucket=BUCKET, history=1, replicas=self._replicas, storage=storage
                )
                try:
                    await self._js.create_key_value(config)
                except nats.js.errors.BadRequestError:
                    await self._js.key_value(BUCKET)  # created meanwhile by another process

        await self._retry("open the groups KV bucket", ensure)
        await self._retry("allow atomic batches and TTLs on the groups KV bucket", self._allow)

    async def _allow(self) -> None:
        """Turn on ``allow_atomic`` (state writes are atomic batches) and ``allow_msg_ttl``
        (delete markers expire, see :data:`TOMBSTONE_TTL`) on the bucket's stream.

        Raises:
            BackendUnavailableError: the server is older than 2.12 and lacks either.
        """
        info = await self._js.stream_info(KV_STREAM)
        if info.config.allow_atomic and info.config.allow_msg_ttl:
            return
        info.config.allow_atomic = True
        info.config.allow_msg_ttl = True
        updated = await self._js.update_stream(info.config)
        # an older server ignores the fields it does not know
        if not (updated.config.allow_atomic and updated.config.allow_msg_ttl):
            raise BackendUnavailableError(
                f"the NATS server at {self._url} has no JetStream atomic batch publish or "
                "per-message TTL; Flambeau needs nats-server 2.12 or later"
            )

    # -- reading ------------------------------------------------------------------------------

    async def _get(self, key: str) -> tuple[int, Checkpoint]:
        """The checkpoint at ``key`` and its revision, read from the stream leader."""

        async def get() -> tuple[int, Checkpoint]:
            try:
                msg = await self._js.get_last_msg(KV_STREAM, f"$KV.{BUCKET}.{key}")
            except nats.js.errors.NotFoundError:
                return 0, Checkpoint()
            if not msg.data:  # a delete marker: no checkpoint, but CAS must expect its revision
                return msg.seq or 0, Checkpoint()
            return msg.seq or 0, _decode_checkpoint(msg.data)

        return await self._retry(f"read checkpoint {key}", get)

    async def committed(self, group: str, stream: str, partitions: int) -> dict[int, int]:
        """The offsets ``group`` committed for ``stream`` (partitions never committed absent)."""
        prefix = b64(group)
        found = await asyncio.gather(*(self._get(f"{prefix}.ck.{p}") for p in range(partitions)))
        out: dict[int, int] = {}
        for partition, (revision, checkpoint) in enumerate(found):
            self._known.setdefault((group, partition), _Known(revision, checkpoint, False))
            if stream in checkpoint.offsets:
                out[partition] = checkpoint.offsets[stream]
        return out

    async def load_state(self, group: str, partition: int) -> dict[str, bytes]:
        """Every state value of ``(group, partition)`` as of its last commit.

        The order matters: checkpoint, its pending chunks, the state keys (with the
        checkpoint, to tell a scan by a lagging replica), the checkpoint again. Chunks that
        belong to a later commit attempt mean that the checkpoint's pending list was applied
        before they were written, hence before the scan: nothing to overlay.
        """
        key = f"{b64(group)}.ck.{partition}"
        pause = 0.02
        for _ in range(SCAN_ATTEMPTS):
            revision, checkpoint = await self._get(key)
            pending = await self._pending_of(group, partition, checkpoint)
            values, scanned = await self._scan(group, partition)
            again, _ = await self._get(key)
            if again == revision == scanned:
                break
            await asyncio.sleep(pause)  # a replica catching up, or a commit meanwhile
            pause = min(pause * 2, 1.0)
        else:
            raise CommitConflictError(
                f"group {group!r} partition {partition} kept committing while being loaded "
                "(another worker is processing it), or its replica never caught up"
            )
        for name, value in pending:
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        checkpoint = msgspec.structs.replace(checkpoint, pending=pending)
        self._known[(group, partition)] = _Known(revision, checkpoint, not pending)
        return values

    async def _pending_of(
        self, group: str, partition: int, checkpoint: Checkpoint
    ) -> list[tuple[str, bytes | None]]:
        """The checkpoint's pending list, read from its chunk keys when it has any; empty when
        a chunk belongs to a later commit attempt (which applied this list before writing)."""
        if not checkpoint.chunks or checkpoint.pending:
            return checkpoint.pending
        prefix = f"$KV.{BUCKET}.{b64(group)}.pd.{partition}"

        async def chunk(index: int) -> Chunk | None:
            try:
                msg = await self._js.get_last_msg(KV_STREAM, f"{prefix}.{index}")
            except nats.js.errors.NotFoundError:
                return None
            return _decode_chunk(msg.data) if msg.data else None

        found = await self._retry(
            f"read the pending state of group {group!r} partition {partition}",
            lambda: asyncio.gather(*(chunk(i) for i in range(checkpoint.chunks))),
        )
        if any(c is None or c.token != checkpoint.token for c in found):
            return []
        return _decode_pending(b"".join(c.data for c in found if c is not None))

    async def _scan(self, group: str, partition: int) -> tuple[dict[str, bytes], int]:
        """Every state key of ``(group, partition)``, and the revision of the checkpoint as the
        scan saw it, read through a throwaway pull consumer (the last value per key), page by
        page.

        The consumer may live on any replica of a replicated bucket, one that lags behind (a
        node back from a crash catching up), so it also delivers the checkpoint: the caller
        accepts the scan only if that revision is the one the stream leader reported.
        """
        checkpoint = f"$KV.{BUCKET}.{b64(group)}.ck.{partition}"
        config = ConsumerConfig(
            filter_subjects=[f"$KV.{BUCKET}.{b64(group)}.st.{partition}.>", checkpoint],
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
            mem_storage=True,
        )

        async def scan() -> tuple[dict[str, bytes], int]:
            info = await self._js.add_consumer(KV_STREAM, config=config)
            name = info.name or ""
            values: dict[str, bytes] = {}
            pointers: dict[str, str] = {}
            seen = 0
            try:
                remaining = info.num_pending or 0
                while remaining > 0:
                    page = await self._reader.pull(KV_STREAM, name, SCAN_PAGE)
                    if not page:
                        break
                    for stored in page:  # in stream order: a later write wins
                        if stored.subject == checkpoint:
                            seen = stored.seq
                            continue
                        token = stored.subject.rpartition(".")[2]
                        key = unb64(token)
                        if stored.data and "KV-Operation" not in stored.headers:
                            values[key] = stored.data
                            if is_pointer(stored.headers):
                                pointers[key] = token
                        else:
                            values.pop(key, None)
                            pointers.pop(key, None)
                    remaining = page[-1].pending
            finally:
                with contextlib.suppress(nats.errors.Error):
                    await self._js.delete_consumer(KV_STREAM, name)
            parts = f"$KV.{BUCKET}.{b64(group)}.sp.{partition}"
            for key, token in pointers.items():  # values larger than a message
                values[key] = await assemble(self._js, KV_STREAM, f"{parts}.{token}", values[key])
            return values, seen

        return await self._retry(f"scan the state of group {group!r} partition {partition}", scan)

    # -- committing ---------------------------------------------------------------------------

    def plan(
        self, group: str, offsets: Mapping[str, Mapping[int, int]], state: Sequence[StateChange]
    ) -> Plan:
        """Group a commit by partition."""
        parts: dict[int, tuple[dict[str, int], dict[str, bytes | None]]] = {}
        for stream, positions in offsets.items():
            for partition, offset in positions.items():
                parts.setdefault(partition, ({}, {}))[0][stream] = offset
        for change in state:
            parts.setdefault(change.partition, ({}, {}))[1][change.key] = change.value
        return Plan(group, parts)

    async def settle(self, plan: Plan) -> None:
        """Apply the previous commit's pending state changes of every partition in ``plan``.

        Runs while the outputs of the new commit are being written: both precede the
        checkpoint, so a commit costs two round trips, not three.

        Raises:
            CommitConflictError: another writer committed one of these partitions meanwhile.
        """
        await asyncio.gather(*(self._settle(plan.group, p) for p in plan.parts))

    async def _settle(self, group: str, partition: int) -> None:
        slot = (group, partition)
        known = self._known.get(slot)
        if known is None:
            revision, checkpoint = await self._get(f"{b64(group)}.ck.{partition}")
            known = self._known[slot] = _Known(revision, checkpoint, False)
        if not known.applied:
            pending = await self._pending_of(group, partition, known.checkpoint)
            if pending:
                await self._apply(group, partition, pending, known.revision)
        known.applied = True

    async def commit(self, plan: Plan) -> None:
        """Write each partition's checkpoint with CAS (after :meth:`settle`).

        The new state changes stay pending in the checkpoint: readers overlay them, and the
        next commit applies them.

        Raises:
            CommitConflictError: another writer committed one of these partitions meanwhile.
        """
        await self.settle(plan)  # a no-op when the caller already settled
        await asyncio.gather(
            *(
                self._checkpoint(plan.group, partition, positions, changes)
                for partition, (positions, changes) in plan.parts.items()
            )
        )

    async def _checkpoint(
        self,
        group: str,
        partition: int,
        positions: dict[str, int],
        changes: dict[str, bytes | None],
    ) -> None:
        slot = (group, partition)
        known = self._known[slot]
        offsets = {**known.checkpoint.offsets, **positions}
        pending = list(changes.items())
        new = Checkpoint(offsets, pending, os.urandom(8).hex())
        data = _encode(new)
        key = f"{b64(group)}.ck.{partition}"
        try:
            if len(data) > self._max_payload - _CHECKPOINT_MARGIN:
                # too large for the checkpoint: the pending list goes to chunk keys first
                new.chunks = await self._write_chunks(group, partition, new, known.revision)
                data = _encode(Checkpoint(offsets, [], new.token, new.chunks))
            revision = await self._cas(key, data, known.revision, new.token)
        except CommitConflictError:
            self._known.pop(slot, None)
            raise
        self._known[slot] = _Known(revision, new, not new.pending)

    async def _write_chunks(
        self, group: str, partition: int, new: Checkpoint, revision: int
    ) -> int:
        """Write ``new``'s pending list as chunk keys ``<group>.pd.<partition>.<n>``, fenced
        on the checkpoint still being at ``revision``; return how many."""
        pieces = split(_encode(new.pending), self._max_payload - _CHECKPOINT_MARGIN)
        prefix = f"$KV.{BUCKET}.{b64(group)}.pd.{partition}."
        items = [
            ((prefix + str(index)).encode(), b"", _encode(Chunk(new.token, piece)))
            for index, piece in enumerate(pieces)
        ]
        await self._fenced(group, partition, revision, [items])
        return len(pieces)

    async def _cas(self, key: str, data: bytes, last: int, token: str) -> int:
        subject = f"$KV.{BUCKET}.{key}"
        headers = {"Nats-Expected-Last-Subject-Sequence": str(last)}
        attempts = 0

        async def write() -> int:
            nonlocal attempts
            attempts += 1
            try:
                ack = await self._js.publish(subject, data, headers=headers, timeout=5.0)
            except nats.js.errors.APIError as exc:
                if exc.err_code not in _WRONG_LAST_SEQUENCE:
                    raise
                if attempts > 1:  # an earlier attempt may have landed before its reply was lost
                    revision, current = await self._get(key)
                    if current.token == token:
                        return revision
                raise CommitConflictError(
                    f"checkpoint {key} in {self._url} moved past revision {last}: another "
                    "worker committed this group's partition"
                ) from None
            return int(ack.seq)

        return await self._retry(f"commit checkpoint {key}", write)

    async def _apply(
        self,
        group: str,
        partition: int,
        pending: Sequence[tuple[str, bytes | None]],
        revision: int,
    ) -> None:
        """Write ``pending`` to the state keys, valid only while the checkpoint is still at
        ``revision``: a worker that lost the partition cannot write stale state.

        The writes go as JetStream atomic batches of up to :data:`BATCH_LIMIT` keys, one after
        the other, the first message of each fenced on the checkpoint. A replicated stream
        refuses a fenced write while another one fenced on the same subject is still in flight
        (code 10164), so pipelined single writes cannot carry the fence; an atomic batch checks
        it once, for all of its messages, in one proposal. A batch applied twice (a lost ack,
        or a redo after a crash) writes the same values again.
        """
        delete = f"KV-Operation: DEL\r\nNats-TTL: {TOMBSTONE_TTL}\r\n".encode()
        limit = self._max_payload - _CHECKPOINT_MARGIN
        base = f"$KV.{BUCKET}.{b64(group)}"
        writes = []
        for name, value in pending:
            subject = f"{base}.st.{partition}.{b64(name)}"
            if value is None:
                writes.append([(subject.encode(), delete, b"")])
            else:
                parts = f"{base}.sp.{partition}.{b64(name)}"
                writes.append(value_items(subject, parts, value, limit))
        await self._fenced(group, partition, revision, writes)

    async def _fenced(
        self, group: str, partition: int, revision: int, writes: Sequence[Sequence[Item]]
    ) -> None:
        """Write ``writes`` as atomic batches of up to :data:`BATCH_LIMIT` messages, one after
        the other, never splitting one write (a large value's parts and pointer); the first
        message of each batch is fenced on the checkpoint being at ``revision``.

        Raises:
            CommitConflictError: the checkpoint moved past ``revision``.
        """
        checkpoint = f"$KV.{BUCKET}.{b64(group)}.ck.{partition}"
        fence = (
            f"Nats-Expected-Last-Subject-Sequence: {revision}\r\n"
            f"Nats-Expected-Last-Subject-Sequence-Subject: {checkpoint}\r\n"
        ).encode()
        batches: list[list[Item]] = [[]]
        for write in writes:
            if batches[-1] and len(batches[-1]) + len(write) > BATCH_LIMIT:
                batches.append([])
            batches[-1].extend(write)
        try:
            for batch in batches:
                if not batch:
                    continue
                subject, lines, payload = batch[0]
                batch[0] = (subject, fence + lines, payload)
                await self._batches.publish(batch)
        except JetStreamRefusedError as exc:
            self._known.pop((group, partition), None)
            if exc.error.err_code in _WRONG_LAST_SEQUENCE:
                raise CommitConflictError(
                    f"checkpoint {checkpoint} in {self._url} moved past revision {revision}: "
                    "another worker committed this group's partition"
                ) from None
            raise
        except BackendUnavailableError:
            # the checkpoint is durable; the next commit or load re-applies its pending list
            self._known.pop((group, partition), None)
            raise
