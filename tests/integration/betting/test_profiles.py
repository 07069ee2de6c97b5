"""Issue 20, "per person", over HTTP: customer profiles set by the operator.

``POST /v1/betting/customers`` sets a customer's confidence factor, stake limit, self-exclusion
and deposit and loss limits; every later ticket and deposit of that customer is decided
against it. A stake above the limit is refused with a reoffer that a new ticket takes; a loss
limit refuses the next stake; a self-excluded customer is refused; a deposit limit refuses a
deposit. Every refusal names its rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import MATCH, Platform, wallet_of

pytestmark = pytest.mark.timeout(120)


async def profile(platform: Platform, customer: str, **fields: Any) -> dict[str, Any]:
    reply = await platform.client.post(
        "/v1/betting/customers", json={"customer_id": customer, **fields}, headers=platform.operator
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def place(
    platform: Platform, ticket_id: str, customer: str, stake: int, odds: float, **extra: Any
) -> dict[str, Any]:
    ticket = {
        "ticket_id": ticket_id, "customer_id": customer, "jurisdiction": "GB",
        "channel": "internet", "stake_cents": stake, "odds_policy": "any",
        "selections": [{"event_id": MATCH, "market_id": 1, "outcome_id": "1", "odds": odds}],
        **extra,
    }  # fmt: skip
    reply = await platform.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket, headers=platform.operator
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def home_odds(platform: Platform) -> float:
    await platform.unit("start_list", None)
    opening = await platform.markets("not_started")
    return float(next(o["odds"] for m in opening["markets"] if m["id"] == 1
                      for o in m["outcomes"] if o["id"] == "1"))  # fmt: skip


async def test_a_stake_above_the_limit_gets_a_reoffer_that_a_new_ticket_takes(
    platform: Platform,
) -> None:
    odds = await home_odds(platform)
    shown = await profile(platform, "R", max_stake_cents=4000, confidence_factor=0.25)
    assert shown["confidence_factor"] == 0.25
    await platform.deposit("R", 10_000)

    refused = await place(platform, "r-1", "R", 2500, odds)
    assert (refused["status"], refused["reason"]) == ("rejected", "stake_limit_exceeded")
    assert refused["reoffer_cents"] == 1000  # 40.00 x 0.25
    assert "confidence factor 0.25" in refused["detail"]
    assert refused["reoffer_expires_at"] is not None

    too_much = await place(platform, "r-2", "R", 1001, odds, reoffer_of="r-1")
    assert (too_much["status"], too_much["reason"]) == ("rejected", "reoffer_mismatch")
    taken = await place(platform, "r-3", "R", 1000, odds, reoffer_of="r-1")
    assert taken["status"] == "accepted", taken
    assert taken["stake_cents"] == 1000
    again = await place(platform, "r-4", "R", 1000, odds, reoffer_of="r-1")
    assert (again["status"], again["reason"]) == ("rejected", "reoffer_mismatch")  # used once
    await wallet_of(platform, "R", 9000)  # only the reoffered stake was taken


async def test_a_loss_limit_refuses_the_next_stake(platform: Platform) -> None:
    odds = await home_odds(platform)
    await profile(platform, "L", loss_limits={"day": 3000, "month": 50_000})
    await platform.deposit("L", 10_000)
    first = await place(platform, "l-1", "L", 2000, odds)
    assert first["status"] == "accepted", first
    second = await place(platform, "l-2", "L", 2000, odds)
    assert (second["status"], second["reason"]) == ("rejected", "loss_limit_reached")
    assert "day loss limit 3000 cents" in second["detail"]
    assert second["reoffer_cents"] == 1000  # what is left of the day's limit
    await wallet_of(platform, "L", 8000)  # the refused stake was never held


async def test_a_self_excluded_customer_is_refused_and_nothing_is_held(
    platform: Platform,
) -> None:
    odds = await home_odds(platform)
    await platform.deposit("X", 5000)
    await profile(platform, "X", self_excluded=True)
    refused = await place(platform, "x-1", "X", 500, odds)
    assert (refused["status"], refused["reason"]) == ("rejected", "self_excluded")
    assert refused["reoffer_cents"] is None
    wallet = (await platform.customer("X")).json()
    assert (wallet["balance_cents"], wallet["held_cents"]) == (5000, 0)
    # the operator lifts the exclusion: the next profile replaces the previous one
    await profile(platform, "X", self_excluded=False)
    assert (await place(platform, "x-2", "X", 500, odds))["status"] == "accepted"


async def test_a_deposit_limit_refuses_a_deposit_and_a_bad_profile_is_a_400(
    platform: Platform,
) -> None:
    await profile(platform, "D", deposit_limits={"week": 6000})
    await platform.deposit("D", 5000, "d-1")
    reply = await platform.client.post(
        "/v1/betting/customers/D/deposits",
        params={"wait": "true"},
        json={"deposit_id": "d-2", "amount_cents": 2000},
        headers=platform.operator,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["result"], body["reason"]) == ("refused", "deposit_limit_reached")
    assert "week deposit limit 6000 cents" in body["detail"]
    assert (await platform.customer("D")).json()["balance_cents"] == 5000

    bad = await platform.client.post(
        "/v1/betting/customers",
        json={"customer_id": "D", "confidence_factor": 0, "loss_limits": {"day": -1}},
        headers=platform.operator,
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] in {"confidence_factor", "loss_limits.day"}
