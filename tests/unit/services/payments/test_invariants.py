"""The invariant checks find each kind of corruption, and stay quiet on a sound ledger."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from flambeau.services.payments import invariants
from flambeau.services.payments.state import LedgerState
from flambeau.services.payments.status import TransferStatus as S

from .ledgers import DMNEC, account, apply, ledger_with, pending, post, transfer, void


def sound() -> LedgerState:
    state = ledger_with(account(1), account(2), account(3, flags=DMNEC), account(9, ledger=2))
    apply(state, transfer(10, 1, 3, 50), pending(11, amount=7), pending(12, amount=5))
    apply(state, post(13, 11, amount=4), pending(14, 3, 1, amount=20))
    return state


def test_a_sound_ledger_has_no_violations_and_balanced_totals() -> None:
    state = sound()
    assert invariants.check(state) == []
    totals = invariants.totals(state)
    assert totals[1] == invariants.LedgerTotals(
        ledger=1,
        accounts=3,
        debits_pending=25,
        debits_posted=54,
        credits_pending=25,
        credits_posted=54,
        held=25,
    )
    assert totals[2].accounts == 1


def _raise_posted(state: LedgerState) -> None:
    state.accounts["1"].debits_posted += 1


def _raise_pending(state: LedgerState) -> None:
    state.accounts["2"].credits_pending += 1


def _overdraw(state: LedgerState) -> None:
    state.accounts["3"].debits_posted += 100
    state.accounts["1"].credits_posted += 100


def _go_negative(state: LedgerState) -> None:
    state.accounts["1"].debits_posted -= 1000
    state.accounts["2"].credits_posted -= 1000


def _post_twice(state: LedgerState) -> None:
    state.transfers["99"] = msgspec.structs.replace(state.transfers["13"], id="99")


def _void_a_posted_hold(state: LedgerState) -> None:
    state.holds["11"] = S.VOIDED


def _posted_without_post(state: LedgerState) -> None:
    state.holds["12"] = S.POSTED


def _resolve_unknown(state: LedgerState) -> None:
    state.transfers["98"] = void(98, 77)


def _lose_a_hold(state: LedgerState) -> None:
    state.holds["12"] = S.EXPIRED


@pytest.mark.parametrize(
    ("corrupt", "rules"),
    [
        (_raise_posted, {"posted_sums_differ"}),
        (_raise_pending, {"pending_sums_differ"}),
        (_overdraw, {"debits_exceed_credits"}),
        (_go_negative, {"balance_out_of_range"}),
        (_post_twice, {"resolved_twice"}),
        (_void_a_posted_hold, {"status_disagrees"}),
        (_posted_without_post, {"status_without_resolution", "pending_sums_differ_from_holds"}),
        (_resolve_unknown, {"resolves_unknown_hold"}),
        (_lose_a_hold, {"pending_sums_differ_from_holds"}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_corruption_is_found(corrupt: Callable[[LedgerState], None], rules: set[str]) -> None:
    state = sound()
    corrupt(state)
    assert {violation.rule for violation in invariants.check(state)} == rules
