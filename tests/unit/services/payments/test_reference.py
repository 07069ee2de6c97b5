"""The ledger agrees with the independent reference model on random batches, across restarts."""

from __future__ import annotations

from dataclasses import astuple
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flambeau.events import Event
from flambeau.services.payments import invariants
from flambeau.services.payments.decisions import decide_accounts, decide_transfers
from flambeau.services.payments.errors import ReferenceMismatchError
from flambeau.services.payments.reference import Balances, ReferenceModel, reference_balances
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import (
    AccountsDecided,
    CreateAccounts,
    CreateTransfers,
    Transfer,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.services.payments.state import LedgerState

from .ledgers import CMNED, DMNEC, LINKED, NOW, account, pending, post, transfer, void

ACCOUNTS = [account(1), account(2), account(3, flags=DMNEC), account(4, flags=CMNED), account(5)]
IDS = [a.id for a in ACCOUNTS]


@st.composite
def workloads(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Batches of single-phase, pending, post, void and replayed transfers, some linked."""
    made: list[Transfer] = []
    next_id = 100
    plan = []
    for _ in range(draw(st.integers(1, 6))):
        batch: list[Transfer] = []
        for _ in range(draw(st.integers(1, 10))):
            kind = draw(st.sampled_from(["single", "single", "pending", "post", "void", "replay"]))
            flags = LINKED if draw(st.integers(0, 3)) == 0 else 0
            amount = draw(st.integers(0, 60))
            if kind == "replay" and made:
                original = draw(st.sampled_from(made))
                if draw(st.booleans()):
                    original = Transfer(**{**_fields(original), "amount": original.amount + 1})
                batch.append(original)
                continue
            next_id += 1
            if kind in ("post", "void") and made:
                target = draw(st.sampled_from(made)).id
                make = post if kind == "post" else void
                new = make(next_id, target, amount=draw(st.sampled_from([0, amount])), flags=flags)
            else:
                debit, credit = draw(st.sampled_from(IDS)), draw(st.sampled_from(IDS))
                timeout = draw(st.sampled_from([0, 0, 30, 90]))
                if kind == "pending":
                    new = pending(next_id, debit, credit, amount, timeout=timeout, flags=flags)
                else:
                    new = transfer(next_id, debit, credit, amount, flags=flags)
            batch.append(new)
            made.append(new)
        plan.append(
            {
                "batch": batch,
                "advance": draw(st.integers(0, 100)),
                "restart": draw(st.booleans()),
                "redeliver": draw(st.booleans()),
            }
        )
    return plan


def _fields(t: Transfer) -> dict[str, Any]:
    return {name: getattr(t, name) for name in t.__struct_fields__}


def ledger_balances(state: LedgerState) -> dict[str, tuple[int, ...]]:
    return {
        key: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        for key, a in state.accounts.items()
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_ledger_and_reference_agree_on_random_batches(plan: list[dict[str, Any]]) -> None:
    state = LedgerState()
    stored: dict[str, bytes] = {}
    events: list[Event] = []
    now = NOW
    events += decide_accounts(
        state, CreateAccounts(idempotency_key="accounts", ledger=1, accounts=ACCOUNTS), now
    ).events
    for number, step in enumerate(plan):
        now += timedelta(seconds=step["advance"])
        request = CreateTransfers(idempotency_key=f"r{number}", ledger=1, transfers=step["batch"])
        decided = decide_transfers(state, request, now).events
        events += decided
        if step["redeliver"]:
            # At-least-once delivery: the same request again must change nothing.
            again = decide_transfers(state, request, now).events
            events += again
            assert again[-1].replayed  # type: ignore[union-attr]
            assert again[-1].results == decided[-1].results  # type: ignore[union-attr]
        for key, value in state.changes().items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        if step["restart"]:
            # A crash after the commit: the worker reloads exactly what it stored.
            state = LedgerState.from_items(stored)
        assert invariants.check(state) == []
    expected = {key: astuple(value) for key, value in reference_balances(events).items()}
    assert ledger_balances(state) == expected


def test_reference_follows_holds_posts_voids_and_expiries() -> None:
    events: list[Event] = [
        AccountsDecided(idempotency_key="a", ledger=1, results=[], accounts=[*ACCOUNTS[:2]]),
        TransfersDecided(
            idempotency_key="t",
            ledger=1,
            results=[R.ok] * 5,
            transfers=[
                transfer(10, amount=5),
                pending(11, amount=7),
                post(12, 11, amount=3, debit_account_id="1", credit_account_id="2"),
                pending(13, amount=2),
                pending(14, amount=4),
            ],
        ),
        TransfersDecided(
            idempotency_key="u",
            ledger=1,
            results=[R.ok],
            transfers=[void(15, 13, debit_account_id="1", credit_account_id="2")],
        ),
        TransfersExpired(ledger=1, transfer_ids=["14"]),
    ]
    balances = reference_balances(events)
    assert balances["1"] == Balances(debits_pending=0, debits_posted=8)
    assert balances["2"] == Balances(credits_pending=0, credits_posted=8)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            [TransfersDecided(idempotency_key="t", ledger=1, results=[], transfers=[transfer(9)])],
            "account 1 was never created",
        ),
        (
            [
                AccountsDecided(idempotency_key="a", ledger=1, results=[], accounts=ACCOUNTS[:2]),
                TransfersDecided(
                    idempotency_key="t", ledger=1, results=[], transfers=[transfer(9), transfer(9)]
                ),
            ],
            "transfer 9 applied twice",
        ),
        (
            [
                AccountsDecided(idempotency_key="a", ledger=1, results=[], accounts=ACCOUNTS[:2]),
                TransfersDecided(
                    idempotency_key="t",
                    ledger=1,
                    results=[],
                    transfers=[
                        pending(9),
                        void(10, 9, debit_account_id="1", credit_account_id="2"),
                    ],
                ),
                TransfersExpired(ledger=1, transfer_ids=["9"]),
            ],
            "hold 9 resolved twice",
        ),
        (
            [
                AccountsDecided(idempotency_key="a", ledger=1, results=[], accounts=ACCOUNTS[:1]),
                AccountsDecided(idempotency_key="b", ledger=1, results=[], accounts=ACCOUNTS[:1]),
            ],
            "account 1 created twice",
        ),
    ],
)
def test_reference_refuses_what_recovery_must_never_produce(
    events: list[Event], message: str
) -> None:
    with pytest.raises(ReferenceMismatchError, match=message):
        ReferenceModel().balances.update(reference_balances(events))
