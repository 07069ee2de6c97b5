"""The ticket half of the betting service: tickets, changes, cash-outs, settlement and money.

:class:`Tickets` is the handler of the ``betting.tickets`` processor. It reads ``betting.bets``
and ``betting.replies``, both keyed by ``<operator>/<customer>``, so a customer's tickets, their
liability and every answer about them meet in one partition. (A producer that keys tickets
otherwise still gets answers: they come back under the key the ticket came with; only its
changes and cash-outs must then use that key, and its customer's liability is counted per key.)

A ticket, a change and a cash-out are each an *attempt* on the ticket: the ticket half sends
one message per leg to the leg's event partition (``betting.legs``), which decides it after the
live delay (or quotes it, for a cash-out) and answers on ``betting.replies``. A ticket, and a
change that raises the stake, also ask the payments ledger to hold the stake on the customer's
wallet (:mod:`.stakes`). Once every leg has answered and the ledger has decided the hold, the
attempt is decided: the first refused leg (by position) gives the reason; else a refused hold
(``insufficient_funds``); else the customer's liability is checked. The decision goes to
``betting.decisions``; the hold is posted if the bet stands and voided if not. Legs accepted for
an attempt that fails are released.

The ticket's state machine and stored record are in :mod:`.ticket_records`; settlement and
money in :mod:`.payouts`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.processing import Batch, Transaction
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.leg_requests import ask_legs, release_legs
from flambeau.services.betting.messages import (
    LegDecided,
    LegSettled,
    LegSettlementRolledBack,
    QuoteReply,
    StakeDecided,
    customer_key,
)
from flambeau.services.betting.money import ledger_of
from flambeau.services.betting.payouts import Payouts
from flambeau.services.betting.pricing import cash_out_value
from flambeau.services.betting.rules import (
    check_liability,
    potential_payout_cents,
    ticket_liability_cents,
)
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ChangeRejected,
    CustomerDeposit,
    ReasonCode,
    Selection,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketRejected,
    TicketSubmitted,
)
from flambeau.services.betting.stakes import deposit, hold_stake, resolve_stake, stake_owner
from flambeau.services.betting.ticket_records import (
    Attempt,
    AttemptKind,
    Cause,
    LegAnswer,
    TicketRecord,
    TicketState,
    add_liability,
    customer_liability,
    emit_decision,
    load_ticket,
    save_ticket,
    transition,
)
from flambeau.services.payments.schemas import TransferCode

__all__ = ["Tickets"]


class Tickets:
    """Handlers of the ticket processor (see the module docstring)."""

    def __init__(self, config: BettingConfig) -> None:
        self.config = config
        self.payouts = Payouts()

    def on_batch(self, batch: Batch[Any], tx: Transaction) -> None:
        """Handle submitted tickets, changes and cash-outs, or answers from event partitions."""
        from_bets = batch.stream == BETS_STREAM
        for record in batch:
            data = record.data
            if from_bets:
                cause = Cause(record.id, record.time)
                match data:
                    case TicketSubmitted():
                        self._submitted(cause, data, tx, record.key)
                    case TicketChange():
                        self._change(cause, data, tx)
                    case CashOutRequest():
                        self._cash_out(cause, data, tx)
                    case CustomerDeposit():
                        deposit(tx, data, cause)
            else:
                # Replies carry no time of their own; what they decide happens now.
                self._reply(Cause(record.id, tx.now()), data, tx)

    # ------------------------------------------------------------------ new tickets

    def _submitted(self, cause: Cause, ticket: TicketSubmitted, tx: Transaction, key: str) -> None:
        if load_ticket(tx, ticket.operator, ticket.ticket_id) is not None:
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
            coordinator=key or customer_key(ticket.operator, ticket.customer_id),
        )
        if rejected is not None:
            reason, index, detail = rejected
            save_ticket(tx, msgspec.structs.replace(record_, state=TicketState.REJECTED))
            emit_decision(
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
        hold_id = hold_stake(tx, record_, attempt, ticket.stake_cents, cause)
        attempt = msgspec.structs.replace(attempt, hold_id=hold_id)
        record_ = msgspec.structs.replace(record_, pending=attempt)
        save_ticket(tx, record_)
        ask_legs(tx, record_, attempt, cause, check_cutoff=False)

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

    # ------------------------------------------------------------------ changes, cash-outs

    def _open_or_refuse(
        self, tx: Transaction, operator: str, ticket_id: str
    ) -> tuple[TicketRecord | None, ReasonCode | None, str]:
        ticket = load_ticket(tx, operator, ticket_id)
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
            emit_decision(
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
        raised = attempt.stake_cents - ticket.stake_cents
        if raised > 0:  # the difference is held like a new stake
            hold_id = hold_stake(tx, ticket, attempt, raised, cause)
            attempt = msgspec.structs.replace(attempt, hold_id=hold_id)
        ticket = msgspec.structs.replace(ticket, pending=attempt)
        save_ticket(tx, ticket)
        ask_legs(tx, ticket, attempt, cause, check_cutoff=True)

    def _cash_out(self, cause: Cause, request: CashOutRequest, tx: Transaction) -> None:
        ticket, reason, detail = self._open_or_refuse(tx, request.operator, request.ticket_id)
        if ticket is not None and reason is None and ticket.customer_id != request.customer_id:
            reason, detail = ReasonCode.TICKET_NOT_FOUND, "not this customer's ticket"
        rules = None if ticket is None else self.config.jurisdictions.get(ticket.jurisdiction)
        if reason is None and rules is not None and not rules.cash_out:
            reason = ReasonCode.JURISDICTION_FORBIDS_CASH_OUT
            detail = f"cash-out is not allowed in {rules.code}"
        if ticket is None or reason is not None:
            emit_decision(
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
        save_ticket(tx, ticket)
        ask_legs(tx, ticket, attempt, cause, check_cutoff=True)

    # ------------------------------------------------------------------ answers

    def _reply(self, cause: Cause, data: Any, tx: Transaction) -> None:
        if isinstance(data, StakeDecided):
            self._stake_decided(tx, data, cause)
            return
        ticket = load_ticket(tx, data.operator, data.ticket_id)
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
                self.payouts.leg_settled(tx, ticket, data, cause)
            case LegSettlementRolledBack():
                self.payouts.leg_rolled_back(tx, ticket, data, cause)

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
        self._progress(tx, ticket, attempt, cause)

    def _stake_decided(self, tx: Transaction, data: StakeDecided, cause: Cause) -> None:
        owner = stake_owner(tx, data.hold_id)
        ticket = None if owner is None else load_ticket(tx, *owner)
        if ticket is None:
            return  # a decision relayed again: the first one was used
        attempt = ticket.pending
        if attempt is None or attempt.hold_id != data.hold_id:  # pragma: no cover - defensive
            if data.collected:  # no attempt waits for it: never keep the money held
                resolve_stake(tx, ticket, data.hold_id, post=False, cause=cause)
            return
        attempt = msgspec.structs.replace(attempt, collected=data.collected, funds=data.result)
        self._progress(tx, ticket, attempt, cause)

    def _progress(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        """Keep ``attempt``; decide it once its legs and its stake hold have all answered."""
        if not attempt.complete():
            save_ticket(tx, msgspec.structs.replace(ticket, pending=attempt))
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

    def _liability_refusal(self, tx: Transaction, ticket: TicketRecord, added: int) -> str | None:
        current = customer_liability(tx, ticket.operator, ticket.customer_id)
        breached = check_liability(self.config.limits, added_cents=added, customer_cents=current)
        if breached is None:
            return None
        return f"customer liability would reach {current + added} cents"

    def _verdict(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt
    ) -> tuple[ReasonCode | None, str, int | None, tuple[float, ...], int]:
        """Why ``attempt`` is refused (reason, detail, leg), its odds and its liability.

        In order: the first refused leg, the stake hold the ledger refused, the customer's
        liability limit (counting the ticket's current liability as released, for a change).
        """
        refusal = self._refusal(attempt)
        odds = tuple(attempt.answers[i].odds for i in range(len(attempt.selections)))
        if refusal is not None:
            index, answer = refusal
            return answer.reason, answer.detail, index, odds, 0
        if attempt.collected is False:
            change = attempt.kind is AttemptKind.CHANGE
            held = attempt.stake_cents - (ticket.stake_cents if change else 0)
            detail = f"the wallet could not cover {held} cents ({attempt.funds})"
            return ReasonCode.INSUFFICIENT_FUNDS, detail, None, odds, 0
        liability = ticket_liability_cents(attempt.stake_cents, odds)
        over = self._liability_refusal(tx, ticket, liability - ticket.liability_cents)
        if over is not None:
            return ReasonCode.LIABILITY_EXCEEDED, over, None, odds, 0
        return None, "", None, odds, liability

    def _refused(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        """Undo what a refused attempt holds: its accepted legs and its stake hold."""
        release_legs(tx, ticket, attempt.request, attempt.selections, attempt.answers, cause)
        if attempt.collected:
            resolve_stake(tx, ticket, attempt.hold_id, post=False, cause=cause)

    def _decide_ticket(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        reason, detail, selection, odds, liability = self._verdict(tx, ticket, attempt)
        if reason is not None:
            self._refused(tx, ticket, attempt, cause)
            save_ticket(
                tx,
                msgspec.structs.replace(
                    ticket, state=transition(ticket.state, TicketState.REJECTED)
                ),
            )
            emit_decision(
                tx,
                TicketRejected(
                    ticket_id=ticket.ticket_id,
                    operator=ticket.operator,
                    customer_id=ticket.customer_id,
                    reason=reason,
                    selection=selection,
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
        add_liability(tx, ticket, liability)
        emit_decision(
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
        resolve_stake(tx, ticket, attempt.hold_id, post=True, cause=cause)
        self.payouts.maybe_settle(tx, ticket, cause)

    def _decide_change(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        reason, detail, _, odds, liability = self._verdict(tx, ticket, attempt)
        if reason is not None:
            self._refused(tx, ticket, attempt, cause)
            save_ticket(tx, ticket)
            emit_decision(
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
        release_legs(tx, ticket, ticket.request, ticket.selections, None, cause)
        difference = attempt.stake_cents - ticket.stake_cents
        add_liability(tx, ticket, liability - ticket.liability_cents)
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
        emit_decision(
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
        if attempt.hold_id:
            resolve_stake(tx, ticket, attempt.hold_id, post=True, cause=cause)
        elif difference < 0:
            self.payouts.pay(
                tx,
                ticket,
                ("stake", attempt.request),
                -difference,
                TransferCode.bet_refund,
                to_customer=True,
                cause=cause,
            )
        self.payouts.maybe_settle(tx, ticket, cause)

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
            save_ticket(tx, ticket)
            emit_decision(
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
        release_legs(tx, ticket, ticket.request, ticket.selections, None, cause)
        add_liability(tx, ticket, -ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.CASHED_OUT),
            liability_cents=0,
            payout_cents=offer,
        )
        save_ticket(tx, ticket)
        emit_decision(
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
            self.payouts.pay(
                tx,
                ticket,
                ("cash_out", attempt.request),
                offer,
                TransferCode.bet_payout,
                to_customer=True,
                cause=cause,
            )
