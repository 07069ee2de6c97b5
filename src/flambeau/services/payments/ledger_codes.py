"""Which failure code a transfer gets where several fields decide it, in TigerBeetle's order:
a replayed id compared with the stored transfer, and an amount that overflows a balance.

Both are the ledger's rare slow paths, kept apart from its transfer loop (:mod:`.ledger`).
"""

from __future__ import annotations

from flambeau.services.payments.results import TransferResult
from flambeau.services.payments.schemas import AMOUNT_MAX, Transfer, TransferFlags
from flambeau.services.payments.state import AccountRecord

__all__ = ["exists_code", "overflow_code"]

R = TransferResult
_RESOLVING = int(TransferFlags.post_pending_transfer) | int(TransferFlags.void_pending_transfer)


def exists_code(t: Transfer, e: Transfer) -> TransferResult:
    """Compare a replayed transfer with the stored one, field by field, in TigerBeetle's order.

    Post and void transfers may leave fields at zero to mean "as in the pending transfer", so
    only their nonzero fields are compared.
    """
    if t.flags != e.flags:
        return R.exists_with_different_flags
    if t.pending_id != e.pending_id:
        return R.exists_with_different_pending_id
    if t.timeout != e.timeout:
        return R.exists_with_different_timeout
    resolving = t.flags & _RESOLVING
    if t.debit_account_id != e.debit_account_id and not (resolving and t.debit_account_id == "0"):
        return R.exists_with_different_debit_account_id
    if t.credit_account_id != e.credit_account_id and not (
        resolving and t.credit_account_id == "0"
    ):
        return R.exists_with_different_credit_account_id
    if t.amount != e.amount and not (resolving and t.amount == 0):
        return R.exists_with_different_amount
    if t.user_data_128 != e.user_data_128 and not (resolving and t.user_data_128 == "0"):
        return R.exists_with_different_user_data_128
    if t.user_data_64 != e.user_data_64 and not (resolving and t.user_data_64 == 0):
        return R.exists_with_different_user_data_64
    if t.user_data_32 != e.user_data_32 and not (resolving and t.user_data_32 == 0):
        return R.exists_with_different_user_data_32
    if t.ledger != e.ledger and not (resolving and t.ledger == 0):
        return R.exists_with_different_ledger
    if t.code != e.code and not (resolving and t.code == 0):
        return R.exists_with_different_code
    return R.exists


def overflow_code(
    dr: AccountRecord, cr: AccountRecord, amount: int, pending: int
) -> TransferResult:
    """The precise overflow code, in TigerBeetle's precedence (the rare slow path)."""
    if pending and dr.debits_pending + amount > AMOUNT_MAX:
        return R.overflows_debits_pending
    if pending and cr.credits_pending + amount > AMOUNT_MAX:
        return R.overflows_credits_pending
    if not pending and dr.debits_posted + amount > AMOUNT_MAX:
        return R.overflows_debits_posted
    if not pending and cr.credits_posted + amount > AMOUNT_MAX:
        return R.overflows_credits_posted
    if dr.debits_pending + dr.debits_posted + amount > AMOUNT_MAX:
        return R.overflows_debits
    return R.overflows_credits
