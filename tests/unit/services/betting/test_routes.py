"""The betting routes: placing bets, reading tickets and markets, cash-out, changes, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flambeau.services.betting.schemas import bets_event_id, customer_key

from .conftest import Betting, Routes
from .feeds import MATCH

pytestmark = pytest.mark.timeout(60)


def ticket(ticket_id: str = "t-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ticket_id": ticket_id,
        "customer_id": "c-1",
        "jurisdiction": "FR",
        "channel": "internet",
        "selections": [
            {"event_id": MATCH, "market_id": 1, "outcome_id": "1", "odds": 2.0},
        ],
        "stake_cents": 1000,
        "odds_policy": "any",
    }
    body.update(changes)
    return body


def leg(**changes: Any) -> dict[str, Any]:
    selection: dict[str, Any] = {"event_id": MATCH, "market_id": 1, "outcome_id": "1", "odds": 2.0}
    selection.update(changes)
    return selection


async def open_match(betting: Betting, headers: dict[str, str]) -> dict[str, Any]:
    await betting.unit(1, "start_list")
    return dict(await betting.wait_markets(headers))


# ------------------------------------------------------------------------------ markets


async def test_markets_show_status_odds_and_probabilities(betting: Betting) -> None:
    headers = await betting.operator()
    body = await open_match(betting, headers)
    assert body["event_id"] == MATCH
    assert body["competitors"] == ["FRA", "ESP"]
    winner = next(m for m in body["markets"] if m["id"] == 1)
    assert winner["status"] == "active"
    assert winner["name"] == "1x2"
    probabilities = [o["probability"] for o in winner["outcomes"]]
    assert abs(sum(probabilities) - 1.0) < 1e-9
    assert all(o["odds"] >= 1.01 for o in winner["outcomes"])
    total = next(m for m in body["markets"] if (m["id"], m["specifiers"]) == (18, "total=2.5"))
    assert {o["id"] for o in total["outcomes"]} == {"12", "13"}


async def test_markets_of_an_unknown_event_are_a_404(betting: Betting) -> None:
    headers = await betting.operator()
    reply = await betting.client.get(
        "/v1/betting/markets", params={"event": "nope"}, headers=headers
    )
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/problem+json")


# ------------------------------------------------------------------------------ bets


async def test_a_bet_is_202_then_readable_decided(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    reply = await betting.client.post("/v1/betting/bets", json=ticket(), headers=headers)
    assert reply.status_code in (200, 202)
    assert reply.json()["operator"] == "op-1"
    async with asyncio.timeout(10):
        while True:
            read = await betting.client.get("/v1/betting/tickets/t-1", headers=headers)
            if read.json()["status"] != "pending":
                break
            await asyncio.sleep(0.01)
    body = read.json()
    assert body["status"] == "accepted"
    assert body["stake_cents"] == 1000
    assert body["history"] == ["ticket_accepted"]


async def test_wait_true_answers_with_the_decision(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    reply = await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "accepted"
    assert body["in_play"] is False
    assert body["potential_payout_cents"] == int(1000 * body["odds"][0])


async def test_a_producer_knows_the_bets_event_id_its_decision_names_as_cause(
    betting: Betting,
) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    bets = [r for p in range(8) for r in await betting.log.read("betting.bets", p, 0, 10)]
    (placed,) = [r for r in bets if r.id != bets_event_id("deposit", "op-1", "c-1\x1ffunds")]
    assert placed.id == bets_event_id("ticket", "op-1", "t-1")
    assert placed.key == customer_key("op-1", ticket()["customer_id"])
    by_id = {}
    for info in await betting.log.streams():
        for p in range(info.partitions):
            by_id.update((r.id, r) for r in await betting.log.read(info.name, p, 0, 1000))
    (decision,) = [r for r in by_id.values() if r.stream == "betting.decisions"]
    cause = decision
    while cause.causation_id is not None:  # decision <- the bet engine's messages <- the ticket
        cause = by_id[cause.causation_id]
    assert cause.id == placed.id


async def test_an_in_play_bet_waits_its_delay(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    await betting.unit(2, "live", (0, 0), unit_status="running", current_period="H1")
    await betting.wait_markets(headers, phase="live")
    reply = await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    body = reply.json()
    assert body["status"] == "accepted", (body["reason"], body["detail"])
    assert body["in_play"] is True
    assert body["delay_ms"] == 50


async def test_the_same_ticket_again_returns_the_first_decision(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    first = await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    again = await betting.client.post("/v1/betting/bets", json=ticket(), headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_a_ticket_id_reused_with_other_content_is_a_409(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    await betting.client.post("/v1/betting/bets", json=ticket(), headers=headers)
    reply = await betting.client.post(
        "/v1/betting/bets", json=ticket(stake_cents=2000), headers=headers
    )
    assert reply.status_code == 409
    assert reply.json()["errors"] == [
        {"message": "already used for another request", "field": "ticket_id"}
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stake_cents": 0}, "stake_cents"),
        ({"stake_cents": -500}, "stake_cents"),
        ({"stake_cents": "10"}, "stake_cents"),
        ({"selections": [leg(odds="2.5")]}, "selections[0].odds"),
        ({"selections": [leg(market_id=999)]}, "selections[0].market_id"),
        ({"selections": [leg(market_id=18, specifiers="total=9.5")]}, "selections[0].specifiers"),
        ({"selections": [leg(market_id=18, outcome_id="12")]}, "selections[0].specifiers"),
        ({"selections": [leg(outcome_id="7")]}, "selections[0].outcome_id"),
        ({"selections": [leg(event_id="unknown-event")]}, "selections[0].event_id"),
        ({"selections": []}, "selections"),
        ({"currency": "XTS"}, "currency"),
        ({"jurisdiction": "France"}, "jurisdiction"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_tickets_get_a_400_naming_the_field(
    betting: Betting, changes: dict[str, Any], field: str
) -> None:
    headers = await betting.operator(fund=None)
    await open_match(betting, headers)
    reply = await betting.client.post("/v1/betting/bets", json=ticket(**changes), headers=headers)
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in reply.json()["errors"]]
    assert await betting.log.end_offsets("betting.bets") == dict.fromkeys(range(8), 0)


async def test_a_malformed_body_is_a_400(betting: Betting) -> None:
    headers = await betting.operator()
    reply = await betting.client.post("/v1/betting/bets", content=b"{not json", headers=headers)
    assert reply.status_code == 400
    assert reply.json()["type"] == "urn:flambeau:problem:malformed-body"


# ------------------------------------------------------------------------------ tenants


async def test_an_operator_sees_only_its_own_tickets(betting: Betting) -> None:
    acme = await betting.operator("op-1")
    rival = await betting.operator("op-2")
    await open_match(betting, acme)
    await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=acme
    )
    assert (await betting.client.get("/v1/betting/tickets/t-1", headers=acme)).status_code == 200
    assert (await betting.client.get("/v1/betting/tickets/t-1", headers=rival)).status_code == 404
    # The same ticket id is another ticket for another operator.
    other = await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(stake_cents=300), headers=rival
    )
    assert other.status_code == 200
    assert other.json()["operator"] == "op-2"
    mine = await betting.client.get("/v1/betting/tickets/t-1", headers=acme)
    assert mine.json()["stake_cents"] == 1000


async def test_an_operator_cannot_bet_for_another(betting: Betting) -> None:
    rival = await betting.operator("op-2")
    reply = await betting.client.post(
        "/v1/betting/bets", json=ticket(operator="op-1"), headers=rival
    )
    assert reply.status_code == 403
    assert reply.json()["errors"][0]["field"] == "operator"


async def test_a_rival_cannot_cash_out_my_ticket(betting: Betting) -> None:
    acme = await betting.operator("op-1")
    rival = await betting.operator("op-2")
    await open_match(betting, acme)
    await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=acme
    )
    reply = await betting.client.post(
        "/v1/betting/tickets/t-1/cash-out",
        json={"request_id": "co-1", "customer_id": "c-1"},
        headers=rival,
    )
    assert reply.status_code == 404


# ------------------------------------------------------------------------------ cash-out


async def test_cash_out_and_change_through_the_routes(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    changed = await betting.client.post(
        "/v1/betting/tickets/t-1/changes",
        params={"wait": "true"},
        json={"change_id": "ch-1", "customer_id": "c-1", "stake_cents": 1500,
              "odds_policy": "any"},
        headers=headers,
    )  # fmt: skip
    assert changed.status_code == 200
    assert changed.json()["status"] == "accepted"
    read = await betting.client.get("/v1/betting/tickets/t-1", headers=headers)
    assert read.json()["stake_cents"] == 1500
    cashed = await betting.client.post(
        "/v1/betting/tickets/t-1/cash-out",
        params={"wait": "true"},
        json={"request_id": "co-1", "customer_id": "c-1"},
        headers=headers,
    )
    assert cashed.status_code == 200
    outcome = cashed.json()
    assert outcome["status"] == "accepted"
    assert 0 < outcome["amount_cents"] < 1500 * read.json()["odds"][0]
    final = await betting.client.get("/v1/betting/tickets/t-1", headers=headers)
    assert final.json()["status"] == "cashed_out"
    again = await betting.client.post(
        "/v1/betting/tickets/t-1/cash-out",
        params={"wait": "true"},
        json={"request_id": "co-2", "customer_id": "c-1"},
        headers=headers,
    )
    assert again.json()["status"] == "rejected"
    assert again.json()["reason"] == "ticket_not_open"


async def test_a_change_needs_something_to_change(betting: Betting) -> None:
    headers = await betting.operator()
    await open_match(betting, headers)
    await betting.client.post(
        "/v1/betting/bets", params={"wait": "true"}, json=ticket(), headers=headers
    )
    reply = await betting.client.post(
        "/v1/betting/tickets/t-1/changes",
        json={"change_id": "ch-1", "customer_id": "c-1"},
        headers=headers,
    )
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["field"] == "selections"


async def test_offers_per_jurisdiction_and_channel(betting: Betting) -> None:
    headers = await betting.operator(fund=None)
    await open_match(betting, headers)
    offers = {}
    for code in ("FR", "GB"):
        reply = await betting.client.get(
            "/v1/betting/markets",
            params={"jurisdiction": code, "channel": "online"},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert (body["jurisdiction"], body["channel"], body["cash_out_allowed"]) == (
            code, "internet", True,
        )  # fmt: skip
        (event,) = body["events"]
        offers[code] = {m["id"] for m in event["markets"]}
    assert offers["GB"] - offers["FR"] == {16}  # France lists no two-way handicap
    one = await betting.client.get(
        "/v1/betting/markets", params={"event": MATCH, "jurisdiction": "FR"}, headers=headers
    )
    assert {m["id"] for m in one.json()["events"][0]["markets"]} == offers["FR"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "event"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"jurisdiction": "FR", "channel": "pigeon"}, "channel"),
    ],
)
async def test_bad_offer_queries_get_a_400_naming_the_field(
    bare_routes: Routes, params: dict[str, str], field: str
) -> None:
    key = await bare_routes.key("read:betting.odds")
    reply = await bare_routes.client.get(
        "/v1/betting/markets", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["errors"][0]["field"] == field


# ------------------------------------------------------------------------------ customers


async def test_a_customer_shows_its_wallet_account_and_balance(betting: Betting) -> None:
    headers = await betting.operator(fund=None)
    deposited = await betting.deposit(headers, "c-9", 2500)
    reply = await betting.client.get("/v1/betting/customers/c-9", headers=headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["account_id"] == deposited["account_id"]
    assert (body["ledger"], body["currency"], body["operator"]) == (978, "EUR", "op-1")
    assert (body["balance_cents"], body["held_cents"], body["available_cents"]) == (2500, 0, 2500)
    await betting.deposit(headers, "c-9", 500, deposit_id="second")
    again = await betting.client.get("/v1/betting/customers/c-9", headers=headers)
    assert again.json()["balance_cents"] == 3000


async def test_a_customer_without_a_wallet_is_a_404_problem(betting: Betting) -> None:
    acme = await betting.operator()  # funds op-1's c-1
    rival = await betting.operator("op-2", fund=None)
    for path, headers in [
        ("/v1/betting/customers/nobody", acme),
        ("/v1/betting/customers/c-1", rival),  # another operator's customer
        ("/v1/betting/customers/c-1?currency=GBP", acme),  # no wallet in that currency
    ]:
        reply = await betting.client.get(path, headers=headers)
        assert reply.status_code == 404, path
        assert reply.headers["content-type"].startswith("application/problem+json")


async def test_a_deposit_id_reused_for_another_amount_is_a_409(betting: Betting) -> None:
    headers = await betting.operator()
    same = await betting.deposit(headers, "c-1", 1_000_000)  # the same deposit again
    assert same["result"] == "ok"
    reply = await betting.client.post(
        "/v1/betting/customers/c-1/deposits",
        json={"deposit_id": "funds", "amount_cents": 5},
        headers=headers,
    )
    assert reply.status_code == 409
    assert reply.json()["errors"] == [
        {"message": "already used for another request", "field": "deposit_id"}
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deposit_id": "d", "amount_cents": 0}, "amount_cents"),
        ({"deposit_id": "d", "amount_cents": 10**11 + 1}, "amount_cents"),
        ({"deposit_id": "d", "amount_cents": 10.5}, "amount_cents"),
        ({"deposit_id": "d", "amount_cents": 100, "currency": "XTS"}, "currency"),
        ({"amount_cents": 100}, "deposit_id"),
    ],
)
async def test_bad_deposits_get_a_400_naming_the_field(
    betting: Betting, body: dict[str, Any], field: str
) -> None:
    headers = await betting.operator(fund=None)
    reply = await betting.client.post(
        "/v1/betting/customers/c-1/deposits", json=body, headers=headers
    )
    assert reply.status_code == 400, reply.text
    assert field in [error["field"] for error in reply.json()["errors"]]
    assert await betting.log.end_offsets("betting.bets") == dict.fromkeys(range(8), 0)


# ------------------------------------------------------------------------------ auth

ROUTES = [
    ("POST", "/v1/betting/bets", "write:betting.bets"),
    ("GET", "/v1/betting/tickets/t-1", "read:betting.decisions"),
    ("POST", "/v1/betting/tickets/t-1/changes", "write:betting.bets"),
    ("POST", "/v1/betting/tickets/t-1/cash-out", "write:betting.bets"),
    ("GET", "/v1/betting/markets?event=x", "read:betting.odds"),
    ("GET", "/v1/betting/customers/c-1", "read:betting.decisions"),
    ("POST", "/v1/betting/customers/c-1/deposits", "write:betting.bets"),
]
OTHER_SCOPE = "read:results.units"


async def call(bare_routes: Routes, method: str, path: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    reply = await bare_routes.client.request(method, path, headers=headers, json={})
    assert reply.headers["content-type"].startswith("application/problem+json")
    return reply.status_code


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_every_route_refuses_a_missing_key(
    bare_routes: Routes, method: str, path: str, scope: str
) -> None:
    assert await call(bare_routes, method, path, None) == 401


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_every_route_refuses_an_unknown_key(
    bare_routes: Routes, method: str, path: str, scope: str
) -> None:
    assert await call(bare_routes, method, path, "fbk_000000000000_" + "x" * 43) == 401


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_every_route_refuses_a_revoked_key(
    bare_routes: Routes, method: str, path: str, scope: str
) -> None:
    assert await call(bare_routes, method, path, await bare_routes.key(scope, revoked=True)) == 401


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_every_route_refuses_a_key_without_the_scope(
    bare_routes: Routes, method: str, path: str, scope: str
) -> None:
    assert await call(bare_routes, method, path, await bare_routes.key(OTHER_SCOPE)) == 403


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_every_route_lets_the_right_scope_through(
    bare_routes: Routes, method: str, path: str, scope: str
) -> None:
    status = await call(bare_routes, method, path, await bare_routes.key(scope))
    assert status in (400, 404)  # past auth: an empty body, or nothing there
