"""The ledger processor: requests in, durable decisions, fraud alerts and invariant checks out.

::

    POST /v1/payments/transfers ─┐
    betting settlements ─────────┼─▶ payments.requests ─▶ payments.ledger ─┬─▶ payments.transfers
    venue purchases ─────────────┘     (keyed by ledger)                   ├─▶ payments.alerts
                                                                          └─▶ payments.checks

``payments.ledger`` reads ``payments.requests`` (8 partitions, keyed by ledger id, so one
ledger has one writer and one order) and, for each request, in partition order and at the
request's event time (never the wall clock):

1. releases the holds whose timeout passed by that time (:class:`~.schemas.TransfersExpired`);
2. decides the request once, however often it arrives (idempotency key, 24 h of event time);
3. emits the decision to ``payments.transfers`` and the fraud alerts it raised to
   ``payments.alerts``, keyed by ledger, in the same batch as the decision.

After the batch it writes the changed state keys and emits one
:class:`~.schemas.LedgerChecked` with the invariant checks of the batch (see :mod:`.monitor`).
State, decisions, alerts, checks and the input offset commit atomically (SQLite) or
effectively once (NATS), so a crash at any point neither loses nor repeats a decision.

The partition's decoded state stays in memory between batches (see :mod:`.books`), except the
accepted transfers: their segments (``t/`` keys) are cold state, on the worker's disk, and the
book keeps an index of their ids (see :class:`~.state.TransferBook`).
Settlement hooks need nothing special: a bet stake, a payout or a venue purchase is a
:class:`~.schemas.CreateTransfers` on ``payments.requests`` like any other.
"""

from __future__ import annotations

from typing import Any

from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.payments.books import Shelf
from flambeau.services.payments.schemas import CreateAccounts, CreateTransfers
from flambeau.services.payments.state import TRANSFER_PREFIX

__all__ = ["ALERTS", "CHECKS", "DECISIONS", "LEDGER", "REQUESTS", "ledger", "shelf"]

REQUESTS = "payments.requests"
DECISIONS = "payments.transfers"
ALERTS = "payments.alerts"
CHECKS = "payments.checks"
LEDGER = "payments.ledger"

ledger = default_processors.register(
    Processor(
        LEDGER, inputs=[REQUESTS], outputs=[DECISIONS, ALERTS, CHECKS], cold=[TRANSFER_PREFIX]
    )
)
shelf = Shelf()
"""The books of this process's ledger partitions."""


@ledger.on_batch
def decide(batch: Batch[CreateAccounts | CreateTransfers], tx: Transaction) -> None:
    """Decide each request of ``batch`` in order; emit decisions, alerts and one check."""
    records = list(batch)  # decoded before the book is taken, which a failure would discard
    book = shelf.take(tx)
    state, monitor = book.state, book.monitor
    emit = tx.emit
    for record in records:
        request: Any = record.data
        decided = state.handle(request, record.time)
        monitor.observe(request, decided)
        cause = record.id
        for event in decided.events:
            emit(DECISIONS, event, key=str(event.ledger), causation_id=cause)
        for alert in decided.alerts:
            emit(ALERTS, alert, key=str(alert.ledger), causation_id=cause)
    changes = state.changes()
    # Checks go last: the ids of a record's decisions count what was emitted for it before, so
    # they stay the same whether or not this batch follows a reload.
    if book.loaded is not None:
        emit(CHECKS, book.loaded, key=str(tx.partition))
        book.loaded = None
    emit(CHECKS, monitor.after_batch(state.ledger, changes), key=str(tx.partition))
    put = tx.state.put_encoded
    for key, raw in changes.items():
        put(key, raw)
    shelf.file(tx, book)
