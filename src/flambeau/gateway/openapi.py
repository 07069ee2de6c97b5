"""An exact OpenAPI document: what it allows the gateway accepts, what it refuses it lists.

Litestar builds the document from the route handlers; three things it cannot know are added here.

- Structs that refuse unknown fields (``forbid_unknown_fields=True``) say so with
  ``additionalProperties: false`` (:class:`StrictStructSchemaPlugin`).
- Generic ingest and subscriptions are documented once per stream (:func:`per_stream_paths`):
  each stream's ``POST`` takes that stream's envelopes only, which one templated path whose
  body is any stream's envelope could not say.
- Every operation lists the problems the gateway itself answers before or around the
  handler (:func:`document_gateway_problems`): 400 for a parameter or body Litestar refuses,
  401 for a key that is unknown or revoked.

And ``OPTIONS`` answers list every method of the resource (:class:`AllowEveryMethod`): Litestar 2
lists only the methods registered before the first handler of a path.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import OpenAPIResponse as Response
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from flambeau.events import Registry
from flambeau.gateway.problems import PROBLEM_JSON

__all__ = [
    "EVENTS_PATH",
    "AllowEveryMethod",
    "StrictStructSchemaPlugin",
    "complete_document",
    "decode_json",
    "document_gateway_problems",
    "json_body_operation",
    "msgspec_components",
    "per_stream_paths",
    "standalone_schema",
]

EVENTS_PATH = "/v1/streams/{stream}/events"
"""The templated path of generic ingest (POST) and Server-Sent Events (GET)."""
T = TypeVar("T")
_PROBLEM = Reference(ref="#/components/schemas/Problem")
_GATEWAY_PROBLEMS = {
    "400": "A parameter or the body is malformed; errors name the field",
    "401": "The API key given is unknown or revoked",
}
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's msgspec ``Struct`` schemas, plus ``additionalProperties: false`` when strict."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if not isinstance(info, msgspec.inspect.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:  # Litestar drops the constraints of a list's items
            prop = (schema.properties or {}).get(field.encode_name)
            item = getattr(field.type, "item_type", None)
            if (
                isinstance(prop, Schema)
                and isinstance(prop.items, Schema)
                and isinstance(item, msgspec.inspect.StrType)
                and item.pattern
            ):
                prop.items.pattern = item.pattern
        return schema


class AllowEveryMethod(ASGIMiddleware):
    """Make the ``Allow`` header of an ``OPTIONS`` answer list every method of its path.

    Litestar 2 builds a path's default ``OPTIONS`` handler when the path's first handler is
    registered, so handlers added later for the same path (``POST /v1/keys`` after
    ``GET /v1/keys``) are missing from it. The routes the app ends up with know them all.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[str, bytes] | None = None

    def _methods(self, app: Any) -> dict[str, bytes]:
        if self._allow is None:
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods)).encode()
                for route in app.routes
                if isinstance(route, HTTPRoute)
            }
        return self._allow

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "OPTIONS":
            await next_app(scope, receive, send)
            return
        allow = self._methods(scope["app"]).get(scope.get("path_template", ""))

        async def send_allow(message: Message) -> None:
            if allow is not None and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await next_app(scope, receive, send_allow)


def msgspec_components(
    types: Sequence[Any], ref_template: str
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """``msgspec.json.schema_components``, made exact where msgspec's schema is loose.

    msgspec documents a ``datetime`` field as any string, but decodes only RFC 3339 ones:
    such fields get ``format: date-time``.
    """
    roots, components = msgspec.json.schema_components(types, ref_template=ref_template)
    structs: dict[str, msgspec.inspect.StructType] = {}
    for info in msgspec.inspect.multi_type_info(list(types)):
        _collect_structs(info, structs)
    for name, struct in structs.items():
        properties = components.get(name, {}).get("properties", {})
        for field in struct.fields:
            if field.encode_name in properties:
                _datetime_format(properties[field.encode_name], field.type)
    for node in [*roots, *components.values()]:
        _bound_scalars(node)
    return roots, components


BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard padded base64, the only form msgspec decodes into ``bytes``."""
DECIMAL = (
    r"^\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[Ii]nf(?:inity)?|NaN)\s*$"
)
"""The decimal strings msgspec decodes (as Python's ``Decimal`` reads them)."""
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
"""The integers the log's MessagePack can hold; the gateway refuses others with 422."""


def _bound_scalars(node: Any) -> None:
    """Integers within :data:`INT_MIN`..:data:`INT_MAX`; base64 strings with their pattern."""
    if isinstance(node, list):
        for item in node:
            _bound_scalars(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        node.setdefault("minimum", INT_MIN)
        node.setdefault("maximum", INT_MAX)
    if node.get("contentEncoding") == "base64":
        node.setdefault("pattern", BASE64)
    if node.get("format") == "decimal":  # msgspec takes a decimal string or a JSON number
        described = {k: v for k, v in node.items() if k in ("description", "title")}
        node.clear()
        node.update(described)
        node["anyOf"] = [{"type": "string", "pattern": DECIMAL}, {"type": "number"}]
        return
    for value in node.values():
        _bound_scalars(value)


def decode_json(decode: Callable[[bytes], T], data: bytes) -> T:
    """``decode(data)``, taking a float with no fraction (``2.0``) for an integer field.

    JSON Schema counts ``2.0`` as an integer, so a client generated from the document may send
    it; msgspec refuses a float for an ``int``. Only a body that failed on such a float is
    decoded a second time, with its integral floats turned into integers.
    """
    try:
        return decode(data)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise
    return decode(msgspec.json.encode(_integral(msgspec.json.decode(data))))


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def standalone_schema(*types: Any) -> dict[str, Any]:
    """The JSON schema of a body that is any one of ``types``, definitions inlined.

    It stands alone, outside the app's components (so a service's body types do not clash by
    name with the streams' payload types).
    """
    roots, components = msgspec_components(types, ref_template="#/defs/{name}")

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/defs/"):
                return inline(components[ref.removeprefix("#/defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    inlined = [inline(root) for root in roots]
    return inlined[0] if len(inlined) == 1 else {"anyOf": inlined}


def body_operation(schema: dict[str, Any], media_types: Sequence[str]) -> type[Operation]:
    """An operation class documenting a required request body of ``schema`` in each of
    ``media_types``.

    For handlers that read their body raw (to answer every bad field precisely, or to parse a
    binary format) and so give Litestar no body type to document.
    """

    @dataclass  # Litestar's generated __init__ then calls __post_init__
    class BodyOperation(Operation):
        def __post_init__(self) -> None:
            media = OpenAPIMediaType(schema=schema)  # type: ignore[arg-type]
            self.request_body = RequestBody(
                content=dict.fromkeys(media_types, media), required=True
            )

    return BodyOperation


def json_body_operation(schema: dict[str, Any]) -> type[Operation]:
    """:func:`body_operation` for a JSON body."""
    return body_operation(schema, ("application/json",))


def _collect_structs(info: Any, found: dict[str, msgspec.inspect.StructType]) -> None:
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls.__name__ in found:
            return
        found[info.cls.__name__] = info
        for field in info.fields:
            _collect_structs(field.type, found)
        return
    for inner in _inner_types(info):
        _collect_structs(inner, found)


def _inner_types(info: Any) -> list[Any]:
    if isinstance(info, msgspec.inspect.Metadata):
        return [info.type]
    if isinstance(info, msgspec.inspect.UnionType):
        return list(info.types)
    if isinstance(info, msgspec.inspect.DictType):
        return [info.key_type, info.value_type]
    if isinstance(info, msgspec.inspect.TupleType):
        return list(info.item_types)
    item = getattr(info, "item_type", None)  # list, set, frozenset, tuple[T, ...]
    return [item] if item is not None else []


def _datetime_format(node: Any, info: Any) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(info, msgspec.inspect.Metadata):
        _datetime_format(node, info.type)
    elif isinstance(info, msgspec.inspect.DateTimeType):
        if node.get("type") == "string":
            node.setdefault("format", "date-time")
    elif isinstance(info, msgspec.inspect.UnionType):
        strings = [n for n in node.get("anyOf", ()) if n.get("type") == "string"]
        dates = [t for t in info.types if isinstance(t, msgspec.inspect.DateTimeType)]
        if len(strings) == 1 and len(dates) == 1:
            _datetime_format(strings[0], dates[0])
    elif isinstance(info, msgspec.inspect.DictType):
        _datetime_format(node.get("additionalProperties"), info.value_type)
    elif (item := getattr(info, "item_type", None)) is not None:
        _datetime_format(node.get("items"), item)


def per_stream_paths(document: OpenAPI, registry: Registry, hidden: frozenset[str]) -> None:
    """Replace the templated events path with one path per stream, each with its own body.

    ``GET`` (Server-Sent Events) and ``POST`` (ingest) of ``/v1/streams/{stream}/events`` become
    ``/v1/streams/<name>/events`` for every stream not in ``hidden``; the ``POST`` body refers
    to ``events.<name>``, the envelope of that stream's payload types.
    """
    paths = document.paths or {}
    templated = paths.pop(EVENTS_PATH, None)
    if templated is None:
        return
    for spec in registry:
        if spec.name in hidden:
            continue
        item = PathItem()
        if templated.get is not None:
            item.get = _for_stream(templated.get, spec.name)
        if templated.post is not None:
            item.post = _for_stream(templated.post, spec.name)
            item.post.request_body = _stream_body(templated.post.request_body, spec.name)
        paths[f"/v1/streams/{spec.name}/events"] = item
    document.paths = paths


def _for_stream(operation: Operation, stream: str) -> Operation:
    copied = copy.deepcopy(operation)
    copied.parameters = [
        p for p in operation.parameters or () if getattr(p, "name", None) != "stream"
    ] or None
    copied.operation_id = f"{operation.operation_id}:{stream}"
    copied.summary = f"{operation.summary} ({stream})"
    responses = copied.responses or {}
    responses.pop("404", None)  # the stream exists: it is in the path
    return copied


def _stream_body(body: RequestBody | Reference | None, stream: str) -> RequestBody:
    one = Reference(ref=f"#/components/schemas/events.{stream}")
    json_body = Schema(one_of=[one, Schema(type="array", items=one)])  # type: ignore[arg-type]
    content = {"application/json": OpenAPIMediaType(schema=json_body)}
    if isinstance(body, RequestBody):
        content = {**body.content, **content}
    return RequestBody(content=content, required=True)


def document_gateway_problems(document: OpenAPI) -> None:
    """Add the 400 and 401 problems the gateway answers for every operation that can get them.

    Every route authenticates its caller (:meth:`~flambeau.gateway.context.Gateway.principal`),
    so a key that is presented but unknown or revoked gets 401 anywhere. Litestar refuses a
    malformed parameter or body before the handler runs, with a 400 problem.
    """
    for item in (document.paths or {}).values():
        for method in _HTTP_METHODS:
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            responses = operation.responses = operation.responses or {}
            statuses = ["401"]
            if operation.parameters or operation.request_body is not None:
                statuses.insert(0, "400")
            for status in statuses:
                known = responses.get(status)
                # Litestar documents its own 400 as application/json; the gateway answers
                # every error as a problem
                if not isinstance(known, Response) or PROBLEM_JSON not in (known.content or {}):
                    responses[status] = Response(
                        description=_GATEWAY_PROBLEMS[status],
                        content={PROBLEM_JSON: OpenAPIMediaType(schema=_PROBLEM)},
                    )


def complete_document(document: OpenAPI, registry: Registry, components: Any) -> None:
    """Everything this module adds, on the document Litestar built (before it is served)."""
    document.components.schemas = {
        **(document.components.schemas or {}),
        **(components.schemas or {}),
    }
    gateways_own = {s.name for s in registry if s.writer is not None and s.writer.kind == "gateway"}
    per_stream_paths(document, registry, frozenset({"admin.keys", *gateways_own}))
    document_gateway_problems(document)
