"""The ledger: TigerBeetle's double-entry model in pure Python.

:func:`apply_transfers` applies a batch of transfers to a :class:`~.state.LedgerState` in order
and returns one :class:`~.results.TransferResult` per transfer; :func:`create_accounts` does the
same for accounts (:mod:`.ledger_accounts`, re-exported here); :func:`expire` releases holds
whose timeout passed. Every function takes the batch's event time ``now``; the ledger never
reads the clock.

Semantics, as TigerBeetle's:

- A transfer moves ``amount`` from a debit account to a credit account of the same ledger.
- A pending transfer adds its amount to ``debits_pending``/``credits_pending``; posting moves
  up to that amount to the ``*_posted`` fields and releases the rest; voiding releases all;
  a timeout releases all when event time reaches ``timestamp + timeout``. A hold resolves once.
- Linked transfers (``flags.linked``) form a chain that ends at the first transfer without the
  flag. The chain succeeds or fails as a unit: the first failure keeps its own code, the others
  get ``linked_event_failed``, and the effects of those already applied are undone. A chain
  still open at the end of the batch fails, its last event with ``linked_event_chain_open``.
- Replaying an id with identical content answers ``exists``; with different content,
  ``exists_with_different_<field>``. Only accepted events are stored, so a failed id may be
  retried (TigerBeetle before its ``id_already_failed`` code).
- A pending transfer with ``closing_debit``/``closing_credit`` closes its account(s); voiding or
  expiry reopens them. Closed accounts refuse new transfers.

The transfer loop is the hot path (the goal is at least 100k transfers/s through the
processor), so it is written flat: local variables, integer flag tests, and the undo log of a
linked chain only kept while a chain is open. A plain transfer outside a chain that passes
every check at once (the common case) is applied inline by ``_FastPath``; any other,
including every failure, goes through :func:`_create_transfer`, which names the first failed
check in TigerBeetle's order. A property test holds both paths to the same results.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

import msgspec

from flambeau.services.payments.ledger_accounts import (
    _CLOSED,
    _CMNED,
    _DMNEC,
    _MAX,
    create_accounts,
)
from flambeau.services.payments.ledger_codes import exists_code, overflow_code
from flambeau.services.payments.results import TransferResult
from flambeau.services.payments.schemas import (
    AMOUNT_MAX,
    Transfer,
    TransferFlags,
)
from flambeau.services.payments.state import (
    NS,
    TIMESTAMP_MAX,
    AccountRecord,
    LedgerState,
    deadline,
    event_time_ns,
    is_u128,
)
from flambeau.services.payments.status import TransferStatus, transition

__all__ = ["TransferOutcome", "apply_transfers", "create_accounts", "expire"]

R = TransferResult
_OK = R.ok
_PENDING_STATUS = TransferStatus.PENDING

_LINKED = int(TransferFlags.linked)
_PENDING = int(TransferFlags.pending)
_POST = int(TransferFlags.post_pending_transfer)
_VOID = int(TransferFlags.void_pending_transfer)
_CLOSING_DEBIT = int(TransferFlags.closing_debit)
_CLOSING_CREDIT = int(TransferFlags.closing_credit)
_CLOSING = _CLOSING_DEBIT | _CLOSING_CREDIT
_PHASES = _PENDING | _POST | _VOID
_TRANSFER_RESERVED = ~(_LINKED | _PHASES | _CLOSING)


_replace = msgspec.structs.replace
_FAST = True
"""Take the fast path for plain transfers (tests turn it off to compare both paths)."""


class TransferOutcome(NamedTuple):
    """One result per transfer of the batch, and the records of the accepted ones, in order."""

    results: list[TransferResult]
    transfers: list[Transfer]


class _Undo:
    """What a linked chain changed so far, to put back if the chain fails.

    Each entry also remembers whether its key was already dirty before the chain, so a failed
    chain leaves no key marked as changed that it did not change.
    """

    __slots__ = ("accounts", "holds", "transfers")

    def __init__(self) -> None:
        self.accounts: list[tuple[AccountRecord, int, int, int, int, int, bool]] = []
        self.transfers: list[str] = []
        self.holds: list[tuple[str, TransferStatus | None, bool]] = []

    def save(self, account: AccountRecord, dirty: set[str]) -> None:
        self.accounts.append(
            (
                account,
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
                account.flags,
                account.id in dirty,
            )
        )

    def rollback(self, state: LedgerState) -> None:
        # Reverse order, so a key saved twice ends with its first (pre-chain) values.
        dirty_accounts = state.dirty_accounts
        for account, dp, dpo, cp, cpo, flags, was_dirty in reversed(self.accounts):
            account.debits_pending = dp
            account.debits_posted = dpo
            account.credits_pending = cp
            account.credits_posted = cpo
            account.flags = flags
            if not was_dirty:
                dirty_accounts.discard(account.id)
        for transfer_id in self.transfers:
            del state.transfers[transfer_id]
            state.dirty_transfers.pop(transfer_id, None)
        for hold_id, status, was_dirty in reversed(self.holds):
            if status is None:
                del state.holds[hold_id]
            else:
                state.holds[hold_id] = status
            if not was_dirty:
                state.dirty_holds.discard(hold_id)


def expire(state: LedgerState, now: datetime) -> list[Transfer]:
    """Release every hold whose timeout passed at event time ``now``.

    Returns:
        The pending transfers that expired, in deadline order.
    """
    now_ns = max(event_time_ns(now), state.clock)
    deadlines = state.deadlines
    expired: list[Transfer] = []
    while deadlines and deadlines[0][0] <= now_ns:
        due, hold_id = heapq.heappop(deadlines)
        pending = state.transfers.get(hold_id)
        # Entries of rolled-back or already resolved holds stay in the heap; skip them.
        if (
            pending is None
            or state.holds.get(hold_id) is not _PENDING_STATUS
            or deadline(pending) != due
        ):
            continue
        debit = state.accounts[pending.debit_account_id]
        credit = state.accounts[pending.credit_account_id]
        debit.debits_pending -= pending.amount
        credit.credits_pending -= pending.amount
        _reopen(pending.flags, debit, credit)
        state.holds[hold_id] = transition(_PENDING_STATUS, TransferStatus.EXPIRED)
        state.dirty_holds.add(hold_id)
        state.dirty_accounts.add(debit.id)
        state.dirty_accounts.add(credit.id)
        expired.append(pending)
    return expired


def _reopen(flags: int, debit: AccountRecord, credit: AccountRecord) -> None:
    """A closing hold that is voided or expires gives its accounts back."""
    if flags & _CLOSING_DEBIT:
        debit.flags &= ~_CLOSED
    if flags & _CLOSING_CREDIT:
        credit.flags &= ~_CLOSED


class _FastPath:
    """The common case, applied inline: a plain transfer outside a chain that passes every
    check at once. :meth:`apply` answers ``False`` for anything else, failures included, which
    then take :func:`_create_transfer` to be named."""

    __slots__ = (
        "_accounts",
        "_dirty",
        "_fresh",
        "_ledger",
        "_sealed",
        "_touched",
        "base",
        "records",
    )

    def __init__(
        self, state: LedgerState, transfers: Sequence[Transfer], base: int, ledger: int
    ) -> None:
        self.base = base
        self.records: list[Transfer] = []
        self._accounts = state.accounts
        self._fresh = state.transfers.fresh
        self._dirty = state.dirty_transfers
        self._touched = state.dirty_accounts
        self._sealed = state.transfers.maybe_sealed([t.id for t in transfers])
        self._ledger = ledger

    def apply(self, transfer: Transfer, index: int) -> bool:
        """Apply ``transfer`` (the batch's ``index``-th) if it passes every check at once."""
        tid = transfer.id
        fresh = self._fresh
        dr = self._accounts.get(transfer.debit_account_id)
        cr = self._accounts.get(transfer.credit_account_id)
        amount = transfer.amount
        ledger = self._ledger
        if not (
            dr is not None
            and cr is not None
            and dr is not cr
            and amount > 0
            and not self._sealed[index]
            and tid not in fresh
            and len(tid) < 39
            and tid.isdigit()
            and tid.isascii()
            and tid[0] != "0"
            and not transfer.timestamp
            and not transfer.timeout
            and transfer.pending_id == "0"
            and transfer.code
            and transfer.ledger == dr.ledger == cr.ledger
            and (not ledger or ledger == dr.ledger)
            and not (dr.flags | cr.flags) & _CLOSED
        ):
            return False
        debits = dr.debits_pending + dr.debits_posted + amount
        credits = cr.credits_pending + cr.credits_posted + amount
        if (
            debits > AMOUNT_MAX
            or credits > AMOUNT_MAX
            or (dr.flags & _DMNEC and debits > dr.credits_posted)
            or (cr.flags & _CMNED and credits > cr.debits_posted)
        ):
            return False
        dr.debits_posted += amount
        cr.credits_posted += amount
        record = _replace(transfer, timestamp=self.base + index)
        fresh[tid] = record
        self.records.append(record)
        self._dirty[tid] = None
        self._touched.add(dr.id)
        self._touched.add(cr.id)
        return True


def apply_transfers(
    state: LedgerState,
    transfers: Sequence[Transfer],
    now: datetime,
    *,
    ledger: int = 0,
    refused: Mapping[int, TransferResult] | None = None,
) -> TransferOutcome:
    """Apply a batch of transfers in order, as one TigerBeetle ``create_transfers`` request.

    Args:
        state: The partition's ledger state, changed in place.
        transfers: The batch.
        now: The batch's event time; timestamps and expiry follow it, never the wall clock.
        ledger: When nonzero, the ledger the request is keyed by; a transfer of another ledger
            fails with ``ledger_must_match_request``.
        refused: Results decided before the ledger saw the batch, by index (for example
            ``blocked_by_fraud_rule``); those transfers fail with that code, and so does the
            rest of their linked chain.

    Returns:
        One result per transfer, and the accepted transfer records in order.
    """
    count = len(transfers)
    fast = _FastPath(state, transfers, state.tick(now, count), ledger)
    results: list[TransferResult] = []
    records = fast.records
    append = results.append
    chain_start = -1
    chain_mark = 0
    undo: _Undo | None = None
    broken = False
    last = count - 1
    for index, transfer in enumerate(transfers):
        flags = transfer.flags
        if (
            not flags
            and _FAST
            and chain_start < 0
            and (refused is None or index not in refused)
            and fast.apply(transfer, index)
        ):
            append(_OK)
            continue
        linked = flags & _LINKED
        if linked and chain_start < 0:
            chain_start, chain_mark, undo, broken = index, len(records), _Undo(), False
        # An open chain's last event names the cause even when the chain already failed.
        if linked and index == last:
            result = R.linked_event_chain_open
        elif broken:
            result = R.linked_event_failed
        elif refused is not None and index in refused:
            result = refused[index]
        else:
            result = _create_transfer(state, transfer, fast.base + index, undo, ledger, records)
        append(result)
        if chain_start >= 0:
            if result is not _OK and not broken:
                broken = True
                assert undo is not None
                undo.rollback(state)
                del records[chain_mark:]
                for earlier in range(chain_start, index):
                    results[earlier] = R.linked_event_failed
            if not linked:
                chain_start, undo, broken = -1, None, False
    return TransferOutcome(results, records)


def _create_transfer(
    state: LedgerState,
    t: Transfer,
    timestamp: int,
    undo: _Undo | None,
    request_ledger: int,
    records: list[Transfer],
) -> TransferResult:
    flags = t.flags
    if t.timestamp:
        return R.timestamp_must_be_zero
    if flags & _TRANSFER_RESERVED:
        return R.reserved_flag
    transfer_id = t.id
    if transfer_id == "0":
        return R.id_must_not_be_zero
    if transfer_id == _MAX:
        return R.id_must_not_be_int_max
    transfers = state.transfers
    existing = transfers.get(transfer_id)
    if existing is not None:
        return exists_code(t, existing)
    # Inlined is_u128 (zero is refused above, so a leading "0" is never canonical here).
    if (
        not (transfer_id.isascii() and transfer_id.isdigit())
        or transfer_id[0] == "0"
        or (len(transfer_id) >= 39 and not is_u128(transfer_id))
    ):
        return R.id_must_be_u128
    phases = flags & _PHASES
    if phases & (phases - 1):
        return R.flags_are_mutually_exclusive
    if flags & _CLOSING and not flags & _PENDING:
        return R.closing_transfer_must_be_pending
    if phases & (_POST | _VOID):
        return _resolve(state, t, timestamp, undo, request_ledger, records)
    return _create_new(state, t, timestamp, undo, request_ledger, records)


def _create_new(
    state: LedgerState,
    t: Transfer,
    timestamp: int,
    undo: _Undo | None,
    request_ledger: int,
    records: list[Transfer],
) -> TransferResult:
    """A new transfer (single-phase or pending): the account checks, then its effect."""
    flags = t.flags
    debit_id = t.debit_account_id
    credit_id = t.credit_account_id
    if debit_id == "0":
        return R.debit_account_id_must_not_be_zero
    if debit_id == _MAX:
        return R.debit_account_id_must_not_be_int_max
    if credit_id == "0":
        return R.credit_account_id_must_not_be_zero
    if credit_id == _MAX:
        return R.credit_account_id_must_not_be_int_max
    if debit_id == credit_id:
        return R.accounts_must_be_different
    if t.pending_id != "0":
        return R.pending_id_must_be_zero
    pending = flags & _PENDING
    if t.timeout and not pending:
        return R.timeout_reserved_for_pending_transfer
    amount = t.amount
    if amount <= 0:
        return R.amount_must_not_be_negative if amount else R.amount_must_not_be_zero
    ledger = t.ledger
    if not ledger:
        return R.ledger_must_not_be_zero
    if not t.code:
        return R.code_must_not_be_zero
    if request_ledger and ledger != request_ledger:
        return R.ledger_must_match_request
    accounts = state.accounts
    dr = accounts.get(debit_id)
    if dr is None:
        return R.debit_account_not_found
    cr = accounts.get(credit_id)
    if cr is None:
        return R.credit_account_not_found
    if dr.ledger != cr.ledger:
        return R.accounts_must_have_the_same_ledger
    if ledger != dr.ledger:
        return R.transfer_must_have_the_same_ledger_as_accounts
    debits = dr.debits_pending + dr.debits_posted + amount
    credits = cr.credits_pending + cr.credits_posted + amount
    if debits > AMOUNT_MAX or credits > AMOUNT_MAX:
        return overflow_code(dr, cr, amount, pending)
    if pending and timestamp + t.timeout * NS > TIMESTAMP_MAX:
        return R.overflows_timeout
    dr_flags = dr.flags
    cr_flags = cr.flags
    if dr_flags & _DMNEC and debits > dr.credits_posted:
        return R.exceeds_credits
    if cr_flags & _CMNED and credits > cr.debits_posted:
        return R.exceeds_debits
    if dr_flags & _CLOSED:
        return R.debit_account_already_closed
    if cr_flags & _CLOSED:
        return R.credit_account_already_closed
    records.append(_record_new(state, t, dr, cr, timestamp, undo))
    return _OK


def _record_new(
    state: LedgerState,
    t: Transfer,
    dr: AccountRecord,
    cr: AccountRecord,
    timestamp: int,
    undo: _Undo | None,
) -> Transfer:
    """Apply a checked new transfer: move or hold its amount, mark what changed; return its
    stored record."""
    transfer_id, amount, flags = t.id, t.amount, t.flags
    if undo is not None:
        undo.save(dr, state.dirty_accounts)
        undo.save(cr, state.dirty_accounts)
        undo.transfers.append(transfer_id)
    if flags & _PENDING:
        dr.debits_pending += amount
        cr.credits_pending += amount
        if undo is not None:
            undo.holds.append((transfer_id, None, False))
        state.holds[transfer_id] = transition(None, _PENDING_STATUS)
        state.dirty_holds.add(transfer_id)
        if t.timeout:
            heapq.heappush(state.deadlines, (timestamp + t.timeout * NS, transfer_id))
        if flags & _CLOSING_DEBIT:
            dr.flags |= _CLOSED
        if flags & _CLOSING_CREDIT:
            cr.flags |= _CLOSED
    else:
        dr.debits_posted += amount
        cr.credits_posted += amount
    record = _replace(t, timestamp=timestamp)
    state.transfers[transfer_id] = record
    state.dirty_transfers[transfer_id] = None
    state.dirty_accounts.add(dr.id)
    state.dirty_accounts.add(cr.id)
    return record


def _resolve(
    state: LedgerState,
    t: Transfer,
    timestamp: int,
    undo: _Undo | None,
    request_ledger: int,
    records: list[Transfer],
) -> TransferResult:
    """Post or void the pending transfer ``t.pending_id``."""
    pending_id = t.pending_id
    if pending_id == "0":
        return R.pending_id_must_not_be_zero
    if pending_id == _MAX:
        return R.pending_id_must_not_be_int_max
    if pending_id == t.id:
        return R.pending_id_must_be_different
    if t.timeout:
        return R.timeout_reserved_for_pending_transfer
    amount = t.amount
    if amount < 0:
        return R.amount_must_not_be_negative
    p = state.transfers.get(pending_id)
    if p is None:
        return R.pending_transfer_not_found
    if not p.flags & _PENDING:
        return R.pending_transfer_not_pending
    if t.debit_account_id != "0" and t.debit_account_id != p.debit_account_id:
        return R.pending_transfer_has_different_debit_account_id
    if t.credit_account_id != "0" and t.credit_account_id != p.credit_account_id:
        return R.pending_transfer_has_different_credit_account_id
    if t.ledger and t.ledger != p.ledger:
        return R.pending_transfer_has_different_ledger
    if t.code and t.code != p.code:
        return R.pending_transfer_has_different_code
    if request_ledger and p.ledger != request_ledger:
        return R.ledger_must_match_request
    post = t.flags & _POST
    if post:
        if amount > p.amount:
            return R.exceeds_pending_transfer_amount
        amount = amount or p.amount
    else:
        if amount and amount != p.amount:
            return R.pending_transfer_has_different_amount
        amount = p.amount
    status = state.holds[pending_id]
    if status is TransferStatus.POSTED:
        return R.pending_transfer_already_posted
    if status is TransferStatus.VOIDED:
        return R.pending_transfer_already_voided
    if status is TransferStatus.EXPIRED or (p.timeout and deadline(p) <= timestamp):
        return R.pending_transfer_expired
    dr = state.accounts[p.debit_account_id]
    cr = state.accounts[p.credit_account_id]
    if post:
        if dr.debits_posted + amount > AMOUNT_MAX:
            return R.overflows_debits_posted
        if cr.credits_posted + amount > AMOUNT_MAX:
            return R.overflows_credits_posted
    # The hold that closed an account may still settle or release it.
    if dr.flags & _CLOSED and not p.flags & _CLOSING_DEBIT:
        return R.debit_account_already_closed
    if cr.flags & _CLOSED and not p.flags & _CLOSING_CREDIT:
        return R.credit_account_already_closed
    records.append(_record_resolution(state, t, p, amount, status, timestamp, undo))
    return _OK


def _record_resolution(
    state: LedgerState,
    t: Transfer,
    p: Transfer,
    amount: int,
    status: TransferStatus,
    timestamp: int,
    undo: _Undo | None,
) -> Transfer:
    """Apply a checked post (of ``amount``) or void of the pending ``p``; return the stored
    record, its zero fields filled from ``p``."""
    pending_id = p.id
    dr = state.accounts[p.debit_account_id]
    cr = state.accounts[p.credit_account_id]
    post = t.flags & _POST
    if undo is not None:
        undo.save(dr, state.dirty_accounts)
        undo.save(cr, state.dirty_accounts)
        undo.transfers.append(t.id)
        undo.holds.append((pending_id, status, pending_id in state.dirty_holds))
    dr.debits_pending -= p.amount
    cr.credits_pending -= p.amount
    if post:
        dr.debits_posted += amount
        cr.credits_posted += amount
        state.holds[pending_id] = transition(status, TransferStatus.POSTED)
    else:
        _reopen(p.flags, dr, cr)
        state.holds[pending_id] = transition(status, TransferStatus.VOIDED)
    record = Transfer(
        id=t.id,
        debit_account_id=p.debit_account_id,
        credit_account_id=p.credit_account_id,
        amount=amount,
        pending_id=pending_id,
        user_data_128=t.user_data_128 if t.user_data_128 != "0" else p.user_data_128,
        user_data_64=t.user_data_64 or p.user_data_64,
        user_data_32=t.user_data_32 or p.user_data_32,
        ledger=p.ledger,
        code=p.code,
        flags=t.flags,
        timestamp=timestamp,
    )
    state.transfers[t.id] = record
    state.dirty_transfers[t.id] = None
    state.dirty_holds.add(pending_id)
    state.dirty_accounts.add(dr.id)
    state.dirty_accounts.add(cr.id)
    return record
