"""Stakes collected before a bet stands: holds on the customer's wallet, and the ledger's answer.

A ticket (or a change that raises its stake) asks the payments ledger to **hold** the stake on
the customer's wallet as soon as it arrives, while its legs wait for their live delay. The bet
is decided once every leg has answered *and* the ledger has decided the hold:

- the hold was refused (``exceeds_credits``, an unknown or closed wallet...): the ticket is
  rejected ``insufficient_funds`` and nothing is paid, ever;
- a leg or the liability limit refused the bet: the hold is **voided**;
- the bet is accepted: the hold is **posted** (it has no timeout, so nothing but this post or
  a void can resolve it, and the post cannot fail).

The ledger decides on ``payments.transfers``, keyed by ledger, while tickets live in the
partition of their customer. The ``betting.stakes`` relay (:func:`flambeau.processing.relay`)
reads the ledger's decisions, keeps those on stake holds, whose idempotency key names the
ticket partition (:func:`~.money.hold_route`), and sends each there on ``betting.replies`` as
a :class:`~.messages.StakeDecided` (:func:`stake_decided`), keyed by a key of that partition
(:func:`stake_key`, one of :func:`~flambeau.processing.broadcast_keys`). The ticket partition
finds the ticket from the hold id (state key ``s/<hold id>``, deleted once the hold is
decided). Its event ids are those of the hand-written processor it replaced (same name, input
and output index), so a replay over an older log is deduplicated.
"""

from __future__ import annotations

from typing import Any

from flambeau.events import Record
from flambeau.processing import Transaction, broadcast_keys
from flambeau.services.betting.messages import (
    PARTITIONS,
    StakeDecided,
    customer_key,
)
from flambeau.services.betting.money import (
    PAYMENTS_STREAM,
    accounts_request,
    hold_request,
    hold_route,
    ledger_of,
    resolve_request,
    transfer_request,
)
from flambeau.services.betting.schemas import CustomerDeposit
from flambeau.services.betting.ticket_records import Attempt, Cause, TicketRecord
from flambeau.services.payments.schemas import RequestRejected, TransferCode, TransfersDecided

__all__ = [
    "COLLECTED",
    "deposit",
    "hold_stake",
    "resolve_stake",
    "stake_decided",
    "stake_key",
    "stake_owner",
]

COLLECTED = frozenset({"ok", "exists"})
"""Results that mean the hold stands (``exists``: the same hold was made by an earlier try)."""
_KEYS = broadcast_keys(PARTITIONS)


def _decided(record: Record[Any]) -> tuple[int, StakeDecided] | None:
    """The ticket partition and the decision of a ledger record on a stake hold, if it is one."""
    data = record.data
    if not isinstance(data, TransfersDecided | RequestRejected):
        return None
    route = hold_route(data.idempotency_key)
    if route is None or not 0 <= route[0] < PARTITIONS:
        return None
    partition, hold_id = route
    if isinstance(data, RequestRejected):
        result, collected = data.reason, False
    elif len(data.results) != 1:
        return None  # a hold request carries exactly one transfer
    else:
        result = str(data.results[0])
        collected = result in COLLECTED
    return partition, StakeDecided(hold_id=hold_id, collected=collected, result=result)


def stake_key(record: Record[Any]) -> str | None:
    """Where a ledger record on a stake hold goes: a key of its ticket's partition."""
    decided = _decided(record)
    return None if decided is None else _KEYS[decided[0]]


def stake_decided(record: Record[Any]) -> StakeDecided | None:
    """What the ticket partition hears of a ledger record on a stake hold."""
    decided = _decided(record)
    return None if decided is None else decided[1]


def _ledger(currency: str) -> int:
    ledger = ledger_of(currency)
    assert ledger is not None, f"currency {currency} was accepted without a ledger"
    return ledger


def _open_accounts(
    tx: Transaction, ledger: int, operator: str, customer: str, cause: Cause
) -> None:
    """Ask for the customer's wallet and the operator's accounts, once per customer and ledger."""
    opened = f"a/{ledger}/{customer_key(operator, customer)}"
    if opened in tx.state:
        return
    tx.state.put(opened, True)
    tx.emit(
        PAYMENTS_STREAM,
        accounts_request(ledger, operator, customer),
        key=str(ledger),
        causation_id=cause.id,
        time=cause.at,
    )


def _owner_key(hold_id: str) -> str:
    return f"s/{hold_id}"


def hold_stake(
    tx: Transaction, ticket: TicketRecord, attempt: Attempt, amount: int, cause: Cause
) -> str:
    """Ask the ledger to hold ``amount`` cents of ``ticket``'s customer for ``attempt``.

    The hold's id derives from the ticket and the attempt (its kind and id), so no two
    attempts share one. Returns it; the ledger's decision comes back as a
    :class:`StakeDecided`.
    """
    ledger = _ledger(ticket.currency)
    _open_accounts(tx, ledger, ticket.operator, ticket.customer_id, cause)
    held = hold_request(
        ledger,
        purpose=(ticket.operator, ticket.ticket_id, "stake", attempt.kind.value, attempt.request),
        operator=ticket.operator,
        customer_id=ticket.customer_id,
        amount_cents=amount,
        partition=tx.partition,
    )
    hold_id = held.transfers[0].id
    tx.state.put(_owner_key(hold_id), f"{ticket.operator}\x1f{ticket.ticket_id}")
    tx.emit(PAYMENTS_STREAM, held, key=str(ledger), causation_id=cause.id, time=cause.at)
    return hold_id


def stake_owner(tx: Transaction, hold_id: str) -> tuple[str, str] | None:
    """The operator and ticket id of a hold awaiting its decision; forgets it (asked once)."""
    key = _owner_key(hold_id)
    owner = tx.state.get(key, str)
    if owner is None:
        return None
    tx.state.delete(key)
    operator, _, ticket_id = owner.partition("\x1f")
    return operator, ticket_id


def resolve_stake(
    tx: Transaction, ticket: TicketRecord, hold_id: str, *, post: bool, cause: Cause
) -> None:
    """Post (the bet stands) or void (it was refused) a hold the ledger accepted."""
    ledger = _ledger(ticket.currency)
    tx.emit(
        PAYMENTS_STREAM,
        resolve_request(ledger, hold_id, post=post),
        key=str(ledger),
        causation_id=cause.id,
        time=cause.at,
    )


def deposit(tx: Transaction, data: CustomerDeposit, cause: Cause) -> None:
    """Credit a customer's wallet (opened first if need be) from the operator's deposits."""
    ledger = ledger_of(data.currency)
    if ledger is None:
        return  # the route refuses unsupported currencies; a producer's event is dropped
    _open_accounts(tx, ledger, data.operator, data.customer_id, cause)
    tx.emit(
        PAYMENTS_STREAM,
        transfer_request(
            ledger,
            purpose=(data.operator, "deposit", data.customer_id, data.deposit_id),
            operator=data.operator,
            customer_id=data.customer_id,
            amount_cents=data.amount_cents,
            code=TransferCode.top_up,
            to_customer=True,
        ),
        key=str(ledger),
        causation_id=cause.id,
        time=cause.at,
    )
