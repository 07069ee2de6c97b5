"""Issue 20, item 4, over HTTP: an outright on a race settles from the official result.

The women's 100 m freestyle final comes as the ODF documents a timing system sends
(``tests.unit.services.results._documents``), POSTed to ``/v1/adapters/odf``: the start list
opens the winner (outright) and podium markets, priced by Plackett-Luce; bets are placed on
them before the start; the start suspends them; the OFFICIAL ``DT_RESULT`` settles them through
the results processors, the trading and ticket processors and the ledger, which pays the
winners' wallets. Everything is read back over HTTP and from the ledger's own decisions.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flambeau.services.betting.money import account_id
from tests.unit.services.results._documents import SWM_FINAL, swimming_final

from .conftest import EUR, Platform, wallet_of

pytestmark = pytest.mark.timeout(120)

WINNER, PODIUM = 90001, 90002
GOLD, SILVER, BRONZE = "1900411", "1900522", "1900633"


async def post_odf(platform: Platform, xml: str) -> None:
    reply = await platform.client.post(
        "/v1/adapters/odf",
        content=xml.encode(),
        headers={**platform.timing, "Content-Type": "application/xml"},
    )
    assert reply.status_code == 200, reply.text


async def race_markets(platform: Platform, status: str) -> dict[int, dict[str, Any]]:
    """The final's markets by id, once every one is in ``status``."""
    async with asyncio.timeout(20):
        while True:
            reply = await platform.client.get(
                "/v1/betting/markets", params={"event": SWM_FINAL}, headers=platform.operator
            )
            if reply.status_code == 200:
                markets = {m["id"]: m for m in reply.json()["markets"]}
                if markets and all(m["status"] == status for m in markets.values()):
                    return markets
            await asyncio.sleep(0.02)


async def bet(platform: Platform, ticket: str, market: dict[str, Any], outcome: str) -> Any:
    odds = next(o["odds"] for o in market["outcomes"] if o["id"] == outcome)
    body = {
        "ticket_id": ticket, "customer_id": ticket, "jurisdiction": "GB",
        "channel": "internet", "stake_cents": 1000, "odds_policy": "none",
        "selections": [{"event_id": SWM_FINAL, "market_id": market["id"],
                        "specifiers": market.get("specifiers", ""), "outcome_id": outcome,
                        "odds": odds}],
    }  # fmt: skip
    reply = await platform.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=body, headers=platform.operator
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "accepted", reply.json()
    return odds


async def test_an_outright_on_a_race_settles_from_the_official_odf_result(
    platform: Platform,
) -> None:
    documents = swimming_final()
    for xml in documents[:2]:  # the schedule, then the START_LIST
        await post_odf(platform, xml)
    opening = await race_markets(platform, "active")
    assert set(opening) == {WINNER, PODIUM}
    assert opening[PODIUM]["specifiers"] == "top=3"
    field = {o["id"] for o in opening[WINNER]["outcomes"]}
    assert GOLD in field
    assert len(field) == 8
    fair = sum(o["probability"] for o in opening[WINNER]["outcomes"])
    assert fair == pytest.approx(1.0)

    for customer in ("gold", "silver", "bronze"):
        await platform.deposit(customer, 5000)
    gold_odds = await bet(platform, "gold", opening[WINNER], GOLD)
    await bet(platform, "silver", opening[WINNER], SILVER)  # second: loses the outright
    bronze_odds = await bet(platform, "bronze", opening[PODIUM], BRONZE)

    for xml in documents[2:]:  # the start, the splits, the finish, the OFFICIAL result
        await post_odf(platform, xml)
    won = await platform.ticket("gold", "settled", 2)
    lost = await platform.ticket("silver", "settled", 2)
    placed = await platform.ticket("bronze", "settled", 2)
    assert (won["outcome"], won["payout_cents"]) == ("won", int(1000 * gold_odds))
    assert (lost["outcome"], lost["payout_cents"]) == ("lost", 0)
    assert (placed["outcome"], placed["payout_cents"]) == ("won", int(1000 * bronze_odds))
    settled = await race_markets(platform, "settled")
    assert set(settled) == {WINNER, PODIUM}

    # The ledger paid the winners' wallets and kept the loser's stake in the book.
    await wallet_of(platform, "gold", 4000 + int(1000 * gold_odds))
    await wallet_of(platform, "bronze", 4000 + int(1000 * bronze_odds))
    await wallet_of(platform, "silver", 4000)
    book = account_id(EUR, "op-paris")
    paid = int(1000 * gold_odds) + int(1000 * bronze_odds)
    await platform.balance_of(book, 3000 - paid)
    feed = await platform.records("betting.odds")
    settlements = [r.data for r in feed if type(r.data).__name__ == "BetSettlement"]
    assert len(settlements) == 1
    results = {m.id: {o.id: o.result for o in m.outcomes} for m in settlements[0].markets}
    assert results[WINNER][GOLD] == 1
    assert results[WINNER][SILVER] == 0
    assert {c for c, r in results[PODIUM].items() if r == 1} == {GOLD, SILVER, BRONZE}
