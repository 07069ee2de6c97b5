"""A real gateway served by uvicorn on an ephemeral port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from litestar import Litestar

from flambeau.gateway import Gateway, GatewayConfig, create_app
from flambeau.gateway.keys import ADMIN_KEY_FILE
from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
from flambeau.log.base import Log


@dataclass
class Served:
    """A running gateway: its URLs, app state and admin key."""

    app: Litestar
    gateway: Gateway
    base: str
    admin_key: str
    server: GatewayServer

    @property
    def ws_base(self) -> str:
        return "ws" + self.base[len("http") :]

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10.0)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    async def key(self, *scopes: str, tenant: str = "acme") -> str:
        text, _ = await self.gateway.keys.create(tenant, list(scopes))
        return text

    def ws(self, path: str = "/v1/ws", key: str | None = None) -> Any:
        url = self.ws_base + path + (f"?key={key}" if key else "")
        return websockets.connect(url, open_timeout=5, close_timeout=2)


@asynccontextmanager
async def serve(
    log: Log,
    data_dir: Path,
    config: GatewayConfig | None = None,
    *,
    routers: Sequence[Any] = (),
    metrics_sources: Sequence[Any] = (),
) -> AsyncIterator[Served]:
    """Serve a gateway over ``log`` until the block exits."""
    if config is None:
        config = GatewayConfig(data_dir=data_dir)
    app = create_app(log, config, routers=routers, metrics_sources=metrics_sources)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = GatewayServer(uvicorn_config(app))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.005)
        if task.done():
            task.result()
        admin = (data_dir / ADMIN_KEY_FILE).read_text().strip() if config.data_dir else ""
        yield Served(app, app.state.gateway, f"http://127.0.0.1:{port}", admin, server)
    finally:
        server.should_exit = True
        await task
        sock.close()


async def next_op(ws: Any, op: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of kind ``op`` (skipping others)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message.get("op") == op:
                return message  # type: ignore[no-any-return]


async def collect_events(ws: Any, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Events from ``events`` frames until ``count`` have arrived."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(events) < count:
            message = json.loads(await ws.recv())
            if message.get("op") == "events":
                events.extend(message["events"])
    return events


async def sse_messages(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Parse a Server-Sent Events response into messages (``event``, ``id``, ``data``)."""
    message: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in message:
                message.setdefault("event", "message")
                yield message
            message = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        message[name] = value[1:] if value.startswith(" ") else value
