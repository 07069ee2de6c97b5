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

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from flambeau.events import NewEvent
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Principal,
    ProblemError,
    ProblemKind,
    gateway_of,
    problem_specs,
)
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
)
from flambeau.services.betting.views import (
    TICKETS_KEPT,
    EventMarkets,
    RequestOutcome,
    TicketView,
    market_board,
    ticket_book,
)
from flambeau.services.betting.web import MAX_BODY_BYTES, SYNC_TIMEOUT_S, WAIT_TIMEOUT_S
from flambeau.services.betting.web import WRITE_PROBLEMS as _WRITE_PROBLEMS
from flambeau.services.betting.web import conflict as _conflict
from flambeau.services.betting.web import decode as _decode
from flambeau.services.betting.web import operation as _operation
from flambeau.services.betting.web import tenant as _tenant

__all__ = ["CashOutBody", "ChangeBody", "TicketBody", "routes"]

Moment = Annotated[datetime, msgspec.Meta(tz=True)]


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


async def _wait(view: View, done: Any, wait: bool) -> None:
    await view.wait_until(done, WAIT_TIMEOUT_S if wait else 0.0)


def _decided(shown: TicketView | RequestOutcome | None) -> bool:
    return shown is not None and shown.status != "pending"


def _reply(content: Any, pending: bool) -> Response[Any]:
    return Response(content=content, status_code=202 if pending else 200)


@post(
    "/v1/betting/bets",
    status_code=200,
    operation_class=_operation(TicketBody),
    request_max_body_size=MAX_BODY_BYTES,
    summary="Place a bet",
    tags=["betting"],
    responses={202: ResponseSpec(TicketView, description="Submitted, not decided yet")}
    | _WRITE_PROBLEMS,
)
async def place_bet(
    request: Request[Any, Any, Any],
    wait: Annotated[bool, QueryParameter(description="Wait for the decision.")] = False,
) -> Response[Any]:
    """Submit a ticket; 200 with its decision (``?wait=true``) or 202 while it waits."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", BETS_STREAM)
    body = await _decode(request, TicketBody)
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
    if key not in book.submitted:
        await view.sync(SYNC_TIMEOUT_S)
    known = book.submitted.get(key)
    if known is None:
        await _check_selections(request, body.selections)
        event = NewEvent(
            ticket,
            key=customer_key(operator, body.customer_id),
            id=bets_event_id("ticket", operator, body.ticket_id),
            time=body.placed_at,
        )
        await gateway.log.append(BETS_STREAM, [event])
        await view.wait_until(lambda: key in book.submitted, SYNC_TIMEOUT_S)
        known = book.submitted.get(key)
    if known is not None and known != ticket:
        raise _conflict("ticket", body.ticket_id, "ticket_id")
    await _wait(view, lambda: _decided(book.tickets.get(key)), wait)
    # a view still behind the append (a slow log) answers the ticket as submitted, pending
    shown = book.tickets.get(key) or TicketView(
        ticket_id=body.ticket_id,
        operator=operator,
        customer_id=body.customer_id,
        stake_cents=body.stake_cents,
        currency=body.currency,
    )
    return _reply(shown, shown.status == "pending")


@get(
    "/v1/betting/tickets/{ticket_id:str}",
    summary="Read a ticket",
    tags=["betting"],
    responses=problem_specs(
        *AUTH_PROBLEMS, (404, "No such ticket for this operator"), RATE_PROBLEM
    ),
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
    found = book.tickets.get((tenant, ticket_id))
    if found is None:
        await view.sync(SYNC_TIMEOUT_S)
        found = book.tickets.get((tenant, ticket_id))
    if found is None and principal.admin:
        found = next((t for (_, tid), t in book.tickets.items() if tid == ticket_id), None)
    if found is None:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND,
            f"operator {tenant!r} has no ticket {ticket_id!r} among the last "
            f"{TICKETS_KEPT:,} this gateway keeps (older ones: the betting.decisions stream)",
        )
    return found


async def _submit_request(
    request: Request[Any, Any, Any],
    principal: Principal,
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
    known = book.request_bodies.get(key)
    if known is None:
        kind: Literal["change", "cash_out"] = (
            "change" if isinstance(payload, TicketChange) else "cash_out"
        )
        event = NewEvent(
            payload,
            key=customer_key(ticket.operator, ticket.customer_id),
            id=bets_event_id(kind, ticket.operator, request_id),
            time=placed_at,
        )
        await gateway.log.append(BETS_STREAM, [event])
        await view.wait_until(lambda: key in book.request_bodies, SYNC_TIMEOUT_S)
        known = book.request_bodies.get(key)
    if known is not None and known != payload:
        raise _conflict("request", request_id, id_field)
    await _wait(view, lambda: _decided(book.requests.get(key)), wait)
    outcome = book.requests.get(key) or RequestOutcome(
        request_id=request_id, ticket_id=ticket.ticket_id
    )
    return _reply(outcome, outcome.status == "pending")


def _same_customer(ticket: TicketView, customer_id: str) -> None:
    if ticket.customer_id != customer_id:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"ticket {ticket.ticket_id!r} is not customer {customer_id!r}'s",
            [FieldError(message="not this ticket's customer", field="customer_id")],
        )


@post(
    "/v1/betting/tickets/{ticket_id:str}/changes",
    status_code=200,
    operation_class=_operation(ChangeBody),
    request_max_body_size=MAX_BODY_BYTES,
    summary="Change an open ticket",
    tags=["betting"],
    responses={202: ResponseSpec(RequestOutcome, description="Submitted, not decided yet")}
    | _WRITE_PROBLEMS,
)
async def change_ticket(
    request: Request[Any, Any, Any],
    ticket_id: FromPath[str],
    wait: Annotated[bool, QueryParameter(description="Wait for the decision.")] = False,
) -> Response[Any]:
    """Replace a ticket's selections or stake, until 5 minutes before the end of its events."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", BETS_STREAM)
    body = await _decode(request, ChangeBody)
    ticket = await _own_ticket(request, principal, ticket_id)
    _same_customer(ticket, body.customer_id)
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
        ticket_id=ticket.ticket_id,
        operator=ticket.operator,
        customer_id=body.customer_id,
        selections=body.selections,
        stake_cents=body.stake_cents,
        odds_policy=body.odds_policy,
    )
    return await _submit_request(
        request, principal, ticket, body.change_id, "change_id", change, body.placed_at, wait
    )


@post(
    "/v1/betting/tickets/{ticket_id:str}/cash-out",
    status_code=200,
    operation_class=_operation(CashOutBody),
    request_max_body_size=MAX_BODY_BYTES,
    summary="Cash out an open ticket",
    tags=["betting"],
    responses={202: ResponseSpec(RequestOutcome, description="Submitted, not decided yet")}
    | _WRITE_PROBLEMS,
)
async def cash_out(
    request: Request[Any, Any, Any],
    ticket_id: FromPath[str],
    wait: Annotated[bool, QueryParameter(description="Wait for the decision.")] = False,
) -> Response[Any]:
    """Close a ticket for stake x odds x current probability, less the cash-out margin."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", BETS_STREAM)
    body = await _decode(request, CashOutBody)
    ticket = await _own_ticket(request, principal, ticket_id)
    _same_customer(ticket, body.customer_id)
    payload = CashOutRequest(
        request_id=body.request_id,
        ticket_id=ticket.ticket_id,
        operator=ticket.operator,
        customer_id=body.customer_id,
        min_amount_cents=body.min_amount_cents,
    )
    return await _submit_request(
        request, principal, ticket, body.request_id, "request_id", payload, body.placed_at, wait
    )


@get(
    "/v1/betting/markets",
    summary="Markets of an event, or what a jurisdiction may bet",
    tags=["betting"],
    responses=problem_specs(
        (400, "No event nor jurisdiction, or an unknown jurisdiction or channel"),
        *AUTH_PROBLEMS,
        (404, "No markets for this event"),
        RATE_PROBLEM,
    ),
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
        found = board.events.get(event)
        if found is None:
            await view.sync(SYNC_TIMEOUT_S)
            found = board.events.get(event)
        if found is None:
            raise ProblemError.of(ProblemKind.NOT_FOUND, f"no markets for event {event!r}")
        if jurisdiction is None:
            return found
    assert jurisdiction is not None
    events = [found] if found is not None else list(board.events.values())[:limit]
    return offers_for(DEFAULT_CONFIG.jurisdictions, jurisdiction, channel, events)


routes = [place_bet, read_ticket, change_ticket, cash_out, markets, *customer_routes.routes]
"""The betting service's route handlers, for the gateway."""
