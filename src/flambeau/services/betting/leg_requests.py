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
    LegMessage,
    LegRelease,
    QuoteRequest,
    customer_key,
)
from flambeau.services.betting.rules import ticket_liability_cents
from flambeau.services.betting.schemas import Selection, ticket_ids
from flambeau.services.betting.ticket_records import (
    Attempt,
    AttemptKind,
    Cause,
    LegAnswer,
    TicketRecord,
)

__all__ = ["ask_legs", "release_legs"]


def _send(tx: Transaction, message: LegMessage, event_id: str, cause: Cause) -> None:
    """Send ``message`` about one leg to the trading partition of its event."""
    tx.emit(LEGS_STREAM, message, key=event_id, causation_id=cause.id, time=UNTIMED)


def ask_legs(
    tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause, *, check_cutoff: bool
) -> None:
    """Send each leg of ``attempt`` to its event partition (checks, or quotes for a cash-out)."""
    coordinator = ticket.coordinator or customer_key(ticket.operator, ticket.customer_id)
    if attempt.kind is AttemptKind.CASH_OUT:
        for index, selection in enumerate(attempt.selections):
            _send(
                tx,
                QuoteRequest(
                    request=attempt.request,
                    **ticket_ids(ticket),
                    coordinator=coordinator,
                    index=index,
                    selection=selection,
                ),
                selection.event_id,
                cause,
            )
        return
    liability = ticket_liability_cents(attempt.stake_cents, [s.odds for s in attempt.selections])
    for index, selection in enumerate(attempt.selections):
        _send(
            tx,
            LegCheck(
                request=attempt.request,
                **ticket_ids(ticket),
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
            selection.event_id,
            cause,
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
        _send(
            tx,
            LegRelease(
                request=attempt_request,
                ticket_id=ticket.ticket_id,
                operator=ticket.operator,
                index=index,
                event_id=selection.event_id,
            ),
            selection.event_id,
            cause,
        )
