"""The ledger workload and micro-measurement measure accepted transfers, not refusals."""

from __future__ import annotations

from flambeau.bench._ledger_loop import START, build_workload, measure
from flambeau.services.payments import invariants
from flambeau.services.payments.ledger import apply_transfers
from flambeau.services.payments.results import TransferResult as R


def test_the_workload_is_funded_and_every_transfer_succeeds() -> None:
    state, work = build_workload(accounts=200, hot=10, batches=3, batch_size=100)
    assert len(state.accounts) == 200
    for batch in work:
        assert set(apply_transfers(state, batch, START).results) == {R.ok}
    hot = {t.credit_account_id for batch in work for t in batch}
    assert len(hot) <= 10
    assert invariants.check(state) == []


def test_measure_reports_every_figure() -> None:
    figures = measure(batches=2, batch_size=50, repeats=1)
    assert figures["transfers"] == 100
    assert set(figures) == {
        "transfers",
        "apply_per_s_wall",
        "apply_per_s_cpu",
        "decide_and_encode_per_s_wall",
        "decide_and_encode_per_s_cpu",
    }
