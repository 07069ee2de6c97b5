"""From a request on ``payments.requests`` to the events of ``payments.transfers``.

:func:`decide_transfers` and :func:`decide_accounts` are what the payments processor calls for
each request, in partition order. They add three things to the bare ledger functions:

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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple, TypeVar

import msgspec

from flambeau.services.payments.fraud import FraudEngine, Screening
from flambeau.services.payments.ledger import (
    LedgerState,
    RequestRecord,
    apply_transfers,
    create_accounts,
    event_time_ns,
    expire,
)
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

__all__ = [
    "KEY_REUSED",
    "RETENTION",
    "AccountDecision",
    "Decisions",
    "TransferDecision",
    "decide_accounts",
    "decide_transfers",
    "expiry_events",
]

RETENTION = timedelta(hours=24)
"""How long, in event time, an idempotency key is remembered (Stripe prunes after 24 h)."""
KEY_REUSED = "idempotency_key_reused"

TransferDecision = TransfersDecided | TransfersExpired | RequestRejected
AccountDecision = AccountsDecided | TransfersExpired | RequestRejected
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

    events: list[TransferDecision]
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
    out: list[TransferDecision] = []
    out.extend(expiry_events(expire(state, now)))
    _prune(state, now)
    key = request.idempotency_key
    fingerprint = _fingerprint("transfers", request.ledger, request.transfers)
    known = state.requests.get(key)
    if known is not None:
        if known.fingerprint != fingerprint:
            out.append(_reused(key, request.ledger))
        else:
            results = _expand(known, TransferResult)
            out.append(
                TransfersDecided(
                    idempotency_key=key, ledger=request.ledger, results=results, replayed=True
                )
            )
        return Decisions(out, [])
    screening = Screening([], {}) if fraud is None else fraud.screen(request, now)
    outcome = apply_transfers(
        state, request.transfers, now, ledger=request.ledger, refused=screening.refused or None
    )
    _remember(state, key, fingerprint, outcome.results)
    out.append(
        TransfersDecided(
            idempotency_key=key,
            ledger=request.ledger,
            results=outcome.results,
            transfers=outcome.transfers,
        )
    )
    return Decisions(out, screening.alerts)


def decide_accounts(
    state: LedgerState, request: CreateAccounts, now: datetime
) -> list[AccountDecision]:
    """Expire due holds, then create ``request``'s accounts once (see :func:`decide_transfers`)."""
    out: list[AccountDecision] = []
    out.extend(expiry_events(expire(state, now)))
    _prune(state, now)
    key = request.idempotency_key
    fingerprint = _fingerprint("accounts", request.ledger, request.accounts)
    known = state.requests.get(key)
    if known is not None:
        if known.fingerprint != fingerprint:
            out.append(_reused(key, request.ledger))
        else:
            results = _expand(known, AccountResult)
            out.append(
                AccountsDecided(
                    idempotency_key=key, ledger=request.ledger, results=results, replayed=True
                )
            )
        return out
    results, created = create_accounts(state, request.accounts, now, ledger=request.ledger)
    _remember(state, key, fingerprint, results)
    out.append(
        AccountsDecided(
            idempotency_key=key, ledger=request.ledger, results=results, accounts=created
        )
    )
    return out


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
    state.mark_request(key)


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
        state.mark_request(key)
