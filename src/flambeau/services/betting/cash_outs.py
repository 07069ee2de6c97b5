"""Cash-outs, in the ticket processor: close an open ticket now for its cash-out value.

A cash-out request asks every standing leg's event partition for a quote (the leg's current fair
probability, refused after the cut-off or while the market is suspended). Once all have
answered, the value is ``stake x odds x probability`` less the cash-out margin, rounded down
to the cent; below the customer's ``min_amount_cents`` it is refused with the offer.
"""

from __future__ import annotations

import msgspec

from flambeau.processing import Transaction
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.leg_requests import ask_legs, release_legs
from flambeau.services.betting.payouts import Payouts
from flambeau.services.betting.pricing import cash_out_value
from flambeau.services.betting.schemas import (
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ReasonCode,
    ticket_ids,
)
from flambeau.services.betting.ticket_records import (
    Attempt,
    AttemptKind,
    Cause,
    TicketRecord,
    TicketState,
    add_liability,
    emit_decision,
    first_refusal,
    open_or_refuse,
    save_ticket,
    transition,
)
from flambeau.services.payments.schemas import TransferCode

__all__ = ["CashOuts"]


class CashOuts:
    """Asks for and decides cash-outs (see the module docstring)."""

    def __init__(self, config: BettingConfig, payouts: Payouts) -> None:
        self.config = config
        self.payouts = payouts

    def _reject(
        self,
        tx: Transaction,
        request_id: str,
        ticket: TicketRecord | CashOutRequest,
        reason: ReasonCode,
        detail: str,
        cause: Cause,
        offer: int | None = None,
    ) -> None:
        """Refuse cash-out ``request_id`` of ``ticket`` (or of the ticket its request names)."""
        emit_decision(
            tx,
            CashOutRejected(
                request_id=request_id,
                **ticket_ids(ticket),
                reason=reason,
                offer_cents=offer,
                detail=detail,
            ),
            cause,
        )

    def request(self, cause: Cause, request: CashOutRequest, tx: Transaction) -> None:
        """Ask the legs of the ticket for quotes, or refuse the request at once."""
        ticket, reason, detail = open_or_refuse(
            tx, request.operator, request.ticket_id, request.customer_id
        )
        rules = None if ticket is None else self.config.jurisdictions.get(ticket.jurisdiction)
        if reason is None and rules is not None and not rules.cash_out:
            reason = ReasonCode.JURISDICTION_FORBIDS_CASH_OUT
            detail = f"cash-out is not allowed in {rules.code}"
        if ticket is None or reason is not None:
            reason = reason or ReasonCode.TICKET_NOT_FOUND
            self._reject(tx, request.request_id, request, reason, detail, cause)
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

    def decide(self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause) -> None:
        """Pay the cash-out once every leg has quoted, or refuse it naming why."""
        refusal = first_refusal(attempt)
        if refusal is not None:
            save_ticket(tx, ticket)
            _, answer = refusal
            reason = answer.reason or ReasonCode.MARKET_SUSPENDED
            self._reject(tx, attempt.request, ticket, reason, answer.detail, cause)
            return
        probabilities = [attempt.answers[i].probability for i in range(len(attempt.selections))]
        offer = cash_out_value(
            ticket.stake_cents, list(ticket.odds), probabilities, margin=self.config.cash_out_margin
        )
        if attempt.min_amount_cents is not None and offer < attempt.min_amount_cents:
            save_ticket(tx, ticket)
            detail = f"offer {offer} cents is below the {attempt.min_amount_cents} asked"
            reason = ReasonCode.CASH_OUT_BELOW_MINIMUM
            self._reject(tx, attempt.request, ticket, reason, detail, cause, offer)
            return
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
                **ticket_ids(ticket),
                amount_cents=offer,
            ),
            cause,
        )
        if offer > 0:
            self.payouts.pay(tx, ticket, ("cash_out", attempt.request), offer,
                             TransferCode.bet_payout, to_customer=True, cause=cause)  # fmt: skip
