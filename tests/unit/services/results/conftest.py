"""Fixtures of the results route tests: a served gateway with the results routes, memory log.

The gateway runs under uvicorn in the test's own event loop (as ``flambeau up`` runs it), so
the views the routes start, the log and the test share one loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from tests.unit.gateway.served import serve

from flambeau.events import Record
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.services.results import routes


@dataclass
class Gateway:
    """A gateway app with the results routes, its test client and its log."""

    app: Litestar
    client: httpx.AsyncClient
    log: Log

    async def key(self, *scopes: str) -> str:
        text, _ = await self.app.state.gateway.keys.create("acme", list(scopes))
        return str(text)

    async def revoked_key(self, *scopes: str) -> str:
        text, record = await self.app.state.gateway.keys.create("acme", list(scopes))
        await self.app.state.gateway.keys.revoke(record.key_id)
        return str(text)

    async def records(self, stream: str) -> list[Record[Any]]:
        """Every record of ``stream``, typed, partition by partition."""
        out: list[Record[Any]] = []
        for partition, end in sorted((await self.log.end_offsets(stream)).items()):
            raw = await self.log.read(stream, partition, 0, max(end, 1))
            out.extend(self.log.registry.decode(stream, r) for r in raw)
        return out


async def _gateway(tmp_path: Path, config: GatewayConfig) -> AsyncIterator[Gateway]:
    async with (
        await open_log("memory://") as log,
        serve(log, tmp_path, config, routers=routes.routes) as served,
        httpx.AsyncClient(base_url=served.base, timeout=10.0) as client,
    ):
        yield Gateway(served.app, client, log)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """Public streams readable without a key (the registry's ``public`` flags)."""
    async for running in _gateway(tmp_path, GatewayConfig()):
        yield running


@pytest.fixture
async def private_gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """No stream is public: every read needs a key with the scope."""
    async for running in _gateway(tmp_path, GatewayConfig(public_streams=())):
        yield running
