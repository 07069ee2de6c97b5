"""The NATS wire under the ``nats://`` backend: pipelined JetStream publishes and batched reads.

nats-py's ``publish_async`` pays for a future, a NUID, a JSON parse into a dataclass and a
semaphore round per message. Appends here build the ``HPUB`` frames of a whole batch in one
buffer, write it with one flush, and match the acks that come back on one wildcard inbox by an
integer token. Reads use JetStream's batched direct get (server 2.11+): one request returns up
to ``limit`` stored messages followed by an end-of-batch status, with no consumer to create.

Writes survive a server restart or a lost ack on their own::

    publish ──frames──▶ server ──PubAck──▶ inbox ──token──▶ entry done
       │                                                   ▲
       └─ reconnect, 503, or no ack for ACK_WAIT_S ─ resend ┘   (same Nats-Msg-Id: deduplicated)

Every message that carries a ``Nats-Msg-Id`` is therefore safe to send twice; the server answers
a resent message with the original sequence and ``duplicate: true``.

This module touches two private members of nats-py 2.x's client (``_send_command`` and
``_flush_pending``) to write a prepared buffer; nothing outside ``flambeau.log`` sees nats-py.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from flambeau.errors import BackendUnavailableError, FlambeauError, LogClosedError

ACK_WAIT_S = 5.0
"""Resend what is still unacknowledged after this long without any ack (the link looked up)."""
RETRY_AFTER_S = 0.2
"""Back-off before resending a message the server refused as temporarily unavailable."""
CHECK_EVERY_S = 0.1
CHUNK = 4096
MAX_IN_FLIGHT = 16_384
READ_ATTEMPT_S = 5.0
PULL_MAX_BYTES = 8 << 20
"""Bytes one page of a state scan may carry."""

# JetStream error codes worth a resend: the stream or its leader is not available right now.
_TRANSIENT_CODES = {408, 503}
# ... and JetStream's own codes worth one: 10158, "duplicate message id is in process", answers a
# resend that raced its first copy on a replicated stream (the copy is still being proposed);
# a later resend gets the copy's ack, as a duplicate.
_TRANSIENT_ERR_CODES = {10158}
_SAFE_ID = re.compile(r"[\x21-\x7e]{1,128}")
_HDR_MSG_ID = b"NATS/1.0\r\nNats-Msg-Id: "

T = TypeVar("T")


class ApiError(msgspec.Struct):
    """The ``error`` object of a JetStream API reply."""

    code: int = 0
    err_code: int = 0
    description: str = ""


class PubAck(msgspec.Struct):
    """A JetStream publish acknowledgement: where the message is stored."""

    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: ApiError | None = None


_decode_ack = msgspec.json.Decoder(PubAck).decode


class JetStreamRefusedError(FlambeauError):
    """JetStream refused a message for good (not a transient refusal)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(f"JetStream refused a write: {error.description} (code {error.err_code})")
        self.error = error


def msg_id_header(event_id: str) -> bytes:
    """The header block carrying ``event_id`` as ``Nats-Msg-Id``.

    Ids that are not plain printable ASCII (or would not survive header trimming) are replaced
    by a SHA-256 digest, so any id is safe on the wire and still deduplicates.
    """
    if _SAFE_ID.fullmatch(event_id) is None:
        event_id = "sha256-" + hashlib.sha256(event_id.encode()).hexdigest()
    return _HDR_MSG_ID + event_id.encode() + b"\r\n\r\n"


def hpub(subject: bytes, reply: bytes, header: bytes, payload: bytes) -> bytes:
    """One ``HPUB`` protocol frame (``header`` may be empty for a plain ``PUB``)."""
    if not header:
        return b"PUB %s %s %d\r\n%s\r\n" % (subject, reply, len(payload), payload)
    return b"HPUB %s %s %d %d\r\n%s%s\r\n" % (
        subject,
        reply,
        len(header),
        len(header) + len(payload),
        header,
        payload,
    )


@dataclass(eq=False)
class _Batch:
    """The acks of one ``publish`` call, filled in by token as they arrive."""

    acks: list[PubAck | None]
    done: asyncio.Future[None]
    remaining: int
    tokens: list[int] = field(default_factory=list)
    error: BaseException | None = None
    last_progress: float = 0.0
    retry_at: float | None = None
    resent: set[int] = field(default_factory=set)


class Published(NamedTuple):
    """The acks of a publish, in order, and the indexes of the messages sent more than once.

    A resent message acknowledged as a duplicate may be a duplicate of *itself* (its first
    copy was stored and the ack lost), so the caller must check before reporting it so.
    """

    acks: list[PubAck]
    resent: frozenset[int]


class _Wire:
    """A connection's private inbox: one wildcard subscription, replies routed by token."""

    def __init__(self, nc: Client, url: str, timeout: float) -> None:
        self.nc = nc
        self.url = url
        self.timeout = timeout
        self._prefix = b""
        self._tokens = itertools.count(1)
        self._closed: BaseException | None = None

    async def start(self) -> None:
        prefix = self.nc.new_inbox() + "."
        self._prefix = prefix.encode()
        await self.nc.subscribe(
            prefix + "*",
            cb=self._on_reply,
            pending_msgs_limit=1_000_000,
            pending_bytes_limit=1 << 30,
        )

    def _token_of(self, msg: Msg) -> int:
        return int(msg.subject[len(self._prefix) :])

    async def _on_reply(self, msg: Msg) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def _write(self, data: bytes) -> None:
        """Queue ``data`` on the socket; while disconnected, drop it (a resend follows)."""
        nc = self.nc
        if not nc.is_connected:
            return
        await nc._send_command(data)
        await nc._flush_pending()

    def _unavailable(self, what: str, detail: str) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"NATS server at {self.url} did not {what} within {self.timeout:g} s ({detail}); "
            "is it running and is JetStream enabled?"
        )


class Publisher(_Wire):
    """Pipelined JetStream publishes: a whole batch per flush, acks matched by token."""

    def __init__(self, nc: Client, url: str, timeout: float) -> None:
        super().__init__(nc, url, timeout)
        self._entries: dict[int, tuple[_Batch, int, bytes]] = {}
        self._room: list[asyncio.Future[None]] = []
        self._last_error = "no acknowledgement"

    @property
    def in_flight(self) -> int:
        """Messages sent (or waiting to be resent) and not yet acknowledged."""
        return len(self._entries)

    async def publish(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> Published:
        """Publish ``(subject, header, payload)`` items in order; return their acks in order.

        Raises:
            BackendUnavailableError: not every message was acknowledged within the timeout.
            JetStreamRefusedError: JetStream refused a message for good.
            LogClosedError: the log was closed meanwhile.
        """
        if self._closed is not None:
            raise LogClosedError(f"log {self.url} is closed")
        loop = asyncio.get_running_loop()
        count = len(items)
        batch = _Batch([None] * count, loop.create_future(), count)
        if not count:
            return Published([], frozenset())
        deadline = time.monotonic() + self.timeout
        batch.last_progress = time.monotonic()
        try:
            for start in range(0, count, CHUNK):
                chunk = items[start : start + CHUNK]
                while self._entries and len(self._entries) + len(chunk) > MAX_IN_FLIGHT:
                    room = loop.create_future()
                    self._room.append(room)
                    await self._pause(batch, room, deadline)
                frames = []
                prefix = self._prefix
                for index, (subject, header, payload) in enumerate(chunk, start):
                    token = next(self._tokens)
                    frame = hpub(subject, prefix + str(token).encode(), header, payload)
                    self._entries[token] = (batch, index, frame)
                    batch.tokens.append(token)
                    frames.append(frame)
                await self._write(b"".join(frames))
            while not batch.done.done():
                await self._pause(batch, None, deadline)
            if batch.error is not None:
                raise batch.error
            return Published(
                [ack for ack in batch.acks if ack is not None], frozenset(batch.resent)
            )
        finally:
            for token in batch.tokens:
                self._entries.pop(token, None)
            self._wake_room()

    async def _pause(
        self, batch: _Batch, room: asyncio.Future[None] | None, deadline: float
    ) -> None:
        """Wait a little for progress; resend what is due; fail at the deadline."""
        futures: set[asyncio.Future[None]] = {batch.done}
        if room is not None:
            futures.add(room)
        await asyncio.wait(futures, timeout=CHECK_EVERY_S, return_when=asyncio.FIRST_COMPLETED)
        if batch.done.done() or (room is not None and room.done()):
            return
        if self._closed is not None:
            raise LogClosedError(f"log {self.url} is closed") from self._closed
        now = time.monotonic()
        if now >= deadline:
            raise self._unavailable(
                f"acknowledge {batch.remaining} of {len(batch.acks)} writes", self._last_error
            )
        if not self.nc.is_connected:
            return  # the reconnect hook resends everything
        if batch.retry_at is not None and now >= batch.retry_at:
            batch.retry_at = None
            await self._resend(batch)
        elif now - batch.last_progress > ACK_WAIT_S:
            batch.last_progress = now
            await self._resend(batch)

    async def _resend(self, batch: _Batch | None) -> None:
        entries = self._entries
        tokens = sorted(entries) if batch is None else [t for t in batch.tokens if t in entries]
        frames = []
        for token in tokens:
            owner, index, frame = entries[token]
            owner.resent.add(index)
            frames.append(frame)
        if frames:
            await self._write(b"".join(frames))

    async def on_reconnected(self) -> None:
        """Resend every unacknowledged message, in the order it was first sent."""
        now = time.monotonic()
        for batch, _, _ in list(self._entries.values()):
            batch.last_progress = now
        await self._resend(None)

    async def _on_reply(self, msg: Msg) -> None:
        token = self._token_of(msg)
        entry = self._entries.get(token)
        if entry is None:
            return  # a reply to a resent message that was already acknowledged
        batch, index, _ = entry
        headers = msg.headers
        if headers and headers.get("Status") == "503":
            self._last_error = "no JetStream stream answered (503 no responders)"
            self._retry_later(batch)
            return
        try:
            ack = _decode_ack(msg.data)
        except msgspec.DecodeError:
            self._last_error = f"unreadable ack {msg.data[:80]!r}"
            self._retry_later(batch)
            return
        if ack.error is not None:
            self._last_error = f"{ack.error.description} (code {ack.error.err_code})"
            if ack.error.code in _TRANSIENT_CODES or ack.error.err_code in _TRANSIENT_ERR_CODES:
                self._retry_later(batch)
                return
            self._finish(token, batch)
            if batch.error is None:
                batch.error = JetStreamRefusedError(ack.error)
            if not batch.done.done():
                batch.done.set_result(None)
            return
        self._finish(token, batch)
        batch.acks[index] = ack
        batch.remaining -= 1
        batch.last_progress = time.monotonic()
        if batch.remaining == 0 and not batch.done.done():
            batch.done.set_result(None)

    def _finish(self, token: int, batch: _Batch) -> None:
        del self._entries[token]
        if len(self._entries) <= MAX_IN_FLIGHT - CHUNK:
            self._wake_room()

    def _wake_room(self) -> None:
        waiting, self._room = self._room, []
        for room in waiting:
            if not room.done():
                room.set_result(None)

    def _retry_later(self, batch: _Batch) -> None:
        if batch.retry_at is None:
            batch.retry_at = time.monotonic() + RETRY_AFTER_S

    def close(self) -> None:
        """Fail every pending publish with :class:`LogClosedError`."""
        self._closed = LogClosedError(f"log {self.url} is closed")
        for batch, _, _ in list(self._entries.values()):
            if not batch.done.done():
                batch.error = self._closed
                batch.done.set_result(None)


class Stored(NamedTuple):
    """One stored message, as a direct get or a pull returns it."""

    subject: str
    seq: int
    data: bytes
    headers: dict[str, str]
    pending: int = -1  # pulls only: messages left for the consumer after this one


@dataclass(eq=False)
class _Read:
    """Messages of one batched direct get, until its end-of-batch status."""

    done: asyncio.Future[None]
    subject: bytes
    request: bytes
    token: int = 0
    messages: list[Stored] = field(default_factory=list)
    last_seq: int | None = None
    error: str | None = None


class Reader(_Wire):
    """JetStream batched direct gets: many stored messages per request, no consumer."""

    def __init__(self, nc: Client, url: str, timeout: float, api_prefix: str = "$JS.API") -> None:
        super().__init__(nc, url, timeout)
        self._reads: dict[int, _Read] = {}
        self._api = api_prefix

    async def get(self, stream: str, seq: int, limit: int) -> tuple[list[tuple[int, bytes]], int]:
        """Stored messages of JetStream ``stream`` at sequences ``>= seq``, at most ``limit``.

        Returns the ``(sequence, payload)`` pairs in order, and the stream's last sequence when
        the server answered with one (``-1`` when it did not say).

        Raises:
            BackendUnavailableError: no complete answer within the timeout.
        """
        found, last = await self._request(stream, {"seq": max(seq, 1), "batch": limit})
        return [(m.seq, m.data) for m in found], last

    async def last_per_subject(self, stream: str, subjects: str, limit: int) -> list[Stored]:
        """The last message of every subject of ``stream`` matching the wildcard ``subjects``.

        Raises:
            BackendUnavailableError: no complete answer within the timeout.
        """
        found, _ = await self._request(stream, {"multi_last": [subjects], "batch": limit})
        return found

    async def pull(self, stream: str, consumer: str, batch: int) -> list[Stored]:
        """One no-wait pull of up to ``batch`` messages from an ack-none pull consumer.

        JetStream delivers pulled messages under their own subjects, so a pull gets an inbox of
        its own rather than a token. A pull moves the consumer on, so it is never sent twice:
        a lost answer raises ``nats.errors.TimeoutError`` and the caller starts again with a
        new consumer.
        """
        if self._closed is not None:
            raise LogClosedError(f"log {self.url} is closed")
        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, pending_bytes_limit=4 * PULL_MAX_BYTES)
        found: list[Stored] = []
        # a page holds at most PULL_MAX_BYTES (and always one message): state values may be
        # up to a message each, and a thousand of them would overflow the subscription
        limit = max(PULL_MAX_BYTES, 2 * self.nc.max_payload)
        try:
            await self.nc.publish(
                f"{self._api}.CONSUMER.MSG.NEXT.{stream}.{consumer}",
                json.dumps({"batch": batch, "no_wait": True, "max_bytes": limit}).encode(),
                reply=inbox,
            )
            while len(found) < batch:
                msg = await sub.next_msg(timeout=READ_ATTEMPT_S)
                headers = msg.headers or {}
                status = headers.get("Status")
                if status is not None:
                    # no (more) messages, pull ended, or the page is full (409 max bytes)
                    if status not in ("404", "408", "409"):
                        raise nats.errors.TimeoutError
                    break
                meta = msg.metadata
                found.append(
                    Stored(msg.subject, meta.sequence.stream, msg.data, headers, meta.num_pending)
                )
        finally:
            await sub.unsubscribe()
        return found

    async def _request(self, stream: str, body: dict[str, object]) -> tuple[list[Stored], int]:
        if self._closed is not None:
            raise LogClosedError(f"log {self.url} is closed")
        request = json.dumps(body).encode()
        subject = f"{self._api}.DIRECT.GET.{stream}".encode()
        deadline = time.monotonic() + self.timeout
        detail = "no answer"
        loop = asyncio.get_running_loop()
        while True:
            read = _Read(loop.create_future(), subject, request)
            try:
                await self._write(self._ask(read))
                wait = min(READ_ATTEMPT_S, max(deadline - time.monotonic(), 0.0))
                await asyncio.wait((read.done,), timeout=wait)
            finally:
                self._reads.pop(read.token, None)
            if self._closed is not None:
                raise LogClosedError(f"log {self.url} is closed") from self._closed
            if read.done.done() and read.error is None:
                return read.messages, -1 if read.last_seq is None else read.last_seq
            detail = read.error or detail
            if time.monotonic() >= deadline:
                raise self._unavailable(f"answer a read of {stream}", detail)
            await asyncio.sleep(RETRY_AFTER_S)

    async def _on_reply(self, msg: Msg) -> None:
        read = self._reads.get(self._token_of(msg))
        if read is None or read.done.done():
            return
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is None:
            stored = Stored(
                headers.get("Nats-Subject", ""), int(headers["Nats-Sequence"]), msg.data, headers
            )
            read.messages.append(stored)
            return
        if status in ("204", "404"):  # end of batch / nothing at or after that sequence
            last = headers.get("Nats-Last-Sequence")
            read.last_seq = int(last) if last is not None else None
        else:
            read.error = f"status {status}"
        read.done.set_result(None)

    def _ask(self, read: _Read) -> bytes:
        """Give ``read`` a fresh token (late replies to an old one are ignored); its frame."""
        self._reads.pop(read.token, None)
        read.token = next(self._tokens)
        read.messages.clear()
        self._reads[read.token] = read
        return hpub(read.subject, self._prefix + str(read.token).encode(), b"", read.request)

    async def on_reconnected(self) -> None:
        """Ask again, from the start, for every read that was waiting when the link dropped."""
        frames = [self._ask(read) for read in list(self._reads.values())]
        if frames:
            await self._write(b"".join(frames))

    def close(self) -> None:
        """Fail every pending read with :class:`LogClosedError`."""
        self._closed = LogClosedError(f"log {self.url} is closed")
        for read in self._reads.values():
            if not read.done.done():
                read.done.set_result(None)


class ClusterCatchingUpError(FlambeauError):
    """A JetStream cluster contradicted itself for a moment (a stream both exists and is not
    found, while a leader changes): the call is worth repeating."""


_TRANSIENT_ERRORS = (
    ClusterCatchingUpError,
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.FlushTimeoutError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
)


class Retrier:
    """Runs a JetStream API call again, with back-off, while the server is away."""

    def __init__(self, url: str, timeout: float, closed: Callable[[], bool]) -> None:
        self.url = url
        self.timeout = timeout
        self._closed = closed

    async def __call__(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """The result of ``call()``, retried on timeouts and unavailability up to the timeout.

        Raises:
            BackendUnavailableError: the server did not answer within the timeout.
            LogClosedError: the log was closed meanwhile.
        """
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                return await call()
            except _TRANSIENT_ERRORS as exc:
                if self._closed():
                    raise LogClosedError(f"log {self.url} is closed") from exc
                if time.monotonic() + delay >= deadline:
                    raise BackendUnavailableError(
                        f"NATS server at {self.url} did not {what} within {self.timeout:g} s "
                        f"({type(exc).__name__}: {exc}); is it running with JetStream enabled?"
                    ) from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
