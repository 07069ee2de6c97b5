"""The stored state of one ledger partition: records, one key each, with change tracking.

A :class:`LedgerState` holds the accounts, transfers and pending holds of one partition (one or
more ledgers); :mod:`.ledger` changes it. It is stored as one key per record, so a batch writes
only what it touched:

- ``a/<id>``: an account (:class:`AccountRecord`, a MessagePack array);
- ``t/<timestamp>``: a *segment* of accepted transfers (a list of :class:`~.schemas.Transfer`,
  with their timestamps), named by the timestamp of its first transfer (19 digits, so keys sort
  in time order). Accepted transfers never change, so the transfers of one batch are written
  as one key: a batch of 1,000 transfers writes one row, not 1,000;
- ``h/<id>``: the :class:`~.status.TransferStatus` of a pending transfer (a hold);
- ``r/<key>``: a request idempotency record (:class:`RequestRecord`, see :mod:`.decisions`);
- ``clock``: the last timestamp handed out.

The fraud engine keeps its counters in the same store under ``f/``. :meth:`LedgerState.changes`
returns the keys changed since its last call; :meth:`LedgerState.from_items` rebuilds a state
from stored keys.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import msgspec

from flambeau.services.payments.errors import LedgerStateError
from flambeau.services.payments.schemas import AMOUNT_MAX, U128_MAX, Account, Transfer
from flambeau.services.payments.status import TransferStatus

__all__ = [
    "AccountRecord",
    "LedgerState",
    "RequestRecord",
    "deadline",
    "event_time_ns",
    "is_u128",
    "segment_key",
]

U128_MAX_STR = str(U128_MAX)
NS = 1_000_000_000
TIMESTAMP_MAX = AMOUNT_MAX
"""Timestamps share the signed 64-bit bound of amounts (nanoseconds until 2262)."""
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


class LedgerState:
    """Accounts, transfers and hold statuses of one partition, with change tracking.

    Attributes:
        accounts: Account id -> its mutable record.
        transfers: Transfer id -> the accepted transfer, with its timestamp set.
        segments: Segment key -> the ids of the transfers stored in it, in order.
        holds: Pending transfer id -> its :class:`TransferStatus`.
        requests: Idempotency key -> :class:`RequestRecord`, oldest first.
        clock: The last timestamp handed out (nanoseconds); timestamps strictly increase.
        deadlines: A heap of ``(expiry, hold id)``; entries of holds since resolved or rolled
            back stay until popped (rebuilt from the holds on load, never stored).
        dirty_accounts, dirty_transfers, dirty_holds, dirty_requests, dirty_clock: What
            changed since the last :meth:`changes`; only :mod:`.ledger` and :mod:`.decisions`
            write them.
    """

    __slots__ = (
        "accounts",
        "clock",
        "deadlines",
        "dirty_accounts",
        "dirty_clock",
        "dirty_holds",
        "dirty_requests",
        "dirty_transfers",
        "holds",
        "requests",
        "segments",
        "transfers",
    )

    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.transfers: dict[str, Transfer] = {}
        self.segments: dict[str, list[str]] = {}
        self.holds: dict[str, TransferStatus] = {}
        self.requests: dict[str, RequestRecord] = {}
        self.clock = 0
        self.deadlines: list[tuple[int, str]] = []
        self.dirty_accounts: set[str] = set()
        # a dict, not a set: the segment keeps the transfers in the order they were accepted
        self.dirty_transfers: dict[str, None] = {}
        self.dirty_holds: set[str] = set()
        self.dirty_requests: set[str] = set()
        self.dirty_clock = False

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
        self.dirty_clock = True
        return base

    # -- storage ----------------------------------------------------------------------------

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
        for key in self.dirty_accounts:
            account = accounts.get(key)
            out[ACCOUNT_PREFIX + key] = None if account is None else encode(account)
        if self.dirty_transfers:
            ids = list(self.dirty_transfers)
            segment = [transfers[key] for key in ids]
            name = segment_key(segment[0].timestamp)
            self.segments[name] = ids
            out[TRANSFER_PREFIX + name] = encode(segment)
        for key in self.dirty_holds:
            hold = holds.get(key)
            out[HOLD_PREFIX + key] = None if hold is None else encode(hold)
        for key in self.dirty_requests:
            request = requests.get(key)
            out[REQUEST_PREFIX + key] = None if request is None else encode(request)
        if self.dirty_clock:
            out[CLOCK_KEY] = encode(self.clock)
        self.dirty_accounts = set()
        self.dirty_transfers = {}
        self.dirty_holds = set()
        self.dirty_requests = set()
        self.dirty_clock = False
        return out

    def to_items(self) -> dict[str, bytes]:
        """The whole state as key -> MessagePack bytes (what :meth:`from_items` reads)."""
        encode = msgspec.msgpack.encode
        items: dict[str, bytes] = {CLOCK_KEY: encode(self.clock)}
        items.update((ACCOUNT_PREFIX + k, encode(v)) for k, v in self.accounts.items())
        transfers = self.transfers
        segments = dict(self.segments)
        if self.dirty_transfers:  # accepted since the last changes(): the next segment
            ids = list(self.dirty_transfers)
            segments[segment_key(transfers[ids[0]].timestamp)] = ids
        items.update(
            (TRANSFER_PREFIX + name, encode([transfers[i] for i in ids]))
            for name, ids in segments.items()
        )
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
        segment = msgspec.msgpack.Decoder(list[Transfer])
        segments: list[tuple[str, list[Transfer]]] = []
        hold = msgspec.msgpack.Decoder(TransferStatus)
        request = msgspec.msgpack.Decoder(RequestRecord)
        requests: list[tuple[str, RequestRecord]] = []
        try:
            for key, value in items.items():
                if key.startswith(ACCOUNT_PREFIX):
                    state.accounts[key[2:]] = account.decode(value)
                elif key.startswith(TRANSFER_PREFIX):
                    segments.append((key[2:], segment.decode(value)))
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
        # Segment keys sort in time order: restore the transfers in the order they were accepted.
        segments.sort(key=lambda item: item[0])
        for name, records in segments:
            state.segments[name] = [record.id for record in records]
            state.transfers.update((record.id, record) for record in records)
        # Pruning walks requests oldest first, so restore that order.
        requests.sort(key=lambda item: item[1].time)
        state.requests = dict(requests)
        for hold_id, status in state.holds.items():
            pending = state.transfers.get(hold_id)
            if status is TransferStatus.PENDING and pending is not None and pending.timeout:
                heapq.heappush(state.deadlines, (deadline(pending), hold_id))
        return state


def segment_key(timestamp: int) -> str:
    """The name of the segment whose first transfer has ``timestamp``: 19 digits, sortable."""
    return f"{timestamp:019d}"


def deadline(pending: Transfer) -> int:
    """When a pending transfer with a timeout expires, in nanoseconds of event time."""
    return pending.timestamp + pending.timeout * NS
