"""Fixtures of the betting route tests: the gateway with the betting routes and a worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tests.unit.gateway.served import Served, serve

from flambeau.events import NewEvent
from flambeau.gateway import GatewayConfig, create_app
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Worker
from flambeau.services.betting import routes
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.processors import betting_processors
from flambeau.services.payments.processors import ledger
from flambeau.services.results.schemas import Competitor, CompetitorResult, UnitResult

from .feeds import KICK_OFF, MATCH, SOURCE

FAST = BettingConfig(delays={"football": timedelta(milliseconds=50)}, drift_every=timedelta(days=1))
"""In-play bets wait 50 ms, so a test waits for decisions without sleeping seconds."""


@dataclass
class Betting:
    """A gateway with the betting routes over a memory log, and the processors running.

    The gateway is served by uvicorn in the test's own event loop (Litestar's test client would
    run requests in another thread, blocking the worker while a request waits for a decision).
    """

    served: Served
    client: httpx.AsyncClient
    log: Log

    async def key(self, *scopes: str, tenant: str = "op-1") -> str:
        text, _ = await self.served.gateway.keys.create(tenant, list(scopes))
        return str(text)

    async def revoked_key(self, *scopes: str) -> str:
        text, record = await self.served.gateway.keys.create("op-1", list(scopes))
        await self.served.gateway.keys.revoke(record.key_id)
        return str(text)

    async def operator(self, tenant: str = "op-1", *, fund: str | None = "c-1") -> dict[str, str]:
        """Headers of an operator key (place bets, read decisions and odds); its customer
        ``fund`` gets a wallet holding 10,000.00 EUR first, unless ``fund`` is None."""
        key = await self.key("write:betting.bets", "read:betting.*", tenant=tenant)
        headers = {"Authorization": f"Bearer {key}"}
        if fund is not None:
            await self.deposit(headers, fund, 1_000_000)
        return headers

    async def deposit(
        self, headers: dict[str, str], customer: str, cents: int, deposit_id: str = "funds"
    ) -> Any:
        """Deposit ``cents`` into the customer's wallet and wait for the ledger's answer."""
        reply = await self.client.post(
            f"/v1/betting/customers/{customer}/deposits",
            params={"wait": "true"},
            json={"deposit_id": deposit_id, "amount_cents": cents},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["result"] == "ok", reply.text
        return reply.json()

    async def unit(self, version: int, status: str, score: tuple[int, int] | None = None,
                   **fields: Any) -> None:  # fmt: skip
        """Append a snapshot of the test match to ``results.units``."""
        lines = tuple(
            CompetitorResult(competitor=Competitor(code=c, name=c), score=s)
            for c, s in zip(("FRA", "ESP"), score or (None, None), strict=True)
        )
        result = UnitResult(
            competition="OG2024", unit=MATCH, discipline="FBL", version=version,
            status=status, shape="head_to_head", start=KICK_OFF,  # type: ignore[arg-type]
            end=KICK_OFF + timedelta(minutes=115), home="FRA", away="ESP", competitors=lines,
            source=SOURCE, **fields,
        )  # fmt: skip
        await self.log.append("results.units", [NewEvent(result, key=MATCH, time=KICK_OFF)])

    async def wait_markets(
        self, headers: dict[str, str], status: str = "active", phase: str = "not_started"
    ) -> Any:
        """Poll the markets route until the match is in ``phase`` with its winner ``status``."""
        async with asyncio.timeout(10):
            while True:
                reply = await self.client.get(
                    "/v1/betting/markets", params={"event": MATCH}, headers=headers
                )
                if reply.status_code == 200:
                    body = reply.json()
                    winner = [m for m in body["markets"] if m["id"] == 1]
                    now = (body.get("status") or {}).get("phase")
                    if winner and winner[0]["status"] == status and now == phase:
                        return body
                await asyncio.sleep(0.01)


@pytest.fixture
async def betting(tmp_path: Path) -> AsyncIterator[Betting]:
    async with await open_log("memory://") as log:
        worker = Worker(log, [*betting_processors(FAST), ledger])
        running = asyncio.create_task(worker.run())
        config = GatewayConfig(data_dir=tmp_path, public_streams=(), rate_per_key=10_000.0)
        try:
            async with (
                serve(log, tmp_path, config, routers=routes.routes) as served,
                served.client() as client,
            ):
                yield Betting(served, client, log)
        finally:
            worker.stop()
            await running


@dataclass
class Routes:
    """The betting routes alone (no worker), behind Litestar's test client: for auth tests."""

    app: Litestar
    client: AsyncTestClient[Litestar]

    async def key(self, *scopes: str, revoked: bool = False) -> str:
        text, record = await self.app.state.gateway.keys.create("op-1", list(scopes))
        if revoked:
            await self.app.state.gateway.keys.revoke(record.key_id)
        return str(text)


@pytest.fixture
async def bare_routes() -> AsyncIterator[Routes]:
    async with await open_log("memory://") as log:
        app = create_app(log, GatewayConfig(public_streams=()), routers=routes.routes)
        async with AsyncTestClient(app) as client:
            yield Routes(app, client)
