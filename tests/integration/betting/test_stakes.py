"""Issue 20, defect 1, over HTTP: a bet is paid only if its stake was collected.

The sequence the issue reported: a wallet holding 5.00 with ``debits_must_not_exceed_credits``,
a 50.00 stake placed with ``?wait=true``, the ledger refusing the stake, then the match settling
with that selection winning. The ticket must be refused ``insufficient_funds`` (and the
``?wait=true`` answer must say so), never settle and never pay; with enough funds the same bet
is accepted, its stake posted, and it settles and pays. Everything is read back over HTTP.
"""

from __future__ import annotations

import pytest

from flambeau.services.payments.schemas import AccountFlags

from .conftest import Platform, wallet_of

pytestmark = pytest.mark.timeout(120)


async def test_a_stake_the_wallet_cannot_cover_is_refused_and_a_covered_one_is_paid(
    platform: Platform,
) -> None:
    await platform.unit("start_list", None)
    opening = await platform.markets("not_started")
    home_odds = next(o["odds"] for m in opening["markets"] if m["id"] == 1
                     for o in m["outcomes"] if o["id"] == "1")  # fmt: skip

    # Wallet B holds 5.00 and may not go below zero.
    await platform.deposit("B", 500)
    wallet_b = await wallet_of(platform, "B", 500)
    account = await platform.client.get(
        f"/v1/payments/accounts/{wallet_b['account_id']}", headers=platform.ledger
    )
    assert account.status_code == 200, account.text
    assert account.json()["flags"] & AccountFlags.debits_must_not_exceed_credits

    refused = await platform.bet("b-1", "1", home_odds, "B", stake=5000)
    assert refused["status"] == "rejected"  # ?wait=true answers the final decision
    assert refused["reason"] == "insufficient_funds"
    assert "exceeds_credits" in refused["detail"]

    # Customer C can cover the same bet.
    await platform.deposit("C", 10_000)
    accepted = await platform.bet("c-1", "1", home_odds, "C", stake=5000)
    assert accepted["status"] == "accepted"
    await wallet_of(platform, "C", 5000)  # the stake was posted when the bet was accepted

    await platform.unit("live", (0, 0), unit_status="running", current_period="H1")
    await platform.unit("official", (1, 0), unit_status="finished", current_period="H2")
    paid = int(5000 * home_odds)
    won = await platform.ticket("c-1", "settled", 2)
    assert (won["outcome"], won["payout_cents"]) == ("won", paid)
    await wallet_of(platform, "C", 5000 + paid)

    # B's ticket never settled and never paid: its wallet still holds 5.00.
    b_ticket = await platform.client.get("/v1/betting/tickets/b-1", headers=platform.operator)
    assert b_ticket.json()["status"] == "rejected"
    assert b_ticket.json()["history"] == ["ticket_rejected"]
    assert (await wallet_of(platform, "B", 500))["available_cents"] == 500
    settled = [r for r in await platform.records("betting.decisions") if r.key == "b-1"]
    assert [type(r.data).__name__ for r in settled] == ["TicketRejected"]


async def test_an_unknown_customer_is_a_404_problem(platform: Platform) -> None:
    reply = await platform.customer("nobody")
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert "nobody" in reply.json()["detail"]
