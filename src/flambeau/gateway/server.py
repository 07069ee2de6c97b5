"""Serving the gateway with uvicorn (httptools, uvloop) and shutting it down gracefully.

Graceful shutdown order: stop accepting connections, tell every subscriber where it stands
(WebSocket: a ``closing`` message with positions, then close code 1001; SSE: a ``closing``
event whose ``id`` is the position, then the end of the response, so ``EventSource`` reconnects
to another gateway and resumes), let in-flight requests finish, then run the app's shutdown.
The caller closes the log last, which flushes its writer.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from litestar import Litestar

from flambeau.gateway.context import Gateway

__all__ = ["GatewayServer", "bind", "uvicorn_config"]


def uvicorn_config(app: Litestar, **options: Any) -> uvicorn.Config:
    """A uvicorn config for ``app``: httptools, sans-I/O websockets, no per-message deflate,
    no access log by default.

    The access log is off by default because a browser's ``?key=`` would otherwise land in it;
    when it is turned on the gateway's filter masks keys anyway.
    """
    defaults: dict[str, Any] = {
        "http": "httptools",
        "ws": "websockets-sansio",
        "loop": "none",
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
        "ws_max_size": 16 * 1024 * 1024,
        # compressing each frame again for each subscriber would undo encoding it once
        "ws_per_message_deflate": False,
        "backlog": 4096,
    }
    defaults.update(options)
    return uvicorn.Config(app, **defaults)


class GatewayServer(uvicorn.Server):
    """A uvicorn server that lets subscribers know their positions before it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Turn SIGINT/SIGTERM into a graceful exit, and do not re-raise them afterwards.

        uvicorn re-raises the signal once serving ends, which would kill the process before
        the caller flushes and closes the log; the caller exits normally instead.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        gateway = getattr(getattr(app, "state", None), "gateway", None)
        if isinstance(gateway, Gateway):
            # Stop listening first so no new subscriber arrives while the others are told.
            for server in getattr(self, "servers", []):
                server.close()
            await gateway.drain()
        await super().shutdown(sockets)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
