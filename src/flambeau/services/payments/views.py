"""Read models of the payments routes and metrics: balances, recent transfers, decisions, checks.

Both views are folds of the ledger processor's output streams (see
:func:`flambeau.processing.view_of`), so any gateway rebuilds them from the log and none of
them is a source of truth. The routes answer queries from them, check a ``POST`` against the
holds and ledgers they know before appending it, and wait on them for its decision;
``/metrics`` reads the latest checks:

- :class:`LedgerView` folds ``payments.transfers``. It keeps every account with its four
  balance sums (recomputed from the accepted records alone, as :mod:`.reference` does, plus
  the ``closed`` flag that closing holds set), the status of every hold, the last
  :data:`RECENT_PER_ACCOUNT` transfers of each account, and the decision of each of the last
  :data:`DECISIONS_KEPT` requests (and at most :data:`RESULTS_KEPT` item results in all), by
  request event id, which is what a ``POST`` waits for.
- :class:`ChecksView` folds ``payments.checks``: the latest invariant check of each processor
  partition.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any, cast

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.payments.memo import Memo
from flambeau.services.payments.schemas import (
    AccountFlags,
    AccountsDecided,
    LedgerChecked,
    RequestRejected,
    Transfer,
    TransferFlags,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.services.payments.state import AccountRecord
from flambeau.services.payments.status import TransferStatus

__all__ = [
    "DECISIONS_KEPT",
    "RECENT_PER_ACCOUNT",
    "RESULTS_KEPT",
    "ChecksView",
    "LedgerView",
    "checks_view",
    "ledger_view",
]

RECENT_PER_ACCOUNT = 200
"""Transfers kept per account for ``GET /v1/payments/accounts/{id}/transfers``."""
DECISIONS_KEPT = 100_000
"""Request decisions kept for replies (their results only); older ones are forgotten first."""
RESULTS_KEPT = 1_000_000
"""Item results kept over all those decisions (a request carries up to 8,000 items)."""

RequestDecision = AccountsDecided | TransfersDecided | RequestRejected

_PENDING = int(TransferFlags.pending)
_POST = int(TransferFlags.post_pending_transfer)
_VOID = int(TransferFlags.void_pending_transfer)
_CLOSING_DEBIT = int(TransferFlags.closing_debit)
_CLOSING_CREDIT = int(TransferFlags.closing_credit)
_CLOSED = int(AccountFlags.closed)


class LedgerView:
    """The fold of ``payments.transfers``; call it with each typed record, in order.

    Attributes:
        accounts: Account id -> the account with its balances.
        holds: Pending transfer id -> the pending transfer.
        statuses: Pending transfer id -> its status.
        recent: Account id -> its latest transfers, oldest first.
        decisions: Request event id -> the first decision of that request, without the
            accounts or transfers it created (a reply names results only).
    """

    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.holds: dict[str, Transfer] = {}
        self.statuses: dict[str, TransferStatus] = {}
        self.recent: dict[str, deque[Transfer]] = {}
        self.decisions: Memo[RequestDecision] = Memo(DECISIONS_KEPT, RESULTS_KEPT, _results)

    def __call__(self, record: Record[Any]) -> None:
        """Apply one decision record of ``payments.transfers``."""
        event = record.data
        match event:
            case AccountsDecided(accounts=created):
                for account in created:
                    self.accounts[account.id] = AccountRecord(
                        account.id, account.ledger, account.code, account.flags, 0, 0, 0, 0,
                        account.user_data_128, account.user_data_64, account.user_data_32,
                        account.timestamp,
                    )  # fmt: skip
            case TransfersDecided(transfers=accepted):
                for transfer in accepted:
                    self._apply(transfer)
            case TransfersExpired(transfer_ids=ids):
                for hold_id in ids:
                    self._release(hold_id, TransferStatus.EXPIRED)
        if isinstance(event, RequestDecision) and record.causation_id is not None:
            self._remember(record.causation_id, event)

    def _remember(self, request_id: str, event: RequestDecision) -> None:
        # A request appended again after the log's dedupe window keeps its first decision.
        if request_id in self.decisions:
            return
        # What a reply needs: the results, not the accounts or transfers (kept elsewhere).
        if isinstance(event, TransfersDecided) and event.transfers:
            event = msgspec.structs.replace(event, transfers=[])
        elif isinstance(event, AccountsDecided) and event.accounts:
            event = msgspec.structs.replace(event, accounts=[])
        self.decisions.remember(request_id, event)

    def _apply(self, t: Transfer) -> None:
        debit = self.accounts.get(t.debit_account_id)
        credit = self.accounts.get(t.credit_account_id)
        if debit is None or credit is None:
            return  # the ledger only accepts transfers between accounts it created
        flags = t.flags
        if flags & _PENDING:
            debit.debits_pending += t.amount
            credit.credits_pending += t.amount
            self.holds[t.id] = t
            self.statuses[t.id] = TransferStatus.PENDING
            if flags & _CLOSING_DEBIT:
                debit.flags |= _CLOSED
            if flags & _CLOSING_CREDIT:
                credit.flags |= _CLOSED
        elif flags & (_POST | _VOID):
            self._release(t.pending_id, TransferStatus.POSTED if flags & _POST else None)
            if flags & _POST:
                debit.debits_posted += t.amount
                credit.credits_posted += t.amount
        else:
            debit.debits_posted += t.amount
            credit.credits_posted += t.amount
        for account_id in (t.debit_account_id, t.credit_account_id):
            recent = self.recent.get(account_id)
            if recent is None:
                recent = self.recent[account_id] = deque(maxlen=RECENT_PER_ACCOUNT)
            recent.append(t)

    def _release(self, hold_id: str, status: TransferStatus | None) -> None:
        """Take a hold off the pending sums; ``None`` means voided."""
        hold = self.holds.get(hold_id)
        if hold is None or self.statuses.get(hold_id) is not TransferStatus.PENDING:
            return
        debit = self.accounts[hold.debit_account_id]
        credit = self.accounts[hold.credit_account_id]
        debit.debits_pending -= hold.amount
        credit.credits_pending -= hold.amount
        if status is not TransferStatus.POSTED:  # voided or expired: a closing hold reopens
            if hold.flags & _CLOSING_DEBIT:
                debit.flags &= ~_CLOSED
            if hold.flags & _CLOSING_CREDIT:
                credit.flags &= ~_CLOSED
        self.statuses[hold_id] = TransferStatus.VOIDED if status is None else status

    def status(self, transfer: Transfer) -> TransferStatus:
        """A listed transfer's status: a hold's own, POSTED for every other accepted one."""
        if transfer.flags & _PENDING:
            return self.statuses.get(transfer.id, TransferStatus.PENDING)
        return TransferStatus.VOIDED if transfer.flags & _VOID else TransferStatus.POSTED


def _results(decision: RequestDecision) -> int:
    return 0 if isinstance(decision, RequestRejected) else len(decision.results)


class ChecksView:
    """The fold of ``payments.checks``: the latest check of each processor partition."""

    def __init__(self) -> None:
        self.latest: dict[int, LedgerChecked] = {}
        self.checked_at: dict[int, datetime] = {}
        """When each partition's latest check was stored."""

    def __call__(self, record: Record[Any]) -> None:
        """Keep ``record`` as its partition's latest check."""
        check = record.data
        if isinstance(check, LedgerChecked):
            self.latest[check.partition] = check
            self.checked_at[check.partition] = record.ingested_at


def ledger_view(log: Log) -> tuple[View, LedgerView]:
    """The running :class:`LedgerView` of ``log`` (one per log and process)."""
    view = view_of(log, "payments.ledger", ["payments.transfers"], LedgerView)
    return view, cast(LedgerView, view.fold)


def checks_view(log: Log) -> tuple[View, ChecksView]:
    """The running :class:`ChecksView` of ``log``."""
    view = view_of(log, "payments.checks", ["payments.checks"], ChecksView)
    return view, cast(ChecksView, view.fold)
