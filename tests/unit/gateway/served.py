"""A real gateway served by uvicorn on an ephemeral port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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


async def wait_started(server: GatewayServer, task: asyncio.Task[None]) -> None:
    """Return once uvicorn has started (or given up); it sets no event to wait on."""
    for _ in range(2000):
        if server.started or task.done():
            return
        await asyncio.sleep(0.005)


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
        await wait_started(server, task)
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


def arrival_by_partition(events: Sequence[Any]) -> dict[int, list[tuple[int, str]]]:
    """Each partition's ``(offset, id)`` pairs in the order its events arrived.

    Compared with :func:`stored_by_partition`, this sees a gap, a duplicate and a reordering
    within a partition, which comparing sorted ids cannot.
    """
    arrived: dict[int, list[tuple[int, str]]] = {}
    for event in events:
        arrived.setdefault(event["partition"], []).append((event["offset"], event["id"]))
    return arrived


async def stored_by_partition(log: Log, stream: str) -> dict[int, list[tuple[int, str]]]:
    """Each non-empty partition's ``(offset, id)`` pairs as ``stream`` stores them, in order."""
    stored: dict[int, list[tuple[int, str]]] = {}
    for partition, end in sorted((await log.end_offsets(stream)).items()):
        offset = 0
        while offset < end:
            records = await log.read(stream, partition, offset)
            stored.setdefault(partition, []).extend((r.offset, r.id) for r in records)
            offset = records[-1].offset + 1
    return stored


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


class ThreadedGateway:
    """A gateway on its own event loop in a thread, for synchronous callers (fuzzing, browsers).

    ``log_url`` is opened inside the thread with ``registry_factory()``; ``routers`` are the
    services' routes, and ``beside(log)`` (the services' processors, say) runs on the same
    loop while the gateway serves. ``restart()`` stops the server and serves again on the same
    port over the same log, as a redeploy would.
    """

    def __init__(
        self,
        log_url: str,
        data_dir: Path,
        registry_factory: Any,
        config: GatewayConfig | None = None,
        routers: Sequence[Any] = (),
        beside: Callable[[Log], Awaitable[None]] | None = None,
    ) -> None:
        self.log_url = log_url
        self.routers = routers
        self.beside = beside
        self.data_dir = data_dir
        self.registry_factory = registry_factory
        self.config = config or GatewayConfig(data_dir=data_dir)
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.log: Log | None = None
        self._server: GatewayServer | None = None
        self._thread: Any = None
        self._ready: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_key(self) -> str:
        return (self.data_dir / ADMIN_KEY_FILE).read_text().strip()

    def start(self) -> ThreadedGateway:
        import threading

        from flambeau.log import open_log

        self._ready = threading.Event()
        errors: list[BaseException] = []

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.log = await open_log(self.log_url, self.registry_factory())
            running = None
            if self.beside is not None:
                running = asyncio.get_running_loop().create_task(self.beside(self.log))
            try:
                await self._serve_once()
            except BaseException as exc:  # surfaced to the starting thread
                errors.append(exc)
                self._ready.set()
            finally:
                if running is not None:
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
                await self.log.aclose()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if errors:
            raise errors[0]
        return self

    async def _serve_once(self) -> None:
        while True:
            assert self.log is not None
            app = create_app(self.log, self.config, routers=self.routers)
            sock = bind("127.0.0.1", self.port)
            self.port = sock.getsockname()[1]
            server = self._server = GatewayServer(uvicorn_config(app))
            task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
            await wait_started(server, task)
            self._ready.set()
            await task
            sock.close()
            if getattr(server, "restart", False) is not True:
                return

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run ``coro`` on the gateway's loop (for example an append to its log)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def restart(self) -> None:
        """Stop serving (subscribers are told and disconnected) and serve again on the port."""
        import threading

        assert self._server is not None
        self._ready = threading.Event()
        self._server.restart = True  # type: ignore[attr-defined]
        self._server.should_exit = True
        self._ready.wait(10)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
