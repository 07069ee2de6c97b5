"""The invariants on /metrics: violations and imbalances as gauges."""

from __future__ import annotations

from flambeau.services.payments.metrics import invariant_lines
from flambeau.services.payments.schemas import InvariantViolation, LedgerBalance, LedgerChecked


def sums(
    ledger: int, posted: tuple[int, int], pending: tuple[int, int], held: int
) -> LedgerBalance:
    return LedgerBalance(
        ledger=ledger,
        accounts=3,
        debits_posted=posted[0],
        credits_posted=posted[1],
        debits_pending=pending[0],
        credits_pending=pending[1],
        held=held,
    )


def test_a_sound_ledger_shows_zero_violations_and_zero_imbalance() -> None:
    check = LedgerChecked(
        partition=2, requests=1, transfers=1, ledgers=[sums(7, (50, 50), (5, 5), 5)]
    )
    lines = invariant_lines([check])
    assert 'flambeau_payments_invariant_violations{partition="2"} 0' in lines
    for kind in ("posted", "pending", "held"):
        assert f'flambeau_payments_ledger_imbalance{{ledger="7",kind="{kind}"}} 0' in lines
    assert 'flambeau_payments_ledger_balance{ledger="7",field="debits_posted"} 50' in lines
    assert 'flambeau_payments_ledger_accounts{ledger="7"} 3' in lines


def test_a_broken_ledger_shows_its_violations_and_imbalance() -> None:
    broken = LedgerChecked(
        partition=0,
        requests=1,
        transfers=1,
        ledgers=[sums(1, (51, 50), (0, 0), 0)],
        violations=[InvariantViolation(rule="posted_sums_differ", subject="ledger 1", detail="")],
        violations_total=3,
    )
    lines = invariant_lines([broken])
    assert 'flambeau_payments_invariant_violations{partition="0"} 3' in lines
    assert 'flambeau_payments_ledger_imbalance{ledger="1",kind="posted"} 1' in lines
