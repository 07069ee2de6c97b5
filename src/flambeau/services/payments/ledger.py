"""The ledger: TigerBeetle's double-entry model in pure Python.

A :class:`LedgerState` holds the accounts, transfers and pending holds of one partition (one or
more ledgers). :func:`apply_transfers` applies a batch of transfers in order and returns one
:class:`~flambeau.services.payments.results.TransferResult` per transfer;
:func:`create_accounts` does the same for accounts; :func:`expire` releases holds whose timeout
passed. Every function takes the batch's event time ``now``; the ledger never reads the clock.

Semantics, as TigerBeetle's:

- A transfer moves ``amount`` from a debit account to a credit account of the same ledger.
- A pending transfer adds its amount to ``debits_pending``/``credits_pending``; posting moves
  up to that amount to the ``*_posted`` fields and releases the rest; voiding releases all;
  a timeout releases all when event time reaches ``timestamp + timeout``. A hold resolves once.
- Linked transfers (``flags.linked``) form a chain that ends at the first transfer without the
  flag. The chain succeeds or fails as a unit: the first failure keeps its own code, the others
  get ``linked_event_failed``, and the effects of those already applied are undone. A chain
  still open at the end of the batch fails with ``linked_event_chain_open``.
- Replaying an id with identical content answers ``exists``; with different content,
  ``exists_with_different_<field>``. Only accepted events are stored, so a failed id may be
  retried.

State is stored as one key per record, so a batch writes only what it touched: ``a/<id>`` per
account, ``t/<id>`` per transfer, ``h/<id>`` per hold status and ``clock``; request
idempotency records (see :mod:`flambeau.services.payments.decisions`) use ``r/<key>``, and
the fraud engine's counters, kept in the same store, ``f/...``.
:meth:`LedgerState.changes` returns the keys changed since the last call, MessagePack-encoded.

The transfer loop is the hot path (the goal is at least 100k transfers/s through the
processor), so it is written flat: local variables, integer flag tests, and the undo log of a
linked chain only kept while a chain is open.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import msgspec

from flambeau.services.payments.errors import LedgerStateError
from flambeau.services.payments.results import AccountResult, TransferResult
from flambeau.services.payments.schemas import (
    AMOUNT_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    Transfer,
    TransferFlags,
)
from flambeau.services.payments.status import TransferStatus, transition

__all__ = [
    "AccountRecord",
    "LedgerState",
    "RequestRecord",
    "TransferOutcome",
    "apply_transfers",
    "create_accounts",
    "event_time_ns",
    "expire",
    "is_u128",
]

R = TransferResult
AR = AccountResult
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

_A_LINKED = int(AccountFlags.linked)
_DMNEC = int(AccountFlags.debits_must_not_exceed_credits)
_CMNED = int(AccountFlags.credits_must_not_exceed_debits)
_CLOSED = int(AccountFlags.closed)
_ACCOUNT_RESERVED = ~(_A_LINKED | _DMNEC | _CMNED | _CLOSED)

_MAX = U128_MAX_STR = str(U128_MAX)
_replace = msgspec.structs.replace
_NS = 1_000_000_000
_TIMESTAMP_MAX = AMOUNT_MAX  # timestamps share the signed 64-bit bound
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

ACCOUNT_PREFIX = "a/"
TRANSFER_PREFIX = "t/"
HOLD_PREFIX = "h/"
REQUEST_PREFIX = "r/"
CLOCK_KEY = "clock"
FRAUD_PREFIX = "f/"
"""Keys the fraud engine keeps in the same state store; the ledger skips them."""


def is_u128(value: str) -> bool:
    """Whether ``value`` is the canonical decimal form of an integer in ``[0, 2**128 - 1]``."""
    size = len(value)
    return (
        value.isascii()
        and value.isdigit()
        and (value[0] != "0" or size == 1)
        and (size < 39 or (size == 39 and value <= U128_MAX_STR))
    )


def event_time_ns(now: datetime) -> int:
    """Nanoseconds since the Unix epoch of a timezone-aware event time.

    Raises:
        ValueError: ``now`` has no timezone.
    """
    if now.utcoffset() is None:
        raise ValueError(f"event time {now.isoformat()} has no timezone; use UTC")
    return (now - _EPOCH) // _MICROSECOND * 1000


class AccountRecord(msgspec.Struct, array_like=True, gc=False):
    """The ledger's mutable copy of an account (the hot loop updates balances in place)."""

    id: str
    ledger: int
    code: int
    flags: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    user_data_128: str
    user_data_64: int
    user_data_32: int
    timestamp: int

    def to_account(self) -> Account:
        """This account as the immutable :class:`Account` the API reports."""
        return Account(**msgspec.structs.asdict(self))


class RequestRecord(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """What a request's idempotency key remembers: its fingerprint and its first results.

    ``failures`` lists ``(index, result)`` for the events that were not ``ok``; every other
    event of the ``count`` succeeded.
    """

    fingerprint: bytes
    time: int
    count: int
    failures: list[tuple[int, str]]


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
        dirty_accounts = state._dirty_accounts
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
            state._dirty_transfers.discard(transfer_id)
        for hold_id, status, was_dirty in reversed(self.holds):
            if status is None:
                del state.holds[hold_id]
            else:
                state.holds[hold_id] = status
            if not was_dirty:
                state._dirty_holds.discard(hold_id)


class LedgerState:
    """Accounts, transfers and hold statuses of one partition, with change tracking.

    Attributes:
        accounts: Account id -> its mutable record.
        transfers: Transfer id -> the accepted transfer, with its timestamp set.
        holds: Pending transfer id -> its :class:`TransferStatus`.
        requests: Idempotency key -> :class:`RequestRecord`, oldest first.
        clock: The last timestamp handed out (nanoseconds); timestamps strictly increase.
    """

    __slots__ = (
        "_deadlines",
        "_dirty_accounts",
        "_dirty_clock",
        "_dirty_holds",
        "_dirty_requests",
        "_dirty_transfers",
        "accounts",
        "clock",
        "holds",
        "requests",
        "transfers",
    )

    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.transfers: dict[str, Transfer] = {}
        self.holds: dict[str, TransferStatus] = {}
        self.requests: dict[str, RequestRecord] = {}
        self.clock = 0
        self._deadlines: list[tuple[int, str]] = []
        self._dirty_accounts: set[str] = set()
        self._dirty_transfers: set[str] = set()
        self._dirty_holds: set[str] = set()
        self._dirty_requests: set[str] = set()
        self._dirty_clock = False

    # -- queries ----------------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        """The account ``account_id`` with its current balances, or ``None``."""
        record = self.accounts.get(account_id)
        return None if record is None else record.to_account()

    def transfer(self, transfer_id: str) -> Transfer | None:
        """The accepted transfer ``transfer_id``, or ``None``."""
        return self.transfers.get(transfer_id)

    def status(self, transfer_id: str) -> TransferStatus | None:
        """The status of an accepted transfer (see :mod:`.status`), or ``None`` if unknown."""
        hold = self.holds.get(transfer_id)
        if hold is not None:
            return hold
        return TransferStatus.POSTED if transfer_id in self.transfers else None

    def transfers_of(self, account_id: str) -> Iterator[Transfer]:
        """Accepted transfers debiting or crediting ``account_id``, oldest first (a scan)."""
        for transfer in self.transfers.values():
            if account_id in (transfer.debit_account_id, transfer.credit_account_id):
                yield transfer

    # -- time -------------------------------------------------------------------------------

    def tick(self, now: datetime, events: int) -> int:
        """Reserve ``events`` increasing timestamps from ``now`` on; return the first of them."""
        base = max(event_time_ns(now), self.clock + 1)
        self.clock = base + max(events, 1) - 1
        self._dirty_clock = True
        return base

    # -- storage ----------------------------------------------------------------------------

    def mark_request(self, key: str) -> None:
        """Record that the idempotency record ``key`` changed (written or deleted)."""
        self._dirty_requests.add(key)

    def changes(self) -> dict[str, bytes | None]:
        """Keys changed since the last call, MessagePack-encoded; ``None`` means deleted."""
        encode = msgspec.msgpack.encode
        out: dict[str, bytes | None] = {}
        accounts, transfers, holds, requests = (
            self.accounts,
            self.transfers,
            self.holds,
            self.requests,
        )
        for key in self._dirty_accounts:
            account = accounts.get(key)
            out[ACCOUNT_PREFIX + key] = None if account is None else encode(account)
        for key in self._dirty_transfers:
            transfer = transfers.get(key)
            out[TRANSFER_PREFIX + key] = None if transfer is None else encode(transfer)
        for key in self._dirty_holds:
            hold = holds.get(key)
            out[HOLD_PREFIX + key] = None if hold is None else encode(hold)
        for key in self._dirty_requests:
            request = requests.get(key)
            out[REQUEST_PREFIX + key] = None if request is None else encode(request)
        if self._dirty_clock:
            out[CLOCK_KEY] = encode(self.clock)
        self._dirty_accounts = set()
        self._dirty_transfers = set()
        self._dirty_holds = set()
        self._dirty_requests = set()
        self._dirty_clock = False
        return out

    def to_items(self) -> dict[str, bytes]:
        """The whole state as key -> MessagePack bytes (what :meth:`from_items` reads)."""
        encode = msgspec.msgpack.encode
        items: dict[str, bytes] = {CLOCK_KEY: encode(self.clock)}
        items.update((ACCOUNT_PREFIX + k, encode(v)) for k, v in self.accounts.items())
        items.update((TRANSFER_PREFIX + k, encode(v)) for k, v in self.transfers.items())
        items.update((HOLD_PREFIX + k, encode(v)) for k, v in self.holds.items())
        items.update((REQUEST_PREFIX + k, encode(v)) for k, v in self.requests.items())
        return items

    @classmethod
    def from_items(cls, items: Mapping[str, bytes]) -> LedgerState:
        """Rebuild a state from stored keys, such as a processor's committed state.

        Keys of the fraud engine (``f/...``) are skipped.

        Raises:
            LedgerStateError: a key has an unknown prefix or a value does not decode.
        """
        state = cls()
        account = msgspec.msgpack.Decoder(AccountRecord)
        transfer = msgspec.msgpack.Decoder(Transfer)
        hold = msgspec.msgpack.Decoder(TransferStatus)
        request = msgspec.msgpack.Decoder(RequestRecord)
        requests: list[tuple[str, RequestRecord]] = []
        try:
            for key, value in items.items():
                if key.startswith(ACCOUNT_PREFIX):
                    state.accounts[key[2:]] = account.decode(value)
                elif key.startswith(TRANSFER_PREFIX):
                    state.transfers[key[2:]] = transfer.decode(value)
                elif key.startswith(HOLD_PREFIX):
                    state.holds[key[2:]] = hold.decode(value)
                elif key.startswith(REQUEST_PREFIX):
                    requests.append((key[2:], request.decode(value)))
                elif key == CLOCK_KEY:
                    state.clock = msgspec.msgpack.decode(value, type=int)
                elif not key.startswith(FRAUD_PREFIX):
                    raise LedgerStateError(f"unknown ledger state key {key!r}")
        except msgspec.DecodeError as exc:
            raise LedgerStateError(f"ledger state value does not decode: {exc}") from exc
        # Pruning walks requests oldest first, so restore that order.
        requests.sort(key=lambda item: item[1].time)
        state.requests = dict(requests)
        for hold_id, status in state.holds.items():
            pending = state.transfers.get(hold_id)
            if status is _PENDING_STATUS and pending is not None and pending.timeout:
                heapq.heappush(state._deadlines, (_deadline(pending), hold_id))
        return state


def _deadline(pending: Transfer) -> int:
    return pending.timestamp + pending.timeout * _NS


def expire(state: LedgerState, now: datetime) -> list[Transfer]:
    """Release every hold whose timeout passed at event time ``now``.

    Returns:
        The pending transfers that expired, in deadline order.
    """
    now_ns = max(event_time_ns(now), state.clock)
    deadlines = state._deadlines
    expired: list[Transfer] = []
    while deadlines and deadlines[0][0] <= now_ns:
        deadline, hold_id = heapq.heappop(deadlines)
        pending = state.transfers.get(hold_id)
        # Entries of rolled-back or already resolved holds stay in the heap; skip them.
        if (
            pending is None
            or state.holds.get(hold_id) is not _PENDING_STATUS
            or _deadline(pending) != deadline
        ):
            continue
        debit = state.accounts[pending.debit_account_id]
        credit = state.accounts[pending.credit_account_id]
        debit.debits_pending -= pending.amount
        credit.credits_pending -= pending.amount
        _reopen(pending.flags, debit, credit)
        state.holds[hold_id] = transition(_PENDING_STATUS, TransferStatus.EXPIRED)
        state._dirty_holds.add(hold_id)
        state._dirty_accounts.add(debit.id)
        state._dirty_accounts.add(credit.id)
        expired.append(pending)
    return expired


def _reopen(flags: int, debit: AccountRecord, credit: AccountRecord) -> None:
    """A closing hold that is voided or expires gives its accounts back."""
    if flags & _CLOSING_DEBIT:
        debit.flags &= ~_CLOSED
    if flags & _CLOSING_CREDIT:
        credit.flags &= ~_CLOSED


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
    base = state.tick(now, count)
    results: list[TransferResult] = []
    records: list[Transfer] = []
    append = results.append
    chain_start = -1
    chain_mark = 0
    undo: _Undo | None = None
    broken = False
    last = count - 1
    for index, transfer in enumerate(transfers):
        linked = transfer.flags & _LINKED
        if linked and chain_start < 0:
            chain_start, chain_mark, undo, broken = index, len(records), _Undo(), False
        if broken:
            result = R.linked_event_failed
        elif refused is not None and index in refused:
            result = refused[index]
        elif linked and index == last:
            result = R.linked_event_chain_open
        else:
            result = _create_transfer(state, transfer, base + index, undo, ledger, records)
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
        return _exists(t, existing)
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
        return _overflow(dr, cr, amount, pending)
    if pending and timestamp + t.timeout * _NS > _TIMESTAMP_MAX:
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

    if undo is not None:
        undo.save(dr, state._dirty_accounts)
        undo.save(cr, state._dirty_accounts)
        undo.transfers.append(transfer_id)
    if pending:
        dr.debits_pending += amount
        cr.credits_pending += amount
        if undo is not None:
            undo.holds.append((transfer_id, None, False))
        state.holds[transfer_id] = transition(None, _PENDING_STATUS)
        state._dirty_holds.add(transfer_id)
        if t.timeout:
            heapq.heappush(state._deadlines, (timestamp + t.timeout * _NS, transfer_id))
        if flags & _CLOSING_DEBIT:
            dr.flags = dr_flags | _CLOSED
        if flags & _CLOSING_CREDIT:
            cr.flags = cr_flags | _CLOSED
    else:
        dr.debits_posted += amount
        cr.credits_posted += amount
    record = _replace(t, timestamp=timestamp)
    transfers[transfer_id] = record
    records.append(record)
    state._dirty_transfers.add(transfer_id)
    dirty = state._dirty_accounts
    dirty.add(debit_id)
    dirty.add(credit_id)
    return _OK


def _overflow(dr: AccountRecord, cr: AccountRecord, amount: int, pending: int) -> TransferResult:
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
    if status is TransferStatus.EXPIRED or (p.timeout and _deadline(p) <= timestamp):
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

    if undo is not None:
        undo.save(dr, state._dirty_accounts)
        undo.save(cr, state._dirty_accounts)
        undo.transfers.append(t.id)
        undo.holds.append((pending_id, status, pending_id in state._dirty_holds))
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
    records.append(record)
    state._dirty_transfers.add(t.id)
    state._dirty_holds.add(pending_id)
    state._dirty_accounts.add(dr.id)
    state._dirty_accounts.add(cr.id)
    return _OK


def _exists(t: Transfer, e: Transfer) -> TransferResult:
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
    resolving = t.flags & (_POST | _VOID)
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
        if broken:
            result = AR.linked_event_failed
        elif linked and index == count - 1:
            result = AR.linked_event_chain_open
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
                    state._dirty_accounts.discard(account_id)
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
    state._dirty_accounts.add(a.id)
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
