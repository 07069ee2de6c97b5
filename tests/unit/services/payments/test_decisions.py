"""Requests to decisions: request idempotency, expiry events, fraud screening."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flambeau.services.payments.decisions import (
    KEY_REUSED,
    PaymentsState,
    decide_accounts,
    decide_transfers,
)
from flambeau.services.payments.fraud import Dimension, FraudEngine, VelocityRule
from flambeau.services.payments.results import AccountResult as AR
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import (
    AccountsDecided,
    CreateAccounts,
    CreateTransfers,
    FraudMode,
    PaymentContext,
    RequestRejected,
    Transfer,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.services.payments.state import LedgerState

from .ledgers import LINKED, NOW, account, balances, ledger_with, pending, snapshot, transfer


@pytest.fixture
def state() -> LedgerState:
    return ledger_with(account(1), account(2), account(3, ledger=2), account(4, ledger=2))


def request(
    key: str,
    *transfers: Transfer,
    ledger: int = 1,
    contexts: list[PaymentContext] | None = None,
) -> CreateTransfers:
    return CreateTransfers(
        idempotency_key=key, ledger=ledger, transfers=list(transfers), contexts=contexts or []
    )


def only_decision(events: list[object]) -> TransfersDecided:
    assert len(events) == 1
    decided = events[0]
    assert isinstance(decided, TransfersDecided)
    return decided


def test_a_new_request_is_applied_and_reports_its_records(state: LedgerState) -> None:
    decided = only_decision(decide_transfers(state, request("k", transfer(10)), NOW).events)
    assert decided.results == [R.ok]
    assert [t.id for t in decided.transfers] == ["10"]
    assert decided.transfers[0].timestamp > 0
    assert not decided.replayed


def test_replaying_a_request_returns_the_first_results_and_applies_nothing(
    state: LedgerState,
) -> None:
    first = request("k", transfer(10), transfer(11, amount=0))
    decide_transfers(state, first, NOW)
    before = snapshot(state)
    again = only_decision(decide_transfers(state, first, NOW + timedelta(hours=1)).events)
    assert again.replayed
    assert again.results == [R.ok, R.amount_must_not_be_zero]
    assert again.transfers == []
    assert snapshot(state) == before
    assert balances(state, 1) == (0, 10, 0, 0)


def test_reusing_a_key_for_another_request_is_refused(state: LedgerState) -> None:
    decide_transfers(state, request("k", transfer(10)), NOW)
    before = snapshot(state)
    events = decide_transfers(state, request("k", transfer(10, amount=11)), NOW).events
    assert events == [
        RequestRejected(
            idempotency_key="k",
            ledger=1,
            reason=KEY_REUSED,
            detail="idempotency key 'k' was first used for a different request",
        )
    ]
    assert snapshot(state) == before


def test_a_key_used_for_accounts_cannot_be_replayed_for_transfers(state: LedgerState) -> None:
    decide_accounts(
        state, CreateAccounts(idempotency_key="k", ledger=1, accounts=[account(9)]), NOW
    )
    events = decide_transfers(state, request("k", transfer(10)), NOW).events
    assert isinstance(events[-1], RequestRejected)


def test_account_requests_are_idempotent_too(state: LedgerState) -> None:
    create = CreateAccounts(idempotency_key="a", ledger=1, accounts=[account(9), account(0)])
    first = decide_accounts(state, create, NOW).events
    again = decide_accounts(state, create, NOW).events
    assert isinstance(first[-1], AccountsDecided)
    assert isinstance(again[-1], AccountsDecided)
    assert first[-1].results == again[-1].results == [AR.ok, AR.id_must_not_be_zero]
    assert [a.id for a in first[-1].accounts] == ["9"]
    assert again[-1].replayed
    assert again[-1].accounts == []


def test_keys_are_forgotten_after_a_day_of_event_time(state: LedgerState) -> None:
    decide_transfers(state, request("k", transfer(10)), NOW)
    assert "r/k" in state.changes()
    later = NOW + timedelta(hours=24, seconds=1)
    # Another request's event time moves the window past the key.
    decide_transfers(state, request("other", transfer(11)), later)
    assert state.changes()["r/k"] is None
    decided = only_decision(decide_transfers(state, request("k", transfer(10)), later).events)
    assert not decided.replayed
    assert decided.results == [R.exists]


def test_idempotency_survives_a_restart(state: LedgerState) -> None:
    decide_transfers(state, request("k", transfer(10)), NOW)
    restored = LedgerState.from_items(state.to_items())
    decided = only_decision(decide_transfers(restored, request("k", transfer(10)), NOW).events)
    assert decided.replayed


def test_due_holds_expire_first_in_one_event_per_ledger(state: LedgerState) -> None:
    holds = [pending(10, timeout=5), pending(11, timeout=5)]
    decide_transfers(state, request("a", *holds), NOW)
    decide_transfers(state, request("b", pending(12, 3, 4, ledger=2, timeout=5), ledger=2), NOW)
    events = decide_transfers(state, request("c", transfer(13)), NOW + timedelta(seconds=10))
    assert events.events[:2] == [
        TransfersExpired(ledger=1, transfer_ids=["10", "11"]),
        TransfersExpired(ledger=2, transfer_ids=["12"]),
    ]
    assert isinstance(events.events[2], TransfersDecided)


def test_a_fraud_block_fails_the_transfer_and_its_chain(state: LedgerState) -> None:
    engine = FraudEngine(
        [
            VelocityRule(
                id="one_per_card",
                mode=FraudMode.block,
                dimension=Dimension.card,
                window="1h",
                threshold=1,
            )
        ]
    )
    contexts = [PaymentContext(transfer_id=str(i), card="tok_1") for i in (10, 11)]
    batch = request(
        "k",
        transfer(10),
        transfer(11, flags=LINKED),
        transfer(12),
        transfer(13),
        contexts=contexts,
    )
    decided = decide_transfers(state, batch, NOW, fraud=engine)
    assert only_decision(decided.events).results == [
        R.ok,
        R.blocked_by_fraud_rule,
        R.linked_event_failed,
        R.ok,
    ]
    assert [(a.rule_id, a.transfer_id, a.blocked) for a in decided.alerts] == [
        ("one_per_card", "11", True)
    ]
    counters = engine.to_items()
    again = decide_transfers(state, batch, NOW, fraud=engine)
    assert again.alerts == []
    assert engine.to_items() == counters  # a replay is not counted as new attempts


def test_a_partition_state_handles_both_requests_and_reloads_from_its_changes() -> None:
    partition = PaymentsState()
    stored: dict[str, bytes] = {}

    def commit() -> None:
        for key, value in partition.changes().items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value

    accounts = CreateAccounts(idempotency_key="a", ledger=1, accounts=[account(1), account(2)])
    assert partition.handle(accounts, NOW).events[0].results == [AR.ok, AR.ok]  # type: ignore[union-attr]
    commit()
    contexts = [PaymentContext(transfer_id="10", card="tok", terminal="t1")]
    decided = partition.handle(request("t", transfer(10), contexts=contexts), NOW)
    assert only_decision(decided.events).results == [R.ok]
    commit()
    assert {key[:4] for key in stored if key.startswith("f/")} == {"f/c/", "f/b/"}
    reloaded = PaymentsState.load(stored)
    assert reloaded.ledger.to_items() == partition.ledger.to_items()
    assert reloaded.fraud.to_items() == partition.fraud.to_items()
    again = reloaded.handle(request("t", transfer(10), contexts=contexts), NOW)
    assert only_decision(again.events).replayed
