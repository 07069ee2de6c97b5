"""Read models of the betting routes: the markets board and the ticket book.

Both are folds of the service's streams (:func:`flambeau.processing.view.view_of`), rebuilt by
any gateway from the log:

- :class:`MarketBoard` folds ``betting.odds``: per event, each market's status, odds and fair
  probabilities, as the feed last said (``bet_stop`` suspends, settlements settle);
- :class:`TicketBook` folds ``betting.bets`` and ``betting.decisions``: each ticket as
  submitted (to tell a retry from a conflicting reuse of its id) and as decided since, per
  operator, plus the outcome of each change and cash-out request, and each deposit as
  submitted (to tell a retry from a conflicting reuse of its id) or refused by a limit.

The ticket book is bounded: it keeps the last :data:`TICKETS_KEPT` tickets and the last
:data:`REQUESTS_KEPT` change and cash-out requests (the oldest are forgotten first; the
streams keep them all, and the tickets processor still knows every ticket it decided).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, cast

import msgspec

from flambeau.events import Record, event_type
from flambeau.log import Log
from flambeau.processing.view import View, view_of
from flambeau.services.betting.markets import Market, MarketStatus, market_type
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    ODDS_STREAM,
    BetCancel,
    BetSettlement,
    BetStop,
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ChangeRejected,
    CustomerDeposit,
    CustomerProfile,
    DepositRejected,
    EventStatus,
    FixtureChange,
    OddsChange,
    OddsOutcome,
    ReasonCode,
    RollbackBetSettlement,
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
    ticket_ids,
)

__all__ = [
    "REQUESTS_KEPT",
    "TICKETS_KEPT",
    "EventMarkets",
    "MarketBoard",
    "MarketView",
    "RequestOutcome",
    "TicketBook",
    "TicketStatus",
    "TicketView",
    "market_board",
    "ticket_book",
]

TicketStatus = Literal["pending", "accepted", "rejected", "settled", "cashed_out"]
RequestStatus = Literal["pending", "accepted", "rejected"]


class MarketView(msgspec.Struct, frozen=True, kw_only=True):
    """One market as ``GET /v1/betting/markets`` shows it."""

    id: int
    specifiers: str = ""
    name: str = ""
    status: MarketStatus
    outcomes: tuple[OddsOutcome, ...] = ()
    result: tuple[SettledOutcome, ...] = ()


class EventMarkets(msgspec.Struct, frozen=True, kw_only=True):
    """An event's markets and status."""

    event_id: str
    sport: str = ""
    competitors: tuple[str, ...] = ()
    start_time: datetime | None = None
    status: EventStatus | None = None
    updated_at: datetime | None = None
    markets: tuple[MarketView, ...] = ()


def _label(market_id: int, specifiers: str) -> str:
    return f"{market_id} {specifiers}".rstrip()


class MarketBoard:
    """The fold of ``betting.odds``: every event's markets as the feed last described them."""

    def __init__(self) -> None:
        self.events: dict[str, EventMarkets] = {}
        self._markets: dict[str, dict[str, MarketView]] = {}

    def __call__(self, record: Record[Any]) -> None:
        data = record.data
        match data:
            case OddsChange():
                self._odds(data)
            case BetStop():
                self._stop(data)
            case BetSettlement():
                for settled in data.markets:
                    self._set(data.event_id, settled.id, settled.specifiers,
                              MarketStatus.SETTLED, result=settled.outcomes)  # fmt: skip
            case RollbackBetSettlement():
                for ref in data.markets:
                    self._set(data.event_id, ref.id, ref.specifiers, MarketStatus.DEACTIVATED,
                              result=())  # fmt: skip
            case BetCancel():
                for cancelled in data.markets:
                    self._set(data.event_id, cancelled.id, cancelled.specifiers,
                              MarketStatus.CANCELLED)  # fmt: skip
            case FixtureChange():
                event = self.events.get(data.event_id) or EventMarkets(event_id=data.event_id)
                self.events[data.event_id] = msgspec.structs.replace(
                    event,
                    sport=data.sport or event.sport,
                    competitors=data.competitors or event.competitors,
                    start_time=data.start_time or event.start_time,
                    updated_at=data.timestamp,
                )
                self._markets.setdefault(data.event_id, {})
            case _:
                return
        event_id = getattr(data, "event_id", None)
        if event_id is not None and event_id in self._markets:
            event = self.events.get(event_id) or EventMarkets(event_id=event_id)
            self.events[event_id] = msgspec.structs.replace(
                event, markets=tuple(self._markets[event_id].values())
            )

    def _odds(self, data: OddsChange) -> None:
        markets = self._markets.setdefault(data.event_id, {})
        for market in data.markets:
            label = _label(market.id, market.specifiers)
            known = markets.get(label)
            mtype = market_type(market.id)
            markets[label] = MarketView(
                id=market.id,
                specifiers=market.specifiers,
                name=mtype.name if mtype else "",
                status=market.status,
                outcomes=market.outcomes or (known.outcomes if known else ()),
                result=known.result if known else (),
            )
        event = self.events.get(data.event_id) or EventMarkets(event_id=data.event_id)
        self.events[data.event_id] = msgspec.structs.replace(
            event, status=data.event_status or event.status, updated_at=data.timestamp
        )

    def _stop(self, data: BetStop) -> None:
        markets = self._markets.get(data.event_id, {})
        named = {_label(ref.id, ref.specifiers) for ref in data.markets}
        for label, view in markets.items():
            if view.status is MarketStatus.ACTIVE and (not named or label in named):
                markets[label] = msgspec.structs.replace(view, status=data.market_status)

    def _set(
        self,
        event_id: str,
        market_id: int,
        specifiers: str,
        status: MarketStatus,
        *,
        result: tuple[SettledOutcome, ...] | None = None,
    ) -> None:
        markets = self._markets.setdefault(event_id, {})
        label = _label(market_id, specifiers)
        view = markets.get(label) or MarketView(id=market_id, specifiers=specifiers, status=status)
        view = msgspec.structs.replace(view, status=status)
        if result is not None:
            view = msgspec.structs.replace(view, result=result)
        markets[label] = view

    def markets_of(self, event_id: str) -> list[Market]:
        """The event's markets as the rules take them (empty when the event is unknown)."""
        made = []
        for view in self._markets.get(event_id, {}).values():
            mtype = market_type(view.id)
            if mtype is None:
                continue
            outcomes = tuple(o.id for o in view.outcomes) or mtype.outcome_ids
            made.append(Market(event_id, mtype, view.specifiers, outcomes, view.status))
        return made


class TicketView(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket as ``GET /v1/betting/tickets/{id}`` shows it.

    Attributes:
        status: ``pending`` until decided, then ``accepted`` or ``rejected``; ``settled`` or
            ``cashed_out`` at the end (a rolled-back settlement is ``accepted`` again).
        reason: Why it was rejected.
        selection: Which selection the rejection is about.
        reoffer_cents: The largest stake a limit allows instead, which a new ticket naming
            this one in ``reoffer_of`` may take until ``reoffer_expires_at``.
        odds: The accepted odds, one per selection.
        payout_cents: What its settlement or cash-out paid.
        history: Every decision about it, in order.
    """

    ticket_id: str
    operator: str
    customer_id: str
    status: TicketStatus = "pending"
    stake_cents: int
    currency: str = "EUR"
    selections: tuple[Selection, ...] = ()
    odds: tuple[float, ...] = ()
    potential_payout_cents: int | None = None
    in_play: bool = False
    delay_ms: int | None = None
    reason: ReasonCode | None = None
    selection: int | None = None
    detail: str = ""
    reoffer_cents: int | None = None
    reoffer_expires_at: datetime | None = None
    outcome: TicketOutcome | None = None
    payout_cents: int | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    history: tuple[str, ...] = ()


class RequestOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a change or a cash-out request."""

    request_id: str
    ticket_id: str
    status: RequestStatus = "pending"
    reason: ReasonCode | None = None
    detail: str = ""
    amount_cents: int | None = None
    offer_cents: int | None = None


TICKETS_KEPT = 100_000
"""Tickets the book keeps (about 1 KB each), the oldest submitted forgotten first."""
REQUESTS_KEPT = 100_000
"""Change and cash-out requests (and, apart, deposits) the book keeps, the oldest forgotten
first."""
EARLY_KEPT = 10_000
"""Tickets with decisions folded before the ticket itself (the two streams are followed apart)."""


def _forget_oldest(table: dict[Any, Any], kept: int, *others: dict[Any, Any]) -> None:
    while len(table) > kept:
        key = next(iter(table))
        del table[key]
        for other in others:
            other.pop(key, None)


class TicketBook:
    """The fold of ``betting.bets`` and ``betting.decisions``, by operator and ticket id."""

    def __init__(self) -> None:
        self.submitted: dict[tuple[str, str], TicketSubmitted] = {}
        self.request_bodies: dict[tuple[str, str], TicketChange | CashOutRequest] = {}
        self.tickets: dict[tuple[str, str], TicketView] = {}
        self.requests: dict[tuple[str, str], RequestOutcome] = {}
        self.deposits: dict[tuple[str, str, str], CustomerDeposit] = {}
        self.deposits_refused: dict[tuple[str, str, str], DepositRejected] = {}
        # Decisions folded before their ticket: the view follows each stream on its own task.
        self._early: dict[tuple[str, str], list[Record[Any]]] = {}

    def __call__(self, record: Record[Any]) -> None:
        data = record.data
        match data:
            case TicketSubmitted():
                key = (data.operator, data.ticket_id)
                if key in self.submitted:
                    return
                self.submitted[key] = data
                self.tickets[key] = TicketView(
                    **ticket_ids(data),
                    stake_cents=data.stake_cents,
                    currency=data.currency,
                    selections=data.selections,
                    submitted_at=record.time,
                )
                _forget_oldest(self.tickets, TICKETS_KEPT, self.submitted)
                for early in self._early.pop(key, []):
                    self._decision(early, early.data)
            case TicketChange():
                self._request(data.operator, data.change_id, data.ticket_id, data)
            case CashOutRequest():
                self._request(data.operator, data.request_id, data.ticket_id, data)
            case CustomerDeposit():
                self.deposits.setdefault((data.operator, data.customer_id, data.deposit_id), data)
                _forget_oldest(self.deposits, REQUESTS_KEPT)
            case DepositRejected():
                key3 = (data.operator, data.customer_id, data.deposit_id)
                self.deposits_refused[key3] = data
                _forget_oldest(self.deposits_refused, REQUESTS_KEPT)
            case CustomerProfile():
                return
            case _:
                self._decision(record, data)

    def _request(
        self, operator: str, request_id: str, ticket_id: str, data: TicketChange | CashOutRequest
    ) -> None:
        key = (operator, request_id)
        if key not in self.request_bodies:
            self.request_bodies[key] = data
            self.requests.setdefault(
                key, RequestOutcome(request_id=request_id, ticket_id=ticket_id)
            )
            _forget_oldest(self.request_bodies, REQUESTS_KEPT, self.requests)

    def _decision(self, record: Record[Any], data: Any) -> None:
        key = (data.operator, data.ticket_id)
        ticket = self.tickets.get(key)
        if ticket is None:
            self._early.setdefault(key, []).append(record)
            _forget_oldest(self._early, EARLY_KEPT)
            return
        changes: dict[str, Any] = {}
        match data:
            case TicketAccepted():
                changes = {
                    "status": "accepted",
                    "odds": data.odds,
                    "potential_payout_cents": data.potential_payout_cents,
                    "in_play": data.in_play,
                    "delay_ms": data.delay_ms,
                    "decided_at": record.time,
                }
            case TicketRejected():
                changes = {
                    "status": "rejected",
                    "reason": data.reason,
                    "selection": data.selection,
                    "detail": data.detail,
                    "reoffer_cents": data.reoffer_cents,
                    "reoffer_expires_at": data.reoffer_expires_at,
                    "decided_at": record.time,
                }
            case TicketChanged():
                submitted = self.request_bodies.get((data.operator, data.change_id))
                changes = {
                    "stake_cents": data.stake_cents,
                    "odds": data.odds,
                    "potential_payout_cents": data.potential_payout_cents,
                }
                if isinstance(submitted, TicketChange) and submitted.selections is not None:
                    changes["selections"] = submitted.selections
                self._answer(key, data.change_id, "accepted")
            case ChangeRejected():
                self._answer(key, data.change_id, "rejected", data.reason, data.detail)
            case CashOutAccepted():
                changes = {"status": "cashed_out", "payout_cents": data.amount_cents}
                self._answer(key, data.request_id, "accepted", amount=data.amount_cents)
            case CashOutRejected():
                self._answer(key, data.request_id, "rejected", data.reason, data.detail,
                             offer=data.offer_cents)  # fmt: skip
            case TicketSettled():
                changes = {
                    "status": "settled",
                    "outcome": data.outcome,
                    "payout_cents": data.payout_cents,
                }
            case TicketSettlementRolledBack():
                changes = {"status": "accepted", "outcome": None, "payout_cents": None}
        history = (*ticket.history, event_type(type(data)))
        self.tickets[key] = msgspec.structs.replace(ticket, history=history, **changes)

    def _answer(
        self,
        ticket: tuple[str, str],
        request_id: str,
        status: RequestStatus,
        reason: ReasonCode | None = None,
        detail: str = "",
        *,
        amount: int | None = None,
        offer: int | None = None,
    ) -> None:
        operator, ticket_id = ticket
        key = (operator, request_id)
        known = self.requests.get(key) or RequestOutcome(request_id=request_id, ticket_id=ticket_id)
        self.requests[key] = msgspec.structs.replace(
            known, status=status, reason=reason, detail=detail, amount_cents=amount,
            offer_cents=offer,
        )  # fmt: skip
        _forget_oldest(self.requests, REQUESTS_KEPT)


def _board_of(view: View, kind: type[Any]) -> Any:
    fold: Callable[[Record[Any]], None] = view.fold
    assert isinstance(fold, kind), f"view {view.name} folds into {type(fold).__name__}"
    return fold


def market_board(log: Log) -> tuple[View, MarketBoard]:
    """The running markets view of ``log`` (created on first use) and its board."""
    view = view_of(log, "betting.markets", [ODDS_STREAM], MarketBoard)
    return view, cast(MarketBoard, _board_of(view, MarketBoard))


def ticket_book(log: Log) -> tuple[View, TicketBook]:
    """The running tickets view of ``log`` (created on first use) and its book."""
    view = view_of(log, "betting.tickets", [BETS_STREAM, DECISIONS_STREAM], TicketBook)
    return view, cast(TicketBook, _board_of(view, TicketBook))
