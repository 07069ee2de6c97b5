"""A seeded random payments workload for the chaos test, and the decisions it must get.

Requests over several ledgers mix everything the ledger does: top-ups, payments that may
overdraw a wallet, holds with and without timeouts, full and partial posts, voids, posts of
holds already resolved or expired, linked chains (some of which fail), transfers re-sent with
their id (``exists``) or with a changed amount, whole requests re-sent with their idempotency
key (``replayed``), keys reused for another request (refused), and card contexts that feed the
fraud rules. Event times advance by up to two seconds per request, so holds expire on the way.

:func:`expected` decides the same requests in pure Python, partition by partition in log order,
with the ledger's own decision code: that is what an uninterrupted worker emits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.events import NewEvent
from flambeau.log import partition_for
from flambeau.services.payments.decisions import PaymentsState
from flambeau.services.payments.schemas import (
    Account,
    AccountFlags,
    CreateAccounts,
    CreateTransfers,
    PaymentContext,
    Transfer,
    TransferCode,
    TransferFlags,
)

PARTITIONS = 8
LEDGERS = (1, 2, 3, 4, 5, 6)
WALLETS = 40
MERCHANTS = 8
START = datetime(2024, 8, 3, 18, 0, tzinfo=UTC)

LINKED = int(TransferFlags.linked)
PENDING = int(TransferFlags.pending)
POST = int(TransferFlags.post_pending_transfer)
VOID = int(TransferFlags.void_pending_transfer)
DMNEC = int(AccountFlags.debits_must_not_exceed_credits)


@dataclass
class _Ledger:
    number: int
    funding: str
    wallets: list[str]
    merchants: list[str]
    holds: list[str] = field(default_factory=list)
    sent: list[Transfer] = field(default_factory=list)


@dataclass
class Workload:
    """The requests, in append order, and how many transfers they carry."""

    requests: list[NewEvent]
    transfers: int


def workload(transfers: int, seed: int) -> Workload:
    """Requests carrying about ``transfers`` transfers in all (replays included)."""
    rng = random.Random(seed)
    ledgers = [
        _Ledger(
            n,
            funding=f"{n}000001",
            wallets=[f"{n}1{i:05d}" for i in range(WALLETS)],
            merchants=[f"{n}2{i:05d}" for i in range(MERCHANTS)],
        )
        for n in LEDGERS
    ]
    requests: list[NewEvent] = []
    now = START
    next_id = 10_000_000

    def new_id() -> str:
        nonlocal next_id
        next_id += 1
        return str(next_id)

    def add(payload: Any, ledger: int) -> None:
        requests.append(NewEvent(payload, key=str(ledger), id=f"chaos-{len(requests)}", time=now))

    for book in ledgers:
        accounts = [Account(id=book.funding, ledger=book.number, code=1)]
        accounts += [Account(id=w, ledger=book.number, code=2, flags=DMNEC) for w in book.wallets]
        accounts += [Account(id=m, ledger=book.number, code=3) for m in book.merchants]
        add(CreateAccounts(idempotency_key=f"accounts-{book.number}", ledger=book.number,
                           accounts=accounts), book.number)  # fmt: skip
    count = 0
    while count < transfers:
        now += timedelta(milliseconds=rng.randrange(0, 2_000))
        book = rng.choice(ledgers)
        roll = rng.random()
        if roll < 0.04 and len(requests) > 10:  # the very same request again
            earlier = rng.choice(requests[len(LEDGERS) :])
            assert isinstance(earlier.data, CreateTransfers | CreateAccounts)
            add(earlier.data, int(earlier.key))
            count += len(getattr(earlier.data, "transfers", ()))
            continue
        batch = _batch(rng, book, new_id)
        contexts = [
            PaymentContext(transfer_id=t.id, card=f"card-{rng.randrange(30)}", terminal="t-1")
            for t in batch
            if rng.random() < 0.2 and not t.flags & (POST | VOID)
        ]
        key = f"req-{len(requests)}"
        if roll < 0.06 and len(requests) > 10:  # a key reused for another request
            key = f"req-{rng.randrange(len(LEDGERS), len(requests))}"
        add(CreateTransfers(idempotency_key=key, ledger=book.number, transfers=batch,
                            contexts=contexts), book.number)  # fmt: skip
        count += len(batch)
    return Workload(requests, count)


def _batch(rng: random.Random, book: _Ledger, new_id: Any) -> list[Transfer]:
    size = rng.choice((1, 1, 2, 5, 10, 20, 40, 60))
    out: list[Transfer] = []
    while len(out) < size:
        kind = rng.random()
        wallet, merchant = rng.choice(book.wallets), rng.choice(book.merchants)
        if kind < 0.15:
            out.append(_plain(book, new_id(), book.funding, wallet, rng.randrange(1_000, 20_000)))
        elif kind < 0.50:
            out.append(_plain(book, new_id(), wallet, merchant, rng.randrange(1, 3_000)))
        elif kind < 0.65:
            hold = Transfer(
                id=new_id(), debit_account_id=wallet, credit_account_id=merchant,
                amount=rng.randrange(1, 2_000), ledger=book.number, code=1, flags=PENDING,
                timeout=rng.choice((0, 0, 5, 30, 120)),
            )  # fmt: skip
            book.holds.append(hold.id)
            out.append(hold)
        elif kind < 0.78 and book.holds:
            pending_id = rng.choice(book.holds[-50:])
            flags = POST if rng.random() < 0.7 else VOID
            amount = rng.choice((0, 0, rng.randrange(1, 500))) if flags == POST else 0
            out.append(Transfer(id=new_id(), pending_id=pending_id, amount=amount, flags=flags,
                                ledger=book.number))  # fmt: skip
        elif kind < 0.90 and size - len(out) >= 2:
            legs = min(rng.randrange(2, 5), size - len(out))
            for leg in range(legs):
                debit = wallet if leg == 0 else rng.choice(book.merchants)
                flags = LINKED if leg < legs - 1 else 0
                amount = rng.randrange(1, 4_000)
                out.append(_plain(book, new_id(), debit, rng.choice(book.wallets), amount, flags))
        elif book.sent:
            earlier = rng.choice(book.sent[-200:])
            if rng.random() < 0.5:
                out.append(earlier)  # the same transfer again: exists
            else:
                out.append(_plain(book, earlier.id, earlier.debit_account_id,
                                  earlier.credit_account_id, earlier.amount + 1))  # fmt: skip
    if rng.random() < 0.03:  # a chain left open at the end of the request
        last = out[-1]
        out[-1] = Transfer(**{**_fields(last), "flags": last.flags | LINKED})
    book.sent.extend(t for t in out if not t.flags & (POST | VOID))
    return out


def _plain(
    book: _Ledger, tid: str, debit: str, credit: str, amount: int, flags: int = 0
) -> Transfer:
    code = TransferCode.top_up if debit == book.funding else TransferCode.purchase
    return Transfer(id=tid, debit_account_id=debit, credit_account_id=credit, amount=amount,
                    ledger=book.number, code=code, flags=flags)  # fmt: skip


def _fields(transfer: Transfer) -> dict[str, Any]:
    return {name: getattr(transfer, name) for name in transfer.__struct_fields__}


@dataclass
class Expected:
    """Per output partition, ``(causation id, payload)`` of every decision and alert, in order."""

    decisions: dict[int, list[tuple[str, Any]]]
    alerts: dict[int, list[tuple[str, Any]]]
    states: dict[int, PaymentsState]


def expected(requests: list[NewEvent]) -> Expected:
    """What an uninterrupted ledger processor emits for ``requests`` appended in this order."""
    states: dict[int, PaymentsState] = {}
    decisions: dict[int, list[tuple[str, Any]]] = {}
    alerts: dict[int, list[tuple[str, Any]]] = {}
    for request in requests:
        partition = partition_for(request.key, PARTITIONS)
        state = states.setdefault(partition, PaymentsState())
        assert request.time is not None
        assert request.id is not None
        assert isinstance(request.data, CreateTransfers | CreateAccounts)
        outcome = state.handle(request.data, request.time)
        for event in outcome.events:
            decisions.setdefault(partition_for(str(event.ledger), PARTITIONS), []).append(
                (request.id, event)
            )
        for alert in outcome.alerts:
            alerts.setdefault(partition_for(str(alert.ledger), PARTITIONS), []).append(
                (request.id, alert)
            )
    return Expected(decisions, alerts, states)
