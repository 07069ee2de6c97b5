"""The state one gateway shares between its routes: log, keys, limits, fan-out, metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from litestar.connection import ASGIConnection

from flambeau.gateway.auth import Access, Principal
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.fanout import Hub
from flambeau.gateway.health import ProcessingHealth
from flambeau.gateway.keys import KeyStore
from flambeau.gateway.limits import ConnectionLimiter, RateLimiter
from flambeau.gateway.metrics import Registry
from flambeau.gateway.problems import ProblemError, ProblemKind
from flambeau.gateway.webhooks import Webhooks
from flambeau.log.base import Log

__all__ = ["Gateway", "gateway_of"]


class Session(Protocol):
    """A live subscriber connection that can be told to close with its positions."""

    async def shutdown(self) -> None:
        """Send the client its positions and close."""
        ...


@dataclass(eq=False)
class Gateway:
    """Everything a route needs; one per app, kept in ``app.state.gateway``."""

    log: Log
    config: GatewayConfig
    keys: KeyStore
    access: Access
    hub: Hub
    rates: RateLimiter
    connections: ConnectionLimiter
    metrics: Registry
    webhooks: Webhooks
    """Partner webhooks and their running deliverers (see :mod:`.webhooks`)."""
    processing: ProcessingHealth | None = None
    """Processor lag and progress for ``/healthz`` (when the app knows processors)."""
    sessions: set[Session] = field(default_factory=set)
    """Open subscriber connections (WebSocket and SSE), closed with their positions on drain."""

    async def drain(self) -> None:
        """Tell every subscriber its positions and close its connection (graceful shutdown)."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.shutdown() for s in sessions), return_exceptions=True)

    def principal(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        """Authenticate ``connection`` (401 for a bad key; anonymous without one)."""
        client = connection.client.host if connection.client else None
        return self.access.authenticate(connection.headers, connection.query_params, client)

    def authorize(
        self, connection: ASGIConnection[Any, Any, Any, Any], action: str, stream: str
    ) -> Principal:
        """Authenticate ``connection``, charge one token, and require ``action`` on ``stream``.

        The one call a service route needs: 401, 403 or 429 problems are raised for it.
        """
        principal = self.principal(connection)
        self.charge(principal)
        self.access.require(principal, action, stream)
        return principal

    def charge(self, principal: Principal, cost: float = 1.0) -> None:
        """Take ``cost`` tokens from the caller's bucket.

        Raises:
            ProblemError: 429 with ``Retry-After`` when the bucket is short.
        """
        wait = self.rates.take(principal.client, cost)
        if wait:
            self.metrics.rejected.inc(("rate",))
            raise ProblemError.of(
                ProblemKind.RATE_LIMITED,
                f"rate limit of {self.config.rate_per_key:g} tokens/s "
                f"(burst {self.config.rate_burst}) reached; this request costs {cost:g}",
                retry_after=wait,
            )


def message_bytes(message: Any) -> bytes:
    """The payload of an ASGI ``websocket.receive`` message, text or binary, as bytes."""
    text = message.get("text")
    if isinstance(text, str):
        return text.encode()
    data = message.get("bytes")
    return data if isinstance(data, bytes) else b""


def gateway_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Gateway:
    """The :class:`Gateway` of the app serving ``connection``."""
    gateway: Gateway = connection.app.state.gateway
    return gateway
