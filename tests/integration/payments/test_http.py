"""The payments API over HTTP, decided by the ledger worker behind it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from flambeau.services.payments import routes as payments_routes
from flambeau.services.payments.metrics import invariant_gauges
from tests.integration.payments.conftest import Payments

DMNEC = 1 << 1
CLOSED = 1 << 5
LINKED = 1 << 0
PENDING = 1 << 1
POST = 1 << 2
VOID = 1 << 3


def account(account_id: int, ledger: int = 1, flags: int = 0) -> dict[str, Any]:
    return {"id": str(account_id), "ledger": ledger, "code": 1, "flags": flags}


def transfer(
    transfer_id: int, debit: int = 1, credit: int = 2, amount: int = 10, **fields: Any
) -> dict[str, Any]:
    return {
        "id": str(transfer_id),
        "debit_account_id": str(debit),
        "credit_account_id": str(credit),
        "amount": amount,
        "ledger": fields.pop("ledger", 1),
        "code": 1,
        **fields,
    }


def results(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["result"] for item in response.json()["results"]]


async def balances(payments: Payments, account_id: int) -> tuple[int, int, int, int]:
    response = await payments.get(f"/v1/payments/accounts/{account_id}")
    assert response.status_code == 200, response.text
    found = response.json()
    # every balance is shown, zeros included
    return (
        found["debits_pending"],
        found["debits_posted"],
        found["credits_pending"],
        found["credits_posted"],
    )


async def setup(payments: Payments) -> None:
    """Funding account 1, accounts 2 and 3, wallet 4 (must not overdraw), closed account 5."""
    created = await payments.post(
        "/v1/payments/accounts",
        [account(1), account(2), account(3), account(4, flags=DMNEC), account(5, flags=CLOSED)],
    )
    assert results(created) == ["ok"] * 5
    assert results(await payments.post("/v1/payments/transfers", transfer(100, 1, 4, 50))) == ["ok"]


async def test_a_transfer_moves_money_and_is_listed_on_both_accounts(payments: Payments) -> None:
    await setup(payments)
    response = await payments.post("/v1/payments/transfers", transfer(10, 4, 2, 30))
    assert results(response) == ["ok"]
    assert response.json()["results"][0]["id"] == "10"
    assert await balances(payments, 4) == (0, 30, 0, 50)
    assert await balances(payments, 2) == (0, 0, 0, 30)
    listed = await payments.get("/v1/payments/accounts/4/transfers")
    assert [(t["id"], t["status"]) for t in listed.json()["transfers"]] == [
        ("10", "posted"),
        ("100", "posted"),
    ]
    assert listed.json()["transfers"][0]["timestamp"] > listed.json()["transfers"][1]["timestamp"]


async def test_each_bad_transfer_gets_its_code_and_moves_nothing(payments: Payments) -> None:
    await setup(payments)
    before = {n: await balances(payments, n) for n in (1, 2, 3, 4, 5)}
    batch = {
        "transfers": [
            transfer(20, 4, 2, 51),  # the wallet holds 50
            transfer(21, 9, 2, 5),  # no account 9
            transfer(22, 1, 5, 5),  # account 5 is closed
            transfer(23, 1, 2, 0),  # zero amount
            transfer(24, 1, 2, 5, flags=LINKED),  # a chain still open at the end
        ]
    }
    response = await payments.post("/v1/payments/transfers", batch)
    assert results(response) == [
        "exceeds_credits",
        "debit_account_not_found",
        "credit_account_already_closed",
        "amount_must_not_be_zero",
        "linked_event_chain_open",
    ]
    assert {n: await balances(payments, n) for n in (1, 2, 3, 4, 5)} == before


async def test_posting_a_voided_or_an_expired_hold_is_refused(payments: Payments) -> None:
    await setup(payments)
    holds = [
        transfer(30, 1, 2, 20, flags=PENDING),
        transfer(31, 1, 3, 7, flags=PENDING, timeout=1),
    ]
    assert results(await payments.post("/v1/payments/transfers", holds)) == ["ok", "ok"]
    assert await balances(payments, 1) == (27, 50, 0, 0)
    void = {"id": "32", "pending_id": "30", "flags": VOID}
    assert results(await payments.post("/v1/payments/transfers", void)) == ["ok"]
    await asyncio.sleep(1.2)  # the hold's timeout passes in event time, stamped by the gateway
    late = [
        {"id": "33", "pending_id": "30", "flags": POST, "ledger": 1},
        {"id": "34", "pending_id": "31", "flags": POST, "ledger": 1},
    ]
    assert results(await payments.post("/v1/payments/transfers", late)) == [
        "pending_transfer_already_voided",
        "pending_transfer_expired",
    ]
    assert await balances(payments, 1) == (0, 50, 0, 0)
    listed = await payments.get("/v1/payments/accounts/3/transfers")
    assert [(t["id"], t["status"]) for t in listed.json()["transfers"]] == [("31", "expired")]


async def test_a_post_that_names_only_its_hold_finds_the_ledger(payments: Payments) -> None:
    await setup(payments)
    hold = transfer(40, 1, 2, 20, flags=PENDING)
    assert results(await payments.post("/v1/payments/transfers", hold)) == ["ok"]
    partial = {"id": "41", "pending_id": "40", "flags": POST, "amount": 15}
    assert results(await payments.post("/v1/payments/transfers", partial)) == ["ok"]
    assert await balances(payments, 2) == (0, 0, 0, 15)  # the other 5 were released


async def test_a_linked_chain_fails_as_a_whole(payments: Payments) -> None:
    await setup(payments)
    chain = [
        transfer(50, 1, 2, 5, flags=LINKED),
        transfer(51, 4, 3, 500, flags=LINKED),  # overdraws the wallet
        transfer(52, 1, 3, 5),
    ]
    assert results(await payments.post("/v1/payments/transfers", chain)) == [
        "linked_event_failed",
        "exceeds_credits",
        "linked_event_failed",
    ]
    assert await balances(payments, 2) == (0, 0, 0, 0)


async def test_the_same_idempotency_key_and_body_returns_the_first_result(
    payments: Payments,
) -> None:
    await setup(payments)
    body = [transfer(60, 4, 2, 20), transfer(61, 4, 2, 20)]
    headers = {"Idempotency-Key": "order-60"}
    first = await payments.post("/v1/payments/transfers", body, headers=headers)
    again = await payments.post("/v1/payments/transfers", body, headers=headers)
    assert results(first) == ["ok", "ok"]
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert await balances(payments, 4) == (0, 40, 0, 50)
    other = await payments.post("/v1/payments/transfers", [transfer(62, 4, 2, 1)], headers=headers)
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "order-60" in other.json()["detail"]
    # a transfer id is idempotent on its own too, across keys
    reused = [transfer(60, 4, 2, 20), transfer(61, 4, 2, 21)]
    assert results(await payments.post("/v1/payments/transfers", reused)) == [
        "exists",
        "exists_with_different_amount",
    ]
    assert await balances(payments, 4) == (0, 40, 0, 50)


async def test_malformed_amounts_are_refused_naming_the_field(payments: Payments) -> None:
    await setup(payments)
    ends = await payments.log.end_offsets("payments.requests")
    cases = [
        # an integral float (10.0) is an integer to JSON Schema, so the gateway takes it as 10
        (transfer(70, amount=1.5), "Expected `int`, got `float`"),
        (transfer(70, amount=-10), ">= 0"),
        (transfer(70, amount="10"), "Expected `int`, got `str`"),
    ]
    for item, message in cases:
        response = await payments.post("/v1/payments/transfers", [transfer(69), item])
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        (error,) = response.json()["errors"]
        assert (error["index"], error["field"]) == (1, "amount")
        assert message in error["message"]
    unknown = await payments.post("/v1/payments/transfers", {**transfer(71), "amuont": 5})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "amuont"
    numeric_id = await payments.post("/v1/payments/transfers", {"transfers": [{"id": 72}]})
    assert numeric_id.json()["errors"][0] == {
        "message": "Expected `str`, got `int`",
        "field": "id",
        "index": 0,
    }
    assert await balances(payments, 2) == (0, 0, 0, 0)
    assert await payments.log.end_offsets("payments.requests") == ends  # nothing appended


async def test_a_cross_ledger_transfer_is_refused_before_the_ledger(payments: Payments) -> None:
    await setup(payments)
    other = await payments.post("/v1/payments/accounts", [account(8, ledger=2)])
    assert results(other) == ["ok"]
    ends = await payments.log.end_offsets("payments.requests")
    response = await payments.post("/v1/payments/transfers", [transfer(80), transfer(81, 1, 8)])
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, "credit_account_id")
    assert "ledger 2" in error["message"]
    assert await payments.log.end_offsets("payments.requests") == ends  # nothing appended
    assert await balances(payments, 8) == (0, 0, 0, 0)


async def test_a_batch_of_8000_transfers_is_one_request(payments: Payments) -> None:
    await setup(payments)
    batch = [transfer(1_000 + n, 1, 2, 1) for n in range(8_000)]
    response = await payments.post("/v1/payments/transfers", {"transfers": batch}, timeout=60)
    assert results(response) == ["ok"] * 8_000
    assert await balances(payments, 2) == (0, 0, 0, 8_000)
    too_many = await payments.post("/v1/payments/transfers", [*batch, transfer(99999)])
    assert too_many.status_code == 413


async def test_without_waiting_the_reply_names_the_request_to_poll(payments: Payments) -> None:
    await setup(payments)
    response = await payments.post(
        "/v1/payments/transfers", transfer(90, 1, 3, 3), params={"wait": "false"}
    )
    assert response.status_code == 202
    location = response.headers["location"]
    assert location == f"/v1/payments/requests/{response.json()['request_id']}"
    for _ in range(100):
        polled = await payments.get(location)
        if polled.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert results(polled) == ["ok"]
    assert polled.json()["results"][0]["id"] == "90"


async def test_the_invariants_hold_after_traffic(payments: Payments) -> None:
    await setup(payments)
    await payments.post("/v1/payments/transfers", [transfer(95, 4, 2, 5), transfer(96, 9, 2)])
    checks = await payments.get("/v1/payments/invariants")
    assert checks.status_code == 200
    found = checks.json()
    assert found["ok"] is True
    assert found["violations_total"] == 0
    ledgers = [sums for check in found["partitions"] for sums in check["ledgers"]]
    assert {(s["ledger"], s["debits_posted"], s["credits_posted"]) for s in ledgers} == {
        (1, 55, 55)
    }
    # the same checks as gauges, for /metrics
    lines = invariant_gauges(payments.log)()
    assert any(line.startswith("flambeau_payments_invariant_violations{") for line in lines)
    violations = [line for line in lines if line.startswith("flambeau_payments_invariant_vi")]
    assert all(line.endswith(" 0") for line in violations)
    assert 'flambeau_payments_ledger_imbalance{ledger="1",kind="posted"} 0' in lines


async def test_unknown_accounts_are_404_problems(payments: Payments) -> None:
    for path in ("/v1/payments/accounts/77", "/v1/payments/accounts/77/transfers"):
        response = await payments.get(path)
        assert response.status_code == 404
        assert "77" in response.json()["detail"]


async def test_the_invariants_are_not_ok_while_requests_wait_unchecked(
    payments: Payments, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup(payments)
    fresh = (await payments.get("/v1/payments/invariants")).json()
    assert fresh["ok"] is True
    assert fresh["unchecked"] == 0
    assert fresh["checked_age_s"] >= 0
    # the ledger stops; requests keep coming: its last check no longer speaks for them
    await payments.worker_stopped()
    monkeypatch.setattr(payments_routes, "CHECKS_STALE_S", 0.0)
    posted = await payments.post("/v1/payments/transfers?wait=false", [transfer(97, 4, 2, 1)])
    assert posted.status_code == 202
    stale = (await payments.get("/v1/payments/invariants")).json()
    assert stale["violations_total"] == 0
    assert stale["unchecked"] == 1
    assert stale["ok"] is False


async def test_a_request_at_a_terminal_time_is_stored_at_that_time(payments: Payments) -> None:
    """``at`` (the terminals' clock, as a replayed day sends it) is the request's event time:
    the ledger stamps the transfer with it, and the analytics count the sale in its minute."""
    await setup(payments)
    at = "2024-08-04T17:02:30+00:00"
    body = {"transfers": [transfer(70, 4, 2, 5)], "ledger": 1, "at": at}
    assert results(await payments.post("/v1/payments/transfers", body)) == ["ok"]
    times = [r.time for p in range(8) for r in await payments.log.read("payments.requests", p, 0)]
    assert times.count(datetime.fromisoformat(at)) == 1
    naive = {"transfers": [transfer(71, 4, 2, 5)], "ledger": 1, "at": "2024-08-04T17:02:30"}
    refused = await payments.post("/v1/payments/transfers", naive)
    assert refused.status_code == 422, refused.text  # a time without a zone
    assert refused.json()["errors"][0]["field"] == "at"
