"""The results adapters: how documents come in over HTTP.

Each route needs ``write`` on the stream it appends to.

- ``POST /v1/adapters/odf``: one ODF XML message (``Content-Type: application/xml``), at
  most :data:`MAX_ODF_BYTES`. It is parsed with the hardened parser (no DTD, so no entity
  expansion and no external entity) and appended raw to ``results.odf``; an exact re-send is
  acknowledged as a duplicate. A document the parser refuses gets a 400 problem whose
  ``errors[0].field`` names the element and attribute (``OdfBody@Version``), and the body is
  kept on ``results.rejected`` (the problem's detail gives the event id).
- ``POST /v1/results/documents``: native JSON documents (one, or an array) for producers that
  do not speak ODF: :class:`~.schemas.UnitResult`, :class:`~.schemas.ScheduleDocument`,
  :class:`~.schemas.Medallists`, :class:`~.schemas.KeepAlive`. Each is keyed as its ODF form
  and appended to ``results.native``, which the same processors read: the same version
  checks, the same test-feed separation. Answered like the gateway's ingest (placements and
  per-document errors; 422 when none is valid); refused bodies go to ``results.rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from flambeau.events import NewEvent, new_event_id, utc_now
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Gateway,
    IngestReply,
    Placement,
    Principal,
    Problem,
    ProblemError,
    ProblemKind,
    decode_json,
    describe_validation_error,
    gateway_of,
    media_type,
    problem_specs,
    split_body,
)
from flambeau.services.results.documents import NativeBody, native_event, odf_event
from flambeau.services.results.errors import (
    DocumentTooLargeError,
    MalformedXmlError,
    OdfError,
    UnsafeXmlError,
)
from flambeau.services.results.odf import parse
from flambeau.services.results.schemas import (
    NATIVE,
    NATIVE_ROUTE,
    ODF,
    ODF_ROUTE,
    REJECTED,
    Feed,
    RejectedDocument,
)

__all__ = [
    "MAX_NATIVE_BYTES",
    "MAX_ODF_BYTES",
    "OdfAccepted",
    "post_documents",
    "post_odf",
]

MAX_ODF_BYTES = 8 * 1024 * 1024
"""Largest ODF message accepted (413 above). Real messages reach tens of MB only for
participant lists, which this service keeps raw but does not need; on ``nats://`` the server's
``max_payload`` must also allow it (1 MB by default)."""
MAX_NATIVE_BYTES = 4 * 1024 * 1024
"""Largest native JSON body accepted."""

_XML_TYPES = frozenset({"application/xml", "text/xml"})
_JSON_TYPES = frozenset({"application/json"})
_native = msgspec.json.Decoder(NativeBody)


class OdfAccepted(msgspec.Struct, frozen=True):
    """Where an accepted ODF message was stored.

    Attributes:
        id: The ``results.odf`` event id (a digest of the message).
        partition: Its partition.
        offset: Its offset.
        duplicate: The very same message was already stored; this one was not stored again.
        document: The document key (competition, code, type, sub-codes): one version sequence.
        document_type: The ODF ``DocumentType``.
        version: The ODF ``Version``.
        feed: ``production`` or ``test``.
    """

    id: str
    partition: int
    offset: int
    duplicate: bool
    document: str
    document_type: str
    version: int
    feed: Feed


@dataclass
class _OdfOperation(Operation):
    """Documents the ODF route's body, which the handler reads raw.

    (A dataclass again, so that Litestar's generated ``__init__`` calls ``__post_init__``.)
    """

    def __post_init__(self) -> None:
        schema = Schema(type=OpenAPIType.STRING, description="one ODF XML message (UTF-8)")
        self.request_body = RequestBody(
            content={media: OpenAPIMediaType(schema=schema) for media in sorted(_XML_TYPES)},
            required=True,
        )


_NATIVE_SCHEMA, _NATIVE_COMPONENTS = msgspec.json.schema_components(
    # the gateway publishes every stream's payload types under these names (results.native too)
    [NativeBody],
    ref_template="#/components/schemas/events.{name}",
)


@dataclass
class _NativeOperation(Operation):
    """Documents the native route's body: one native document or an array of them."""

    def __post_init__(self) -> None:
        one = _NATIVE_SCHEMA[0]
        schema: dict[str, Any] = {"oneOf": [one, {"type": "array", "items": one}]}
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=schema)},  # type: ignore[arg-type]
            required=True,
        )


def _require_media(request: Request[Any, Any, Any], accepted: frozenset[str], suffix: str) -> str:
    media = media_type(request)
    if media and media not in accepted and not media.endswith(suffix):
        raise ProblemError.of(
            ProblemKind.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {media!r} is not accepted here; use {' or '.join(sorted(accepted))}",
        )
    return media


async def _dead_letter(
    gateway: Gateway,
    principal: Principal,
    *,
    adapter: str,
    body: bytes,
    media: str,
    error: str,
    location: str,
    reason: str,
) -> str:
    """Keep a refused body on ``results.rejected``; return the event id."""
    try:
        text, raw = body.decode("utf-8"), None
    except UnicodeDecodeError:
        text, raw = None, body
    letter = RejectedDocument(
        adapter=adapter,
        error=error,
        location=location[:256],
        reason=reason[:4096],
        received_at=utc_now(),
        content_type=media[:256] or None,
        key_id=principal.key_id,
        text=text,
        raw=raw,
    )
    letter_id = new_event_id()
    await gateway.log.append(REJECTED, [NewEvent(letter, key=adapter, id=letter_id)])
    return letter_id


def _odf_problem(error: OdfError, letter_id: str) -> ProblemError:
    if isinstance(error, UnsafeXmlError):
        slug, title = "unsafe-xml", "The XML declares a DTD or entities, which are refused"
    elif isinstance(error, MalformedXmlError):
        slug, title = "malformed-xml", "The body is not a well-formed ODF XML document"
    else:
        slug, title = "invalid-odf", "The ODF document is invalid"
    message = error.reason
    if isinstance(error, MalformedXmlError) and error.line is not None:
        message = f"{message} (line {error.line}, column {error.column})"
    problem = Problem(
        type=f"urn:flambeau:problem:{slug}",
        title=title,
        status=400,
        detail=f"{error}; the body is kept as {REJECTED} event {letter_id}",
        errors=[FieldError(message=message, field=error.location)],
    )
    return ProblemError(problem)


def _adapter_post(
    path: str,
    *,
    max_bytes: int,
    operation: type[Operation],
    summary: str,
    problems: tuple[tuple[int, str], ...],
) -> HTTPRouteHandler:
    """The ``POST`` decorator of an adapter route: a 200 reply, tagged ``results``.

    ``problems`` are the route's own problem replies (400, 413, 415...); the authorization
    problems follow the first of them and the rate limit's comes last, as on every route.
    """
    first, *rest = problems
    return post(
        path,
        status_code=200,
        request_max_body_size=max_bytes,
        operation_class=operation,
        summary=summary,
        tags=["results"],
        responses=problem_specs(first, *AUTH_PROBLEMS, *rest, RATE_PROBLEM),
    )


async def _admit(
    request: Request[Any, Any, Any], stream: str, accepted: frozenset[str], suffix: str
) -> tuple[Gateway, Principal, str, bytes]:
    """Authorize a write to ``stream`` and check the media type; the body and who sent it."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", stream)
    media = _require_media(request, accepted, suffix)
    return gateway, principal, media, await request.body()


@_adapter_post(
    ODF_ROUTE,
    max_bytes=MAX_ODF_BYTES,
    operation=_OdfOperation,
    summary="Post one ODF XML message",
    problems=(
        (400, "The XML or the ODF document is refused; errors[0].field names where"),
        (413, "The message is larger than the limit"),
        (415, "Not an XML content type"),
    ),
)
async def post_odf(request: Request[Any, Any, Any]) -> OdfAccepted:
    """Parse one ODF message safely and append it raw to ``results.odf``."""
    gateway, principal, media, body = await _admit(request, ODF, _XML_TYPES, "+xml")
    counter = gateway.metrics.ingested
    try:
        parsed = parse(body, max_bytes=MAX_ODF_BYTES)
    except DocumentTooLargeError as error:
        raise ProblemError.of(ProblemKind.BODY_TOO_LARGE, str(error)) from None
    except OdfError as error:
        counter.inc((ODF, "rejected"))
        letter_id = await _dead_letter(
            gateway,
            principal,
            adapter="odf",
            body=body,
            media=media,
            error=type(error).__name__,
            location=error.location,
            reason=str(error),
        )
        raise _odf_problem(error, letter_id) from None
    event = odf_event(parsed)
    [placed] = await gateway.log.append(ODF, [event])
    counter.inc((ODF, "duplicate" if placed.duplicate else "accepted"))
    header = parsed.header
    return OdfAccepted(
        id=event.id or "",
        partition=placed.partition,
        offset=placed.offset,
        duplicate=placed.duplicate,
        document=header.key,
        document_type=header.document_type.value,
        version=header.version,
        feed=header.feed,
    )


@_adapter_post(
    NATIVE_ROUTE,
    max_bytes=MAX_NATIVE_BYTES,
    operation=_NativeOperation,
    summary="Post native JSON results documents",
    problems=(
        (400, "The body is not a JSON object or array"),
        (413, "Body too large or too many documents"),
        (415, "Not a JSON content type"),
        (422, "No document is valid; errors name each one's index and field"),
    ),
)
async def post_documents(request: Request[Any, Any, Any]) -> IngestReply:
    """Append native documents to ``results.native``, keyed as their ODF forms."""
    gateway, principal, media, body = await _admit(request, NATIVE, _JSON_TYPES, "+json")
    items = split_body(body, ndjson=False)
    limit = gateway.config.max_batch_events
    if len(items) > limit:
        gateway.metrics.rejected.inc(("batch",))
        raise ProblemError.of(
            ProblemKind.BATCH_TOO_LARGE,
            f"the body holds {len(items)} documents; the limit is {limit}",
        )
    if len(items) > 1:
        gateway.charge(principal, len(items) - 1)  # authorize() took the first token
    events: list[tuple[int, NewEvent]] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        try:
            events.append((index, native_event(decode_json(_native.decode, item))))
        except msgspec.MsgspecError as exc:
            field, message = describe_validation_error(exc)
            errors.append(FieldError(message, field, index))
        except OverflowError:  # its id digests the document as MessagePack
            errors.append(FieldError("an integer is outside -2**63 .. 2**64 - 1", "", index))
    counter = gateway.metrics.ingested
    if errors:
        counter.inc((NATIVE, "rejected"), len(errors))
        first = errors[0]
        await _dead_letter(
            gateway,
            principal,
            adapter="native",
            body=body,
            media=media,
            error="ValidationError",
            location=f"[{first.index}].{first.field}",
            reason=first.message,
        )
    if errors and not events:
        detail = f"{len(errors)} of {len(items)} documents are invalid; nothing was written"
        raise ProblemError.of(ProblemKind.INVALID_EVENTS, detail, errors)
    placed = await gateway.log.append(NATIVE, [event for _, event in events])
    duplicates = sum(1 for where in placed if where.duplicate)
    if duplicates:
        counter.inc((NATIVE, "duplicate"), duplicates)
    if len(placed) > duplicates:
        counter.inc((NATIVE, "accepted"), len(placed) - duplicates)
    results = [
        Placement(index, event.id or "", where.partition, where.offset, where.duplicate)
        for (index, event), where in zip(events, placed, strict=True)
    ]
    return IngestReply(len(placed) - duplicates, duplicates, len(errors), results, errors)
