"""The stored state of one ledger partition: records, one key each, with change tracking.

A :class:`LedgerState` holds the accounts, transfers and pending holds of one partition (one or
more ledgers); :mod:`.ledger` changes it. It is stored as one key per record, so a batch writes
only what it touched:

- ``a/<id>``: an account (:class:`AccountRecord`, a MessagePack array);
- ``t/<timestamp>``: a *segment* of accepted transfers (a list of :class:`~.schemas.Transfer`,
  with their timestamps), named by the timestamp of its first transfer (19 digits, so keys sort
  in time order). Accepted transfers never change, so the transfers of one batch are written
  as one key: a batch of 1,000 transfers writes one row, not 1,000. The ledger processor
  declares ``t/`` cold, so written segments are on the worker's disk; in memory a transfer
  costs one :class:`~.ids.IdIndex` entry, 24 to 48 bytes (see :class:`TransferBook`);
- ``h/<id>``: the :class:`~.status.TransferStatus` of a pending transfer (a hold);
- ``r/<key>``: a request idempotency record (:class:`RequestRecord`, see :mod:`.decisions`);
- ``clock``: the last timestamp handed out.

The fraud engine keeps its counters in the same store under ``f/``. :meth:`LedgerState.changes`
returns the keys changed since its last call; :meth:`LedgerState.from_items` rebuilds a state
from stored keys.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

import msgspec

from flambeau.services.payments.errors import LedgerStateError
from flambeau.services.payments.ids import IdIndex
from flambeau.services.payments.schemas import AMOUNT_MAX, U128_MAX, Account, Transfer
from flambeau.services.payments.status import TransferStatus

__all__ = [
    "AccountRecord",
    "LedgerState",
    "RequestRecord",
    "TransferBook",
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


_encode_segment = msgspec.msgpack.Encoder().encode
_decode_segment = msgspec.msgpack.Decoder(list[Transfer]).decode


Reader = Callable[[str], bytes | None]
"""Reads a stored state key's bytes (the processor's committed state: cold keys are on disk)."""


class TransferBook(Mapping[str, Transfer]):
    """Accepted transfers by id; only the unsealed ones and a few segments are in memory.

    Transfers accepted since the last :meth:`seal` are held decoded (``fresh``). Sealing
    encodes them into one segment, which the processor stores under ``t/<name>``; from then on
    the book keeps only an :class:`~.ids.IdIndex` entry for each id (about 24 bytes) and the
    segment's name, and reads the segment back through :attr:`read` when one of its transfers
    is asked for (an ``exists`` check, a post or void of an older hold), keeping the last few
    decoded. In a processor, ``t/`` keys are cold state, so the segments are on disk.

    Without a reader (a ledger used on its own, as in tests) the book keeps the segments'
    bytes itself.
    """

    __slots__ = ("_decoded", "_kept", "fresh", "index", "names", "read")

    DECODED_SEGMENTS = 8

    def __init__(self, read: Reader | None = None) -> None:
        self.fresh: dict[str, Transfer] = {}
        self.index = IdIndex()  # transfer id -> position of its segment in ``names``
        self.names: list[str] = []  # segment names, in the order they were written
        self._kept: dict[str, bytes] | None = None if read is not None else {}
        self.read: Reader = read if read is not None else self._read_kept
        self._decoded: OrderedDict[str, dict[str, Transfer]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.fresh) + len(self.index)

    def __contains__(self, transfer_id: object) -> bool:
        return isinstance(transfer_id, str) and self.get(transfer_id) is not None

    def __iter__(self) -> Iterator[str]:
        for transfer in self.values():
            yield transfer.id

    def __getitem__(self, transfer_id: str) -> Transfer:
        found = self.get(transfer_id)
        if found is None:
            raise KeyError(transfer_id)
        return found

    def get(self, transfer_id: str, default: Transfer | None = None) -> Transfer | None:  # type: ignore[override]
        """The accepted transfer ``transfer_id``, or ``default``."""
        found = self.fresh.get(transfer_id)
        if found is not None:
            return found
        for position in self.index.candidates(transfer_id):
            found = self._segment(self.names[position]).get(transfer_id)
            if found is not None:
                return found
        return default

    def maybe_sealed(self, ids: list[str]) -> list[bool]:
        """For each of ``ids``, whether a sealed transfer may have it (one index probe for the
        whole batch; ``False`` is certain, ``True`` means :meth:`get` must tell)."""
        return self.index.maybe_many(ids)

    def __setitem__(self, transfer_id: str, transfer: Transfer) -> None:
        self.fresh[transfer_id] = transfer

    def __delitem__(self, transfer_id: str) -> None:
        """Forget a transfer not sealed yet (a linked chain rolling back)."""
        del self.fresh[transfer_id]

    def values(self) -> Iterator[Transfer]:  # type: ignore[override]
        """Every accepted transfer, oldest segment first, then the fresh ones (a full scan,
        reading every segment)."""
        for name in self.names:
            decoded = self._decoded.get(name)
            yield from decoded.values() if decoded is not None else self._load(name)
        yield from self.fresh.values()

    def seal(self, ids: list[str]) -> tuple[str, bytes]:
        """Encode the fresh transfers ``ids`` (in order) as one segment; its name and bytes.

        The caller stores the bytes under ``t/<name>``, where :attr:`read` finds them.
        """
        fresh = self.fresh
        segment = [fresh.pop(transfer_id) for transfer_id in ids]
        name = segment_key(segment[0].timestamp)
        raw = _encode_segment(segment)
        self.add(name, raw, [t.id for t in segment])
        self._remember(name, {t.id: t for t in segment})  # read back until the commit lands
        return name, raw

    def add(self, name: str, raw: bytes, ids: list[str]) -> None:
        """Take a stored segment: ``raw`` encodes the transfers ``ids`` (kept only when the
        book has no reader)."""
        if self._kept is not None:
            self._kept[name] = raw
        self.index.add(ids, len(self.names))
        self.names.append(name)

    def encoded(self) -> dict[str, bytes]:
        """Every segment's bytes by name, the fresh transfers as one more (not sealed)."""
        out: dict[str, bytes] = {}
        for name in self.names:
            raw = self.read(TRANSFER_PREFIX + name)
            if raw is None:
                raise LedgerStateError(f"segment {name} of accepted transfers is not stored")
            out[name] = raw
        if self.fresh:
            fresh = list(self.fresh.values())
            out[segment_key(fresh[0].timestamp)] = _encode_segment(fresh)
        return out

    def _read_kept(self, key: str) -> bytes | None:
        assert self._kept is not None
        return self._kept.get(key[len(TRANSFER_PREFIX) :])

    def _load(self, name: str) -> list[Transfer]:
        raw = self.read(TRANSFER_PREFIX + name)
        if raw is None:
            raise LedgerStateError(f"segment {name} of accepted transfers is not stored")
        return _decode_segment(raw)

    def _segment(self, name: str) -> dict[str, Transfer]:
        decoded = self._decoded.get(name)
        if decoded is None:
            decoded = {t.id: t for t in self._load(name)}
            self._remember(name, decoded)
        else:
            self._decoded.move_to_end(name)
        return decoded

    def _remember(self, name: str, decoded: dict[str, Transfer]) -> None:
        self._decoded[name] = decoded
        if len(self._decoded) > self.DECODED_SEGMENTS:
            self._decoded.popitem(last=False)


class LedgerState:
    """Accounts, transfers and hold statuses of one partition, with change tracking.

    Attributes:
        accounts: Account id -> its mutable record.
        transfers: Transfer id -> the accepted transfer, with its timestamp set (a
            :class:`TransferBook`).
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
        "transfers",
    )

    def __init__(self, read: Reader | None = None) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.transfers = TransferBook(read)
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
            name, raw = transfers.seal(list(self.dirty_transfers))
            out[TRANSFER_PREFIX + name] = raw
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
        items.update(
            (TRANSFER_PREFIX + name, raw) for name, raw in self.transfers.encoded().items()
        )
        items.update((HOLD_PREFIX + k, encode(v)) for k, v in self.holds.items())
        items.update((REQUEST_PREFIX + k, encode(v)) for k, v in self.requests.items())
        return items

    @classmethod
    def from_items(cls, items: Mapping[str, bytes], read: Reader | None = None) -> LedgerState:
        """Rebuild a state from stored keys, such as a processor's committed state.

        Keys of the fraud engine (``f/...``) are skipped. With ``read``, segments of transfers
        are read again through it when needed (``items`` may then read each value lazily: one
        segment at a time is decoded); without it, the book keeps their bytes.

        Raises:
            LedgerStateError: a key has an unknown prefix or a value does not decode.
        """
        state = cls(read)
        account = msgspec.msgpack.Decoder(AccountRecord)
        segments: list[tuple[str, bytes, list[str]]] = []
        hold = msgspec.msgpack.Decoder(TransferStatus)
        request = msgspec.msgpack.Decoder(RequestRecord)
        requests: list[tuple[str, RequestRecord]] = []
        try:
            for key, value in items.items():
                if key.startswith(ACCOUNT_PREFIX):
                    state.accounts[key[2:]] = account.decode(value)
                elif key.startswith(TRANSFER_PREFIX):
                    raw = bytes(value)
                    ids = [t.id for t in _decode_segment(raw)]
                    # with a reader the bytes are read again when needed: none held meanwhile
                    segments.append((key[2:], b"" if read is not None else raw, ids))
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
        for name, raw, ids in segments:
            state.transfers.add(name, raw, ids)
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
