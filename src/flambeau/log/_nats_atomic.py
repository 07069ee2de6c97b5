"""JetStream atomic batch publishes, and a flush that never deafens the client.

Both sit on the NATS wire of :mod:`flambeau.log._nats_wire` (its private inbox and token
routing); the groups store writes state with the former, the log flushes with the latter.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from flambeau.errors import LogClosedError
from flambeau.log._nats_wire import (
    _TRANSIENT_CODES,
    ACK_WAIT_S,
    RETRY_AFTER_S,
    ApiError,
    JetStreamRefusedError,
    PubAck,
    _decode_ack,
    _Wire,
    hpub,
)

__all__ = ["BATCH_LIMIT", "AtomicBatches", "flush"]


async def flush(nc: Client, timeout: float) -> None:
    """Wait until the server has seen everything written so far (a PING answered by a PONG).

    nats-py's own ``Client.flush`` cancels its PONG future when it times out or is cancelled,
    but leaves it queued; the PONG that arrives later then fails ``set_result`` inside the
    client's read loop (``InvalidStateError``), which ends the loop for good: the connection
    still says it is connected and never hears another reply. This waits on the future without
    ever cancelling it; a late PONG resolves it harmlessly.

    Raises:
        nats.errors.FlushTimeoutError: no PONG within ``timeout`` seconds.
    """
    if not nc.is_connected:
        raise nats.errors.ConnectionReconnectingError
    pong: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    await nc._send_ping(pong)
    done, _ = await asyncio.wait((pong,), timeout=timeout)
    if not done:
        raise nats.errors.FlushTimeoutError


BATCH_LIMIT = 1000
"""Messages per JetStream atomic batch: the server's own limit (ADR-50)."""
_ABANDONED = 10176  # the batch was incomplete when committed (a message lost, a leader change)
_HDR_VERSION = b"NATS/1.0\r\n"


@dataclass(eq=False)
class _Attempt:
    """One send of an atomic batch: its reply tokens, and the pub ack of its commit."""

    done: asyncio.Future[PubAck]
    tokens: tuple[int, int]


class AtomicBatches(_Wire):
    """JetStream atomic batch publishes (server 2.12+, the stream's ``allow_atomic``).

    Every message of a batch is stored, or none; the server checks each message's expectations
    (``Nats-Expected-Last-Subject-Sequence``) against the stream as it was before the batch, in
    one RAFT proposal. That is what a replicated stream needs for several writes fenced on the
    same subject: sent as separate messages, the leader refuses a second fenced write while the
    first is still being replicated (``wrong last sequence``, code 10164).

    A batch that got no commit ack in time, or was abandoned, is sent again whole under a new
    batch id: callers send only idempotent writes (puts and deletes of known values).
    """

    def __init__(self, nc: Client, url: str, timeout: float) -> None:
        super().__init__(nc, url, timeout)
        self._attempts: dict[int, _Attempt] = {}

    async def publish(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> PubAck:
        """Store ``(subject, header lines, payload)`` items as one atomic batch; its commit ack.

        ``header lines`` are complete ``Name: value\\r\\n`` lines (or empty), without the
        version line nor the blank line that ends a header block. At most :data:`BATCH_LIMIT`.

        Raises:
            BackendUnavailableError: the batch was not committed within the timeout.
            JetStreamRefusedError: JetStream refused the batch (an expectation failed).
            LogClosedError: the log was closed meanwhile.
        """
        if not 0 < len(items) <= BATCH_LIMIT:
            raise ValueError(f"an atomic batch holds 1 to {BATCH_LIMIT} messages, not {len(items)}")
        deadline = time.monotonic() + self.timeout
        detail = "no commit acknowledgement"
        while True:
            if self._closed is not None:
                raise LogClosedError(f"log {self.url} is closed") from self._closed
            attempt = self._attempt()
            try:
                if self.nc.is_connected:
                    await self._write(self._frames(items, attempt))
                wait = min(ACK_WAIT_S, max(deadline - time.monotonic(), 0.0))
                await asyncio.wait((attempt.done,), timeout=wait)
            finally:
                for token in attempt.tokens:
                    self._attempts.pop(token, None)
            if attempt.done.done() and not attempt.done.cancelled():
                ack = attempt.done.result()
                if ack.error is None:
                    return ack
                detail = f"{ack.error.description} (code {ack.error.err_code})"
                if ack.error.code not in _TRANSIENT_CODES and ack.error.err_code != _ABANDONED:
                    raise JetStreamRefusedError(ack.error)
            if time.monotonic() >= deadline:
                raise self._unavailable("commit an atomic batch", detail)
            await asyncio.sleep(RETRY_AFTER_S)

    def _attempt(self) -> _Attempt:
        loop = asyncio.get_running_loop()
        attempt = _Attempt(loop.create_future(), (next(self._tokens), next(self._tokens)))
        for token in attempt.tokens:
            self._attempts[token] = attempt
        return attempt

    def _frames(self, items: Sequence[tuple[bytes, bytes, bytes]], attempt: _Attempt) -> bytes:
        batch_id = os.urandom(16).hex().encode()
        first, last = (self._prefix + str(t).encode() for t in attempt.tokens)
        frames = []
        final = len(items)
        for sequence, (subject, lines, payload) in enumerate(items, 1):
            header = b"%sNats-Batch-Id: %s\r\nNats-Batch-Sequence: %d\r\n%s%s\r\n" % (
                _HDR_VERSION,
                batch_id,
                sequence,
                b"Nats-Batch-Commit: 1\r\n" if sequence == final else b"",
                lines,
            )
            # the first message is the batch's start request; the last one gets the pub ack
            reply = last if sequence == final else first if sequence == 1 else b""
            frames.append(hpub(subject, reply, header, payload))
        return b"".join(frames)

    async def _on_reply(self, msg: Msg) -> None:
        token = self._token_of(msg)
        attempt = self._attempts.get(token)
        if attempt is None or attempt.done.done():
            return
        headers = msg.headers
        if headers and headers.get("Status") == "503":
            attempt.done.set_result(PubAck(error=ApiError(503, 0, "no responders")))
            return
        if not msg.data:
            return  # the zero-byte ack of the batch's first message
        try:
            ack = _decode_ack(msg.data)
        except msgspec.DecodeError:
            return
        if ack.error is not None or token == attempt.tokens[1]:
            attempt.done.set_result(ack)

    async def on_reconnected(self) -> None:
        """Send every batch that was waiting for its commit ack again, under a new id."""
        for attempt in self._attempts.values():
            if not attempt.done.done():
                attempt.done.set_result(PubAck(error=ApiError(503, 0, "reconnected")))

    def close(self) -> None:
        """Fail every pending batch with :class:`LogClosedError`."""
        self._closed = LogClosedError(f"log {self.url} is closed")
        for attempt in self._attempts.values():
            if not attempt.done.done():
                attempt.done.cancel()
