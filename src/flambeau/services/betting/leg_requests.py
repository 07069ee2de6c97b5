"""What the ticket half asks of the legs' event partitions, on ``betting.legs``.

Each leg of an attempt goes to its event's trading partition (keyed by event id): a
:class:`~.messages.LegCheck` to decide it after the live delay, a
:class:`~.messages.QuoteRequest` for a cash-out, or a :class:`~.messages.LegRelease` to forget
a leg accepted earlier. Their event time is :data:`~.messages.UNTIMED`: a ticket's time is the
operator's and must not move a trading partition's clock.
"""

from __future__ import annotations

from flambeau.processing import Transaction
from flambeau.services.betting.messages import (
    LEGS_STREAM,
    UNTIMED,
    LegCheck,
    LegRelease,
    QuoteRequest,
    customer_key,
)
from flambeau.services.betting.rules import ticket_liability_cents
from flambeau.services.betting.schemas import Selection
from flambeau.services.betting.ticket_records import (
    Attempt,
    AttemptKind,
    Cause,
    LegAnswer,
    TicketRecord,
)

__all__ = ["ask_legs", "release_legs"]


def ask_legs(
    tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause, *, check_cutoff: bool
) -> None:
    """Send each leg of ``attempt`` to its event partition (checks, or quotes for a cash-out)."""
    coordinator = ticket.coordinator or customer_key(ticket.operator, ticket.customer_id)
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
    liability = ticket_liability_cents(attempt.stake_cents, [s.odds for s in attempt.selections])
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


def release_legs(
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
