"""From a request on ``payments.requests`` to the events of ``payments.transfers``.

:class:`PaymentsState` is what the payments processor keeps per partition and calls for each
request, in partition order: :meth:`PaymentsState.handle` dispatches to
:func:`decide_transfers` or :func:`decide_accounts`, which add to the bare ledger functions:

- **Expiry first.** Holds whose timeout passed by the request's event time are released before
  the request is applied, and reported as :class:`TransfersExpired` (one event per ledger), so
  a replay of the decision stream alone rebuilds every balance.
- **Request idempotency, Stripe's way.** The first decision of an ``idempotency_key`` is
  remembered for :data:`RETENTION` of event time. Replaying the same request returns the same
  results (``replayed=True``, nothing applied again); reusing the key for a different request is
  refused with :class:`RequestRejected` (``idempotency_key_reused``).
- **Fraud screening** of new requests (see :mod:`.fraud`), whose alerts go to
  ``payments.alerts``.
- **One event per outcome,** ready to emit with the ledger id as key.

The ledger's and the fraud engine's keys live side by side in one state store (the fraud
engine's start with ``f/``); :meth:`PaymentsState.changes` returns both after each request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, TypeVar

import msgspec

from flambeau.services.payments.fraud import DEFAULT_RULES, FraudEngine, Rule, Screening
from flambeau.services.payments.ledger import apply_transfers, create_accounts, expire
from flambeau.services.payments.results import AccountResult, TransferResult
from flambeau.services.payments.schemas import (
    AccountsDecided,
    CreateAccounts,
    CreateTransfers,
    FraudAlert,
    RequestRejected,
    Transfer,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.services.payments.state import (
    LedgerState,
    Reader,
    RequestRecord,
    event_time_ns,
)

__all__ = [
    "KEY_REUSED",
    "RETENTION",
    "Decision",
    "Decisions",
    "PaymentsState",
    "decide_accounts",
    "decide_transfers",
    "expiry_events",
]

RETENTION = timedelta(hours=24)
"""How long, in event time, an idempotency key is remembered (Stripe prunes after 24 h)."""
KEY_REUSED = "idempotency_key_reused"

Decision = AccountsDecided | TransfersDecided | TransfersExpired | RequestRejected
"""An event of ``payments.transfers``."""
_Code = TypeVar("_Code", TransferResult, AccountResult)


def expiry_events(expired: Sequence[Transfer]) -> list[TransfersExpired]:
    """Group expired holds into one :class:`TransfersExpired` per ledger, in order."""
    by_ledger: dict[int, list[str]] = {}
    for pending in expired:
        by_ledger.setdefault(pending.ledger, []).append(pending.id)
    return [TransfersExpired(ledger=ledger, transfer_ids=ids) for ledger, ids in by_ledger.items()]


class Decisions(NamedTuple):
    """What one request produced: events for ``payments.transfers`` (in order: expiries, then
    the decision) and for ``payments.alerts``. Every event's ``ledger`` is its stream key."""

    events: list[Decision]
    alerts: list[FraudAlert]


def decide_transfers(
    state: LedgerState,
    request: CreateTransfers,
    now: datetime,
    *,
    fraud: FraudEngine | None = None,
) -> Decisions:
    """Expire due holds, then screen and apply ``request`` once, however often it arrives.

    Args:
        state: The partition's ledger state, changed in place.
        request: The request, keyed by its ledger.
        now: The request's event time.
        fraud: When given, screens the transfers that carry a payment context first; a
            ``block`` verdict fails the transfer with ``blocked_by_fraud_rule``. A replayed
            request is not screened again, so its attempts are not counted twice.

    Returns:
        The decision events and the fraud alerts.
    """
    ledger = request.ledger

    def apply() -> _Applied:
        screening = Screening([], {}) if fraud is None else fraud.screen(request, now)
        outcome = apply_transfers(
            state, request.transfers, now, ledger=ledger, refused=screening.refused or None
        )
        decided = TransfersDecided(
            idempotency_key=request.idempotency_key,
            ledger=ledger,
            results=outcome.results,
            transfers=outcome.transfers,
        )
        return _Applied(decided, outcome.results, screening.alerts)

    fingerprint = _fingerprint("transfers", ledger, request.transfers)
    return _decide_once(state, now, request, fingerprint, (TransfersDecided, TransferResult), apply)


def decide_accounts(state: LedgerState, request: CreateAccounts, now: datetime) -> Decisions:
    """Expire due holds, then create ``request``'s accounts once (see :func:`decide_transfers`)."""

    def apply() -> _Applied:
        results, created = create_accounts(state, request.accounts, now, ledger=request.ledger)
        decided = AccountsDecided(
            idempotency_key=request.idempotency_key,
            ledger=request.ledger,
            results=results,
            accounts=created,
        )
        return _Applied(decided, results, [])

    fingerprint = _fingerprint("accounts", request.ledger, request.accounts)
    return _decide_once(state, now, request, fingerprint, (AccountsDecided, AccountResult), apply)


class _Decided(Protocol):
    """The constructor of a request's decision event, as a replay calls it."""

    def __call__(
        self, *, idempotency_key: str, ledger: int, results: list[Any], replayed: bool
    ) -> Decision: ...


class _Applied(NamedTuple):
    """What applying a new request gave: its decision, its results, its fraud alerts."""

    decided: Decision
    results: Sequence[StrEnum]
    alerts: list[FraudAlert]


def _decide_once(
    state: LedgerState,
    now: datetime,
    request: CreateAccounts | CreateTransfers,
    fingerprint: bytes,
    replay: tuple[_Decided, type[_Code]],
    apply: Callable[[], _Applied],
) -> Decisions:
    """Expire due holds, then answer a known idempotency key from its record (the first results
    again, or a refusal when the key came with another request), or ``apply`` a new one and
    remember its results. ``replay`` is the decision event type and its result codes."""
    out: list[Decision] = []
    out.extend(expiry_events(expire(state, now)))
    _prune(state, now)
    key, ledger = request.idempotency_key, request.ledger
    known = state.requests.get(key)
    if known is not None:
        if known.fingerprint != fingerprint:
            out.append(_reused(key, ledger))
        else:
            decided, codes = replay
            results = _expand(known, codes)
            out.append(decided(idempotency_key=key, ledger=ledger, results=results, replayed=True))
        return Decisions(out, [])
    applied = apply()
    _remember(state, key, fingerprint, applied.results)
    out.append(applied.decided)
    return Decisions(out, applied.alerts)


def _fingerprint(kind: str, ledger: int, items: Sequence[msgspec.Struct]) -> bytes:
    # The kind is hashed in, so a key used for accounts cannot be replayed for transfers.
    encoded = msgspec.msgpack.encode((kind, ledger, items))
    return hashlib.blake2b(encoded, digest_size=16).digest()


def _reused(key: str, ledger: int) -> RequestRejected:
    return RequestRejected(
        idempotency_key=key,
        ledger=ledger,
        reason=KEY_REUSED,
        detail=f"idempotency key {key!r} was first used for a different request",
    )


def _remember(state: LedgerState, key: str, fingerprint: bytes, results: Sequence[StrEnum]) -> None:
    failures = [(index, str(result)) for index, result in enumerate(results) if result != "ok"]
    # The ledger clock only moves forward, so records stay in time order for _prune.
    state.requests[key] = RequestRecord(fingerprint, state.clock, len(results), failures)
    state.dirty_requests.add(key)


def _expand(record: RequestRecord, codes: type[_Code]) -> list[_Code]:
    results = [codes("ok")] * record.count
    for index, code in record.failures:
        results[index] = codes(code)
    return results


def _prune(state: LedgerState, now: datetime) -> None:
    cutoff = max(event_time_ns(now), state.clock) - RETENTION // timedelta(microseconds=1) * 1000
    requests = state.requests
    while requests:
        key, record = next(iter(requests.items()))
        if record.time >= cutoff:
            break
        del requests[key]
        state.dirty_requests.add(key)


class PaymentsState:
    """One partition's ledger and fraud counters: what the payments processor wraps.

    Attributes:
        ledger: The accounts, transfers, holds and idempotency records.
        fraud: The fraud engine and its counters.
    """

    def __init__(self, ledger: LedgerState | None = None, fraud: FraudEngine | None = None) -> None:
        self.ledger = LedgerState() if ledger is None else ledger
        self.fraud = FraudEngine() if fraud is None else fraud

    @classmethod
    def load(
        cls,
        items: Mapping[str, bytes],
        rules: Sequence[Rule] = DEFAULT_RULES,
        read: Reader | None = None,
    ) -> PaymentsState:
        """Rebuild a partition from its committed state keys (see
        :meth:`.LedgerState.from_items` for ``read``).

        Raises:
            LedgerStateError: a key is unknown or a value does not decode.
        """
        fraud = FraudEngine(rules)
        fraud.load(items)
        return cls(LedgerState.from_items(items, read), fraud)

    def handle(self, request: CreateAccounts | CreateTransfers, now: datetime) -> Decisions:
        """Decide one request of ``payments.requests`` at its event time ``now``."""
        match request:
            case CreateTransfers():
                return decide_transfers(self.ledger, request, now, fraud=self.fraud)
            case CreateAccounts():
                return decide_accounts(self.ledger, request, now)
            case _:
                raise TypeError(f"payments.requests has no event type {type(request).__name__!r}")

    def changes(self) -> dict[str, bytes | None]:
        """Both stores' keys changed since the last call (``None`` deletes the key)."""
        return {**self.ledger.changes(), **self.fraud.changes()}
