"""A match from the results feed to the ledger, over HTTP: results, betting and payments.

The platform (see ``conftest``): the gateway and a worker over one SQLite log. Assertions read
the routes, the odds feed and the ledger's own decisions.
"""

from __future__ import annotations

import pytest

from flambeau.services.betting.money import account_id

from .conftest import Platform

pytestmark = pytest.mark.timeout(120)

EUR = 978


async def test_a_match_from_start_list_to_protest_moves_money_to_the_cent(
    platform: Platform,
) -> None:
    await platform.unit("start_list", None)
    await platform.deposit("alice", 10_000)
    await platform.deposit("bruno", 10_000)
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
