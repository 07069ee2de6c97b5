"""The gateway and a worker over one SQLite log, and an operator's client, for betting over HTTP.

The gateway (uvicorn, every service's routes) and a worker (the results processors, the
betting ones with ``betting.offers``, and the payments ledger) share one SQLite log in the
test's event loop. Results are POSTed as native documents, as a timing system that does not
speak ODF would; bets through the betting routes.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import flambeau.app
from flambeau.events import Record
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Worker
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.offer_feed import offers_processor
from flambeau.services.betting.processors import betting_processors
from flambeau.services.payments.processors import ledger
from flambeau.services.payments.schemas import TransferCode, TransferFlags
from flambeau.services.results.processors import PROCESSORS as RESULTS
from tests.unit.gateway.served import Served, serve

MATCH = "FBLMTEAM11------------QFNL000100--"
KICK_OFF = datetime(2024, 8, 9, 17, 0, tzinfo=UTC)
EUR = 978
FAST = BettingConfig(delays={"football": timedelta(milliseconds=100)})


@dataclass
class Platform:
    """The gateway and a worker over one SQLite log, and an operator's client.

    ``timing`` posts results, ``operator`` bets and deposits, ``ledger`` reads the payments
    ledger's accounts.
    """

    log: Log
    client: httpx.AsyncClient
    timing: dict[str, str]
    operator: dict[str, str]
    ledger: dict[str, str]
    served: Served | None = None
    version: int = 0

    async def unit(self, status: str, score: tuple[int, int] | None, **fields: Any) -> str:
        """POST the next snapshot of the match; return its ``results.native`` id."""
        self.version += 1
        sides = [("FRA", score[0] if score else None), ("BRA", score[1] if score else None)]
        document = {
            "type": "unit_result", "competition": "OG2024", "unit": MATCH, "discipline": "FBL",
            "version": self.version, "status": status, "shape": "head_to_head",
            "start": KICK_OFF.isoformat(), "end": (KICK_OFF + timedelta(minutes=115)).isoformat(),
            "home": "FRA", "away": "BRA", "source": "FBL-PDP",
            "competitors": [{"competitor": {"code": c, "noc": c}, "score": s} for c, s in sides],
            **fields,
        }  # fmt: skip
        reply = await self.client.post("/v1/results/documents", json=document, headers=self.timing)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["results"][0]["id"])

    async def markets(self, phase: str, **match: Any) -> dict[str, Any]:
        """Poll the markets until the event is in ``phase`` with the given score."""
        async with asyncio.timeout(20):
            while True:
                reply = await self.client.get(
                    "/v1/betting/markets", params={"event": MATCH}, headers=self.operator
                )
                if reply.status_code == 200:
                    body = reply.json()
                    status = body.get("status") or {}
                    winner = [m for m in body["markets"] if m["id"] == 1]
                    if (
                        status.get("phase") == phase
                        and all(status.get(k) == v for k, v in match.items())
                        and winner
                        and winner[0]["status"] == "active"
                    ):
                        return dict(body)
                await asyncio.sleep(0.02)

    async def deposit(self, customer: str, cents: int, deposit_id: str = "funds") -> Any:
        """Deposit into the customer's wallet; answer once the ledger has decided it."""
        reply = await self.client.post(
            f"/v1/betting/customers/{customer}/deposits",
            params={"wait": "true"},
            json={"deposit_id": deposit_id, "amount_cents": cents},
            headers=self.operator,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def customer(self, customer: str) -> httpx.Response:
        return await self.client.get(f"/v1/betting/customers/{customer}", headers=self.operator)

    async def bet(
        self, ticket_id: str, outcome: str, odds: float, customer: str, stake: int = 2000
    ) -> Any:
        ticket = {
            "ticket_id": ticket_id, "customer_id": customer, "jurisdiction": "FR",
            "channel": "mobile", "stake_cents": stake, "odds_policy": "any",
            "selections": [{"event_id": MATCH, "market_id": 1, "outcome_id": outcome,
                            "odds": odds}],
        }  # fmt: skip
        reply = await self.client.post(
            "/v1/betting/bets", params={"wait": "true"}, json=ticket, headers=self.operator
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def ticket(self, ticket_id: str, status: str, history: int) -> Any:
        async with asyncio.timeout(20):
            while True:
                reply = await self.client.get(
                    f"/v1/betting/tickets/{ticket_id}", headers=self.operator
                )
                body = reply.json()
                if body["status"] == status and len(body["history"]) == history:
                    return body
                await asyncio.sleep(0.02)

    async def records(self, stream: str) -> list[Record[Any]]:
        out: list[Record[Any]] = []
        for partition, end in sorted((await self.log.end_offsets(stream)).items()):
            raw = await self.log.read(stream, partition, 0, max(end, 1))
            out.extend(self.log.registry.decode(stream, r) for r in raw)
        return out

    async def balance_of(self, account: str, expected: int) -> None:
        """Wait until the ledger has applied what brings ``account`` to ``expected``."""
        for _ in range(400):
            if (await self.balances()).get(account) == expected:
                return
            await asyncio.sleep(0.05)
        assert (await self.balances()).get(account) == expected

    async def balances(self) -> dict[str, int]:
        """Net balance of every account from the ledger's decisions on ``payments.transfers``:
        what betting moved (deposits left out); holds count once posted."""
        skipped = int(TransferFlags.pending | TransferFlags.void_pending_transfer)
        out: dict[str, int] = defaultdict(int)
        for record in await self.records("payments.transfers"):
            decided = record.data
            if type(decided).__name__ != "TransfersDecided":
                continue
            assert set(decided.results) == {"ok"}, decided.results
            for transfer in decided.transfers:
                if transfer.flags & skipped or transfer.code == TransferCode.top_up:
                    continue
                out[transfer.credit_account_id] += transfer.amount
                out[transfer.debit_account_id] -= transfer.amount
        return dict(out)


async def wallet_of(platform: Platform, customer: str, balance: int) -> dict[str, Any]:
    """``GET /v1/betting/customers/{id}`` once the wallet holds ``balance`` with nothing held."""
    async with asyncio.timeout(20):
        while True:
            reply = await platform.customer(customer)
            assert reply.status_code == 200, reply.text
            body: dict[str, Any] = reply.json()
            if body["balance_cents"] == balance and body["held_cents"] == 0:
                return body
            await asyncio.sleep(0.02)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with await open_log(f"sqlite:///{tmp_path / 'log.db'}") as log:
        worker = Worker(log, [*RESULTS, *betting_processors(FAST), offers_processor(FAST), ledger])
        running = asyncio.create_task(worker.run())
        config = GatewayConfig(data_dir=tmp_path, public_streams=())
        try:
            async with serve(log, tmp_path, config, routers=flambeau.app.gateway_routes) as gw:
                timing, _ = await gw.gateway.keys.create("timing", ["write:results.*"])
                operator, _ = await gw.gateway.keys.create(
                    "op-paris", ["write:betting.bets", "read:betting.*"]
                )
                reader, _ = await gw.gateway.keys.create("auditor", ["read:payments.transfers"])
                async with gw.client() as client:
                    yield Platform(
                        log,
                        client,
                        {"Authorization": f"Bearer {timing}"},
                        {"Authorization": f"Bearer {operator}"},
                        {"Authorization": f"Bearer {reader}"},
                        gw,
                    )
        finally:
            worker.stop()
            await running
