"""The inline path for plain transfers decides exactly as the full path does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.services.payments import ledger
from flambeau.services.payments.schemas import Transfer
from flambeau.services.payments.state import LedgerState

from .ledgers import CLOSED, CMNED, DMNEC, account, apply, balances, ledger_with

IDS = st.one_of(
    st.integers(1, 10**6).map(str),
    st.sampled_from(["0", "01", "1 ", "-1", "١٢", str(2**128 - 1), str(2**128), "9" * 40, ""]),
)
ACCOUNTS = st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "0"])
PLAIN = st.builds(
    Transfer,
    id=IDS,
    debit_account_id=ACCOUNTS,
    credit_account_id=ACCOUNTS,
    amount=st.one_of(st.integers(0, 60), st.just(2**63 - 1)),
    ledger=st.sampled_from([1, 1, 1, 2, 0]),
    code=st.sampled_from([1, 1, 0]),
    timeout=st.sampled_from([0, 0, 0, 5]),
    pending_id=st.sampled_from(["0", "0", "0", "9"]),
    timestamp=st.sampled_from([0, 0, 0, 1]),
)


def ledger_state() -> LedgerState:
    return ledger_with(
        account(1),
        account(2),
        account(3, flags=DMNEC),
        account(4, flags=CMNED),
        account(5, flags=CLOSED),
        account(6, ledger=2),
    )


def decide(transfers: list[Transfer], request_ledger: int) -> tuple[object, ...]:
    state = ledger_state()
    results = []
    for chunk in (transfers[: len(transfers) // 2], transfers[len(transfers) // 2 :]):
        results += apply(state, *chunk, ledger=request_ledger)
    stored = state.to_items()
    return results, [balances(state, i) for i in "123456"], stored


@settings(max_examples=300, deadline=None)
@given(transfers=st.lists(PLAIN, min_size=1, max_size=12), request_ledger=st.sampled_from([0, 1]))
def test_the_fast_path_agrees_with_the_full_path(
    transfers: list[Transfer], request_ledger: int
) -> None:
    fast = decide(transfers, request_ledger)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ledger, "_FAST", False)
        full = decide(transfers, request_ledger)
    assert fast == full
