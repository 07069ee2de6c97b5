"""The ticket half of the betting service: tickets, changes, cash-outs, settlement and money.

:class:`Tickets` is the handler of the ``betting.tickets`` processor. It reads ``betting.bets``
and ``betting.replies``, both keyed by ``<operator>/<customer>``, so a customer's tickets, their
liability and every answer about them meet in one partition.

A ticket, a change and a cash-out are each an *attempt* on the ticket: the ticket half sends
one message per leg to the leg's event partition (``betting.legs``), which decides it after the
live delay (or quotes it, for a cash-out) and answers on ``betting.replies``. Once every leg has
answered, the attempt is decided: the first refused leg (by position) gives the reason; else
the customer's liability is checked; then the decision goes to ``betting.decisions`` and the
money to ``payments.requests``. Legs accepted for an attempt that fails are released.

Ticket states (every move goes through :func:`transition`)::

    PENDING ──▶ OPEN ──▶ SETTLED ──(rollback)──▶ OPEN
       │         │  └──▶ CASHED_OUT
       ▼         └─(change)──▶ OPEN
    REJECTED

Settlement: each leg's event partition reports its leg settled (a cancelled event settles it
void). When every leg of the live attempt is settled, the payout (stake included, exact to the
cent) is paid from the book; a rolled-back leg reverses that payout exactly, and the next
settlement pays again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, NamedTuple

import msgspec

from flambeau.processing import Batch, Transaction
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.messages import (
    LEGS_STREAM,
    UNTIMED,
    LegCheck,
    LegDecided,
    LegRelease,
    LegSettled,
    LegSettlementRolledBack,
    QuoteReply,
    QuoteRequest,
    customer_key,
)
from flambeau.services.betting.money import (
    PAYMENTS_STREAM,
    accounts_request,
    ledger_of,
    transfer_request,
)
from flambeau.services.betting.pricing import cash_out_value
from flambeau.services.betting.rules import (
    check_liability,
    potential_payout_cents,
    ticket_liability_cents,
)
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ChangeRejected,
    Channel,
    OddsPolicy,
    ReasonCode,
    Selection,
    SettledOutcome,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketOutcome,
    TicketRejected,
    TicketSettled,
    TicketSettlementRolledBack,
    TicketSubmitted,
)
from flambeau.services.betting.settlement import payout_cents, ticket_outcome
from flambeau.services.payments.schemas import TransferCode

__all__ = [
    "Attempt",
    "AttemptKind",
    "IllegalTicketTransitionError",
    "LegAnswer",
    "TicketRecord",
    "TicketState",
    "Tickets",
    "ticket_key",
    "transition",
]


class IllegalTicketTransitionError(ValueError):
    """A ticket state move the machine in this module's docstring forbids."""


class TicketState(enum.Enum):
    """Where a ticket is in its life."""

    PENDING = "pending"
    OPEN = "open"
    REJECTED = "rejected"
    SETTLED = "settled"
    CASHED_OUT = "cashed_out"


_T = TicketState
_MOVES: dict[TicketState, frozenset[TicketState]] = {
    _T.PENDING: frozenset({_T.OPEN, _T.REJECTED}),
    _T.OPEN: frozenset({_T.OPEN, _T.SETTLED, _T.CASHED_OUT}),
    _T.SETTLED: frozenset({_T.OPEN}),
    _T.REJECTED: frozenset(),
    _T.CASHED_OUT: frozenset(),
}


def transition(current: TicketState, target: TicketState) -> TicketState:
    """Move a ticket from ``current`` to ``target``.

    Raises:
        IllegalTicketTransitionError: the move is not in the diagram.
    """
    if target not in _MOVES[current]:
        raise IllegalTicketTransitionError(
            f"a ticket cannot go from {current.value} to {target.value}"
        )
    return target


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
    """

    kind: AttemptKind
    request: str
    selections: tuple[Selection, ...]
    stake_cents: int
    policy: OddsPolicy = OddsPolicy.NONE
    min_amount_cents: int | None = None
    answers: dict[int, LegAnswer] = {}
    settled: dict[int, SettledOutcome] = {}


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


class Cause(NamedTuple):
    """The input event an output answers, and the event time the output carries.

    Decisions about a ticket carry the ticket's time when made on arrival, and the processing
    time when made on the legs' answers (which carry no time of their own).
    """

    id: str
    at: datetime


def ticket_key(operator: str, ticket_id: str) -> str:
    """The state key of a ticket."""
    return f"t/{operator}\x1f{ticket_id}"


def _liability_key(operator: str, customer_id: str) -> str:
    return f"c/{customer_key(operator, customer_id)}"


class Tickets:
    """Handlers of the ticket processor (see the module docstring)."""

    def __init__(self, config: BettingConfig) -> None:
        self.config = config

    def on_batch(self, batch: Batch[Any], tx: Transaction) -> None:
        """Handle submitted tickets, changes and cash-outs, or answers from event partitions."""
        from_bets = batch.stream == BETS_STREAM
        for record in batch:
            data = record.data
            if from_bets:
                cause = Cause(record.id, record.time)
                match data:
                    case TicketSubmitted():
                        self._submitted(cause, data, tx)
                    case TicketChange():
                        self._change(cause, data, tx)
                    case CashOutRequest():
                        self._cash_out(cause, data, tx)
            else:
                # Replies carry no time of their own; what they decide happens now.
                self._reply(Cause(record.id, tx.now()), data, tx)

    # ------------------------------------------------------------------ state helpers

    @staticmethod
    def _load(tx: Transaction, operator: str, ticket_id: str) -> TicketRecord | None:
        return tx.state.get(ticket_key(operator, ticket_id), TicketRecord)

    @staticmethod
    def _save(tx: Transaction, ticket: TicketRecord) -> None:
        tx.state.put(ticket_key(ticket.operator, ticket.ticket_id), ticket)

    @staticmethod
    def _customer_liability(tx: Transaction, operator: str, customer_id: str) -> int:
        return int(tx.state.get(_liability_key(operator, customer_id), int, 0))

    @staticmethod
    def _add_liability(tx: Transaction, ticket: TicketRecord, cents: int) -> None:
        key = _liability_key(ticket.operator, ticket.customer_id)
        tx.state.put(key, max(int(tx.state.get(key, int, 0)) + cents, 0))

    @staticmethod
    def _decide(tx: Transaction, event: Any, ticket_id: str, cause: Cause) -> None:
        tx.emit(DECISIONS_STREAM, event, key=ticket_id, causation_id=cause.id, time=cause.at)

    # ------------------------------------------------------------------ new tickets

    def _submitted(self, cause: Cause, ticket: TicketSubmitted, tx: Transaction) -> None:
        if self._load(tx, ticket.operator, ticket.ticket_id) is not None:
            return  # the same ticket id again: the gateway answers with the first decision
        rejected = self._static_reason(ticket.jurisdiction, ticket.currency, ticket.selections)
        record_ = TicketRecord(
            ticket_id=ticket.ticket_id,
            operator=ticket.operator,
            customer_id=ticket.customer_id,
            jurisdiction=ticket.jurisdiction,
            channel=ticket.channel,
            currency=ticket.currency,
            selections=ticket.selections,
            stake_cents=ticket.stake_cents,
            request=ticket.ticket_id,
        )
        if rejected is not None:
            reason, index, detail = rejected
            self._save(tx, msgspec.structs.replace(record_, state=TicketState.REJECTED))
            self._decide(
                tx,
                TicketRejected(
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    reason=reason,
                    selection=index,
                    detail=detail,
                ),
                ticket.ticket_id,
                cause,
            )
            return
        attempt = Attempt(
            kind=AttemptKind.TICKET,
            request=ticket.ticket_id,
            selections=ticket.selections,
            stake_cents=ticket.stake_cents,
            policy=ticket.odds_policy,
        )
        record_ = msgspec.structs.replace(record_, pending=attempt)
        self._save(tx, record_)
        self._ask_legs(tx, record_, attempt, cause, check_cutoff=False)

    def _static_reason(
        self, jurisdiction: str, currency: str, selections: tuple[Selection, ...]
    ) -> tuple[ReasonCode, int | None, str] | None:
        """Refusals no delay can change: unknown jurisdiction or currency, related legs."""
        if jurisdiction not in self.config.jurisdictions:
            return ReasonCode.UNKNOWN_JURISDICTION, None, f"no rules for {jurisdiction!r}"
        if ledger_of(currency) is None:
            return ReasonCode.UNSUPPORTED_CURRENCY, None, f"no ledger for {currency!r}"
        events: set[str] = set()
        for index, selection in enumerate(selections):
            if selection.event_id in events:
                return (
                    ReasonCode.RELATED_SELECTIONS,
                    index,
                    f"another selection is on event {selection.event_id!r}",
                )
            events.add(selection.event_id)
        return None

    def _ask_legs(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        attempt: Attempt,
        cause: Cause,
        *,
        check_cutoff: bool,
    ) -> None:
        coordinator = customer_key(ticket.operator, ticket.customer_id)
        if attempt.kind is AttemptKind.CASH_OUT:
            for index, selection in enumerate(attempt.selections):
                tx.emit(
                    LEGS_STREAM,
                    QuoteRequest(
                        request=attempt.request,
                        ticket_id=ticket.ticket_id,
                        operator=ticket.operator,
                        customer_id=ticket.customer_id,
                        coordinator=coordinator,
                        index=index,
                        selection=selection,
                    ),
                    key=selection.event_id,
                    causation_id=cause.id,
                    time=UNTIMED,
                )
            return
        liability = ticket_liability_cents(
            attempt.stake_cents, [s.odds for s in attempt.selections]
        )
        for index, selection in enumerate(attempt.selections):
            tx.emit(
                LEGS_STREAM,
                LegCheck(
                    request=attempt.request,
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    coordinator=coordinator,
                    index=index,
                    legs=len(attempt.selections),
                    selection=selection,
                    jurisdiction=ticket.jurisdiction,
                    channel=ticket.channel,
                    policy=attempt.policy,
                    liability_cents=liability,
                    check_cutoff=check_cutoff,
                ),
                key=selection.event_id,
                causation_id=cause.id,
                time=UNTIMED,
            )

    # ------------------------------------------------------------------ changes, cash-outs

    def _open_or_refuse(
        self, tx: Transaction, operator: str, ticket_id: str
    ) -> tuple[TicketRecord | None, ReasonCode | None, str]:
        ticket = self._load(tx, operator, ticket_id)
        if ticket is None:
            return None, ReasonCode.TICKET_NOT_FOUND, f"no ticket {ticket_id!r}"
        if ticket.state is not TicketState.OPEN:
            return ticket, ReasonCode.TICKET_NOT_OPEN, f"ticket is {ticket.state.value}"
        if ticket.pending is not None:
            return ticket, ReasonCode.TICKET_NOT_OPEN, "another change or cash-out is in progress"
        return ticket, None, ""

    def _change(self, cause: Cause, change: TicketChange, tx: Transaction) -> None:
        ticket, reason, detail = self._open_or_refuse(tx, change.operator, change.ticket_id)
        selections = change.selections
        if ticket is not None and reason is None:
            if ticket.customer_id != change.customer_id:
                reason, detail = ReasonCode.TICKET_NOT_FOUND, "not this customer's ticket"
            elif selections is None:
                # Only the stake changes: the legs are asked again at the odds they stand at.
                selections = tuple(
                    msgspec.structs.replace(s, odds=o)
                    for s, o in zip(ticket.selections, ticket.odds, strict=True)
                )
            else:
                found = self._static_reason(ticket.jurisdiction, ticket.currency, selections)
                if found is not None:
                    reason, _, detail = found
        if ticket is None or reason is not None:
            self._decide(
                tx,
                ChangeRejected(
                    change_id=change.change_id,
                    ticket_id=change.ticket_id,
                    operator=change.operator,
                    customer_id=change.customer_id,
                    reason=reason or ReasonCode.TICKET_NOT_FOUND,
                    detail=detail,
                ),
                change.ticket_id,
                cause,
            )
            return
        assert selections is not None
        attempt = Attempt(
            kind=AttemptKind.CHANGE,
            request=change.change_id,
            selections=selections,
            stake_cents=change.stake_cents or ticket.stake_cents,
            policy=change.odds_policy,
        )
        ticket = msgspec.structs.replace(ticket, pending=attempt)
        self._save(tx, ticket)
        self._ask_legs(tx, ticket, attempt, cause, check_cutoff=True)

    def _cash_out(self, cause: Cause, request: CashOutRequest, tx: Transaction) -> None:
        ticket, reason, detail = self._open_or_refuse(tx, request.operator, request.ticket_id)
        if ticket is not None and reason is None and ticket.customer_id != request.customer_id:
            reason, detail = ReasonCode.TICKET_NOT_FOUND, "not this customer's ticket"
        if ticket is None or reason is not None:
            self._decide(
                tx,
                CashOutRejected(
                    request_id=request.request_id,
                    ticket_id=request.ticket_id,
                    operator=request.operator,
                    customer_id=request.customer_id,
                    reason=reason or ReasonCode.TICKET_NOT_FOUND,
                    detail=detail,
                ),
                request.ticket_id,
                cause,
            )
            return
        attempt = Attempt(
            kind=AttemptKind.CASH_OUT,
            request=request.request_id,
            selections=ticket.selections,
            stake_cents=ticket.stake_cents,
            min_amount_cents=request.min_amount_cents,
        )
        ticket = msgspec.structs.replace(ticket, pending=attempt)
        self._save(tx, ticket)
        self._ask_legs(tx, ticket, attempt, cause, check_cutoff=True)

    # ------------------------------------------------------------------ answers

    def _reply(self, cause: Cause, data: Any, tx: Transaction) -> None:
        ticket = self._load(tx, data.operator, data.ticket_id)
        if ticket is None:
            return
        match data:
            case LegDecided():
                answer = LegAnswer(
                    reason=data.reason,
                    detail=data.detail,
                    odds=data.odds,
                    in_play=data.in_play,
                    delay_ms=data.delay_ms,
                )
                self._answered(tx, ticket, data.request, data.index, answer, cause)
            case QuoteReply():
                answer = LegAnswer(
                    reason=data.reason, detail=data.detail, probability=data.probability
                )
                self._answered(tx, ticket, data.request, data.index, answer, cause)
            case LegSettled():
                self._leg_settled(tx, ticket, data, cause)
            case LegSettlementRolledBack():
                self._leg_rolled_back(tx, ticket, data, cause)

    def _answered(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        request: str,
        index: int,
        answer: LegAnswer,
        cause: Cause,
    ) -> None:
        attempt = ticket.pending
        if attempt is None or attempt.request != request or index in attempt.answers:
            return  # an answer to an attempt already decided
        attempt = msgspec.structs.replace(attempt, answers={**attempt.answers, index: answer})
        ticket = msgspec.structs.replace(ticket, pending=attempt)
        if len(attempt.answers) < len(attempt.selections):
            self._save(tx, ticket)
            return
        ticket = msgspec.structs.replace(ticket, pending=None)
        match attempt.kind:
            case AttemptKind.TICKET:
                self._decide_ticket(tx, ticket, attempt, cause)
            case AttemptKind.CHANGE:
                self._decide_change(tx, ticket, attempt, cause)
            case AttemptKind.CASH_OUT:
                self._decide_cash_out(tx, ticket, attempt, cause)

    @staticmethod
    def _refusal(attempt: Attempt) -> tuple[int, LegAnswer] | None:
        for index in range(len(attempt.selections)):
            answer = attempt.answers[index]
            if answer.reason is not None:
                return index, answer
        return None

    def _release(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        attempt_request: str,
        selections: tuple[Selection, ...],
        answers: dict[int, LegAnswer] | None,
        cause: Cause,
    ) -> None:
        """Release the legs an attempt holds (those accepted, when ``answers`` is given)."""
        for index, selection in enumerate(selections):
            if answers is not None and answers[index].reason is not None:
                continue
            tx.emit(
                LEGS_STREAM,
                LegRelease(
                    request=attempt_request,
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    index=index,
                    event_id=selection.event_id,
                ),
                key=selection.event_id,
                causation_id=cause.id,
                time=UNTIMED,
            )

    def _liability_refusal(self, tx: Transaction, ticket: TicketRecord, added: int) -> str | None:
        current = self._customer_liability(tx, ticket.operator, ticket.customer_id)
        breached = check_liability(self.config.limits, added_cents=added, customer_cents=current)
        if breached is None:
            return None
        return f"customer liability would reach {current + added} cents"

    def _decide_ticket(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        refusal = self._refusal(attempt)
        odds = tuple(attempt.answers[i].odds for i in range(len(attempt.selections)))
        liability = ticket_liability_cents(attempt.stake_cents, odds) if refusal is None else 0
        detail = "" if refusal is None else refusal[1].detail
        reason: ReasonCode | None = None if refusal is None else refusal[1].reason
        if refusal is None:
            over = self._liability_refusal(tx, ticket, liability)
            if over is not None:
                reason, detail = ReasonCode.LIABILITY_EXCEEDED, over
        if reason is not None:
            self._release(tx, ticket, attempt.request, attempt.selections, attempt.answers, cause)
            self._save(
                tx,
                msgspec.structs.replace(
                    ticket, state=transition(ticket.state, TicketState.REJECTED)
                ),
            )
            self._decide(
                tx,
                TicketRejected(
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    reason=reason,
                    selection=None if refusal is None else refusal[0],
                    detail=detail,
                ),
                ticket.ticket_id,
                cause,
            )
            return
        answers = attempt.answers.values()
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.OPEN),
            odds=odds,
            liability_cents=liability,
            results=dict(attempt.settled),
        )
        self._add_liability(tx, ticket, liability)
        self._decide(
            tx,
            TicketAccepted(
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                stake_cents=ticket.stake_cents,
                odds=odds,
                potential_payout_cents=potential_payout_cents(ticket.stake_cents, odds),
                in_play=any(a.in_play for a in answers),
                delay_ms=max(a.delay_ms for a in answers),
            ),
            ticket.ticket_id,
            cause,
        )
        self._money(
            tx,
            ticket,
            ("stake", ticket.request),
            ticket.stake_cents,
            TransferCode.bet_stake,
            to_customer=False,
            cause=cause,
            open_accounts=True,
        )
        self._maybe_settle(tx, ticket, cause)

    def _decide_change(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        refusal = self._refusal(attempt)
        odds = tuple(attempt.answers[i].odds for i in range(len(attempt.selections)))
        liability = ticket_liability_cents(attempt.stake_cents, odds) if refusal is None else 0
        reason = None if refusal is None else refusal[1].reason
        detail = "" if refusal is None else refusal[1].detail
        if refusal is None:
            over = self._liability_refusal(tx, ticket, liability - ticket.liability_cents)
            if over is not None:
                reason, detail = ReasonCode.LIABILITY_EXCEEDED, over
        if reason is not None:
            self._release(tx, ticket, attempt.request, attempt.selections, attempt.answers, cause)
            self._save(tx, ticket)
            self._decide(
                tx,
                ChangeRejected(
                    change_id=attempt.request,
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    reason=reason,
                    detail=detail,
                ),
                ticket.ticket_id,
                cause,
            )
            return
        self._release(tx, ticket, ticket.request, ticket.selections, None, cause)
        difference = attempt.stake_cents - ticket.stake_cents
        self._add_liability(tx, ticket, liability - ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.OPEN),
            request=attempt.request,
            selections=attempt.selections,
            stake_cents=attempt.stake_cents,
            odds=odds,
            liability_cents=liability,
            results=dict(attempt.settled),
        )
        self._decide(
            tx,
            TicketChanged(
                change_id=attempt.request,
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                stake_cents=ticket.stake_cents,
                odds=odds,
                potential_payout_cents=potential_payout_cents(ticket.stake_cents, odds),
            ),
            ticket.ticket_id,
            cause,
        )
        if difference > 0:
            self._money(
                tx,
                ticket,
                ("stake", attempt.request),
                difference,
                TransferCode.bet_stake,
                to_customer=False,
                cause=cause,
            )
        elif difference < 0:
            self._money(
                tx,
                ticket,
                ("stake", attempt.request),
                -difference,
                TransferCode.bet_refund,
                to_customer=True,
                cause=cause,
            )
        self._maybe_settle(tx, ticket, cause)

    def _decide_cash_out(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        refusal = self._refusal(attempt)
        offer: int | None = None
        reason = None if refusal is None else refusal[1].reason
        detail = "" if refusal is None else refusal[1].detail
        if refusal is None:
            probabilities = [attempt.answers[i].probability for i in range(len(attempt.selections))]
            offer = cash_out_value(
                ticket.stake_cents,
                list(ticket.odds),
                probabilities,
                margin=self.config.cash_out_margin,
            )
            if attempt.min_amount_cents is not None and offer < attempt.min_amount_cents:
                reason = ReasonCode.CASH_OUT_BELOW_MINIMUM
                detail = f"offer {offer} cents is below the {attempt.min_amount_cents} asked"
        if reason is not None:
            self._save(tx, ticket)
            self._decide(
                tx,
                CashOutRejected(
                    request_id=attempt.request,
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    reason=reason,
                    offer_cents=offer,
                    detail=detail,
                ),
                ticket.ticket_id,
                cause,
            )
            return
        assert offer is not None
        self._release(tx, ticket, ticket.request, ticket.selections, None, cause)
        self._add_liability(tx, ticket, -ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.CASHED_OUT),
            liability_cents=0,
            payout_cents=offer,
        )
        self._save(tx, ticket)
        self._decide(
            tx,
            CashOutAccepted(
                request_id=attempt.request,
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                amount_cents=offer,
            ),
            ticket.ticket_id,
            cause,
        )
        if offer > 0:
            self._money(
                tx,
                ticket,
                ("cash_out", attempt.request),
                offer,
                TransferCode.bet_payout,
                to_customer=True,
                cause=cause,
            )

    # ------------------------------------------------------------------ settlement

    def _leg_settled(
        self, tx: Transaction, ticket: TicketRecord, data: LegSettled, cause: Cause
    ) -> None:
        pending = ticket.pending
        if pending is not None and pending.request == data.request:
            # The leg settled while its attempt waits for other legs: keep it for later.
            settled = {**pending.settled, data.index: data.outcome}
            self._save(
                tx,
                msgspec.structs.replace(
                    ticket, pending=msgspec.structs.replace(pending, settled=settled)
                ),
            )
            return
        if data.request != ticket.request or ticket.state is not TicketState.OPEN:
            return
        ticket = msgspec.structs.replace(
            ticket, results={**ticket.results, data.index: data.outcome}
        )
        self._maybe_settle(tx, ticket, cause)

    def _maybe_settle(self, tx: Transaction, ticket: TicketRecord, cause: Cause) -> None:
        """Settle the ticket once every standing leg has settled; save it either way."""
        if ticket.state is not TicketState.OPEN or len(ticket.results) < len(ticket.selections):
            self._save(tx, ticket)
            return
        legs = [(ticket.odds[i], ticket.results[i]) for i in range(len(ticket.selections))]
        payout = payout_cents(ticket.stake_cents, legs)
        outcome = ticket_outcome(legs, payout)
        rounds = ticket.rounds + 1
        self._add_liability(tx, ticket, -ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.SETTLED),
            payout_cents=payout,
            rounds=rounds,
        )
        self._save(tx, ticket)
        self._decide(
            tx,
            TicketSettled(
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                outcome=outcome,
                stake_cents=ticket.stake_cents,
                payout_cents=payout,
            ),
            ticket.ticket_id,
            cause,
        )
        if payout > 0:
            code = (
                TransferCode.bet_refund
                if outcome is TicketOutcome.VOID
                else TransferCode.bet_payout
            )
            self._money(
                tx, ticket, ("payout", str(rounds)), payout, code, to_customer=True, cause=cause
            )

    def _leg_rolled_back(
        self, tx: Transaction, ticket: TicketRecord, data: LegSettlementRolledBack, cause: Cause
    ) -> None:
        pending = ticket.pending
        if pending is not None and pending.request == data.request:
            settled = {i: o for i, o in pending.settled.items() if i != data.index}
            self._save(
                tx,
                msgspec.structs.replace(
                    ticket, pending=msgspec.structs.replace(pending, settled=settled)
                ),
            )
            return
        if data.request != ticket.request:
            return
        results = {i: o for i, o in ticket.results.items() if i != data.index}
        if ticket.state is TicketState.OPEN:
            self._save(tx, msgspec.structs.replace(ticket, results=results))
            return
        if ticket.state is not TicketState.SETTLED:
            return
        reversed_cents = ticket.payout_cents
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.OPEN),
            results=results,
            payout_cents=0,
        )
        self._add_liability(tx, ticket, ticket.liability_cents)
        self._save(tx, ticket)
        self._decide(
            tx,
            TicketSettlementRolledBack(
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                reversed_cents=reversed_cents,
            ),
            ticket.ticket_id,
            cause,
        )
        if reversed_cents > 0:
            self._money(
                tx,
                ticket,
                ("reversal", str(ticket.rounds)),
                reversed_cents,
                TransferCode.bet_payout,
                to_customer=False,
                cause=cause,
            )

    # ------------------------------------------------------------------ money

    def _money(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        purpose: tuple[str, ...],
        amount: int,
        code: TransferCode,
        *,
        to_customer: bool,
        cause: Cause,
        open_accounts: bool = False,
    ) -> None:
        ledger = ledger_of(ticket.currency)
        assert ledger is not None, f"currency {ticket.currency} was accepted without a ledger"
        key = str(ledger)
        if open_accounts:
            opened = f"a/{ledger}/{customer_key(ticket.operator, ticket.customer_id)}"
            if opened not in tx.state:
                tx.state.put(opened, True)
                tx.emit(
                    PAYMENTS_STREAM,
                    accounts_request(ledger, ticket.operator, ticket.customer_id),
                    key=key,
                    causation_id=cause.id,
                    time=cause.at,
                )
        tx.emit(
            PAYMENTS_STREAM,
            transfer_request(
                ledger,
                purpose=(ticket.operator, ticket.ticket_id, *purpose),
                operator=ticket.operator,
                customer_id=ticket.customer_id,
                amount_cents=amount,
                code=code,
                to_customer=to_customer,
            ),
            key=key,
            causation_id=cause.id,
            time=cause.at,
        )
