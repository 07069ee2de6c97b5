"""Read model of customers' wallets, for ``GET /v1/betting/customers/{id}``.

:class:`WalletBook` folds the payments ledger's decisions (``payments.transfers``, decoded with
the payments service's published schemas) and keeps, for each betting wallet (an account of
code :data:`~.money.CUSTOMER_CODE`), its four balance sums, plus the result of each of the last
:data:`OUTCOMES_KEPT` betting requests by idempotency key (a deposit waits for its own). It is
rebuilt by any gateway from the log; the ledger stays the only source of truth.

Its memory is bounded: at most :data:`WALLETS_KEPT` wallets (the oldest created forgotten
first) and :data:`HOLDS_KEPT` open holds on them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing.view import View, view_of
from flambeau.services.betting.money import CUSTOMER_CODE
from flambeau.services.payments.schemas import (
    AccountsDecided,
    Transfer,
    TransferFlags,
    TransfersDecided,
    TransfersExpired,
)

__all__ = ["HOLDS_KEPT", "OUTCOMES_KEPT", "WALLETS_KEPT", "Wallet", "WalletBook", "wallet_book"]

WALLETS_KEPT = 1_000_000
"""Wallets the book keeps (about 200 bytes each)."""
HOLDS_KEPT = 200_000
"""Open holds on wallets the book keeps (a stake is held for the live delay of its bet)."""
OUTCOMES_KEPT = 100_000
"""Results of betting requests kept by idempotency key, the oldest forgotten first."""

_PENDING = int(TransferFlags.pending)
_POST = int(TransferFlags.post_pending_transfer)
_VOID = int(TransferFlags.void_pending_transfer)


class Wallet(msgspec.Struct, kw_only=True):
    """A customer's wallet account and its sums, in minor units of its ledger's currency."""

    account_id: str
    ledger: int
    flags: int
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def balance(self) -> int:
        """What the wallet holds: credits posted less debits posted."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What a new stake may take: the balance less the stakes held."""
        return self.balance - self.debits_pending


def _forget_oldest(table: dict[str, Any], kept: int) -> None:
    while len(table) > kept:
        del table[next(iter(table))]


class WalletBook:
    """The fold of ``payments.transfers`` restricted to betting wallets."""

    def __init__(self) -> None:
        self.wallets: dict[str, Wallet] = {}
        self.holds: dict[str, Transfer] = {}
        self.outcomes: dict[str, str] = {}

    def __call__(self, record: Record[Any]) -> None:
        """Apply one decision of the ledger."""
        match record.data:
            case AccountsDecided(accounts=created):
                for account in created:
                    if account.code == CUSTOMER_CODE:
                        self.wallets[account.id] = Wallet(
                            account_id=account.id, ledger=account.ledger, flags=account.flags
                        )
                _forget_oldest(self.wallets, WALLETS_KEPT)
            case TransfersDecided(idempotency_key=key, results=results, transfers=accepted):
                for transfer in accepted:
                    self._apply(transfer)
                if key.startswith("betting:") and len(results) == 1:
                    self.outcomes.setdefault(key, str(results[0]))
                    _forget_oldest(self.outcomes, OUTCOMES_KEPT)
            case TransfersExpired(transfer_ids=ids):
                for hold_id in ids:
                    self._release(hold_id)

    def _apply(self, t: Transfer) -> None:
        debit = self.wallets.get(t.debit_account_id)
        credit = self.wallets.get(t.credit_account_id)
        if t.flags & (_POST | _VOID):
            self._release(t.pending_id)
            if not t.flags & _POST:
                return
        elif t.flags & _PENDING:
            if debit is None and credit is None:
                return
            self.holds[t.id] = t
            _forget_oldest(self.holds, HOLDS_KEPT)
            if debit is not None:
                debit.debits_pending += t.amount
            if credit is not None:
                credit.credits_pending += t.amount
            return
        if debit is not None:
            debit.debits_posted += t.amount
        if credit is not None:
            credit.credits_posted += t.amount

    def _release(self, hold_id: str) -> None:
        hold = self.holds.pop(hold_id, None)
        if hold is None:
            return
        debit = self.wallets.get(hold.debit_account_id)
        credit = self.wallets.get(hold.credit_account_id)
        if debit is not None:
            debit.debits_pending -= hold.amount
        if credit is not None:
            credit.credits_pending -= hold.amount


def wallet_book(log: Log) -> tuple[View, WalletBook]:
    """The running wallets view of ``log`` (created on first use) and its book."""
    view = view_of(log, "betting.wallets", ["payments.transfers"], WalletBook)
    fold = view.fold
    assert isinstance(fold, WalletBook), f"view {view.name} folds into {type(fold).__name__}"
    return view, fold
