"""A match from the results feed to the ledger, over HTTP: results, betting and payments.

The gateway (uvicorn, every service's routes) and a worker (the results, betting and payments
processors) share one SQLite log in the test's event loop. Results are POSTed as native
documents, as a timing system that does not speak ODF would; bets through the betting routes.
Assertions read the routes, the odds feed and the ledger's own decisions.
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
from flambeau.services.betting.money import account_id
from flambeau.services.betting.processors import betting_processors
from flambeau.services.payments.processors import ledger
from flambeau.services.results.processors import PROCESSORS as RESULTS
from tests.unit.gateway.served import serve

pytestmark = pytest.mark.timeout(120)

MATCH = "FBLMTEAM11------------QFNL000100--"
KICK_OFF = datetime(2024, 8, 9, 17, 0, tzinfo=UTC)
EUR = 978
FAST = BettingConfig(delays={"football": timedelta(milliseconds=100)})


@dataclass
class Platform:
    """The gateway and a worker over one SQLite log, and an operator's client."""

    log: Log
    client: httpx.AsyncClient
    timing: dict[str, str]
    operator: dict[str, str]
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

    async def bet(self, ticket_id: str, outcome: str, odds: float, customer: str) -> Any:
        ticket = {
            "ticket_id": ticket_id, "customer_id": customer, "jurisdiction": "FR",
            "channel": "mobile", "stake_cents": 2000, "odds_policy": "any",
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
        """Net balance of every account, from the ledger's decisions on ``payments.transfers``."""
        out: dict[str, int] = defaultdict(int)
        for record in await self.records("payments.transfers"):
            decided = record.data
            if type(decided).__name__ != "TransfersDecided":
                continue
            assert set(decided.results) == {"ok"}, decided.results
            for transfer in decided.transfers:
                out[transfer.credit_account_id] += transfer.amount
                out[transfer.debit_account_id] -= transfer.amount
        return dict(out)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with await open_log(f"sqlite:///{tmp_path / 'log.db'}") as log:
        worker = Worker(log, [*RESULTS, *betting_processors(FAST), ledger])
        running = asyncio.create_task(worker.run())
        config = GatewayConfig(data_dir=tmp_path, public_streams=())
        try:
            async with serve(log, tmp_path, config, routers=flambeau.app.gateway_routes) as gw:
                timing, _ = await gw.gateway.keys.create("timing", ["write:results.*"])
                operator, _ = await gw.gateway.keys.create(
                    "op-paris", ["write:betting.bets", "read:betting.*"]
                )
                async with gw.client() as client:
                    yield Platform(
                        log,
                        client,
                        {"Authorization": f"Bearer {timing}"},
                        {"Authorization": f"Bearer {operator}"},
                    )
        finally:
            worker.stop()
            await running


async def test_a_match_from_start_list_to_protest_moves_money_to_the_cent(
    platform: Platform,
) -> None:
    await platform.unit("start_list", None)
    opening = await platform.markets("not_started")
    winner = next(m for m in opening["markets"] if m["id"] == 1)
    odds = {o["id"]: o["odds"] for o in winner["outcomes"]}
    home = await platform.bet("home", "1", odds["1"], "alice")
    assert home["status"] == "accepted"
    assert home["in_play"] is False

    await platform.unit("live", (0, 0), unit_status="running", current_period="H1")
    live = await platform.markets("live", home_score=0)
    draw_odds = next(o["odds"] for m in live["markets"] if m["id"] == 1
                     for o in m["outcomes"] if o["id"] == "2")  # fmt: skip
    draw = await platform.bet("draw", "2", draw_odds, "bruno")
    assert draw["status"] == "accepted"
    assert draw["in_play"] is True
    assert draw["delay_ms"] == 100

    goal_id = await platform.unit("live", (1, 0), unit_status="running")
    await platform.markets("live", home_score=1)
    feed = await platform.records("betting.odds")
    units = {r.id: r for r in await platform.records("results.units")}
    stops = [r for r in feed if type(r.data).__name__ == "BetStop"]
    goal_stop = [s for s in stops if units[s.causation_id].causation_id == goal_id]
    assert len(goal_stop) == 1  # the goal's bet_stop traces back to the POSTed document
    reopened = [r for r in feed if type(r.data).__name__ == "OddsChange"
                and r.causation_id == goal_stop[0].causation_id]  # fmt: skip
    assert reopened
    assert (reopened[0].partition, reopened[0].offset) > (
        goal_stop[0].partition,
        goal_stop[0].offset,
    )

    await platform.unit("official", (1, 0), unit_status="finished", current_period="H2")
    won = await platform.ticket("home", "settled", 2)
    lost = await platform.ticket("draw", "settled", 2)
    paid = int(2000 * odds["1"])
    assert won["outcome"] == "won"
    assert won["payout_cents"] == paid
    assert lost["outcome"] == "lost"
    alice = account_id(EUR, "op-paris", "alice")
    bruno = account_id(EUR, "op-paris", "bruno")
    book = account_id(EUR, "op-paris")
    await platform.balance_of(alice, paid - 2000)
    assert (await platform.balances())[bruno] == -2000

    # A protest is upheld: the goal is taken back and 0-0 is official.
    await platform.unit("official", (0, 0), unit_status="finished", current_period="H2")
    alice_after = await platform.ticket("home", "settled", 4)
    assert alice_after["history"][-2:] == ["ticket_settlement_rolled_back", "ticket_settled"]
    assert alice_after["outcome"] == "lost"
    bruno_after = await platform.ticket("draw", "settled", 4)
    draw_paid = int(2000 * draw_odds)
    assert bruno_after["payout_cents"] == draw_paid
    await platform.balance_of(bruno, draw_paid - 2000)
    balances = await platform.balances()
    assert balances[alice] == -2000
    assert balances[book] == 4000 - draw_paid
    assert sum(balances.values()) == 0
