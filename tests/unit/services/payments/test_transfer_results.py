"""Every transfer result code has a scenario, and a refused batch leaves the ledger untouched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import AMOUNT_MAX, U128_MAX, Transfer, TransferFlags
from flambeau.services.payments.state import LedgerState

from .ledgers import (
    CLOSED,
    CMNED,
    DMNEC,
    LINKED,
    NOW,
    account,
    apply,
    ledger_with,
    pending,
    post,
    snapshot,
    transfer,
    void,
)

MAX = str(U128_MAX)


class Case(NamedTuple):
    state: LedgerState
    batch: list[Transfer]
    index: int = -1
    options: dict[str, Any] = {}
    now: datetime = NOW


CASES: dict[R, Callable[[], Case]] = {}


def case(code: R) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    def register(build: Callable[[], Case]) -> Callable[[], Case]:
        CASES[code] = build
        return build

    return register


def standard() -> LedgerState:
    """Accounts 1 and 2 plain, 3 may not overdraw, 4 may not take more than it gave,
    5 closed, 6 and 7 on ledger 2."""
    return ledger_with(
        account(1),
        account(2),
        account(3, flags=DMNEC),
        account(4, flags=CMNED),
        account(5, flags=CLOSED),
        account(6, ledger=2),
        account(7, ledger=2),
    )


def with_history(*setup: Transfer, now: datetime = NOW) -> LedgerState:
    state = standard()
    assert all(result is R.ok for result in apply(state, *setup, now=now))
    state.changes()
    return state


def replay(field: str, value: Any) -> Case:
    original = transfer(100, user_data_128="9", user_data_64=9, user_data_32=9)
    state = with_history(original)
    changed = Transfer(**{**_fields(original), "timestamp": 0, field: value})
    return Case(state, [changed])


def _fields(t: Transfer) -> dict[str, Any]:
    return {name: getattr(t, name) for name in t.__struct_fields__}


@case(R.ok)
def _() -> Case:
    return Case(standard(), [transfer(100)])


@case(R.linked_event_failed)
def _() -> Case:
    return Case(standard(), [transfer(100, flags=LINKED), transfer(101, amount=0)], index=0)


@case(R.linked_event_chain_open)
def _() -> Case:
    return Case(standard(), [transfer(100, flags=LINKED)])


@case(R.timestamp_must_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, timestamp=1)])


@case(R.reserved_flag)
def _() -> Case:
    return Case(standard(), [transfer(100, flags=1 << 4)])


@case(R.id_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(0)])


@case(R.id_must_not_be_int_max)
def _() -> Case:
    return Case(standard(), [transfer(MAX)])


@case(R.exists_with_different_flags)
def _() -> Case:
    return replay("flags", int(TransferFlags.pending))


@case(R.exists_with_different_pending_id)
def _() -> Case:
    return replay("pending_id", "7")


@case(R.exists_with_different_timeout)
def _() -> Case:
    return replay("timeout", 5)


@case(R.exists_with_different_debit_account_id)
def _() -> Case:
    return replay("debit_account_id", "3")


@case(R.exists_with_different_credit_account_id)
def _() -> Case:
    return replay("credit_account_id", "3")


@case(R.exists_with_different_amount)
def _() -> Case:
    return replay("amount", 11)


@case(R.exists_with_different_user_data_128)
def _() -> Case:
    return replay("user_data_128", "8")


@case(R.exists_with_different_user_data_64)
def _() -> Case:
    return replay("user_data_64", 8)


@case(R.exists_with_different_user_data_32)
def _() -> Case:
    return replay("user_data_32", 8)


@case(R.exists_with_different_ledger)
def _() -> Case:
    return replay("ledger", 2)


@case(R.exists_with_different_code)
def _() -> Case:
    return replay("code", 2)


@case(R.exists)
def _() -> Case:
    return replay("amount", 10)


@case(R.id_must_be_u128)
def _() -> Case:
    return Case(standard(), [transfer("0100")])


@case(R.flags_are_mutually_exclusive)
def _() -> Case:
    flags = int(TransferFlags.pending | TransferFlags.void_pending_transfer)
    return Case(standard(), [transfer(100, flags=flags)])


@case(R.debit_account_id_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=0)])


@case(R.debit_account_id_must_not_be_int_max)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=MAX)])


@case(R.credit_account_id_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, credit=0)])


@case(R.credit_account_id_must_not_be_int_max)
def _() -> Case:
    return Case(standard(), [transfer(100, credit=MAX)])


@case(R.accounts_must_be_different)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=1, credit=1)])


@case(R.pending_id_must_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, pending_id="50")])


@case(R.pending_id_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [post(100, 0)])


@case(R.pending_id_must_not_be_int_max)
def _() -> Case:
    return Case(standard(), [void(100, MAX)])


@case(R.pending_id_must_be_different)
def _() -> Case:
    return Case(standard(), [post(100, 100)])


@case(R.timeout_reserved_for_pending_transfer)
def _() -> Case:
    return Case(standard(), [transfer(100, timeout=60)])


@case(R.closing_transfer_must_be_pending)
def _() -> Case:
    return Case(standard(), [transfer(100, flags=int(TransferFlags.closing_debit))])


@case(R.amount_must_not_be_negative)
def _() -> Case:
    # The stream decoders refuse this already; the ledger does not rely on them.
    return Case(standard(), [transfer(100, amount=-5)])


@case(R.amount_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, amount=0)])


@case(R.ledger_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, ledger=0)])


@case(R.code_must_not_be_zero)
def _() -> Case:
    return Case(standard(), [transfer(100, code=0)])


@case(R.ledger_must_match_request)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=6, credit=7, ledger=2)], options={"ledger": 1})


@case(R.debit_account_not_found)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=99)])


@case(R.credit_account_not_found)
def _() -> Case:
    return Case(standard(), [transfer(100, credit=99)])


@case(R.accounts_must_have_the_same_ledger)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=1, credit=6)])


@case(R.transfer_must_have_the_same_ledger_as_accounts)
def _() -> Case:
    return Case(standard(), [transfer(100, ledger=2)])


@case(R.pending_transfer_not_found)
def _() -> Case:
    return Case(standard(), [post(100, 50)])


@case(R.pending_transfer_not_pending)
def _() -> Case:
    return Case(with_history(transfer(50)), [post(100, 50)])


@case(R.pending_transfer_has_different_debit_account_id)
def _() -> Case:
    return Case(with_history(pending(50)), [post(100, 50, debit_account_id="3")])


@case(R.pending_transfer_has_different_credit_account_id)
def _() -> Case:
    return Case(with_history(pending(50)), [post(100, 50, credit_account_id="3")])


@case(R.pending_transfer_has_different_ledger)
def _() -> Case:
    return Case(with_history(pending(50)), [void(100, 50, ledger=2)])


@case(R.pending_transfer_has_different_code)
def _() -> Case:
    return Case(with_history(pending(50)), [void(100, 50, code=2)])


@case(R.exceeds_pending_transfer_amount)
def _() -> Case:
    return Case(with_history(pending(50, amount=10)), [post(100, 50, amount=11)])


@case(R.pending_transfer_has_different_amount)
def _() -> Case:
    return Case(with_history(pending(50, amount=10)), [void(100, 50, amount=4)])


@case(R.pending_transfer_already_posted)
def _() -> Case:
    return Case(with_history(pending(50), post(51, 50)), [void(100, 50)])


@case(R.pending_transfer_already_voided)
def _() -> Case:
    return Case(with_history(pending(50), void(51, 50)), [post(100, 50)])


@case(R.pending_transfer_expired)
def _() -> Case:
    # The hold is due but nobody released it yet: the ledger still refuses to post it.
    return Case(
        with_history(pending(50, timeout=60)), [post(100, 50)], now=NOW + timedelta(seconds=61)
    )


@case(R.overflows_debits_pending)
def _() -> Case:
    state = with_history(pending(50, debit=1, credit=2, amount=AMOUNT_MAX))
    return Case(state, [pending(100, debit=1, credit=4, amount=1)])


@case(R.overflows_credits_pending)
def _() -> Case:
    state = with_history(pending(50, debit=1, credit=2, amount=AMOUNT_MAX))
    return Case(state, [pending(100, debit=4, credit=2, amount=1)])


@case(R.overflows_debits_posted)
def _() -> Case:
    state = with_history(transfer(50, debit=1, credit=2, amount=AMOUNT_MAX))
    return Case(state, [transfer(100, debit=1, credit=4, amount=1)])


@case(R.overflows_credits_posted)
def _() -> Case:
    state = with_history(transfer(50, debit=1, credit=2, amount=AMOUNT_MAX))
    return Case(state, [transfer(100, debit=4, credit=2, amount=1)])


@case(R.overflows_debits)
def _() -> Case:
    state = with_history(pending(50, debit=1, credit=2, amount=2**62))
    return Case(state, [transfer(100, debit=1, credit=4, amount=2**62)])


@case(R.overflows_credits)
def _() -> Case:
    state = with_history(pending(50, debit=1, credit=2, amount=2**62))
    return Case(state, [transfer(100, debit=4, credit=2, amount=2**62)])


@case(R.overflows_timeout)
def _() -> Case:
    # Timestamps are signed 64-bit nanoseconds, which run out in 2262.
    late = datetime(2262, 1, 1, tzinfo=UTC)
    return Case(standard(), [pending(100, timeout=2**32 - 1)], now=late)


@case(R.exceeds_credits)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=3, credit=1)])


@case(R.exceeds_debits)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=1, credit=4)])


@case(R.debit_account_already_closed)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=5, credit=1)])


@case(R.credit_account_already_closed)
def _() -> Case:
    return Case(standard(), [transfer(100, debit=1, credit=5)])


@case(R.blocked_by_fraud_rule)
def _() -> Case:
    return Case(standard(), [transfer(100)], options={"refused": {0: R.blocked_by_fraud_rule}})


def test_every_result_code_has_a_scenario() -> None:
    assert set(R) - set(CASES) == set()


@pytest.mark.parametrize("code", list(R), ids=str)
def test_scenario_returns_its_code(code: R) -> None:
    built = CASES[code]()
    results = apply(built.state, *built.batch, now=built.now, **built.options)
    assert results[built.index] is code


@pytest.mark.parametrize("code", [code for code in R if code is not R.ok], ids=str)
def test_a_refused_batch_leaves_the_ledger_untouched(code: R) -> None:
    built = CASES[code]()
    before = snapshot(built.state)
    results = apply(built.state, *built.batch, now=built.now, **built.options)
    assert R.ok not in results
    assert snapshot(built.state) == before
    assert set(built.state.changes()) <= {"clock"}


def test_a_post_may_leave_fields_at_zero_or_repeat_the_pending_ones() -> None:
    state = with_history(pending(50, amount=10))
    explicit = post(
        100, 50, amount=4, debit_account_id="1", credit_account_id="2", ledger=1, code=1
    )
    assert apply(state, explicit) == [R.ok]
    assert apply(state, post(100, 50, amount=4)) == [R.exists]
    assert apply(state, post(100, 50, amount=5)) == [R.exists_with_different_amount]
