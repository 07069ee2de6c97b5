"""A deliberately simple reference model: balances recomputed from accepted decisions only.

It shares no code with :mod:`.ledger`. It reads the decision events of ``payments.transfers`` in
stream order and replays their accepted records, trusting the decisions but checking what a
recovery must never produce: a transfer applied twice, a hold resolved twice, money moved on an
unknown account. After a crash and recovery, the ledger's balances must equal this model's.

Its rules are the whole double-entry bookkeeping, in a few lines each:

- a created account starts at zero;
- a single-phase transfer adds ``amount`` to the debit's ``debits_posted`` and the credit's
  ``credits_posted``;
- a pending transfer does the same on the ``*_pending`` fields;
- a post or void takes the hold's full amount off the ``*_pending`` fields, and a post then adds
  its own ``amount`` to the ``*_posted`` fields;
- an expiry takes the hold's amount off the ``*_pending`` fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flambeau.events import Event
from flambeau.services.payments.errors import ReferenceMismatchError
from flambeau.services.payments.schemas import (
    AccountsDecided,
    Transfer,
    TransferFlags,
    TransfersDecided,
    TransfersExpired,
)

__all__ = ["Balances", "ReferenceModel", "reference_balances"]


@dataclass
class Balances:
    """The four sums of one account."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0


class ReferenceModel:
    """Balances from decisions; :meth:`apply` each decision event in stream order."""

    def __init__(self) -> None:
        self.balances: dict[str, Balances] = {}
        self.holds: dict[str, Transfer] = {}
        self.seen: set[str] = set()
        self.resolved: set[str] = set()

    def apply(self, event: Event) -> None:
        """Account for one event of ``payments.transfers``; other events are ignored.

        Raises:
            ReferenceMismatchError: the event applies a transfer or account twice, resolves a
                hold twice, or names an unknown account or hold.
        """
        match event:
            case AccountsDecided(accounts=accounts):
                for account in accounts:
                    if account.id in self.balances:
                        raise ReferenceMismatchError(f"account {account.id} created twice")
                    self.balances[account.id] = Balances()
            case TransfersDecided(transfers=transfers):
                for transfer in transfers:
                    self._transfer(transfer)
            case TransfersExpired(transfer_ids=ids):
                for hold_id in ids:
                    hold = self._resolve(hold_id)
                    self._account(hold.debit_account_id).debits_pending -= hold.amount
                    self._account(hold.credit_account_id).credits_pending -= hold.amount
            case _:
                pass

    def _transfer(self, transfer: Transfer) -> None:
        if transfer.id in self.seen:
            raise ReferenceMismatchError(f"transfer {transfer.id} applied twice")
        self.seen.add(transfer.id)
        debit = self._account(transfer.debit_account_id)
        credit = self._account(transfer.credit_account_id)
        flags = TransferFlags(transfer.flags)
        if TransferFlags.pending in flags:
            self.holds[transfer.id] = transfer
            debit.debits_pending += transfer.amount
            credit.credits_pending += transfer.amount
            return
        if flags & (TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer):
            hold = self._resolve(transfer.pending_id)
            debit.debits_pending -= hold.amount
            credit.credits_pending -= hold.amount
            if TransferFlags.void_pending_transfer in flags:
                return
        debit.debits_posted += transfer.amount
        credit.credits_posted += transfer.amount

    def _resolve(self, hold_id: str) -> Transfer:
        hold = self.holds.get(hold_id)
        if hold is None:
            raise ReferenceMismatchError(f"transfer {hold_id} is not a known hold")
        if hold_id in self.resolved:
            raise ReferenceMismatchError(f"hold {hold_id} resolved twice")
        self.resolved.add(hold_id)
        return hold

    def _account(self, account_id: str) -> Balances:
        balances = self.balances.get(account_id)
        if balances is None:
            raise ReferenceMismatchError(f"account {account_id} was never created")
        return balances


def reference_balances(decisions: Iterable[Event]) -> dict[str, Balances]:
    """Account id -> balances, from the decision events of one partition in stream order."""
    model = ReferenceModel()
    for event in decisions:
        model.apply(event)
    return model.balances
