"""Settlement and money of tickets, in the ticket processor.

Each leg's event partition reports its leg settled (a cancelled event settles it void), or its
settlement rolled back. When every leg of a ticket's standing attempt has settled, the payout
(stake included, exact to the cent) goes from the operator's book to the customer (a ticket is
open only once its stake was collected, see :mod:`.stakes`); a rolled-back
leg takes that payout back exactly, and the next settlement pays again, each as its own
transfer on ``payments.requests`` (see :mod:`.money`).
"""

from __future__ import annotations

import msgspec

from flambeau.processing import Transaction
from flambeau.services.betting.messages import LegSettled, LegSettlementRolledBack
from flambeau.services.betting.money import PAYMENTS_STREAM, ledger_of, transfer_request
from flambeau.services.betting.profiles import record_movement
from flambeau.services.betting.schemas import (
    TicketOutcome,
    TicketSettled,
    TicketSettlementRolledBack,
    ticket_ids,
)
from flambeau.services.betting.settlement import payout_cents, ticket_outcome
from flambeau.services.betting.ticket_records import (
    Cause,
    TicketRecord,
    TicketState,
    add_liability,
    emit_decision,
    save_ticket,
    transition,
)
from flambeau.services.payments.schemas import TransferCode

__all__ = ["Payouts"]


class Payouts:
    """Settles tickets from their legs and moves their money (see the module docstring)."""

    def leg_settled(
        self, tx: Transaction, ticket: TicketRecord, data: LegSettled, cause: Cause
    ) -> None:
        """Record a leg's settlement; settle the ticket when it was the last one open."""
        pending = ticket.pending
        if pending is not None and pending.request == data.request:
            # The leg settled while its attempt waits for other legs: keep it for later.
            settled = {**pending.settled, data.index: data.outcome}
            save_ticket(
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
        self.maybe_settle(tx, ticket, cause)

    def maybe_settle(self, tx: Transaction, ticket: TicketRecord, cause: Cause) -> None:
        """Settle the ticket once every standing leg has settled; save it either way."""
        if ticket.state is not TicketState.OPEN or len(ticket.results) < len(ticket.selections):
            save_ticket(tx, ticket)
            return
        legs = [(ticket.odds[i], ticket.results[i]) for i in range(len(ticket.selections))]
        payout = payout_cents(ticket.stake_cents, legs)
        outcome = ticket_outcome(legs, payout)
        rounds = ticket.rounds + 1
        add_liability(tx, ticket, -ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.SETTLED),
            payout_cents=payout,
            rounds=rounds,
        )
        save_ticket(tx, ticket)
        emit_decision(
            tx,
            TicketSettled(
                **ticket_ids(ticket),
                outcome=outcome,
                stake_cents=ticket.stake_cents,
                payout_cents=payout,
            ),
            cause,
        )
        if payout > 0:
            code = (
                TransferCode.bet_refund
                if outcome is TicketOutcome.VOID
                else TransferCode.bet_payout
            )
            self.pay(
                tx, ticket, ("payout", str(rounds)), payout, code, to_customer=True, cause=cause
            )

    def leg_rolled_back(
        self, tx: Transaction, ticket: TicketRecord, data: LegSettlementRolledBack, cause: Cause
    ) -> None:
        """Forget a leg's settlement; a settled ticket reopens and its payout is taken back."""
        pending = ticket.pending
        if pending is not None and pending.request == data.request:
            settled = {i: o for i, o in pending.settled.items() if i != data.index}
            save_ticket(
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
            save_ticket(tx, msgspec.structs.replace(ticket, results=results))
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
        add_liability(tx, ticket, ticket.liability_cents)
        save_ticket(tx, ticket)
        emit_decision(
            tx,
            TicketSettlementRolledBack(
                **ticket_ids(ticket),
                reversed_cents=reversed_cents,
            ),
            cause,
        )
        if reversed_cents > 0:
            self.pay(
                tx,
                ticket,
                ("reversal", str(ticket.rounds)),
                reversed_cents,
                TransferCode.bet_payout,
                to_customer=False,
                cause=cause,
            )

    def pay(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        purpose: tuple[str, ...],
        amount: int,
        code: TransferCode,
        *,
        to_customer: bool,
        cause: Cause,
    ) -> None:
        """Move ``amount`` cents between the operator's book and ``ticket``'s customer.

        Args:
            tx: The batch's transaction.
            ticket: The ticket the money is for.
            purpose: What the transfer is for, within the ticket (its id derives from it).
            amount: Positive cents.
            code: Why the money moves.
            to_customer: Credit the customer (payouts, refunds) or debit them (stakes).
            cause: The input the transfer answers.
        """
        ledger = ledger_of(ticket.currency)
        assert ledger is not None, f"currency {ticket.currency} was accepted without a ledger"
        key = str(ledger)
        returned = amount if to_customer else -amount  # counted against the loss limits
        record_movement(tx, ticket.operator, ticket.customer_id, returned=returned)
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
