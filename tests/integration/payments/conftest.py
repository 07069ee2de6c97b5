"""A gateway with the payments routes and a worker running the ledger, over one SQLite log.

Both run in the test's event loop, as ``flambeau up`` runs them in one process: a ``POST``
goes through real HTTP (uvicorn on an ephemeral port), is appended to ``payments.requests``,
decided by the worker, and answered from ``payments.transfers``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.payments.processors import ledger
from flambeau.services.payments.routes import routes
from tests.unit.gateway.served import Served, serve


@dataclass
class Payments:
    """A served gateway with the ledger behind it, and keys of each kind."""

    served: Served
    log: Log
    writer: str
    reader: str
    worker: Worker
    running: asyncio.Task[None]

    async def worker_stopped(self) -> None:
        """Stop the ledger (it commits what it has in flight first)."""
        self.worker.stop()
        await self.running

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        return self.served.client(key)

    async def post(self, path: str, body: Any, key: str | None = None, **kw: Any) -> httpx.Response:
        async with self.client(key or self.writer) as client:
            return await client.post(path, json=body, **kw)

    async def get(self, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        async with self.client(key or self.reader) as client:
            return await client.get(path, **kw)


@pytest.fixture
async def payments(tmp_path: Path) -> AsyncIterator[Payments]:
    log = await open_log(f"sqlite:///{tmp_path / 'log.db'}")
    worker = Worker(log, [ledger], idle_wait=0.2)
    running = asyncio.create_task(worker.run())
    try:
        async with serve(log, tmp_path, routers=routes) as served:
            writer = await served.key("write:payments.requests", "read:payments.*")
            reader = await served.key("read:payments.*")
            yield Payments(served, log, writer, reader, worker, running)
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)
        await log.aclose()
