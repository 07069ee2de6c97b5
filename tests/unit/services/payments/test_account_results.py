"""Every account result code, and linked account chains."""

from __future__ import annotations

from typing import Any

import pytest

from flambeau.services.payments.ledger import create_accounts
from flambeau.services.payments.results import AccountResult as AR
from flambeau.services.payments.schemas import U128_MAX, Account
from flambeau.services.payments.state import LedgerState

from .ledgers import CLOSED, CMNED, DMNEC, NOW, account, apply, ledger_with, pending, snapshot

EXISTING = account(10, ledger=1, code=1, user_data_128="9", user_data_64=9, user_data_32=9)


def changed(**fields: Any) -> Account:
    return Account(
        **{
            "id": "10",
            "ledger": 1,
            "code": 1,
            "user_data_128": "9",
            "user_data_64": 9,
            "user_data_32": 9,
            **fields,
        }
    )


CASES: dict[AR, tuple[list[Account], int, int]] = {
    # code: (batch, index of interest, request ledger)
    AR.ok: ([account(20)], 0, 0),
    AR.linked_event_failed: ([account(20, flags=1), account(21, code=0)], 0, 0),
    AR.linked_event_chain_open: ([account(20, flags=1)], 0, 0),
    AR.timestamp_must_be_zero: ([account(20, timestamp=5)], 0, 0),
    AR.reserved_flag: ([account(20, flags=1 << 3)], 0, 0),
    AR.id_must_not_be_zero: ([account(0)], 0, 0),
    AR.id_must_not_be_int_max: ([account(U128_MAX)], 0, 0),
    AR.exists_with_different_flags: ([changed(flags=DMNEC)], 0, 0),
    AR.exists_with_different_user_data_128: ([changed(user_data_128="8")], 0, 0),
    AR.exists_with_different_user_data_64: ([changed(user_data_64=8)], 0, 0),
    AR.exists_with_different_user_data_32: ([changed(user_data_32=8)], 0, 0),
    AR.exists_with_different_ledger: ([changed(ledger=2)], 0, 0),
    AR.exists_with_different_code: ([changed(code=2)], 0, 0),
    AR.exists: ([changed()], 0, 0),
    AR.id_must_be_u128: ([account("x1")], 0, 0),
    AR.flags_are_mutually_exclusive: ([account(20, flags=DMNEC | CMNED)], 0, 0),
    AR.debits_pending_must_be_zero: ([account(20, debits_pending=1)], 0, 0),
    AR.debits_posted_must_be_zero: ([account(20, debits_posted=1)], 0, 0),
    AR.credits_pending_must_be_zero: ([account(20, credits_pending=1)], 0, 0),
    AR.credits_posted_must_be_zero: ([account(20, credits_posted=1)], 0, 0),
    AR.ledger_must_not_be_zero: ([account(20, ledger=0)], 0, 0),
    AR.code_must_not_be_zero: ([account(20, code=0)], 0, 0),
    AR.ledger_must_match_request: ([account(20, ledger=2)], 0, 1),
}


def test_every_account_result_code_has_a_scenario() -> None:
    assert set(AR) - set(CASES) == set()


@pytest.mark.parametrize("code", list(AR), ids=str)
def test_scenario_returns_its_code(code: AR) -> None:
    state = ledger_with(EXISTING)
    batch, index, ledger = CASES[code]
    before = snapshot(state)
    results, created = create_accounts(state, batch, NOW, ledger=ledger)
    assert results[index] is code
    if code is AR.ok:
        assert [found.id for found in created] == ["20"]
    else:
        assert created == []
        assert snapshot(state) == before
        assert set(state.changes()) <= {"clock"}


def test_a_failed_chain_creates_none_of_its_accounts_and_others_still_succeed() -> None:
    state = LedgerState()
    batch = [account(1), account(2, flags=1), account(3, flags=1), account(0), account(4)]
    results, created = create_accounts(state, batch, NOW)
    assert results == [
        AR.ok,
        AR.linked_event_failed,
        AR.linked_event_failed,
        AR.id_must_not_be_zero,
        AR.ok,
    ]
    assert [found.id for found in created] == ["1", "4"]
    assert state.account("2") is None
    assert state.account("3") is None


def test_created_accounts_get_increasing_timestamps_and_zero_balances() -> None:
    state = LedgerState()
    _, created = create_accounts(state, [account(1), account(2)], NOW)
    assert created[0].timestamp < created[1].timestamp
    assert (created[0].debits_posted, created[0].credits_posted) == (0, 0)


def test_replaying_a_created_account_after_a_closing_hold_still_answers_exists() -> None:
    state = ledger_with(account(1), account(2))
    closing = pending(50, flags=1 << 6)
    assert str(apply(state, closing)[0]) == "ok"
    assert state.accounts["1"].flags & CLOSED
    results, _ = create_accounts(state, [account(1)], NOW)
    assert results == [AR.exists]
