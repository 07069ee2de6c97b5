"""Shorthands for building accounts, transfers and ledgers in the payments tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flambeau.services.payments.ledger import apply_transfers, create_accounts
from flambeau.services.payments.results import AccountResult, TransferResult
from flambeau.services.payments.schemas import Account, AccountFlags, Transfer, TransferFlags
from flambeau.services.payments.state import LedgerState

NOW = datetime(2024, 7, 26, 19, 30, tzinfo=UTC)

DMNEC = int(AccountFlags.debits_must_not_exceed_credits)
CMNED = int(AccountFlags.credits_must_not_exceed_debits)
CLOSED = int(AccountFlags.closed)
LINKED = int(TransferFlags.linked)
PENDING = int(TransferFlags.pending)
POST = int(TransferFlags.post_pending_transfer)
VOID = int(TransferFlags.void_pending_transfer)


def account(account_id: str | int, ledger: int = 1, code: int = 1, **fields: Any) -> Account:
    return Account(id=str(account_id), ledger=ledger, code=code, **fields)


def transfer(
    transfer_id: str | int,
    debit: str | int = "1",
    credit: str | int = "2",
    amount: int = 10,
    ledger: int = 1,
    code: int = 1,
    **fields: Any,
) -> Transfer:
    return Transfer(
        id=str(transfer_id),
        debit_account_id=str(debit),
        credit_account_id=str(credit),
        amount=amount,
        ledger=ledger,
        code=code,
        **fields,
    )


def pending(transfer_id: str | int, *args: Any, timeout: int = 0, **fields: Any) -> Transfer:
    flags = PENDING | fields.pop("flags", 0)
    return transfer(transfer_id, *args, timeout=timeout, flags=flags, **fields)


def post(transfer_id: str | int, pending_id: str | int, amount: int = 0, **fields: Any) -> Transfer:
    flags = POST | fields.pop("flags", 0)
    return Transfer(
        id=str(transfer_id), pending_id=str(pending_id), amount=amount, flags=flags, **fields
    )


def void(transfer_id: str | int, pending_id: str | int, amount: int = 0, **fields: Any) -> Transfer:
    flags = VOID | fields.pop("flags", 0)
    return Transfer(
        id=str(transfer_id), pending_id=str(pending_id), amount=amount, flags=flags, **fields
    )


def ledger_with(*accounts: Account, now: datetime = NOW) -> LedgerState:
    state = LedgerState()
    results, _ = create_accounts(state, accounts, now)
    assert all(result is AccountResult.ok for result in results), results
    state.changes()
    return state


def apply(
    state: LedgerState, *transfers: Transfer, now: datetime = NOW, **options: Any
) -> list[TransferResult]:
    return apply_transfers(state, transfers, now, **options).results


def balances(state: LedgerState, account_id: str | int) -> tuple[int, int, int, int]:
    found = state.account(str(account_id))
    assert found is not None
    return (
        found.debits_pending,
        found.debits_posted,
        found.credits_pending,
        found.credits_posted,
    )


def snapshot(state: LedgerState) -> dict[str, bytes]:
    """Everything but the clock, which every batch advances."""
    items = state.to_items()
    del items["clock"]
    return items


def results_of(outcomes: Sequence[TransferResult]) -> list[str]:
    return [str(result) for result in outcomes]
