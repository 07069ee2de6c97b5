"""WebSocket admission and close codes, shared by ``/v1/ingest`` and ``/v1/ws``.

A socket is admitted in one step, :func:`admit`: its API key is checked and a connection slot
is taken for the key. A refused socket is accepted, told why in an ``error`` message carrying
the problem, and closed with a code a browser can read (it cannot read an HTTP refusal of the
handshake)::

    handshake --bad key--> accept, {"op": "error", "problem": ...}, close 4401
              --too many connections for the key--> ... close 4429
              --admitted--> the caller accepts, serves, then releases the slot

Close codes:

- 4000: slow consumer; the buffer overflowed (subscribe only).
- 4401: the API key is invalid or revoked.
- 4429: too many connections for this key.
- 1001: the gateway is shutting down.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import WebSocket

from flambeau.gateway.auth import Principal
from flambeau.gateway.context import Gateway
from flambeau.gateway.problems import ProblemError, ProblemKind

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_TOO_MANY_CONNECTIONS",
    "CLOSE_UNAUTHORIZED",
    "admit",
    "reject_socket",
]

CLOSE_SLOW_CONSUMER = 4000
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_GOING_AWAY = 1001

_encode = msgspec.json.Encoder().encode


async def reject_socket(
    socket: WebSocket[Any, Any, Any], exc: ProblemError, code: int = CLOSE_UNAUTHORIZED
) -> None:
    """Accept, say why in an ``error`` message, and close with ``code``."""
    await socket.accept()
    await socket.send_text(_encode({"op": "error", "problem": exc.problem}).decode())
    await socket.close(code=code, reason=exc.problem.title[:120])


async def admit(socket: WebSocket[Any, Any, Any], gateway: Gateway) -> Principal | None:
    """Authenticate ``socket`` and take a connection slot for its key.

    Returns:
        The caller, who now holds a slot (release it with
        ``gateway.connections.release(principal.client)`` when the socket ends); ``None`` when
        the socket was refused and closed (4401 bad key, 4429 too many connections).
    """
    try:
        principal = gateway.principal(socket)
    except ProblemError as exc:
        await reject_socket(socket, exc)
        return None
    if not gateway.connections.acquire(principal.client):
        gateway.metrics.rejected.inc(("connections",))
        problem = ProblemKind.TOO_MANY_CONNECTIONS.problem(
            f"at most {gateway.config.max_connections_per_key} connections per key"
        )
        await reject_socket(socket, ProblemError(problem), CLOSE_TOO_MANY_CONNECTIONS)
        return None
    return principal
