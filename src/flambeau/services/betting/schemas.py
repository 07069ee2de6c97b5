"""The betting streams and their payloads.

``betting.odds``
    The odds feed, shaped like Sportradar's Unified Odds Feed (UOF): ``odds_change``,
    ``bet_stop``, ``bet_settlement``, ``bet_cancel``, ``rollback_bet_settlement``,
    ``fixture_change`` and ``alive``. Keyed by event id (``alive`` by producer), 8 partitions,
    so one event's messages keep their order. Operators read it; it is not public. Its
    payloads are defined in :mod:`.odds_schemas` and re-exported here.
``betting.bets``
    What operators submit: tickets, changes, cash-outs, deposits, customer profiles. Keyed by
    operator/customer.
``betting.decisions``
    What the bet engine decided (refusals name a :class:`ReasonCode`): tickets, changes,
    cash-outs, settlements, rollbacks. Keyed by ticket id: a ticket's history reads in order.

Every struct here opts out of the garbage collector (``gc=False``): each is an immutable tree
of scalars and tuples (never part of a cycle), and a busy feed makes tens of thousands a second,
whose collections would land on the bet-stop latency.

Money is integer cents; odds are numbers, never strings (``"2.5"`` fails to decode, naming it).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Literal, Protocol, TypeAlias, TypedDict

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.betting.odds_schemas import (
    LIVE_PRODUCER,
    PREMATCH_PRODUCER,
    Alive,
    BetCancel,
    BetSettlement,
    BetStop,
    CancelledMarket,
    Cents,
    Currency,
    DeadHeatFactor,
    EventPhase,
    EventStatus,
    Factor,
    FixtureChange,
    FixtureChangeType,
    Id,
    JurisdictionCode,
    MarketId,
    MarketRef,
    OddsChange,
    OddsMarket,
    OddsMessage,
    OddsOutcome,
    OfferedOdds,
    PositiveCents,
    Probability,
    RollbackBetSettlement,
    SeenOdds,
    SettledMarket,
    SettledOutcome,
    Specifiers,
    StopReason,
    VoidReason,
    odds_key,
)

__all__ = [
    "BETS_STREAM",
    "DECISIONS_STREAM",
    "LIVE_PRODUCER",
    "ODDS_STREAM",
    "OFFERS_STREAM",
    "PREMATCH_PRODUCER",
    "Alive",
    "BetCancel",
    "BetMessage",
    "BetSettlement",
    "BetStop",
    "CancelledMarket",
    "CashOutAccepted",
    "CashOutRejected",
    "CashOutRequest",
    "Cents",
    "ChangeRejected",
    "Channel",
    "ConfidenceFactor",
    "Currency",
    "CustomerDeposit",
    "CustomerProfile",
    "DeadHeatFactor",
    "DecisionMessage",
    "DepositRejected",
    "EventPhase",
    "EventStatus",
    "Factor",
    "FixtureChange",
    "FixtureChangeType",
    "Id",
    "JurisdictionCode",
    "MarketId",
    "MarketRef",
    "OddsChange",
    "OddsMarket",
    "OddsMessage",
    "OddsOutcome",
    "OddsPolicy",
    "OfferedOdds",
    "PeriodLimits",
    "PositiveCents",
    "Probability",
    "ReasonCode",
    "RollbackBetSettlement",
    "SeenOdds",
    "Selection",
    "Selections",
    "SettledMarket",
    "SettledOutcome",
    "Specifiers",
    "StopReason",
    "TicketAccepted",
    "TicketChange",
    "TicketChanged",
    "TicketDecision",
    "TicketIds",
    "TicketOutcome",
    "TicketRejected",
    "TicketSettled",
    "TicketSettlementRolledBack",
    "TicketSubmitted",
    "VoidReason",
    "bets_event_id",
    "customer_key",
    "odds_key",
    "ticket_ids",
]

ODDS_STREAM = "betting.odds"
OFFERS_STREAM = "betting.offers"
"""The odds feed per audience, keyed ``<jurisdiction>/<channel>`` (see :mod:`.offer_feed`)."""
BETS_STREAM = "betting.bets"
DECISIONS_STREAM = "betting.decisions"


# ------------------------------------------------------------------------- betting.bets


class OddsPolicy(enum.Enum):
    """Which odds change a ticket tolerates between what the customer saw and the decision.

    NONE: any change rejects. ANY: accept at the current odds. HIGHER: accept when the current
    odds are at least those seen (the customer gets the better odds).
    """

    NONE = "none"
    ANY = "any"
    HIGHER = "higher"


class Channel(enum.Enum):
    """How the customer placed the bet; some jurisdictions allow in-play only in a shop."""

    INTERNET = "internet"
    MOBILE = "mobile"
    RETAIL = "retail"
    PHONE = "phone"


class _TicketEvent(Event, frozen=True, kw_only=True, gc=False):
    """What every event about a whole ticket starts with: the ticket, and whose it is."""

    ticket_id: Id
    operator: Id
    customer_id: Id


class Selection(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One leg of a ticket: an outcome of a market, at the odds the customer saw."""

    event_id: Id
    market_id: MarketId
    specifiers: Specifiers = ""
    outcome_id: Id
    odds: SeenOdds


Selections = Annotated[tuple[Selection, ...], msgspec.Meta(min_length=1, max_length=20)]


class TicketSubmitted(_TicketEvent, tag="ticket", frozen=True, kw_only=True, gc=False):
    """A bet: one selection (single) or several on different events (accumulator)."""

    jurisdiction: JurisdictionCode
    channel: Channel
    selections: Selections
    stake_cents: PositiveCents
    currency: Currency = "EUR"
    odds_policy: OddsPolicy = OddsPolicy.NONE
    reoffer_of: Id | None = None
    """Accepts the reoffer made when this customer's ticket ``reoffer_of`` was refused."""


class TicketChange(Event, tag="ticket_change", frozen=True, kw_only=True, gc=False):
    """Replace an open ticket's selections or stake (allowed until the cut-off)."""

    change_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    selections: Selections | None = None
    stake_cents: PositiveCents | None = None
    odds_policy: OddsPolicy = OddsPolicy.NONE


class CashOutRequest(Event, tag="cash_out_request", frozen=True, kw_only=True, gc=False):
    """Close an open ticket now for its cash-out value (allowed until the cut-off).

    ``min_amount_cents``: the least the customer accepts; ``None`` takes the current offer.
    """

    request_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    min_amount_cents: Cents | None = None


class CustomerDeposit(Event, tag="customer_deposit", frozen=True, kw_only=True, gc=False):
    """Money the operator received from a customer, credited to the customer's wallet."""

    deposit_id: Id
    operator: Id
    customer_id: Id
    amount_cents: PositiveCents
    currency: Currency = "EUR"


class PeriodLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Responsible-gambling limits per calendar day, ISO week and month (UTC), in cents.

    ``None``: no limit for that period.
    """

    day: Cents | None = None
    week: Cents | None = None
    month: Cents | None = None


ConfidenceFactor = Annotated[float, msgspec.Meta(gt=0.0, le=100.0)]


class CustomerProfile(Event, tag="customer_profile", frozen=True, kw_only=True, gc=False):
    """A customer's profile as the operator sets it; the last one received applies.

    Attributes:
        confidence_factor: Scales the stake limit, as Sportradar MTS's customer confidence
            factor (``0.5`` halves it, ``2`` doubles it).
        max_stake_cents: The customer's stake limit before scaling (default: the service's).
        max_liability_cents: The most the book may owe this customer on open tickets
            (default: the service's per-customer liability limit).
        self_excluded: Every new ticket, and every change, is refused ``self_excluded``.
        deposit_limits: Deposits per period, counted from the deposits credited.
        loss_limits: Net losses per period: stakes collected less what was paid back.
    """

    operator: Id
    customer_id: Id
    confidence_factor: ConfidenceFactor = 1.0
    max_stake_cents: PositiveCents | None = None
    max_liability_cents: Cents | None = None
    self_excluded: bool = False
    deposit_limits: PeriodLimits = PeriodLimits()
    loss_limits: PeriodLimits = PeriodLimits()


BetMessage: TypeAlias = (
    TicketSubmitted | TicketChange | CashOutRequest | CustomerDeposit | CustomerProfile
)


# -------------------------------------------------------------------- betting.decisions


class ReasonCode(enum.Enum):
    """Why the bet engine said no. Each names one rule, so operators can act on it."""

    MARKET_SUSPENDED = "market_suspended"
    MARKET_CLOSED = "market_closed"
    OUTCOME_INACTIVE = "outcome_inactive"
    ODDS_CHANGED = "odds_changed"
    LIABILITY_EXCEEDED = "liability_exceeded"
    JURISDICTION_FORBIDS_IN_PLAY = "jurisdiction_forbids_in_play"
    JURISDICTION_FORBIDS_MARKET = "jurisdiction_forbids_market"
    JURISDICTION_FORBIDS_CASH_OUT = "jurisdiction_forbids_cash_out"
    UNKNOWN_JURISDICTION = "unknown_jurisdiction"
    UNSUPPORTED_CURRENCY = "unsupported_currency"
    PRODUCER_DOWN = "producer_down"
    UNKNOWN_MARKET = "unknown_market"
    UNKNOWN_OUTCOME = "unknown_outcome"
    RELATED_SELECTIONS = "related_selections"
    SAME_EVENT_COMBINATION = "same_event_combination"
    CUTOFF_PASSED = "cutoff_passed"
    DUPLICATE_TICKET = "duplicate_ticket"
    TICKET_NOT_FOUND = "ticket_not_found"
    TICKET_NOT_OPEN = "ticket_not_open"
    SELECTION_LOST = "selection_lost"
    CASH_OUT_BELOW_MINIMUM = "cash_out_below_minimum"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    SELF_EXCLUDED = "self_excluded"
    STAKE_LIMIT_EXCEEDED = "stake_limit_exceeded"
    CUSTOMER_LIABILITY_EXCEEDED = "customer_liability_exceeded"
    LOSS_LIMIT_REACHED = "loss_limit_reached"
    DEPOSIT_LIMIT_REACHED = "deposit_limit_reached"
    REOFFER_EXPIRED = "reoffer_expired"
    REOFFER_MISMATCH = "reoffer_mismatch"
    ODDS_ABOVE_MAXIMUM = "odds_above_maximum"


class TicketAccepted(_TicketEvent, tag="ticket_accepted", frozen=True, kw_only=True, gc=False):
    """The ticket stands, at ``odds`` (one per selection, possibly better than those seen)."""

    stake_cents: PositiveCents
    odds: tuple[float, ...]
    potential_payout_cents: Cents
    in_play: bool = False
    delay_ms: int = 0


class TicketRejected(_TicketEvent, tag="ticket_rejected", frozen=True, kw_only=True, gc=False):
    """The ticket was refused; ``selection`` is the index of the leg at fault, if one was.

    ``reoffer_cents``: the largest stake the engine would accept instead (a stake or liability
    limit refused this one), valid until ``reoffer_expires_at`` for a new ticket with the same
    selections naming this one in ``reoffer_of``.
    """

    reason: ReasonCode
    selection: int | None = None
    detail: str = ""
    reoffer_cents: Cents | None = None
    reoffer_expires_at: datetime | None = None


class TicketChanged(Event, tag="ticket_changed", frozen=True, kw_only=True, gc=False):
    """A change was accepted; the ticket now has these stake and odds."""

    change_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    stake_cents: PositiveCents
    odds: tuple[float, ...]
    potential_payout_cents: Cents


class ChangeRejected(Event, tag="change_rejected", frozen=True, kw_only=True, gc=False):
    """A change was refused; the ticket stands as it was."""

    change_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    reason: ReasonCode
    detail: str = ""


class CashOutAccepted(Event, tag="cash_out_accepted", frozen=True, kw_only=True, gc=False):
    """The ticket is closed; ``amount_cents`` goes to the customer."""

    request_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    amount_cents: Cents


class CashOutRejected(Event, tag="cash_out_rejected", frozen=True, kw_only=True, gc=False):
    """The cash-out was refused; ``offer_cents`` is the current offer when there is one."""

    request_id: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    reason: ReasonCode
    offer_cents: Cents | None = None
    detail: str = ""


class TicketOutcome(enum.Enum):
    """How a settled ticket ended."""

    WON = "won"
    LOST = "lost"
    VOID = "void"


class TicketSettled(_TicketEvent, tag="ticket_settled", frozen=True, kw_only=True, gc=False):
    """The ticket is settled; ``payout_cents`` (stake included) goes to the customer."""

    outcome: TicketOutcome
    stake_cents: PositiveCents
    payout_cents: Cents


class TicketSettlementRolledBack(
    _TicketEvent, tag="ticket_settlement_rolled_back", frozen=True, kw_only=True, gc=False
):
    """An earlier settlement is undone; ``reversed_cents`` is taken back from the customer."""

    reversed_cents: Cents


class DepositRejected(Event, tag="deposit_rejected", frozen=True, kw_only=True, gc=False):
    """A deposit was refused (a deposit limit); nothing reached the wallet."""

    deposit_id: Id
    operator: Id
    customer_id: Id
    reason: ReasonCode
    detail: str = ""


TicketDecision: TypeAlias = (
    TicketAccepted
    | TicketRejected
    | TicketChanged
    | ChangeRejected
    | CashOutAccepted
    | CashOutRejected
    | TicketSettled
    | TicketSettlementRolledBack
)
"""The decisions about one ticket, keyed by its id on ``betting.decisions``."""
DecisionMessage: TypeAlias = TicketDecision | DepositRejected


default_registry.register(
    ODDS_STREAM,
    OddsMessage,
    partitions=8,
    # UOF lets a client recover up to 72 h back; keep a little more than that.
    max_age=timedelta(days=4),
    description="UOF-shaped odds feed: odds_change, bet_stop, settlements, cancels, alive",
)
default_registry.register(
    OFFERS_STREAM,
    OddsMessage,
    partitions=8,
    max_age=timedelta(days=4),
    description="the odds feed as each jurisdiction/channel may bet it, keyed FR/internet",
)
default_registry.register(
    BETS_STREAM,
    BetMessage,
    partitions=8,
    description="Tickets, ticket changes, cash-out requests and deposits from operators",
    writer=Writer.route(
        "POST /v1/betting/bets",
        "POST /v1/betting/tickets/{ticket_id}/changes",
        "POST /v1/betting/tickets/{ticket_id}/cash-out",
        "POST /v1/betting/customers/{customer_id}/deposits",
        "POST /v1/betting/customers",
    ),
)
default_registry.register(
    DECISIONS_STREAM,
    DecisionMessage,
    partitions=8,
    description="Bet engine decisions with reason codes, cash-outs and settlements per ticket",
)


class TicketIds(TypedDict):
    """The fields that name a ticket in the events about it, passed on with ``**``."""

    ticket_id: str
    operator: str
    customer_id: str


class _NamesTicket(Protocol):
    @property
    def ticket_id(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def customer_id(self) -> str: ...


def ticket_ids(about: _NamesTicket) -> TicketIds:
    """The ticket ``about`` names (a ticket, or a request or a decision about one), to build
    another event about the same ticket: ``TicketSettled(**ticket_ids(ticket), ...)``."""
    return TicketIds(
        ticket_id=about.ticket_id, operator=about.operator, customer_id=about.customer_id
    )


def customer_key(operator: str, customer_id: str) -> str:
    """The key of a customer's tickets on ``betting.bets`` and ``betting.replies``."""
    return f"{operator}/{customer_id}"


def bets_event_id(
    kind: Literal["ticket", "change", "cash_out", "deposit"], operator: str, request_id: str
) -> str:
    """The id of the ``betting.bets`` event the bets routes append for a request.

    Derived from the operator and the ticket, change, cash-out or deposit id: a retried request
    is one event, and a producer knows in advance which id its decisions will name as cause.
    """
    text = "\x1f".join((kind, operator, request_id))
    return f"bet-{hashlib.blake2b(text.encode(), digest_size=16).hexdigest()}"
