"""The ledger processor, run through ``flambeau.testing`` with no backend."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest

from flambeau.events import NewEvent
from flambeau.log import partition_for
from flambeau.services.payments.books import TOKEN_KEY
from flambeau.services.payments.decisions import PaymentsState
from flambeau.services.payments.monitor import Monitor
from flambeau.services.payments.processors import ALERTS, CHECKS, DECISIONS, ledger, shelf
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import (
    CreateAccounts,
    CreateTransfers,
    FraudAlert,
    LedgerChecked,
    PaymentContext,
    Transfer,
    TransferCode,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.testing import RunResult, run

from .ledgers import DMNEC, LINKED, NOW, account, pending, post, transfer, void


def accounts(key: str = "accounts", ledger: int = 1, *ids: int) -> NewEvent:
    chosen = ids or (1, 2, 3)
    created = [account(i, ledger=ledger) for i in chosen]
    return NewEvent(
        CreateAccounts(idempotency_key=key, ledger=ledger, accounts=created),
        key=str(ledger),
        id=f"req-{key}",
        time=NOW,
    )


def transfers(
    key: str, *items: Transfer, ledger: int = 1, at: timedelta = timedelta(), **fields: Any
) -> NewEvent:
    request = CreateTransfers(idempotency_key=key, ledger=ledger, transfers=list(items), **fields)
    return NewEvent(request, key=str(ledger), id=f"req-{key}", time=NOW + at)


def decisions(result: RunResult) -> list[Any]:
    return result.events(DECISIONS)


def decided(result: RunResult, key: str) -> TransfersDecided:
    found = [e for e in decisions(result) if isinstance(e, TransfersDecided)]
    matching = [e for e in found if e.idempotency_key == key]
    assert len(matching) == 1, matching
    return matching[0]


def partition_state(result: RunResult, ledger_id: int = 1) -> PaymentsState:
    stored = result.raw_state[partition_for(str(ledger_id), 8)]
    return PaymentsState.load({k: v for k, v in stored.items() if k[:2] not in ("p/", "~w")})


def test_each_request_gets_one_decision_keyed_by_ledger_and_caused_by_it() -> None:
    result = run(ledger, [accounts(), transfers("t", transfer(10), transfer(11, amount=5))])
    records = result.records(DECISIONS)
    assert [r.causation_id for r in records] == ["req-accounts", "req-t"]
    assert {r.key for r in records} == {"1"}
    assert decided(result, "t").results == [R.ok, R.ok]
    balances = partition_state(result).ledger.account("2")
    assert balances is not None
    assert balances.credits_posted == 15


def test_a_replayed_request_answers_its_first_results_and_moves_nothing() -> None:
    first = transfers("t", transfer(10, amount=7))
    again = NewEvent(first.data, key="1", id="req-t-again", time=NOW + timedelta(seconds=1))
    result = run(ledger, [accounts(), first, again])
    replies = [e for e in decisions(result) if isinstance(e, TransfersDecided)]
    assert [(r.results, r.replayed, len(r.transfers)) for r in replies] == [
        ([R.ok], False, 1),
        ([R.ok], True, 0),
    ]
    credit = partition_state(result).ledger.account("2")
    assert credit is not None
    assert credit.credits_posted == 7


def test_holds_expire_by_the_event_time_of_later_requests_not_the_wall_clock() -> None:
    hold = transfers("hold", pending(10, amount=9, timeout=60))
    early = transfers("early", transfer(11, amount=1), at=timedelta(seconds=59))
    late = transfers("late", post(12, 10), at=timedelta(seconds=61))
    result = run(ledger, [accounts(), hold, early, late])
    events = decisions(result)
    expired = [e for e in events if isinstance(e, TransfersExpired)]
    assert expired == [TransfersExpired(ledger=1, transfer_ids=["10"])]
    # the expiry is reported before the decision of the request whose time passed the deadline
    assert events.index(expired[0]) == events.index(decided(result, "late")) - 1
    assert decided(result, "late").results == [R.pending_transfer_expired]
    state = partition_state(result).ledger
    assert state.account("1") is not None
    assert (state.account("1").debits_pending, state.account("1").debits_posted) == (0, 1)  # type: ignore[union-attr]


def test_fraud_alerts_are_emitted_in_the_batch_of_the_transfer_they_name() -> None:
    card = [
        transfers(
            f"buy-{n}",
            transfer(100 + n, amount=500),
            at=timedelta(minutes=n),
            contexts=[PaymentContext(transfer_id=str(100 + n), card="tok-1", terminal="t-1")],
        )
        for n in range(5)
    ]
    result = run(ledger, [accounts(), *card])
    alerts = result.records(ALERTS)
    assert alerts, "four payments by one card within an hour must fire card_hourly"
    assert all(isinstance(r.data, FraudAlert) for r in alerts)
    assert {r.data.rule_id for r in alerts} == {"card_hourly"}
    # each alert is caused by the request of the transfer it names, and keyed by its ledger
    for alert in alerts:
        assert alert.causation_id == f"req-buy-{int(alert.data.transfer_id) - 100}"
        assert alert.key == "1"


def test_settlements_arrive_as_ordinary_transfer_requests() -> None:
    wallet = account(5, flags=DMNEC)
    setup = NewEvent(
        CreateAccounts(idempotency_key="acc", ledger=1, accounts=[account(1), wallet, account(6)]),
        key="1",
        time=NOW,
    )
    stake = transfer(20, debit=5, credit=6, amount=200, code=TransferCode.bet_stake)
    top_up = transfer(19, debit=1, credit=5, amount=500, code=TransferCode.top_up)
    payout = transfer(21, debit=6, credit=5, amount=900, code=TransferCode.bet_payout)
    result = run(
        ledger,
        [
            setup,
            transfers("bet-1-stake", stake, origin="betting"),
            transfers("top-up", top_up, origin="venues"),
            transfers("bet-1-stake-again", stake, origin="betting"),
            transfers("bet-1-payout", payout, origin="betting"),
        ],
    )
    assert decided(result, "bet-1-stake").results == [R.exceeds_credits]  # wallet was empty
    assert decided(result, "bet-1-stake-again").results == [R.ok]
    assert decided(result, "bet-1-payout").results == [R.ok]
    state = partition_state(result).ledger.account("5")
    assert state is not None
    assert state.credits_posted - state.debits_posted == 500 - 200 + 900


def test_every_batch_emits_an_invariant_check_with_the_ledger_sums() -> None:
    result = run(
        ledger,
        [accounts(), transfers("t", transfer(10, amount=4), pending(11, amount=6))],
        batch_size=1,
    )
    checks = result.events(CHECKS)
    assert all(isinstance(c, LedgerChecked) for c in checks)
    assert checks[0].full
    assert checks[0].ledgers == []
    last = checks[-1]
    assert not last.full
    assert last.violations == []
    assert last.violations_total == 0
    (sums,) = last.ledgers
    assert (sums.debits_posted, sums.credits_posted, sums.debits_pending, sums.held) == (4, 4, 6, 6)


def test_a_corrupted_balance_is_reported_by_the_next_check(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = shelf.take

    def corrupt(tx: Any) -> Any:
        book = taken(tx)
        account2 = book.state.ledger.accounts.get("2")
        if account2 is not None:
            account2.credits_posted += 1  # money from nowhere, behind the ledger's back
        return book

    monkeypatch.setattr(shelf, "take", corrupt)
    result = run(ledger, [accounts(), transfers("t", transfer(10))], batch_size=1)
    last = result.events(CHECKS)[-1]
    assert last.violations_total >= 1
    assert "posted_sums_differ" in {v.rule for v in last.violations}


def test_a_linked_chain_is_applied_whole_or_not_at_all() -> None:
    chain = transfers(
        "chain",
        transfer(10, amount=3, flags=LINKED),
        transfer(11, debit=3, credit=2, amount=2, flags=LINKED),
        transfer(12, debit=2, credit=99, amount=1),  # unknown account: the chain fails
    )
    result = run(ledger, [accounts(), chain])
    assert decided(result, "chain").results == [
        R.linked_event_failed,
        R.linked_event_failed,
        R.credit_account_not_found,
    ]
    assert decided(result, "chain").transfers == []
    assert result.events(CHECKS)[-1].violations == []


def keep_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the processor reload its partition from ``tx.state`` before every batch."""
    monkeypatch.setattr(shelf, "file", lambda tx, book: tx.state.put(TOKEN_KEY, os.urandom(16)))


WORKLOAD = [
    accounts(),
    accounts("other", 2, 7, 8),
    transfers("a", transfer(10, amount=4), pending(11, amount=6, timeout=30)),
    transfers("b", pending(12, debit=7, credit=8, amount=5, ledger=2), ledger=2),
    transfers("c", post(13, 11, amount=2), transfer(14, amount=1), at=timedelta(seconds=5)),
    transfers("d", pending(15, amount=8, timeout=10), at=timedelta(seconds=6)),
    transfers("e", void(16, 12), ledger=2, at=timedelta(seconds=7)),
    transfers("f", transfer(17, amount=2), at=timedelta(seconds=20)),
    transfers("a", transfer(10, amount=4), pending(11, amount=6, timeout=30)),
    transfers("g", transfer(10, amount=5), at=timedelta(seconds=21)),
]


def test_reloading_the_partition_before_every_batch_changes_no_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = run(ledger, WORKLOAD, batch_size=2)
    keep_nothing(monkeypatch)
    loads = shelf.loads
    reloaded = run(ledger, WORKLOAD, batch_size=2, restart_every=1)
    assert shelf.loads - loads >= 5, "the partition was not reloaded between batches"
    assert decisions(reloaded) == decisions(kept)
    assert [r.id for r in reloaded.records(DECISIONS)] == [r.id for r in kept.records(DECISIONS)]
    assert decided(kept, "g").results == [R.exists_with_different_amount]
    before = partition_state(kept).ledger
    after = partition_state(reloaded).ledger
    assert after.accounts == before.accounts
    assert after.holds == before.holds


def test_a_handler_failure_discards_the_half_applied_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean = run(ledger, [e for e in WORKLOAD if e.id != "req-c"], batch_size=100)
    observe = Monitor.observe

    def failing(self: Monitor, request: Any, outcome: Any) -> None:
        if request.idempotency_key == "c":  # after "c" moved money in the kept state
            raise RuntimeError("injected failure")
        observe(self, request, outcome)

    monkeypatch.setattr(Monitor, "observe", failing)
    poisoned = run(ledger, WORKLOAD, batch_size=100)
    dead = poisoned.records(ledger.dead_stream)
    assert [r.causation_id for r in dead] == ["req-c"]
    assert decisions(poisoned) == decisions(clean)
    assert partition_state(poisoned).ledger.accounts == partition_state(clean).ledger.accounts
