"""Live subscriptions: Server-Sent Events and a multiplexed WebSocket, both resumable.

SSE: ``GET /v1/streams/{stream}/events?from=...&event_key=...&key=<API key>``. The first
message is ``event: subscribed`` (with ``recovered``), then one SSE message per event whose
``id`` is the cursor just past it, so ``Last-Event-ID`` resumes every partition exactly.

WebSocket: ``GET /v1/ws``. The client sends JSON operations::

    {"op": "subscribe", "sub": "medals", "stream": "results.medals", "from": "latest", "key": null}
    {"op": "unsubscribe", "sub": "medals"}
    {"op": "ping"}

and receives ``subscribed`` (``epoch``, ``position``, ``recovered``), ``events`` frames
(``{"op":"events","sub":..,"position":<cursor after the frame>,"events":[...]}``, several events
per frame under load), ``unsubscribed``, ``gap``, ``pong`` and ``error`` (a problem object).

Close codes (WebSocket):

- 4000: slow consumer; the buffer overflowed. The last message before the close is
  ``{"op":"overflow","positions":{sub: cursor}}``; resubscribe from those cursors.
- 4401: the API key is invalid or revoked; 4429: too many connections for this key
  (:mod:`flambeau.gateway.sockets` admits and refuses sockets for ingest and subscribe).
- 1001: the gateway is shutting down; a ``closing`` message with positions comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, WebSocket, get, websocket
from litestar.handlers import HTTPRouteHandler, WebsocketRouteHandler
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import Stream

from flambeau.gateway.auth import Principal
from flambeau.gateway.context import Gateway, gateway_of, message_bytes
from flambeau.gateway.cursor import resolve_start
from flambeau.gateway.fanout import Batch, Item, Outbox, Subscription, SubState
from flambeau.gateway.problems import (
    AUTH_PROBLEMS,
    FieldError,
    ProblemError,
    ProblemKind,
    describe_validation_error,
    problem_for_exception,
    problem_specs,
)
from flambeau.gateway.sockets import CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER, admit
from flambeau.log.base import partition_for

__all__ = [
    "subscribe_routes",
]

MAX_SUB_ID = 64
SEND_TIMEOUT_S = 2.0

_encode = msgspec.json.Encoder().encode


def _json(value: Any) -> str:
    return _encode(value).decode()


class Subscribe(
    msgspec.Struct, frozen=True, tag="subscribe", tag_field="op", forbid_unknown_fields=True
):
    """Start a subscription (``sub`` names it; one is assigned when absent)."""

    stream: str
    sub: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    key: str | None = None


class Unsubscribe(
    msgspec.Struct, frozen=True, tag="unsubscribe", tag_field="op", forbid_unknown_fields=True
):
    """Stop the subscription ``sub``."""

    sub: str


class Ping(msgspec.Struct, frozen=True, tag="ping", tag_field="op"):
    """Ask for a ``pong``."""


_client_op = msgspec.json.Decoder(Subscribe | Unsubscribe | Ping)


def open_subscription(
    gateway: Gateway,
    principal: Principal,
    outbox: Outbox,
    sub_id: str,
    stream: str,
    start_spec: str | None,
    key: str | None,
    transport: str,
) -> _Opening:
    """Check access and the start position; the caller awaits :meth:`_Opening.start`."""
    gateway.access.require(principal, "read", stream)
    gateway.log.registry.spec(stream)
    if key is not None and not key:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            "an event key filter must not be empty",
            [FieldError("must not be empty", "key")],
        )
    opening = _Opening(gateway, outbox, sub_id, stream, start_spec, key, transport)
    opening.tenant_filter = None if principal.all_tenants else (principal.tenant,)
    return opening


@dataclass(eq=False)
class _Opening:
    """A subscription whose access and key filter are checked, ready to :meth:`start`."""

    gateway: Gateway
    outbox: Outbox
    sub_id: str
    stream: str
    start_spec: str | None
    key: str | None
    transport: str
    tenant_filter: tuple[str | None] | None = None

    async def start(self, field: str = "from") -> Subscription:
        """Resolve the position, queue ``subscribed`` and attach to the shared readers.

        Raises:
            ProblemError: 400 when the position is malformed.
        """
        info = await self.gateway.log.info(self.stream)
        partitions = (
            [partition_for(self.key, info.partitions)]
            if self.key is not None
            else list(range(info.partitions))
        )
        try:
            start = resolve_start(self.start_spec, info, partitions)
        except ValueError as exc:
            raise ProblemError.of(
                ProblemKind.BAD_REQUEST, f"{field}: {exc}", [FieldError(str(exc), field)]
            ) from None
        sub = Subscription(
            self.sub_id,
            self.stream,
            info.epoch,
            start.offsets,
            partitions,
            self.key,
            self.outbox,
            self.transport,
            self.tenant_filter,
        )
        message: dict[str, Any] = {
            "op": "subscribed",
            "sub": sub.sub_id,
            "stream": sub.stream,
            "epoch": info.epoch,
            "partitions": info.partitions,
            "position": sub.cursor(),
            "recovered": start.recovered,
        }
        if start.reason:
            message["reason"] = start.reason
        self.outbox.put_control(_json(message))
        self.gateway.hub.attach(sub, [info.end.get(p, 0) for p in range(info.partitions)])
        return sub


def _piece_frames(batch: Batch, indices: Sequence[int]) -> str:
    frames = batch.frames
    return ",".join([frames[i] for i in indices])


class WsSession:
    """One ``/v1/ws`` connection: its subscriptions, its outbox and its writer."""

    def __init__(self, socket: WebSocket[Any, Any, Any], gateway: Gateway) -> None:
        self.socket = socket
        self.gateway = gateway
        self.outbox = Outbox(gateway.config.buffer_bytes)
        self.subs: dict[str, Subscription] = {}
        self.writer: asyncio.Task[None] | None = None
        self._next_id = 0

    async def run(self) -> None:
        gateway = self.gateway
        principal = await admit(self.socket, gateway)
        if principal is None:
            return
        gateway.sessions.add(self)
        await self.socket.accept()
        writer = self.writer = asyncio.get_running_loop().create_task(
            self._write(), name="ws writer"
        )
        try:
            while not writer.done():
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message_bytes(message)
                await self._handle(principal, raw)
        finally:
            gateway.connections.release(principal.client)
            for sub in self.subs.values():
                gateway.hub.detach(sub)
            self.outbox.close()
            gateway.sessions.discard(self)
            if not writer.done():
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def _handle(self, principal: Principal, raw: bytes) -> None:
        sub_id: str | None = None
        try:
            try:
                op = _client_op.decode(raw)
            except msgspec.MsgspecError as exc:
                field, text = describe_validation_error(exc)
                raise ProblemError.of(
                    ProblemKind.BAD_REQUEST, text, [FieldError(text, field)]
                ) from None
            match op:
                case Subscribe():
                    sub_id = op.sub
                    await self._subscribe(principal, op)
                case Unsubscribe():
                    sub_id = op.sub
                    sub = self.subs.pop(op.sub, None)
                    if sub is None:
                        raise ProblemError.of(
                            ProblemKind.NOT_FOUND,
                            f"no subscription {op.sub!r} on this connection",
                            [FieldError("no such subscription", "sub")],
                        )
                    self.gateway.hub.detach(sub)
                    self.outbox.put_control(
                        _json({"op": "unsubscribed", "sub": sub.sub_id, "position": sub.cursor()})
                    )
                case Ping():
                    self.outbox.put_control('{"op":"pong"}')
        except Exception as exc:  # every failure of one operation becomes an error message
            problem, _ = problem_for_exception(exc)
            reply: dict[str, Any] = {"op": "error", "problem": problem}
            if sub_id is not None:
                reply["sub"] = sub_id
            self.outbox.put_control(_json(reply))

    async def _subscribe(self, principal: Principal, op: Subscribe) -> None:
        limit = self.gateway.config.max_subscriptions_per_connection
        if len(self.subs) >= limit:
            self.gateway.metrics.rejected.inc(("subscriptions",))
            raise ProblemError.of(
                ProblemKind.TOO_MANY_SUBSCRIPTIONS,
                f"a connection may hold at most {limit} subscriptions",
            )
        sub_id = op.sub
        if sub_id is None:
            self._next_id += 1
            sub_id = f"s{self._next_id}"
        if not 0 < len(sub_id) <= MAX_SUB_ID:
            raise ProblemError.of(
                ProblemKind.BAD_REQUEST,
                f"sub must be 1 to {MAX_SUB_ID} characters",
                [FieldError(f"must be 1 to {MAX_SUB_ID} characters", "sub")],
            )
        if sub_id in self.subs:
            raise ProblemError.of(
                ProblemKind.CONFLICT,
                f"subscription {sub_id!r} already exists on this connection",
                [FieldError("already in use", "sub")],
            )
        self.gateway.charge(principal)
        opening = open_subscription(
            self.gateway, principal, self.outbox, sub_id, op.stream, op.from_, op.key, "ws"
        )
        # operations of one socket run one at a time, so nobody else can take sub_id meanwhile
        sub = await opening.start()
        if self.outbox.closed:
            self.gateway.hub.detach(sub)
        else:
            self.subs[sub_id] = sub

    async def _write(self) -> None:
        send = self.socket.send  # the raw ASGI send: one dict per frame, nothing else
        metrics = self.gateway.metrics
        deliveries = metrics.deliveries
        frames_counter = metrics.frames
        latency = metrics.delivery_latency
        outbox = self.outbox
        while True:
            items = await outbox.get()
            if not items:
                if outbox.overflowed:
                    await self._close_slow()
                return
            texts, frames, delivered, oldest = self._frames(items)
            for text in texts:
                await send({"type": "websocket.send", "bytes": None, "text": text})
            if frames:
                frames_counter.inc(("ws",), frames)
                deliveries.inc(("ws",), delivered)
                # one observation per write, weighted by its events: the delay of the oldest
                # event in it, an upper bound for the others (cheaper than one per event)
                latency.observe(max(0.0, time.time() - oldest), ("ws",), delivered)

    @staticmethod
    def _frames(items: list[Item]) -> tuple[list[str], int, int, float]:
        """Coalesce queued items: one frame per subscription between control messages.

        Returns the texts to send, the number of event frames, the events in them, and the
        earliest ingest time among those events.
        """
        out: list[str] = []
        groups: dict[Subscription, list[str]] = {}
        frames = 0
        delivered = 0
        oldest = float("inf")

        def flush() -> None:
            nonlocal frames
            for sub, parts in groups.items():
                if parts:
                    frames += 1
                    out.append(f'{sub.frame_prefix}{sub.cursor()}","events":[{",".join(parts)}]}}')
            groups.clear()

        for sub, batch, indices in items:
            if sub is None or not isinstance(batch, Batch):
                flush()
                out.append(batch if isinstance(batch, str) else "")
                continue
            if sub.state is SubState.CLOSED:
                continue
            parts = groups.get(sub)
            if parts is None:
                parts = groups[sub] = []
            sub.sent[batch.partition] = batch.next
            if indices is None:
                parts.append(batch.joined)
                delivered += len(batch.offsets)
            elif indices:
                parts.append(_piece_frames(batch, indices))
                delivered += len(indices)
            else:
                continue
            if batch.ingested < oldest:
                oldest = batch.ingested
        flush()
        return out, frames, delivered, oldest

    async def _close_slow(self) -> None:
        self.gateway.metrics.slow_consumers.inc(("ws",))
        positions = {sub_id: sub.cursor() for sub_id, sub in self.subs.items()}
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.socket.send_text(_json({"op": "overflow", "positions": positions})),
                SEND_TIMEOUT_S,
            )
        reason = "slow consumer: resume from the positions sent"
        if len(positions) == 1:
            only = next(iter(positions.values()))
            if len(only) <= 100:
                reason = only
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.socket.close(code=CLOSE_SLOW_CONSUMER, reason=reason), SEND_TIMEOUT_S
            )

    async def shutdown(self) -> None:
        """Tell the client where each subscription stands, then close with 1001."""
        for sub in list(self.subs.values()):
            self.gateway.hub.detach(sub)
        self.outbox.close()
        if self.writer is not None:
            # the writer finishes the frames it holds, so the positions below are exact
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.writer), SEND_TIMEOUT_S)
        positions = {sub_id: sub.cursor() for sub_id, sub in self.subs.items()}
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.socket.send_text(_json({"op": "closing", "positions": positions})),
                SEND_TIMEOUT_S,
            )
            await asyncio.wait_for(
                self.socket.close(code=CLOSE_GOING_AWAY, reason="gateway shutting down"),
                SEND_TIMEOUT_S,
            )


def _sse_control(text: str) -> str:
    message = msgspec.json.decode(text)
    lines = [f"event: {message.get('op', 'message')}"]
    position = message.get("position")
    if isinstance(position, str) and message.get("op") == "subscribed":
        lines.append(f"id: {position}")
    return "\n".join(lines) + f"\ndata: {text}\n\n"


class SseSession:
    """One SSE subscriber: an outbox and the generator that turns it into SSE text."""

    def __init__(self, gateway: Gateway, principal: Principal) -> None:
        self.gateway = gateway
        self.principal = principal
        self.outbox = Outbox(gateway.config.buffer_bytes)
        self.sub: Subscription | None = None
        self.closing = False
        self._released = False
        gateway.sessions.add(self)

    def release(self) -> None:
        """Free the connection slot and the subscription (idempotent)."""
        if self._released:
            return
        self._released = True
        self.gateway.sessions.discard(self)
        self.gateway.connections.release(self.principal.client)
        if self.sub is not None:
            self.gateway.hub.detach(self.sub)
        self.outbox.close()

    async def stream(self) -> AsyncIterator[str]:
        """SSE text: ``retry``, ``subscribed``, then events; heartbeats keep proxies open."""
        metrics = self.gateway.metrics
        heartbeat = self.gateway.config.heartbeat_s
        outbox = self.outbox
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    items = await asyncio.wait_for(outbox.get(), heartbeat)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                if not items:
                    if outbox.overflowed and self.sub is not None:
                        metrics.slow_consumers.inc(("sse",))
                        position = self.sub.cursor()
                        payload = _json({"op": "overflow", "position": position})
                        yield f"event: overflow\nid: {position}\ndata: {payload}\n\n"
                    return
                yield self._format(items)
                if self.closing:
                    return
        finally:
            self.release()

    async def shutdown(self) -> None:
        """Queue a ``closing`` event; the stream ends after it.

        It carries no ``id``: the browser's ``Last-Event-ID`` is already the exact position.
        """
        if self.sub is None or self._released:
            return
        self.closing = True
        self.outbox.put_control('{"op":"closing"}')

    def _format(self, items: list[Item]) -> str:
        out: list[str] = []
        now = time.time()
        metrics = self.gateway.metrics
        delivered = 0
        for sub, batch, indices in items:
            if not isinstance(batch, Batch):
                out.append(_sse_control(batch))
                continue
            if sub is None or sub.state is SubState.CLOSED:
                continue
            part = batch.partition
            sent = [str(o) for o in sub.sent]
            prefix = sub.epoch + "/"
            chosen = range(len(batch.offsets)) if indices is None else indices
            for i in chosen:
                sent[part] = str(batch.offsets[i] + 1)
                out.append(f"id: {prefix}{'.'.join(sent)}\ndata: {batch.frames[i]}\n\n")
            sub.sent[part] = batch.next
            delivered += len(chosen)
            if chosen:
                metrics.delivery_latency.observe(
                    max(0.0, now - batch.ingested), ("sse",), len(chosen)
                )
        if delivered:
            metrics.deliveries.inc(("sse",), delivered)
            metrics.frames.inc(("sse",))
        return "".join(out)


def subscribe_routes() -> list[HTTPRouteHandler | WebsocketRouteHandler]:
    """The SSE and WebSocket subscription handlers."""
    responses = problem_specs(
        (400, "Malformed position"),
        *AUTH_PROBLEMS,
        (403, "The key has no read scope for this stream"),
        (404, "Unknown stream"),
        (429, "Too many connections for this key"),
    )

    @get(
        "/v1/streams/{stream:str}/events",
        media_type="text/event-stream",
        responses=responses,
        summary="Follow a stream as Server-Sent Events",
        tags=["subscribe"],
        operation_id="subscribeEvents",
    )
    async def subscribe_sse(
        request: Request[Any, Any, Any],
        stream: FromPath[str],
        from_: Annotated[
            str | None,
            QueryParameter(
                name="from",
                description="earliest, latest (default), a cursor, or PARTITION:OFFSET,...",
            ),
        ] = None,
        event_key: Annotated[
            str | None, QueryParameter(description="Only events with this key.", min_length=1)
        ] = None,
        key: Annotated[str | None, QueryParameter(description="API key (for EventSource).")] = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(name="Last-Event-ID", description="Resume after this cursor."),
        ] = None,
    ) -> Stream:
        """Server-Sent Events; each event's ``id`` is its resumable cursor."""
        gateway = gateway_of(request)
        principal = gateway.principal(request)
        gateway.charge(principal)
        session = SseSession(gateway, principal)
        opening = open_subscription(
            gateway,
            principal,
            session.outbox,
            "sse",
            stream,
            last_event_id or from_,
            event_key,
            "sse",
        )
        if not gateway.connections.acquire(principal.client):
            gateway.metrics.rejected.inc(("connections",))
            raise ProblemError.of(
                ProblemKind.TOO_MANY_CONNECTIONS,
                f"at most {gateway.config.max_connections_per_key} connections per key",
            )
        try:
            session.sub = await opening.start("Last-Event-ID" if last_event_id else "from")
        except BaseException:
            session.release()
            raise
        iterator = session.stream()
        weakref.finalize(iterator, session.release)
        return Stream(
            iterator,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @websocket("/v1/ws")
    async def subscribe_ws(socket: WebSocket[Any, Any, Any]) -> None:
        """Multiplexed subscriptions over one WebSocket."""
        await WsSession(socket, gateway_of(socket)).run()

    return [subscribe_sse, subscribe_ws]
