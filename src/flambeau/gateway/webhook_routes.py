"""Webhook routes: register, list, inspect and remove partner endpoints (see :mod:`.webhooks`).

``POST /v1/webhooks`` needs ``read`` on the stream: a webhook delivers what its key could
subscribe to, filtered by its tenant. The URL must pass :func:`check_target` (public
addresses only, unless ``webhook_allow_networks`` allows them). The answer carries the signing
secret, once. A key sees
and removes its own webhooks only (an admin key: all of them).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath

from flambeau.events import utc_now
from flambeau.gateway.auth import Principal
from flambeau.gateway.context import Gateway, gateway_of
from flambeau.gateway.errors import WebhookTargetRefusedError
from flambeau.gateway.openapi import json_body_operation, standalone_schema
from flambeau.gateway.problems import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    ProblemError,
    ProblemKind,
    problem_specs,
)
from flambeau.gateway.webhook_targets import check_target
from flambeau.gateway.webhooks import DEAD_STREAM, WebhookDeadLetter, WebhookRegistered, new_secret

__all__ = ["WebhookBody", "WebhookCreated", "WebhookStatus", "webhook_routes"]


class WebhookBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a partner posts: the stream, the endpoint, and where to start."""

    stream: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
    start: Literal["latest", "earliest"] = "latest"


class WebhookCreated(msgspec.Struct, frozen=True):
    """A registered webhook and its signing secret (shown once)."""

    id: str
    stream: str
    url: str
    secret: str
    positions: list[int]


class WebhookStatus(msgspec.Struct, frozen=True):
    """A webhook as listed: where it is, and what it delivered, retried and gave up on."""

    id: str
    tenant: str
    stream: str
    url: str
    created_at: datetime
    positions: list[int]
    delivered: int
    retries: int
    dead: int


async def _check_url(gateway: Gateway, url: str) -> None:
    try:
        await check_target(url, gateway.config.webhook_allow_networks)
    except WebhookTargetRefusedError as exc:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST, str(exc), [FieldError(exc.reason, "url")]
        ) from None


def _owned(gateway: Gateway, principal: Principal, webhook_id: str) -> WebhookRegistered:
    hook = gateway.webhooks.hooks.get(webhook_id)
    if hook is None or not (principal.admin or hook.key_id == principal.key_id):
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"no webhook {webhook_id!r} for this key")
    return hook


def _status(gateway: Gateway, hook: WebhookRegistered) -> WebhookStatus:
    running = gateway.webhooks.running.get(hook.webhook_id)
    counts = running.counts if running is not None else {}
    positions = running.positions if running is not None else hook.positions
    return WebhookStatus(
        hook.webhook_id, hook.tenant, hook.stream, hook.url, hook.created_at, list(positions),
        counts.get("delivered", 0), counts.get("retries", 0), counts.get("dead", 0),
    )  # fmt: skip


def _principal(request: Request[Any, Any, Any]) -> tuple[Gateway, Principal]:
    gateway = gateway_of(request)
    principal = gateway.principal(request)
    gateway.charge(principal)
    if principal.anonymous:
        raise ProblemError.of(ProblemKind.UNAUTHORIZED, "webhooks need an API key")
    if not gateway.webhooks.enabled:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND, "this gateway's log has no admin.webhooks stream: no webhooks"
        )
    return gateway, principal


def webhook_routes() -> list[Any]:
    """The webhook route handlers."""

    @post(
        "/v1/webhooks",
        status_code=201,
        operation_class=json_body_operation(standalone_schema(WebhookBody)),
        summary="Register a webhook: a stream delivered to an endpoint, signed",
        tags=["webhooks"],
        responses=problem_specs((400, "Bad URL or body"), *AUTH_PROBLEMS, RATE_PROBLEM),
    )
    async def create_webhook(request: Request[Any, Any, Any]) -> WebhookCreated:
        gateway, principal = _principal(request)
        try:
            body = msgspec.json.decode(await request.body(), type=WebhookBody)
        except msgspec.MsgspecError as exc:
            raise ProblemError.of(ProblemKind.BAD_REQUEST, str(exc)) from None
        gateway.access.require(principal, "read", body.stream)
        await _check_url(gateway, body.url)
        info = await gateway.log.info(body.stream)
        positions = [
            0 if body.start == "earliest" else info.end.get(p, 0) for p in range(info.partitions)
        ]
        hook = WebhookRegistered(
            webhook_id=f"wh_{secrets.token_hex(8)}", tenant=principal.tenant or "",
            key_id=principal.key_id or "", admin=principal.all_tenants, stream=body.stream,
            url=body.url, secret=new_secret(), positions=positions, created_at=utc_now(),
        )  # fmt: skip
        await gateway.webhooks.register(hook)
        return WebhookCreated(hook.webhook_id, hook.stream, hook.url, hook.secret, positions)

    @get("/v1/webhooks", summary="The key's webhooks", tags=["webhooks"],
         responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM))  # fmt: skip
    async def list_webhooks(request: Request[Any, Any, Any]) -> list[WebhookStatus]:
        gateway, principal = _principal(request)
        hooks = gateway.webhooks.hooks.values()
        return [
            _status(gateway, h) for h in hooks if principal.admin or h.key_id == principal.key_id
        ]

    @get(
        "/v1/webhooks/{webhook_id:str}/dead",
        summary="A webhook's dead letters",
        tags=["webhooks"],
        responses=problem_specs(*AUTH_PROBLEMS, (404, "No such webhook")),
    )
    async def dead_letters(
        request: Request[Any, Any, Any], webhook_id: FromPath[str]
    ) -> list[WebhookDeadLetter]:
        gateway, principal = _principal(request)
        _owned(gateway, principal, webhook_id)
        letters: list[WebhookDeadLetter] = []
        offset = 0
        while raws := await gateway.log.read(DEAD_STREAM, 0, offset, 1000):
            for raw in raws:
                letter = gateway.log.registry.decode(DEAD_STREAM, raw).data
                if letter.webhook_id == webhook_id:
                    letters.append(letter)
            offset = raws[-1].offset + 1
        return letters

    @delete(
        "/v1/webhooks/{webhook_id:str}",
        status_code=204,
        summary="Remove a webhook",
        tags=["webhooks"],
        responses=problem_specs(*AUTH_PROBLEMS, (404, "No such webhook")),
    )
    async def remove_webhook(request: Request[Any, Any, Any], webhook_id: FromPath[str]) -> None:
        gateway, principal = _principal(request)
        _owned(gateway, principal, webhook_id)
        await gateway.webhooks.remove(webhook_id)

    return [create_webhook, list_webhooks, dead_letters, remove_webhook]
