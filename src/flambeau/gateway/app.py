"""The gateway's ASGI app: :func:`create_app` wires ingest, subscriptions, keys and operations.

Services add their own routes by passing Litestar route handlers, controllers or routers as
``routers``; inside a handler, :func:`flambeau.gateway.context.gateway_of` gives the
:class:`~flambeau.gateway.context.Gateway` (log, access checks, limits), so a service route
authenticates the same way the core routes do::

    @get("/v1/betting/markets/{market:str}")
    async def market(request: Request, market: str) -> Market:
        gateway = gateway_of(request)
        gateway.authorize(request, "read", "betting.odds")
        ...

The gateway never imports a service; the assembly module passes them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, delete, get, post
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath, JSONBody
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from flambeau.events import Writer
from flambeau.gateway.auth import Access, install_redaction
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.context import Gateway, gateway_of
from flambeau.gateway.dashboard import dashboard_routes
from flambeau.gateway.fanout import Hub
from flambeau.gateway.health import LeaseHolders, Processing, ProcessingHealth
from flambeau.gateway.ingest import ingest_routes
from flambeau.gateway.keys import ADMIN_KEY_FILE, SCOPE_PATTERN, KeyRecord, KeyStore
from flambeau.gateway.limits import ConnectionLimiter, RateLimiter
from flambeau.gateway.metrics import MetricsSource, Registry, gauge_lines
from flambeau.gateway.openapi import AllowEveryMethod, StrictStructSchemaPlugin, complete_document
from flambeau.gateway.problems import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    exception_handlers,
    problem_specs,
    status_for_exception,
)
from flambeau.gateway.subscribe import subscribe_routes
from flambeau.gateway.webhook_routes import webhook_routes
from flambeau.gateway.webhooks import Webhooks
from flambeau.log.base import Log

__all__ = ["KeyInfo", "NewKey", "StreamSummary", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
VERSION = "0.1.0"


class StreamSummary(msgspec.Struct, frozen=True):
    """A stream as ``GET /v1/streams`` lists it (offsets keyed by partition number).

    ``writer`` is who writes it (a processor, a service's routes, or the gateway); ``null``
    when producers do, through ``POST /v1/streams/{name}/events``.
    """

    name: str
    partitions: int
    epoch: str
    start: dict[int, int]
    end: dict[int, int]
    public: bool
    description: str
    writer: Writer | None


class KeyInfo(msgspec.Struct, frozen=True):
    """An API key's record, without its hash."""

    key_id: str
    tenant: str
    scopes: list[str]
    created_at: datetime
    description: str
    revoked_at: datetime | None


class NewKeyRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What ``POST /v1/keys`` takes."""

    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    scopes: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=SCOPE_PATTERN)]],
        msgspec.Meta(min_length=1, max_length=64),
    ]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


class NewKey(msgspec.Struct, frozen=True):
    """A key just created: ``key`` is shown this once and never stored."""

    key: str
    info: KeyInfo


def _key_info(record: KeyRecord) -> KeyInfo:
    return KeyInfo(
        record.key_id,
        record.tenant,
        list(record.scopes),
        record.created_at,
        record.description,
        record.revoked_at,
    )


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    """``/healthz``: the gateway is alive and its log answers; how processing is doing."""

    status: str
    processing: Processing | None = None


@get(
    "/healthz",
    summary="Liveness and log health",
    tags=["operations"],
    responses=problem_specs((503, "The log is unavailable")),
)
async def healthz(request: Request[Any, Any, Any]) -> Health:
    """``status: ok`` while the log answers (503 problem otherwise), and ``processing``: each
    processor's lag, its stalled partitions and those no worker holds (see
    :mod:`flambeau.gateway.health`); ``processing.ok`` is false when any is stalled or unowned."""
    gateway = gateway_of(request)
    gateway.principal(request)
    await gateway.log.streams()
    if gateway.processing is None:
        return Health("ok")
    return Health("ok", await gateway.processing.current())


@get(
    "/metrics",
    media_type="text/plain; version=0.0.4",
    summary="Prometheus metrics",
    tags=["operations"],
    responses=problem_specs(*AUTH_PROBLEMS),
)
async def metrics(request: Request[Any, Any, Any]) -> str:
    """Request and ingest rates, subscribers, delivery latency, processor lag."""
    gateway = gateway_of(request)
    principal = gateway.principal(request)
    if not gateway.config.public_metrics:
        gateway.access.require_admin(principal)
    return await gateway.metrics.render()


@get(
    "/v1/streams",
    summary="List streams the caller may read",
    tags=["streams"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_streams(request: Request[Any, Any, Any]) -> list[StreamSummary]:
    """Registered streams readable by the caller, with partitions, epoch and offsets."""
    gateway = gateway_of(request)
    principal = gateway.principal(request)
    gateway.charge(principal)
    access = gateway.access
    out = []
    for spec in gateway.log.registry:
        if not (principal.grants("read", spec.name) or access.is_public(spec.name)):
            continue
        info = await gateway.log.info(spec.name)
        out.append(
            StreamSummary(
                spec.name,
                info.partitions,
                info.epoch,
                info.start,
                info.end,
                access.is_public(spec.name),
                spec.description,
                spec.writer,
            )
        )
    return out


@get(
    "/v1/streams/{stream:str}",
    summary="Describe one stream",
    tags=["streams"],
    responses=problem_specs(*AUTH_PROBLEMS, (404, "Unknown stream"), RATE_PROBLEM),
)
async def describe_stream(request: Request[Any, Any, Any], stream: FromPath[str]) -> StreamSummary:
    """Partitions, epoch, start and end offsets of ``stream``."""
    gateway = gateway_of(request)
    principal = gateway.principal(request)
    gateway.charge(principal)
    spec = gateway.log.registry.spec(stream)
    gateway.access.require(principal, "read", stream)
    info = await gateway.log.info(stream)
    return StreamSummary(
        stream,
        info.partitions,
        info.epoch,
        info.start,
        info.end,
        gateway.access.is_public(stream),
        spec.description,
        spec.writer,
    )


@get("/v1/keys", summary="List API keys", tags=["keys"], responses=problem_specs(*AUTH_PROBLEMS))
async def list_keys(request: Request[Any, Any, Any]) -> list[KeyInfo]:
    """Every key (admin only); hashes are never shown."""
    gateway = gateway_of(request)
    gateway.access.require_admin(gateway.principal(request))
    await gateway.keys.refresh()
    return [_key_info(record) for record in gateway.keys.records()]


@post(
    "/v1/keys",
    status_code=201,
    summary="Create an API key",
    tags=["keys"],
    responses=problem_specs((400, "Malformed scope or tenant"), *AUTH_PROBLEMS),
)
async def create_key(request: Request[Any, Any, Any], data: JSONBody[NewKeyRequest]) -> NewKey:
    """Create a key for a tenant with scopes (admin only); its text is returned once."""
    gateway = gateway_of(request)
    gateway.access.require_admin(gateway.principal(request))
    key, record = await gateway.keys.create(data.tenant, data.scopes, data.description)
    return NewKey(key, _key_info(record))


@delete(
    "/v1/keys/{key_id:str}",
    status_code=200,
    summary="Revoke an API key",
    tags=["keys"],
    responses=problem_specs(
        *AUTH_PROBLEMS, (404, "No such key"), (409, "The last active admin key (last-admin-key)")
    ),
)
async def revoke_key(request: Request[Any, Any, Any], key_id: FromPath[str]) -> KeyInfo:
    """Revoke a key (admin only); every gateway refuses it once it reads the revocation.

    The last active admin key is never revoked (409 ``last-admin-key``).
    """
    gateway = gateway_of(request)
    gateway.access.require_admin(gateway.principal(request))
    return _key_info(await gateway.keys.revoke(key_id))


class RequestMetrics(ASGIMiddleware):
    """Counts HTTP requests by method, route template and status."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, counting_send)
        except BaseException as exc:
            status = status_for_exception(exc)
            raise
        finally:
            route = scope.get("path_template") or "unmatched"
            self.registry.requests.inc((str(scope.get("method", "")), route, str(status)))


def create_app(
    log: Log,
    config: GatewayConfig | None = None,
    *,
    routers: Sequence[Any] = (),
    metrics_sources: Sequence[MetricsSource] = (),
    metrics_gauges: Sequence[Callable[[], list[str]]] = (),
    lease_holders: LeaseHolders | None = None,
) -> Litestar:
    """Build the gateway over an open ``log``.

    Args:
        log: An open log; the caller closes it after the app shuts down.
        config: Limits and options; defaults to :class:`GatewayConfig()`.
        routers: Extra Litestar route handlers, controllers or routers (services' routes).
        metrics_sources: Callables returning :class:`~flambeau.gateway.metrics.LagRow` rows
            (or awaitables of them), published as per-processor lag on ``/metrics``.
        metrics_gauges: Callables returning Prometheus exposition lines at scrape time
            (services' own gauges, such as stale documents or sources up).
        lease_holders: Who holds each partition of a processor, for ``/healthz`` (leasing
            workers on a ``nats://`` log); with ``metrics_sources``, ``/healthz`` reports
            processing health.

    Returns:
        The Litestar app. On startup it loads the key store, creates the admin key at first
        start (when ``config.data_dir`` is set: printed once, saved to
        ``<data_dir>/admin.key`` with mode 0600) and follows ``admin.keys``; on shutdown it
        closes subscriber connections with their positions.
    """
    config = config or GatewayConfig()
    install_redaction()
    gateway = _gateway(log, config, metrics_sources, lease_holders)
    gateway.metrics.gauges.extend(metrics_gauges)
    ingest_handlers, event_components = ingest_routes(log.registry, config.max_body_bytes)
    handlers: list[Any] = [
        healthz,
        metrics,
        list_streams,
        describe_stream,
        list_keys,
        create_key,
        revoke_key,
        *ingest_handlers,
        *subscribe_routes(),
        *dashboard_routes(),
        *webhook_routes(),
        create_static_files_router(
            path="/static", directories=[STATIC_DIR], include_in_schema=False
        ),
        *routers,
    ]
    app = Litestar(
        route_handlers=handlers,
        state=State({"gateway": gateway}),
        lifespan=[partial(_lifespan, gateway)],
        exception_handlers=exception_handlers(),
        middleware=[RequestMetrics(gateway.metrics), AllowEveryMethod()],
        plugins=[StrictStructSchemaPlugin()],
        request_max_body_size=config.max_body_bytes,
        openapi_config=_OPENAPI,
        debug=False,
    )
    # Litestar fills components.schemas from its own registry when it builds the document;
    # the ingest bodies refer to the streams' msgspec schemas, added once it is built.
    complete_document(app.openapi_schema, log.registry, event_components)
    return app


_OPENAPI = OpenAPIConfig(
    title="Flambeau gateway",
    version=VERSION,
    description=(
        "Authenticated ingest and lossless live subscriptions. Errors are RFC 9457 "
        "problem+json. WebSocket endpoints (/v1/ws, /v1/ingest) are described in "
        "docs/gateway.md."
    ),
    path="/schema",
    render_plugins=[SwaggerRenderPlugin(path="/")],
)


def _gateway(
    log: Log,
    config: GatewayConfig,
    metrics_sources: Sequence[MetricsSource],
    lease_holders: LeaseHolders | None,
) -> Gateway:
    """The gateway's parts over ``log``: keys, access, the subscription hub, the limiters,
    metrics, processing health and webhooks."""
    keys = KeyStore(log)
    registry = Registry(metrics_sources)
    hub = Hub(
        log,
        read_batch=config.read_batch,
        recent_records=config.recent_records,
        recent_bytes=config.recent_bytes,
    )
    gateway = Gateway(
        log=log,
        config=config,
        keys=keys,
        access=Access(keys, log.registry, config.public_streams),
        hub=hub,
        rates=RateLimiter(config.rate_per_key, config.rate_burst),
        connections=ConnectionLimiter(config.max_connections_per_key),
        metrics=registry,
        processing=ProcessingHealth(metrics_sources, lease_holders) if metrics_sources else None,
        webhooks=Webhooks(log, config),
    )
    registry.gauges.append(lambda: _live_gauges(gateway))
    return gateway


@asynccontextmanager
async def _lifespan(gateway: Gateway, _: Litestar) -> AsyncIterator[None]:
    """Load the keys (creating the first admin key), follow ``admin.keys`` and run webhooks;
    on the way out, close subscribers with their positions."""
    keys, config = gateway.keys, gateway.config
    await keys.refresh()
    if config.data_dir is not None:
        created = await keys.ensure_admin_key(config.data_dir)
        if created is not None:
            _announce_admin_key(created, config.data_dir / ADMIN_KEY_FILE)
    follower = asyncio.get_running_loop().create_task(
        keys.follow(config.key_cache_s), name="follow admin.keys"
    )
    await gateway.webhooks.start()
    try:
        yield
    finally:
        await gateway.webhooks.aclose()
        await gateway.drain()
        if gateway.processing is not None:
            await gateway.processing.aclose()
        await gateway.hub.aclose()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await follower


def _live_gauges(gateway: Gateway) -> list[str]:
    subscribers = sorted(
        ((stream, transport), float(count))
        for (stream, transport), count in gateway.hub.counts.items()
    )
    return [
        *gauge_lines(
            "flambeau_subscribers",
            "Live subscriptions, by stream and transport.",
            ("stream", "transport"),
            subscribers,
        ),
        *gauge_lines(
            "flambeau_connections",
            "Open WebSocket and SSE connections.",
            (),
            [((), float(gateway.connections.total()))],
        ),
        *gauge_lines(
            "flambeau_partition_readers",
            "Shared partition readers running.",
            (),
            [((), float(len(gateway.hub.readers)))],
        ),
    ]


def _announce_admin_key(key: str, path: Path) -> None:
    # printed, never logged: log files outlive terminals
    sys.stdout.write(
        f"\nFlambeau admin API key (shown once; saved with mode 0600 to {path}):\n\n    {key}\n\n"
    )
    sys.stdout.flush()
