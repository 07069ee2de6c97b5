"""Ingest: events in over HTTP (JSON, JSON array, NDJSON) and over a WebSocket.

Each event is an *envelope* with the payload under ``data``::

    {"id": "timing-42", "key": "SWM400MFR", "time": "2024-07-28T19:42:11.250Z",
     "causation_id": null, "data": {"type": "unit_started", ...}}

Only ``data`` is required. ``id`` makes the append idempotent (a repeat inside the log's dedupe
window is acknowledged as ``duplicate`` and not stored twice; an id is generated when absent and
returned). ``key`` picks the partition and keeps per-key order. ``time`` must carry a timezone
and is stored in UTC. Unknown envelope fields are refused, so a typo cannot pass unnoticed.

Only streams without a writer take this ingest (see :class:`~flambeau.events.Writer`): a
stream a processor derives, a service's route appends to, or the gateway keeps (``admin.keys``)
is refused for every key, admin included, with a 403 ``derived-stream`` problem naming the
writer and where to send instead.

A batch is validated event by event. By default the valid events are appended and each invalid
one is reported by index and field; with ``atomic=true`` a single invalid event rejects the
batch and nothing is written. A reply in which nothing was written is a 422 problem; otherwise
a 200 lists every placement and every error.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, WebSocket, post, websocket
from litestar.handlers import HTTPRouteHandler, WebsocketRouteHandler
from litestar.openapi.spec import Components, OpenAPIMediaType, Operation, RequestBody
from litestar.params import FromPath, QueryParameter

from flambeau.events import MAX_ID_BYTES, MAX_KEY_BYTES, NewEvent, Registry, Writer, new_event_id
from flambeau.gateway.auth import Principal
from flambeau.gateway.context import Gateway, gateway_of, message_bytes
from flambeau.gateway.openapi import decode_json, msgspec_components
from flambeau.gateway.problems import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    ProblemError,
    ProblemKind,
    describe_validation_error,
    problem_for_exception,
    problem_specs,
)
from flambeau.gateway.sockets import admit

__all__ = [
    "IngestReply",
    "Placement",
    "authorize_ingest",
    "codec_for",
    "decode_events",
    "ingest",
    "ingest_routes",
    "media_type",
    "refuse_written",
    "request_body_schema",
    "split_body",
]

NDJSON_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
    }
)

EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_BYTES)]
EventKey = Annotated[str, msgspec.Meta(max_length=MAX_KEY_BYTES)]
EventTime = Annotated[datetime, msgspec.Meta(tz=True)]


class Placement(msgspec.Struct, frozen=True):
    """Where one accepted event landed."""

    index: int
    id: str
    partition: int
    offset: int
    duplicate: bool


class IngestReply(msgspec.Struct, frozen=True):
    """The outcome of a batch: placements of the events taken, errors of those refused.

    ``accepted`` counts newly stored events and ``duplicates`` those already stored (both are
    in ``results``); ``rejected`` counts the events listed in ``errors``.
    """

    accepted: int
    duplicates: int
    rejected: int
    results: list[Placement]
    errors: list[FieldError]


class StreamCodec:
    """The envelope type and decoders of one stream's ingest."""

    def __init__(self, stream: str, schema: Any) -> None:
        self.stream = stream
        self.envelope: type[msgspec.Struct] = msgspec.defstruct(
            stream,
            [
                ("data", schema),
                ("id", EventId | None, None),
                ("key", EventKey, ""),
                ("time", EventTime | None, None),
                ("causation_id", EventId | None, None),
            ],
            forbid_unknown_fields=True,
            frozen=True,
        )
        self.one: msgspec.json.Decoder[Any] = msgspec.json.Decoder(self.envelope)
        self.many: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[self.envelope])  # type: ignore[name-defined]


_codecs: weakref.WeakKeyDictionary[Registry, dict[str, StreamCodec]] = weakref.WeakKeyDictionary()


def codec_for(registry: Registry, stream: str) -> StreamCodec:
    """The (cached) codec of ``stream`` in ``registry``.

    Raises:
        UnknownStreamError: the stream is not registered.
    """
    per_registry = _codecs.setdefault(registry, {})
    codec = per_registry.get(stream)
    if codec is None:
        codec = per_registry[stream] = StreamCodec(stream, registry.spec(stream).schema)
    return codec


_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


def split_body(body: bytes, ndjson: bool) -> list[bytes]:
    """Split a request body into one JSON document per event, without decoding the events.

    A JSON body is one object (one event) or an array of them; an NDJSON body holds one event
    per non-blank line.

    Raises:
        ProblemError: 400 when a JSON body is not an object or an array of JSON values.
    """
    if ndjson:
        return [line for line in body.split(b"\n") if line.strip()]
    text = body.lstrip()
    if text.startswith(b"["):
        try:
            return [bytes(raw) for raw in _raw_list.decode(body)]
        except msgspec.MsgspecError as exc:
            field, message = describe_validation_error(exc)
            raise ProblemError.of(
                ProblemKind.MALFORMED_BODY, message, [FieldError(message, field)]
            ) from None
    if text.startswith(b"{"):
        return [body]
    raise ProblemError.of(
        ProblemKind.MALFORMED_BODY,
        "the body must be a JSON object (one event), a JSON array of events, "
        "or NDJSON (Content-Type: application/x-ndjson)",
    )


def _to_event(envelope: Any) -> NewEvent:
    moment = envelope.time
    if moment is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return NewEvent(
        envelope.data,
        key=envelope.key,
        id=envelope.id or new_event_id(),
        time=moment,
        causation_id=envelope.causation_id,
    )


def _byte_limits(envelope: Any, index: int) -> FieldError | None:
    if envelope.id is not None and len(envelope.id.encode()) > MAX_ID_BYTES:
        return FieldError(f"must be at most {MAX_ID_BYTES} bytes of UTF-8", "id", index)
    if len(envelope.key) * 4 > MAX_KEY_BYTES and len(envelope.key.encode()) > MAX_KEY_BYTES:
        return FieldError(f"must be at most {MAX_KEY_BYTES} bytes of UTF-8", "key", index)
    return None


def decode_events(
    codec: StreamCodec, items: Sequence[bytes], whole: bytes | None = None
) -> tuple[list[tuple[int, NewEvent]], list[FieldError]]:
    """Decode each item into an event, or into errors naming its index and field.

    ``whole``, when given, is the JSON array the items came from: if it decodes in one pass
    (every event valid, the common case) the per-item decodes are skipped.
    """
    if whole is not None:
        try:
            envelopes = decode_json(codec.many.decode, whole)
        except msgspec.MsgspecError:
            pass
        else:
            if all(_byte_limits(env, i) is None for i, env in enumerate(envelopes)):
                return [(i, _to_event(env)) for i, env in enumerate(envelopes)], []
    events: list[tuple[int, NewEvent]] = []
    errors: list[FieldError] = []
    decode = codec.one.decode
    for index, item in enumerate(items):
        try:
            envelope = decode_json(decode, item)
        except msgspec.MsgspecError as exc:
            field, message = describe_validation_error(exc)
            errors.append(FieldError(message, field, index))
            continue
        problem = _byte_limits(envelope, index)
        if problem is not None:
            errors.append(problem)
        else:
            events.append((index, _to_event(envelope)))
    return events, errors


def authorize_ingest(gateway: Gateway, principal: Principal, stream: str) -> None:
    """Raise unless ``principal`` may append to ``stream`` through the generic ingest.

    An anonymous caller is answered 401 first; any key is then refused a stream with a writer
    (whatever its scopes, so the answer names the way in), then a stream its scopes do not grant.

    Raises:
        ProblemError: 401 anonymous, 403 ``derived-stream`` or ``forbidden``.
        UnknownStreamError: the stream is not registered (answered 404).
    """
    if principal.anonymous:
        gateway.access.require(principal, "write", stream)
    refuse_written(gateway.log.registry, stream)
    gateway.access.require(principal, "write", stream)


def refuse_written(registry: Registry, stream: str) -> None:
    """Raise the ``derived-stream`` problem if ``stream`` has a writer.

    Raises:
        ProblemError: 403 naming the writer and where a producer should send instead.
        UnknownStreamError: the stream is not registered (answered 404).
    """
    writer = registry.spec(stream).writer
    if writer is None:
        return
    if writer.kind == "processor":
        sources = ", ".join(_source(registry, name) for name in writer.inputs)
        instead = f"send what it is derived from instead: {sources}" if sources else ""
    else:
        instead = "use " + " or ".join(writer.routes) + " instead"
    raise ProblemError.of(
        ProblemKind.DERIVED_STREAM,
        f"stream {stream!r} is written by {writer.describe()} only, and refuses every key's "
        f"writes through the generic ingest; {instead}",
    )


def _source(registry: Registry, stream: str) -> str:
    writer: Writer | None = registry.spec(stream).writer if stream in registry else None
    if writer is None:
        return f"{stream} (POST /v1/streams/{stream}/events)"
    if writer.kind == "processor":
        return f"{stream} (itself derived)"
    return f"{stream} ({' or '.join(writer.routes)})"


async def ingest(
    gateway: Gateway,
    principal: Principal,
    stream: str,
    items: Sequence[bytes],
    *,
    atomic: bool = False,
    whole: bytes | None = None,
) -> IngestReply:
    """Authorize, limit, validate and append a batch; return the outcome of each event.

    Raises:
        ProblemError: 401/403 without write access, 403 for a stream with a writer, 413 for
            too many events, 429 over the rate, 422 when nothing could be written.
        UnknownStreamError: the stream is not registered (answered 404).
    """
    authorize_ingest(gateway, principal, stream)
    codec = codec_for(gateway.log.registry, stream)
    limit = gateway.config.max_batch_events
    if len(items) > limit:
        gateway.metrics.rejected.inc(("batch",))
        raise ProblemError.of(
            ProblemKind.BATCH_TOO_LARGE,
            f"the batch holds {len(items)} events; the limit is {limit}",
        )
    gateway.charge(principal, max(1, len(items)))
    events, errors = decode_events(codec, items, whole)
    counter = gateway.metrics.ingested
    if errors:
        counter.inc((stream, "rejected"), len(errors))
    if errors and (atomic or not events):
        detail = f"{len(errors)} of {len(items)} events are invalid; " + (
            "the batch is atomic, so nothing was written" if atomic else "nothing was written"
        )
        raise ProblemError.of(ProblemKind.INVALID_EVENTS, detail, errors)
    placed = await gateway.log.append(stream, [event for _, event in events]) if events else []
    results = [
        Placement(index, event.id or "", where.partition, where.offset, where.duplicate)
        for (index, event), where in zip(events, placed, strict=True)
    ]
    duplicates = sum(1 for where in placed if where.duplicate)
    if duplicates:
        counter.inc((stream, "duplicate"), duplicates)
    if len(placed) > duplicates:
        counter.inc((stream, "accepted"), len(placed) - duplicates)
    return IngestReply(len(placed) - duplicates, duplicates, len(errors), results, errors)


def media_type(request: Request[Any, Any, Any]) -> str:
    """The request's ``Content-Type`` without parameters, lower-cased (empty when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def request_body_schema(registry: Registry) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI request body schema of ingest, and its components, from the msgspec schemas.

    The body is one envelope or an array of envelopes of any stream without a writer (the path
    names which one); each stream's envelope has its tagged payload union under ``data``. The
    components describe every stream's payloads but the gateway's own (``admin.keys``): what a
    subscriber receives, and what services' routes take, is documented too. A stream of one
    payload type decodes its payload without the ``type`` tag, so there the envelope carries a
    copy of the payload's schema in which the tag is optional.
    """
    specs = [spec for spec in registry if spec.writer is None or spec.writer.kind != "gateway"]
    envelopes = [codec_for(registry, spec.name).envelope for spec in specs]
    if not envelopes:
        return {"type": "object", "required": ["data"]}, {}
    refs, components = msgspec_components(
        envelopes, ref_template="#/components/schemas/events.{name}"
    )
    for spec in specs:
        [data_type, *others] = spec.types
        tag_field = msgspec.inspect.type_info(data_type).tag_field  # type: ignore[attr-defined]
        if others or tag_field is None:
            continue
        payload = copy.deepcopy(components[data_type.__name__])
        payload["required"] = [name for name in payload["required"] if name != tag_field]
        components[spec.name]["properties"]["data"] = payload
    open_refs = [ref for spec, ref in zip(specs, refs, strict=True) if spec.writer is None]
    if not open_refs:
        body: dict[str, Any] = {"type": "object", "required": ["data"]}
    else:
        one = {"oneOf": open_refs} if len(open_refs) > 1 else open_refs[0]
        body = {"oneOf": [one, {"type": "array", "items": one}]}
    return body, {f"events.{name}": schema for name, schema in components.items()}


def ingest_routes(
    registry: Registry, max_body_bytes: int
) -> tuple[list[HTTPRouteHandler | WebsocketRouteHandler], Components]:
    """The ingest route handlers, and the OpenAPI components their documentation refers to."""
    body_schema, components = request_body_schema(registry)

    @dataclass
    class IngestOperation(Operation):
        def __post_init__(self) -> None:
            content = {
                media: OpenAPIMediaType(schema=body_schema)  # type: ignore[arg-type]
                for media in ("application/json",)
            }
            content["application/x-ndjson"] = OpenAPIMediaType(
                schema={"type": "string", "description": "one envelope per line"}  # type: ignore[arg-type]
            )
            self.request_body = RequestBody(content=content, required=True)

    responses = problem_specs(
        (400, "Malformed body or parameter"),
        *AUTH_PROBLEMS,
        (403, "The key has no write scope for this stream, or the stream has a writer"),
        (404, "Unknown stream"),
        (413, "Body too large or too many events"),
        (415, "Unsupported content type"),
        (422, "No event could be written; errors name each event's index and field"),
        RATE_PROBLEM,
    )

    @post(
        "/v1/streams/{stream:str}/events",
        status_code=200,
        operation_class=IngestOperation,
        request_max_body_size=max_body_bytes,
        responses=responses,
        summary="Append events to a stream",
        tags=["ingest"],
        operation_id="appendEvents",
    )
    async def append_events(
        request: Request[Any, Any, Any],
        stream: FromPath[str],
        atomic: Annotated[
            bool, QueryParameter(description="Reject the whole batch if any event is invalid.")
        ] = False,
        key: Annotated[
            str | None,
            QueryParameter(description="API key, for clients that cannot set headers."),
        ] = None,
    ) -> IngestReply:
        """Append one event, a JSON array of events, or NDJSON; report each event's outcome."""
        gateway = gateway_of(request)
        principal = gateway.principal(request)
        media = media_type(request)
        ndjson = media in NDJSON_TYPES
        if not ndjson and media and media != "application/json" and not media.endswith("+json"):
            raise ProblemError.of(
                ProblemKind.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type {media!r} is not accepted; use application/json "
                "or application/x-ndjson",
            )
        authorize_ingest(gateway, principal, stream)
        body = await request.body()
        items = split_body(body, ndjson)
        whole = body if not ndjson and len(items) > 1 else None
        return await ingest(gateway, principal, stream, items, atomic=atomic, whole=whole)

    @websocket("/v1/ingest")
    async def ingest_socket(socket: WebSocket[Any, Any, Any]) -> None:
        """High-rate ingest: one JSON message per batch, acknowledged in order."""
        await IngestSession(socket).run()

    return [append_events, ingest_socket], Components(schemas=components)


class Publish(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A WebSocket ingest message: a batch for one stream."""

    stream: str
    events: msgspec.Raw
    ref: str | int | None = None
    atomic: bool = False
    op: str = "publish"


_publish = msgspec.json.Decoder(Publish)
_encode = msgspec.json.Encoder().encode


class IngestSession:
    """One WebSocket ingest connection: decode, append with a bounded window, ack in order."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self.socket = socket
        self.gateway = gateway_of(socket)

    async def run(self) -> None:
        gateway = self.gateway
        principal = await admit(self.socket, gateway)
        if principal is None:
            return
        window: asyncio.Queue[asyncio.Task[bytes] | None] = asyncio.Queue(
            gateway.config.ingest_window
        )
        await self.socket.accept()
        acker = asyncio.get_running_loop().create_task(self._ack(window))
        try:
            while True:
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message_bytes(message)
                task = asyncio.get_running_loop().create_task(self._handle(principal, raw))
                await window.put(task)
        finally:
            gateway.connections.release(principal.client)
            with contextlib.suppress(asyncio.QueueFull):
                window.put_nowait(None)
            if not acker.done():
                acker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await acker

    async def _ack(self, window: asyncio.Queue[asyncio.Task[bytes] | None]) -> None:
        while True:
            task = await window.get()
            if task is None:
                return
            reply = await task
            await self.socket.send_text(reply.decode())

    async def _handle(self, principal: Principal, raw: bytes) -> bytes:
        ref: str | int | None = None
        try:
            if len(raw) > self.gateway.config.max_body_bytes:
                raise ProblemError.of(
                    ProblemKind.BODY_TOO_LARGE,
                    f"the message is {len(raw)} bytes; the limit is "
                    f"{self.gateway.config.max_body_bytes}",
                )
            try:
                message = _publish.decode(raw)
            except msgspec.MsgspecError as exc:
                field, text = describe_validation_error(exc)
                raise ProblemError.of(
                    ProblemKind.MALFORMED_BODY, text, [FieldError(text, field)]
                ) from None
            ref = message.ref
            body = bytes(message.events)
            items = split_body(body, ndjson=False)
            whole = body if len(items) > 1 else None
            reply = await ingest(
                self.gateway, principal, message.stream, items, atomic=message.atomic, whole=whole
            )
            return _encode({"op": "ack", "ref": ref, **msgspec.structs.asdict(reply)})
        except Exception as exc:  # every failure becomes an error ack; bugs are logged
            problem, _ = problem_for_exception(exc)
            return _encode({"op": "error", "ref": ref, "problem": problem})
