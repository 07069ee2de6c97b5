"""What the ticket half keeps per ticket, and the ticket state machine.

Ticket states (every move goes through :func:`transition`)::

    PENDING ──▶ OPEN ──▶ SETTLED ──(rollback)──▶ OPEN
       │         │  └──▶ CASHED_OUT
       ▼         └─(change)──▶ OPEN
    REJECTED

State keys, in the ticket processor's partition: ``t/<operator>\x1f<ticket>`` (a
:class:`TicketRecord`), ``c/<operator>/<customer>`` (the customer's open liability, cents),
``a/<ledger>/<operator>/<customer>`` (the customer's ledger accounts were asked for),
``s/<hold id>`` (the ticket whose stake hold awaits the ledger's decision, see :mod:`.stakes`),
and ``p/`` and ``m/`` (the customer's profile and movements, see :mod:`.profiles`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple

import msgspec

from flambeau.machine import Machine
from flambeau.processing import Transaction
from flambeau.services.betting.errors import IllegalTicketTransitionError
from flambeau.services.betting.messages import customer_key
from flambeau.services.betting.schemas import (
    DECISIONS_STREAM,
    Channel,
    OddsPolicy,
    ReasonCode,
    Selection,
    SettledOutcome,
    TicketDecision,
)

__all__ = [
    "TICKET_PREFIX",
    "Attempt",
    "AttemptKind",
    "Cause",
    "LegAnswer",
    "TicketRecord",
    "TicketState",
    "add_liability",
    "customer_liability",
    "emit_decision",
    "first_refusal",
    "load_ticket",
    "open_or_refuse",
    "save_ticket",
    "ticket_key",
    "transition",
]


class TicketState(enum.Enum):
    """Where a ticket is in its life."""

    PENDING = "pending"
    OPEN = "open"
    REJECTED = "rejected"
    SETTLED = "settled"
    CASHED_OUT = "cashed_out"


_T = TicketState
_MOVES = Machine(
    "ticket",
    {
        _T.PENDING: {_T.OPEN, _T.REJECTED},
        _T.OPEN: {_T.OPEN, _T.SETTLED, _T.CASHED_OUT},
        _T.SETTLED: {_T.OPEN},
    },
    error=IllegalTicketTransitionError,
)
transition = _MOVES.transition
"""Move a ticket to a state the diagram allows (else IllegalTicketTransitionError)."""


class AttemptKind(enum.Enum):
    """What an attempt on a ticket is."""

    TICKET = "ticket"
    CHANGE = "change"
    CASH_OUT = "cash_out"


class LegAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """One leg's answer to an attempt: a refusal, or odds (and a probability, for quotes)."""

    reason: ReasonCode | None = None
    detail: str = ""
    odds: float = 0.0
    probability: float = 0.0
    in_play: bool = False
    delay_ms: int = 0


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """An attempt waiting for its legs' answers.

    Attributes:
        kind: A new ticket, a change or a cash-out.
        request: Its id: the ticket id, the change id or the cash-out request id.
        selections: The legs asked about.
        stake_cents: The stake the ticket would have.
        policy: The odds policy.
        min_amount_cents: A cash-out's least acceptable amount.
        answers: Answers so far, by leg.
        settled: Legs that settled before the attempt was decided.
        hold_id: The stake hold asked of the ledger (a ticket's stake, a change's increase).
        collected: Whether the ledger accepted the hold; ``None`` until it has decided.
        funds: The ledger's result code for the hold (``exceeds_credits``...).
    """

    kind: AttemptKind
    request: str
    selections: tuple[Selection, ...]
    stake_cents: int
    policy: OddsPolicy = OddsPolicy.NONE
    min_amount_cents: int | None = None
    answers: dict[int, LegAnswer] = {}
    settled: dict[int, SettledOutcome] = {}
    hold_id: str = ""
    collected: bool | None = None
    funds: str = ""

    def complete(self) -> bool:
        """Whether every leg has answered and the ledger has decided the hold, if any."""
        return len(self.answers) == len(self.selections) and (
            not self.hold_id or self.collected is not None
        )


class TicketRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket as the ticket half keeps it (state key ``t/<operator>/<ticket>``).

    Attributes:
        request: The attempt whose legs stand (the ticket id, or the last accepted change).
        odds: Accepted odds, one per selection.
        liability_cents: What the book loses if the ticket wins, counted against the customer.
        pending: The attempt in progress, if any.
        results: How the standing legs settled so far.
        payout_cents: What the current settlement paid.
        rounds: How many times the ticket was settled (each payout is its own transfer).
        coordinator: The key the ticket arrived under on ``betting.bets``; answers about its
            legs come back under it, to this partition, however the producer keyed it.
        reoffer_cents: The stake reoffered when the ticket was refused by a limit, until
            ``reoffer_until`` (processing time); cleared once a new ticket accepts it.
    """

    ticket_id: str
    operator: str
    customer_id: str
    jurisdiction: str
    channel: Channel
    currency: str
    state: TicketState = TicketState.PENDING
    selections: tuple[Selection, ...]
    stake_cents: int
    request: str
    odds: tuple[float, ...] = ()
    liability_cents: int = 0
    pending: Attempt | None = None
    results: dict[int, SettledOutcome] = {}
    payout_cents: int = 0
    rounds: int = 0
    coordinator: str = ""
    reoffer_cents: int | None = None
    reoffer_until: datetime | None = None


class Cause(NamedTuple):
    """The input event an output answers, and the event time the output carries.

    Decisions about a ticket carry the ticket's time when made on arrival, and the processing
    time when made on the legs' answers (which carry no time of their own).
    """

    id: str
    at: datetime


TICKET_PREFIX = "t/"
"""The state keys of tickets (cold state: see :mod:`flambeau.processing.state`)."""


def ticket_key(operator: str, ticket_id: str) -> str:
    """The state key of a ticket."""
    return f"{TICKET_PREFIX}{operator}\x1f{ticket_id}"


def _liability_key(operator: str, customer_id: str) -> str:
    return f"c/{customer_key(operator, customer_id)}"


def load_ticket(tx: Transaction, operator: str, ticket_id: str) -> TicketRecord | None:
    """The ticket, if the operator has one with this id."""
    return tx.state.get(ticket_key(operator, ticket_id), TicketRecord)


def save_ticket(tx: Transaction, ticket: TicketRecord) -> None:
    """Store ``ticket`` with ``tx``'s batch."""
    tx.state.put(ticket_key(ticket.operator, ticket.ticket_id), ticket)


def customer_liability(tx: Transaction, operator: str, customer_id: str) -> int:
    """The customer's open liability, in cents."""
    return int(tx.state.get(_liability_key(operator, customer_id), int, 0))


def add_liability(tx: Transaction, ticket: TicketRecord, cents: int) -> None:
    """Add ``cents`` (negative: release) to the liability of ``ticket``'s customer."""
    key = _liability_key(ticket.operator, ticket.customer_id)
    tx.state.put(key, max(int(tx.state.get(key, int, 0)) + cents, 0))


def emit_decision(tx: Transaction, event: TicketDecision, cause: Cause) -> None:
    """Emit a decision about a ticket on ``betting.decisions``, keyed by the ticket's id."""
    tx.emit(DECISIONS_STREAM, event, key=event.ticket_id, causation_id=cause.id, time=cause.at)


def open_or_refuse(
    tx: Transaction, operator: str, ticket_id: str, customer_id: str
) -> tuple[TicketRecord | None, ReasonCode | None, str]:
    """The ticket a change or cash-out is for, and why it cannot be changed now, if so."""
    ticket = load_ticket(tx, operator, ticket_id)
    if ticket is None:
        return None, ReasonCode.TICKET_NOT_FOUND, f"no ticket {ticket_id!r}"
    if ticket.state is not TicketState.OPEN:
        return ticket, ReasonCode.TICKET_NOT_OPEN, f"ticket is {ticket.state.value}"
    if ticket.pending is not None:
        return ticket, ReasonCode.TICKET_NOT_OPEN, "another change or cash-out is in progress"
    if ticket.customer_id != customer_id:
        return ticket, ReasonCode.TICKET_NOT_FOUND, "not this customer's ticket"
    return ticket, None, ""


def first_refusal(attempt: Attempt) -> tuple[int, LegAnswer] | None:
    """The first leg (by position) that refused ``attempt``, and its answer."""
    for index in range(len(attempt.selections)):
        answer = attempt.answers[index]
        if answer.reason is not None:
            return index, answer
    return None
