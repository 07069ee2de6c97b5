"""A webhook endpoint for ``flambeau bench mobility``: answers 204 and counts distinct ids.

Run by the bench in its own process (``uvicorn flambeau.bench._webhook_sink:app``) so that the
receiver does not share the sender's event loop. ``GET /count`` answers the number of distinct
``webhook-id`` headers received.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

_seen: set[bytes] = set()

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI app."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET":
        body = str(len(_seen)).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
        return
    for name, value in scope["headers"]:
        if name == b"webhook-id":
            _seen.add(value)
    await send({"type": "http.response.start", "status": 204,
                "headers": [(b"content-length", b"0")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b""})
