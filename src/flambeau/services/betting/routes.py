"""HTTP routes of the betting service, answered from views.

======================================================  =====================  ==================
route                                                   scope                  answers
======================================================  =====================  ==================
``POST /v1/betting/bets[?wait=true]``                   write ``betting.bets``  the ticket
``GET /v1/betting/tickets/{id}``                        read ``betting.decisions``  the ticket
``POST /v1/betting/tickets/{id}/changes[?wait=true]``   write ``betting.bets``  the change
``POST /v1/betting/tickets/{id}/cash-out[?wait=true]``  write ``betting.bets``  the cash-out
``GET /v1/betting/markets?event=...``                   read ``betting.odds``   the markets
======================================================  =====================  ==================

The operator of a ticket is the API key's tenant: a tenant submits, changes, cashes out and
reads its own tickets only (an admin key may name another operator in ``operator``). A request
is appended to ``betting.bets`` (keyed by operator and customer, with an id derived from the
operator and the ticket, change or request id, so a retry is one event) and answered with 202
and the pending ticket, or, with ``?wait=true``, once the bet engine has decided (200), which
for an in-play bet is after the live delay.

Bad input is a 400 problem naming each field: anything the decoder refuses (odds as strings,
zero or negative stakes, unknown fields), an unsupported currency, and selections on markets
the feed does not offer (an unknown event or market, specifiers matching no line, an outcome the
market lacks). Reusing a ticket id with other content is a 409; sending the same ticket again
returns the first decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from flambeau.events import NewEvent
from flambeau.gateway import (
    FieldError,
    Principal,
    ProblemError,
    ProblemKind,
    gateway_of,
)
from flambeau.log import Log
from flambeau.processing.view import View
from flambeau.services.betting import customer_routes
from flambeau.services.betting.config import DEFAULT_CONFIG
from flambeau.services.betting.money import LEDGERS, ledger_of
from flambeau.services.betting.offers import MAX_EVENTS, Offers, offers_for
from flambeau.services.betting.rules import FieldProblem, selection_problems
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    ODDS_STREAM,
    CashOutRequest,
    Cents,
    Channel,
    Currency,
    Id,
    JurisdictionCode,
    OddsPolicy,
    PositiveCents,
    Selection,
    Selections,
    TicketChange,
    TicketSubmitted,
    bets_event_id,
    customer_key,
    ticket_ids,
)
from flambeau.services.betting.views import (
    TICKETS_KEPT,
    EventMarkets,
    RequestOutcome,
    TicketView,
    market_board,
    ticket_book,
)
from flambeau.services.betting.web import (
    SYNC_TIMEOUT_S,
    WAIT_TIMEOUT_S,
    Wait,
    read_route,
    synced,
    write_request,
    write_route,
)
from flambeau.services.betting.web import conflict as _conflict
from flambeau.services.betting.web import tenant as _tenant

__all__ = ["CashOutBody", "ChangeBody", "TicketBody", "routes"]

Moment = Annotated[datetime, msgspec.Meta(tz=True)]
K = TypeVar("K")
Shown = TypeVar("Shown", TicketView, RequestOutcome)


class TicketBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bet, as ``POST /v1/betting/bets`` takes it.

    Attributes:
        ticket_id: The operator's idempotency id of the ticket.
        customer_id: The operator's customer.
        jurisdiction: ISO 3166 code of the customer's jurisdiction (``FR``, ``US-NJ``).
        channel: How the bet was placed.
        selections: One (a single) or several legs on different events (an accumulator).
        stake_cents: The stake, integer minor units, above zero.
        currency: ISO 4217.
        odds_policy: ``none`` (refuse any change of odds), ``any`` or ``higher``.
        operator: The operator; defaults to the API key's tenant and must equal it.
        placed_at: When the customer placed the bet, for producers on their own clock.
        reoffer_of: Takes the reoffer made when the customer's ticket of this id was refused
            by a limit: the same selections, at most the stake reoffered, within its time.
    """

    ticket_id: Id
    customer_id: Id
    jurisdiction: JurisdictionCode
    channel: Channel
    selections: Selections
    stake_cents: PositiveCents
    currency: Currency = "EUR"
    odds_policy: OddsPolicy = OddsPolicy.NONE
    operator: Id | None = None
    placed_at: Moment | None = None
    reoffer_of: Id | None = None


class ChangeBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A change to an open ticket: new selections, a new stake, or both."""

    change_id: Id
    customer_id: Id
    selections: Selections | None = None
    stake_cents: PositiveCents | None = None
    odds_policy: OddsPolicy = OddsPolicy.NONE
    placed_at: Moment | None = None


class CashOutBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A cash-out request; ``min_amount_cents`` is the least the customer accepts."""

    request_id: Id
    customer_id: Id
    min_amount_cents: Cents | None = None
    placed_at: Moment | None = None


RequestBody = TypeVar("RequestBody", ChangeBody, CashOutBody)


def _bad_selections(problems: list[FieldProblem], prefix: str = "") -> ProblemError:
    errors = [FieldError(message=p.message, field=prefix + p.field) for p in problems]
    return ProblemError.of(
        ProblemKind.BAD_REQUEST, "selections name markets the feed does not offer", errors
    )


async def _check_selections(
    request: Request[Any, Any, Any], selections: tuple[Selection, ...]
) -> None:
    view, board = market_board(gateway_of(request).log)
    problems = selection_problems(selections, board.markets_of)
    if problems:
        await view.sync(SYNC_TIMEOUT_S)  # the markets may be newer than this gateway's view
        problems = selection_problems(selections, board.markets_of)
    if problems:
        raise _bad_selections(problems)


async def _append_once(
    log: Log, view: View, submitted: Mapping[K, Any], key: K, event: NewEvent
) -> bool:
    """Append ``event`` to ``betting.bets`` unless ``submitted`` holds a request under ``key``.

    Returns whether what the view holds under ``key`` is ``event``'s payload, or nothing yet
    (a view still behind the append): false when the id was used for other content.
    """
    known = submitted.get(key)
    if known is None:
        await log.append(BETS_STREAM, [event])
        await view.wait_until(lambda: key in submitted, SYNC_TIMEOUT_S)
        known = submitted.get(key)
    return known is None or known == event.data


async def _answer(
    view: View, answers: Mapping[K, Shown], key: K, wait: bool, pending: Callable[[], Shown]
) -> Response[Any]:
    """What ``answers`` holds under ``key``: 200 once the engine has decided, else 202.

    With ``wait``, the decision is awaited up to :data:`WAIT_TIMEOUT_S`. A view still behind
    the append answers ``pending()``, the request as submitted.
    """

    def decided() -> bool:
        shown = answers.get(key)
        return shown is not None and shown.status != "pending"

    await view.wait_until(decided, WAIT_TIMEOUT_S if wait else 0.0)
    shown = answers.get(key) or pending()
    return Response(content=shown, status_code=202 if shown.status == "pending" else 200)


@write_route("/v1/betting/bets", TicketBody, "Place a bet", pending=TicketView)
async def place_bet(request: Request[Any, Any, Any], wait: Wait = False) -> Response[Any]:
    """Submit a ticket; 200 with its decision (``?wait=true``) or 202 while it waits."""
    gateway, principal, body = await write_request(request, TicketBody)
    operator = _tenant(principal, body.operator)
    if ledger_of(body.currency) is None:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"currency {body.currency} is not supported",
            [FieldError(message=f"one of {sorted(LEDGERS)}", field="currency")],
        )
    ticket = TicketSubmitted(
        ticket_id=body.ticket_id,
        operator=operator,
        customer_id=body.customer_id,
        jurisdiction=body.jurisdiction,
        channel=body.channel,
        selections=body.selections,
        stake_cents=body.stake_cents,
        currency=body.currency,
        odds_policy=body.odds_policy,
        reoffer_of=body.reoffer_of,
    )
    view, book = ticket_book(gateway.log)
    key = (operator, body.ticket_id)
    if await synced(view, lambda: book.submitted.get(key)) is None:
        await _check_selections(request, body.selections)
    event = NewEvent(
        ticket,
        key=customer_key(operator, body.customer_id),
        id=bets_event_id("ticket", operator, body.ticket_id),
        time=body.placed_at,
    )
    if not await _append_once(gateway.log, view, book.submitted, key, event):
        raise _conflict("ticket", body.ticket_id, "ticket_id")

    def submitted() -> TicketView:
        return TicketView(
            **ticket_ids(ticket),
            stake_cents=body.stake_cents,
            currency=body.currency,
        )

    return await _answer(view, book.tickets, key, wait, submitted)


@read_route(
    "/v1/betting/tickets/{ticket_id:str}", "Read a ticket", "No such ticket for this operator"
)
async def read_ticket(request: Request[Any, Any, Any], ticket_id: FromPath[str]) -> TicketView:
    """The ticket, its decision and settlement; only the operator's own tickets."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "read", DECISIONS_STREAM)
    return await _own_ticket(request, principal, ticket_id)


async def _own_ticket(
    request: Request[Any, Any, Any], principal: Principal, ticket_id: str
) -> TicketView:
    view, book = ticket_book(gateway_of(request).log)
    tenant = _tenant(principal, None)
    found = await synced(view, lambda: book.tickets.get((tenant, ticket_id)))
    if found is None and principal.admin:
        found = next((t for (_, tid), t in book.tickets.items() if tid == ticket_id), None)
    if found is None:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND,
            f"operator {tenant!r} has no ticket {ticket_id!r} among the last "
            f"{TICKETS_KEPT:,} this gateway keeps (older ones: the betting.decisions stream)",
        )
    return found


async def _ticket_request(
    request: Request[Any, Any, Any], ticket_id: str, body_type: type[RequestBody]
) -> tuple[TicketView, RequestBody]:
    """The caller's ticket ``ticket_id``, and the change or cash-out body sent for it.

    Raises:
        ProblemError: 400 when the body names another customer than the ticket's.
    """
    _, principal, body = await write_request(request, body_type)
    ticket = await _own_ticket(request, principal, ticket_id)
    if ticket.customer_id != body.customer_id:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"ticket {ticket.ticket_id!r} is not customer {body.customer_id!r}'s",
            [FieldError(message="not this ticket's customer", field="customer_id")],
        )
    return ticket, body


async def _submit_request(
    request: Request[Any, Any, Any],
    ticket: TicketView,
    request_id: str,
    id_field: str,
    payload: TicketChange | CashOutRequest,
    placed_at: datetime | None,
    wait: bool,
) -> Response[Any]:
    gateway = gateway_of(request)
    view, book = ticket_book(gateway.log)
    key = (ticket.operator, request_id)
    kind: Literal["change", "cash_out"] = (
        "change" if isinstance(payload, TicketChange) else "cash_out"
    )
    event = NewEvent(
        payload,
        key=customer_key(ticket.operator, ticket.customer_id),
        id=bets_event_id(kind, ticket.operator, request_id),
        time=placed_at,
    )
    if not await _append_once(gateway.log, view, book.request_bodies, key, event):
        raise _conflict("request", request_id, id_field)

    def submitted() -> RequestOutcome:
        return RequestOutcome(request_id=request_id, ticket_id=ticket.ticket_id)

    return await _answer(view, book.requests, key, wait, submitted)


@write_route(
    "/v1/betting/tickets/{ticket_id:str}/changes",
    ChangeBody,
    "Change an open ticket",
    pending=RequestOutcome,
)
async def change_ticket(
    request: Request[Any, Any, Any], ticket_id: FromPath[str], wait: Wait = False
) -> Response[Any]:
    """Replace a ticket's selections or stake, until 5 minutes before the end of its events."""
    ticket, body = await _ticket_request(request, ticket_id, ChangeBody)
    if body.selections is None and body.stake_cents is None:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            "a change needs new selections, a new stake, or both",
            [FieldError(message="give selections or stake_cents", field="selections")],
        )
    if body.selections is not None:
        await _check_selections(request, body.selections)
    change = TicketChange(
        change_id=body.change_id,
        **ticket_ids(ticket),
        selections=body.selections,
        stake_cents=body.stake_cents,
        odds_policy=body.odds_policy,
    )
    return await _submit_request(
        request, ticket, body.change_id, "change_id", change, body.placed_at, wait
    )


@write_route(
    "/v1/betting/tickets/{ticket_id:str}/cash-out",
    CashOutBody,
    "Cash out an open ticket",
    pending=RequestOutcome,
)
async def cash_out(
    request: Request[Any, Any, Any], ticket_id: FromPath[str], wait: Wait = False
) -> Response[Any]:
    """Close a ticket for stake x odds x current probability, less the cash-out margin."""
    ticket, body = await _ticket_request(request, ticket_id, CashOutBody)
    payload = CashOutRequest(
        request_id=body.request_id,
        **ticket_ids(ticket),
        min_amount_cents=body.min_amount_cents,
    )
    return await _submit_request(
        request, ticket, body.request_id, "request_id", payload, body.placed_at, wait
    )


@read_route(
    "/v1/betting/markets",
    "Markets of an event, or what a jurisdiction may bet",
    not_found="No markets for this event",
    bad_request="No event nor jurisdiction, or an unknown jurisdiction or channel",
)
async def markets(
    request: Request[Any, Any, Any],
    event: Annotated[
        str | None, QueryParameter(description="The event id (the unit's RSC).")
    ] = None,
    jurisdiction: Annotated[
        str | None, QueryParameter(description="Only what this jurisdiction allows (FR, GB...).")
    ] = None,
    channel: Annotated[
        str, QueryParameter(description="internet, mobile, retail, phone (online: internet).")
    ] = "internet",
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_EVENTS, description="Events listed without event=.")
    ] = 100,
) -> EventMarkets | Offers:
    """An event's markets (status, odds, fair probabilities), or, with ``jurisdiction``, only
    those a customer there may bet on through ``channel``, for one event or every event."""
    gateway = gateway_of(request)
    gateway.authorize(request, "read", ODDS_STREAM)
    view, board = market_board(gateway.log)
    if event is None and jurisdiction is None:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            "name an event, a jurisdiction, or both",
            [FieldError(message="required without jurisdiction", field="event")],
        )
    found = None
    if event is not None:
        found = await synced(view, lambda: board.events.get(event))
        if found is None:
            raise ProblemError.of(ProblemKind.NOT_FOUND, f"no markets for event {event!r}")
        if jurisdiction is None:
            return found
    assert jurisdiction is not None
    events = [found] if found is not None else list(board.events.values())[:limit]
    return offers_for(DEFAULT_CONFIG.jurisdictions, jurisdiction, channel, events)


routes = [place_bet, read_ticket, change_ticket, cash_out, markets, *customer_routes.routes]
"""The betting service's route handlers, for the gateway."""
