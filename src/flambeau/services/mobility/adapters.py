"""The mobility adapters: GTFS-Realtime and Waze CIFS bodies in over HTTP.

- ``POST /v1/adapters/gtfs-rt`` (``application/x-protobuf``): one ``FeedMessage``; every
  alert (per informed entity), trip update and vehicle position goes to ``mobility.feed``.
  Needs ``write`` on ``mobility.feed``.
- ``POST /v1/adapters/cifs`` (``application/json``): a Waze CIFS document; every incident goes
  to ``mobility.incidents``. Needs ``write`` on ``mobility.incidents``.

A body is stored whole or not at all: a refused one gets a 400 problem whose
``errors[0].field`` names the place (``entity[2].alert.informed_entity``,
``incidents[0].incident.polyline``), and the raw body is kept on ``mobility.rejected`` (the
problem's detail gives its event id). Exact re-sends are acknowledged as duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from litestar import Request, post
from litestar.openapi.spec import Operation

from flambeau.events import NewEvent, new_event_id, utc_now
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Gateway,
    Principal,
    Problem,
    ProblemError,
    ProblemKind,
    body_operation,
    gateway_of,
    json_body_operation,
    problem_specs,
    standalone_schema,
)
from flambeau.log import Appended
from flambeau.services.mobility.errors import FeedError, MalformedProtobufError
from flambeau.services.mobility.feeds import CifsDocument, parse_cifs, parse_gtfs_rt
from flambeau.services.mobility.schemas import (
    CIFS_ROUTE,
    FEED,
    GTFS_ROUTE,
    INCIDENTS,
    REJECTED,
    RejectedBody,
)

__all__ = ["MAX_FEED_BYTES", "FeedAccepted", "post_cifs", "post_gtfs_rt", "refuse"]

MAX_FEED_BYTES = 4 * 1024 * 1024
"""Largest adapter body accepted (413 above)."""
_PROTOBUF = frozenset(
    {"application/x-protobuf", "application/protobuf", "application/octet-stream"}
)
_FEED_MESSAGE = {"type": "string", "format": "binary", "description": "a GTFS-Realtime FeedMessage"}
_JSON = frozenset({"application/json"})


class FeedAccepted(msgspec.Struct, frozen=True):
    """What an adapter stored: events appended, exact duplicates skipped, and their ids."""

    stream: str
    accepted: int
    duplicates: int
    ids: list[str]


def _media(request: Request[Any, Any, Any], accepted: frozenset[str]) -> str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in accepted:
        raise ProblemError.of(
            ProblemKind.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {media or '(none)'!r} is not accepted here; use "
            f"{' or '.join(sorted(accepted))}",
        )
    return media


async def refuse(
    gateway: Gateway, principal: Principal, adapter: str, body: bytes, media: str, error: FeedError
) -> ProblemError:
    """Keep ``body`` on ``mobility.rejected``; the 400 problem naming ``error.field``."""
    try:
        text, raw = body.decode("utf-8"), None
    except UnicodeDecodeError:
        text, raw = None, body
    letter = RejectedBody(
        adapter=adapter,
        error=type(error).__name__,
        field=error.field[:256],
        reason=error.reason[:4096],
        received_at=utc_now(),
        content_type=media[:256] or None,
        key_id=principal.key_id,
        text=text,
        raw=raw,
    )
    letter_id = new_event_id()
    await gateway.log.append(REJECTED, [NewEvent(letter, key=adapter, id=letter_id)])
    slug = (
        "malformed-protobuf" if isinstance(error, MalformedProtobufError) else f"invalid-{adapter}"
    )
    return ProblemError(
        Problem(
            type=f"urn:flambeau:problem:{slug}",
            title=f"The {adapter} body is refused",
            status=400,
            detail=f"{error}; nothing was stored; the body is kept as {REJECTED} event {letter_id}",
            errors=[FieldError(message=error.reason, field=error.field)],
        )
    )


async def _parse(
    request: Request[Any, Any, Any],
    stream: str,
    adapter: str,
    media_types: frozenset[str],
    parse: Callable[[bytes], list[NewEvent]],
) -> tuple[Gateway, list[NewEvent]]:
    """Authorize, check the media type and parse the body; a refusal is kept and raised."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", stream)
    media = _media(request, media_types)
    body = await request.body()
    try:
        return gateway, parse(body)
    except FeedError as error:
        gateway.metrics.ingested.inc((stream, "rejected"))
        raise await refuse(gateway, principal, adapter, body, media, error) from None


def _accepted(
    gateway: Gateway, stream: str, events: list[NewEvent], placed: Sequence[Appended]
) -> FeedAccepted:
    """Count what appending a parsed body's ``events`` to ``stream`` stored. (Each route makes
    its own ``log.append`` call, naming its stream: the gateway's writer test reads them.)"""
    duplicates = sum(1 for where in placed if where.duplicate)
    gateway.metrics.ingested.inc((stream, "accepted"), len(placed) - duplicates)
    return FeedAccepted(stream, len(placed) - duplicates, duplicates, [e.id or "" for e in events])


_RESPONSES = problem_specs(
    (400, "The body is refused; errors[0].field names where; nothing is stored"),
    *AUTH_PROBLEMS,
    (413, "The body is larger than the limit"),
    (415, "Wrong content type"),
    RATE_PROBLEM,
)


def _adapter(path: str, operation: type[Operation], summary: str) -> post:
    """The route decorator of an adapter: a body of at most :data:`MAX_FEED_BYTES` in, the
    :class:`FeedAccepted` reply or the problems of :data:`_RESPONSES` out."""
    return post(
        path,
        status_code=200,
        operation_class=operation,
        request_max_body_size=MAX_FEED_BYTES,
        summary=summary,
        tags=["mobility"],
        responses=_RESPONSES,
    )


@_adapter(
    GTFS_ROUTE,
    body_operation(_FEED_MESSAGE, sorted(_PROTOBUF)),
    "Post one GTFS-Realtime FeedMessage (protobuf)",
)
async def post_gtfs_rt(request: Request[Any, Any, Any]) -> FeedAccepted:
    """Parse a ``FeedMessage`` with gtfs-realtime-bindings; append its entities to the feed."""
    gateway, events = await _parse(request, FEED, "gtfs-rt", _PROTOBUF, parse_gtfs_rt)
    placed = await gateway.log.append(FEED, events) if events else []
    return _accepted(gateway, FEED, events, placed)


@_adapter(
    CIFS_ROUTE,
    json_body_operation(standalone_schema(CifsDocument)),
    "Post Waze CIFS road incidents and closures (JSON)",
)
async def post_cifs(request: Request[Any, Any, Any]) -> FeedAccepted:
    """Validate a CIFS document; append its incidents (keyed by incident id)."""
    gateway, events = await _parse(request, INCIDENTS, "cifs", _JSON, parse_cifs)
    placed = await gateway.log.append(INCIDENTS, events) if events else []
    return _accepted(gateway, INCIDENTS, events, placed)
