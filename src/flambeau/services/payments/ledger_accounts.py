"""Account creation in the ledger: TigerBeetle's ``create_accounts`` in pure Python.

:func:`create_accounts` creates a batch of accounts in a :class:`~.state.LedgerState` in order
and returns one :class:`~.results.AccountResult` per account. Linked accounts form a chain that
succeeds or fails as a unit, as linked transfers do (:mod:`.ledger`); replaying an id answers
``exists`` or ``exists_with_different_<field>``.

The account flag bits are kept here as plain integers, for the flag tests of both this module
and the transfer loop of :mod:`.ledger`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flambeau.services.payments.results import AccountResult
from flambeau.services.payments.schemas import U128_MAX, Account, AccountFlags
from flambeau.services.payments.state import AccountRecord, LedgerState, is_u128

__all__ = ["create_accounts"]

AR = AccountResult

_A_LINKED = int(AccountFlags.linked)
_DMNEC = int(AccountFlags.debits_must_not_exceed_credits)
_CMNED = int(AccountFlags.credits_must_not_exceed_debits)
_CLOSED = int(AccountFlags.closed)
_ACCOUNT_RESERVED = ~(_A_LINKED | _DMNEC | _CMNED | _CLOSED)

_MAX = str(U128_MAX)


def create_accounts(
    state: LedgerState,
    accounts: Sequence[Account],
    now: datetime,
    *,
    ledger: int = 0,
) -> tuple[list[AccountResult], list[Account]]:
    """Create a batch of accounts in order, as one TigerBeetle ``create_accounts`` request.

    Args:
        state: The partition's ledger state, changed in place.
        accounts: The batch; balances and timestamps must be zero.
        now: The batch's event time, for the accounts' timestamps.
        ledger: When nonzero, the ledger the request is keyed by.

    Returns:
        One result per account, and the created accounts in order.
    """
    count = len(accounts)
    base = state.tick(now, count)
    results: list[AccountResult] = []
    created: list[str] = []
    chain_start = -1
    chain_mark = 0
    broken = False
    for index, account in enumerate(accounts):
        linked = account.flags & _A_LINKED
        if linked and chain_start < 0:
            chain_start, chain_mark, broken = index, len(created), False
        if linked and index == count - 1:
            result = AR.linked_event_chain_open
        elif broken:
            result = AR.linked_event_failed
        else:
            result = _create_account(state, account, base + index, ledger)
            if result is AR.ok:
                created.append(account.id)
        results.append(result)
        if chain_start >= 0:
            if result is not AR.ok and not broken:
                broken = True
                for account_id in created[chain_mark:]:
                    del state.accounts[account_id]
                    state.dirty_accounts.discard(account_id)
                del created[chain_mark:]
                for earlier in range(chain_start, index):
                    results[earlier] = AR.linked_event_failed
            if not linked:
                chain_start, broken = -1, False
    return results, [state.accounts[account_id].to_account() for account_id in created]


def _create_account(
    state: LedgerState, a: Account, timestamp: int, request_ledger: int
) -> AccountResult:
    if a.timestamp:
        return AR.timestamp_must_be_zero
    if a.flags & _ACCOUNT_RESERVED:
        return AR.reserved_flag
    if a.id == "0":
        return AR.id_must_not_be_zero
    if a.id == _MAX:
        return AR.id_must_not_be_int_max
    existing = state.accounts.get(a.id)
    if existing is not None:
        return _account_exists(a, existing)
    if not is_u128(a.id):
        return AR.id_must_be_u128
    if a.flags & _DMNEC and a.flags & _CMNED:
        return AR.flags_are_mutually_exclusive
    if a.debits_pending:
        return AR.debits_pending_must_be_zero
    if a.debits_posted:
        return AR.debits_posted_must_be_zero
    if a.credits_pending:
        return AR.credits_pending_must_be_zero
    if a.credits_posted:
        return AR.credits_posted_must_be_zero
    if not a.ledger:
        return AR.ledger_must_not_be_zero
    if not a.code:
        return AR.code_must_not_be_zero
    if request_ledger and a.ledger != request_ledger:
        return AR.ledger_must_match_request
    state.accounts[a.id] = AccountRecord(
        a.id, a.ledger, a.code, a.flags, 0, 0, 0, 0, a.user_data_128, a.user_data_64,
        a.user_data_32, timestamp,
    )  # fmt: skip
    state.dirty_accounts.add(a.id)
    return AR.ok


def _account_exists(a: Account, e: AccountRecord) -> AccountResult:
    # A closing transfer may have closed the account since; that is not a different request.
    if (a.flags ^ e.flags) & ~_CLOSED:
        return AR.exists_with_different_flags
    if a.user_data_128 != e.user_data_128:
        return AR.exists_with_different_user_data_128
    if a.user_data_64 != e.user_data_64:
        return AR.exists_with_different_user_data_64
    if a.user_data_32 != e.user_data_32:
        return AR.exists_with_different_user_data_32
    if a.ledger != e.ledger:
        return AR.exists_with_different_ledger
    if a.code != e.code:
        return AR.exists_with_different_code
    return AR.exists
