"""Every payments route against: no key, a wrong key, a revoked key, a key of the wrong scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.integration.payments.conftest import Payments

WRONG_KEY = "fbk_0123456789ab_" + "x" * 43
ACCOUNT = {"id": "1", "ledger": 1, "code": 1}
TRANSFER = {"id": "9", "debit_account_id": "1", "credit_account_id": "2", "amount": 1, "ledger": 1}

Call = Callable[[Payments, "str | None"], Awaitable[int]]


async def create_accounts(payments: Payments, key: str | None) -> int:
    async with payments.client(key) as client:
        response = await client.post(
            "/v1/payments/accounts", json=ACCOUNT, params={"wait": "false"}
        )
        return response.status_code


async def create_transfers(payments: Payments, key: str | None) -> int:
    async with payments.client(key) as client:
        response = await client.post(
            "/v1/payments/transfers", json=TRANSFER, params={"wait": "false"}
        )
        return response.status_code


def getter(path: str) -> Call:
    async def get(payments: Payments, key: str | None) -> int:
        async with payments.client(key) as client:
            return (await client.get(path)).status_code

    return get


WRITES: dict[str, Call] = {
    "create accounts": create_accounts,
    "create transfers": create_transfers,
}
READS: dict[str, tuple[Call, str]] = {
    "account": (getter("/v1/payments/accounts/1"), "payments.transfers"),
    "account transfers": (getter("/v1/payments/accounts/1/transfers"), "payments.transfers"),
    "request": (getter("/v1/payments/requests/pay-0"), "payments.transfers"),
    "invariants": (getter("/v1/payments/invariants"), "payments.checks"),
}
ALL: dict[str, Call] = {**WRITES, **{name: call for name, (call, _) in READS.items()}}


@pytest.mark.parametrize("route", list(ALL))
async def test_no_key_is_401(payments: Payments, route: str) -> None:
    assert await ALL[route](payments, None) == 401


@pytest.mark.parametrize("route", list(ALL))
async def test_a_wrong_key_is_401(payments: Payments, route: str) -> None:
    assert await ALL[route](payments, WRONG_KEY) == 401


@pytest.mark.parametrize("route", list(ALL))
async def test_a_revoked_key_is_401(payments: Payments, route: str) -> None:
    key = await payments.served.key("write:payments.*", "read:payments.*")
    await payments.served.gateway.keys.revoke(key.split("_")[1])
    assert await ALL[route](payments, key) == 401


@pytest.mark.parametrize("route", list(WRITES))
async def test_reading_scopes_do_not_grant_posting(payments: Payments, route: str) -> None:
    assert await WRITES[route](payments, payments.reader) == 403
    other = await payments.served.key("write:betting.*")
    assert await WRITES[route](payments, other) == 403


@pytest.mark.parametrize("route", list(READS))
async def test_writing_scopes_do_not_grant_reading(payments: Payments, route: str) -> None:
    call, _ = READS[route]
    writer = await payments.served.key("write:payments.requests")
    assert await call(payments, writer) == 403


@pytest.mark.parametrize("route", list(READS))
async def test_reading_another_payments_stream_is_403(payments: Payments, route: str) -> None:
    call, stream = READS[route]
    elsewhere = "payments.alerts" if stream != "payments.alerts" else "payments.transfers"
    key = await payments.served.key(f"read:{elsewhere}")
    assert await call(payments, key) == 403


@pytest.mark.parametrize("route", list(ALL))
async def test_the_right_scope_passes_the_checks(payments: Payments, route: str) -> None:
    # a decision-free answer (202 accepted, 404 unknown, 200) but never 401 or 403
    assert await ALL[route](payments, payments.writer) not in (401, 403)
