"""The betting streams and their payloads.

``betting.odds``
    The odds feed, shaped like Sportradar's Unified Odds Feed (UOF): ``odds_change``,
    ``bet_stop``, ``bet_settlement``, ``bet_cancel``, ``rollback_bet_settlement``,
    ``fixture_change`` and ``alive``. Keyed by event id (``alive`` by producer), 8 partitions,
    so one event's messages keep their order. Operators read it; it is not public.
``betting.bets``
    What operators submit: tickets, changes, cash-outs, deposits. Keyed by operator/customer.
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
from typing import Annotated, Literal, TypeAlias

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.betting.margins import MAX_ODDS
from flambeau.services.betting.markets import MarketStatus

__all__ = [
    "BETS_STREAM",
    "DECISIONS_STREAM",
    "LIVE_PRODUCER",
    "ODDS_STREAM",
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
    "ChangeRejected",
    "Channel",
    "CustomerDeposit",
    "DecisionMessage",
    "EventPhase",
    "EventStatus",
    "FixtureChange",
    "FixtureChangeType",
    "MarketRef",
    "OddsChange",
    "OddsMarket",
    "OddsMessage",
    "OddsOutcome",
    "OddsPolicy",
    "ReasonCode",
    "RollbackBetSettlement",
    "Selection",
    "SettledMarket",
    "SettledOutcome",
    "StopReason",
    "TicketAccepted",
    "TicketChange",
    "TicketChanged",
    "TicketOutcome",
    "TicketRejected",
    "TicketSettled",
    "TicketSettlementRolledBack",
    "TicketSubmitted",
    "VoidReason",
    "bets_event_id",
    "customer_key",
    "odds_key",
]

ODDS_STREAM = "betting.odds"
BETS_STREAM = "betting.bets"
DECISIONS_STREAM = "betting.decisions"

LIVE_PRODUCER = 1
"""UOF's producer id of live odds."""
PREMATCH_PRODUCER = 3
"""UOF's producer id of pre-match odds (Ctrl)."""

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
PositiveCents = Annotated[int, msgspec.Meta(gt=0)]
Cents = Annotated[int, msgspec.Meta(ge=0)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
OfferedOdds = Annotated[float, msgspec.Meta(ge=1.0, le=MAX_ODDS)]
SeenOdds = Annotated[float, msgspec.Meta(gt=1.0, le=MAX_ODDS)]
Factor = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
DeadHeatFactor = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
MarketId = Annotated[int, msgspec.Meta(ge=1)]
Specifiers = Annotated[
    str,
    msgspec.Meta(
        max_length=200,
        pattern=r"^([a-z][a-z0-9_]*=[^|=\s]+(\|[a-z][a-z0-9_]*=[^|=\s]+)*)?$",
        description="UOF specifiers: key=value pairs joined by '|', such as 'total=2.5'",
    ),
]
JurisdictionCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description="ISO 3166-1 alpha-2 country, optionally with an ISO 3166-2 subdivision",
    ),
]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]


# ------------------------------------------------------------------------- betting.odds


class StopReason(enum.Enum):
    """Why markets stopped; a ``bet_stop`` may carry it, the next ``odds_change`` does."""

    SCORE_CHANGE = "score_change"
    PERIOD_CHANGE = "period_change"
    PRODUCER_DOWN = "producer_down"
    EVENT_STATUS = "event_status"
    MANUAL = "manual"


class EventPhase(enum.Enum):
    """The sport event's status, as UOF's ``sport_event_status``."""

    NOT_STARTED = "not_started"
    LIVE = "live"
    INTERRUPTED = "interrupted"
    ENDED = "ended"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"


class EventStatus(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The event's status and score when the odds were made."""

    phase: EventPhase
    home_score: int | None = None
    away_score: int | None = None
    period: str | None = None


class OddsOutcome(msgspec.Struct, frozen=True, gc=False):
    """One outcome's price. ``active=False``: shown for reference, not bettable.

    Positional construction is allowed (``OddsOutcome("1", 2.1, 0.45, True)``): a reprice of
    500 events builds 20,000 of these, and keywords cost a third more.
    """

    id: str
    odds: OfferedOdds | None = None
    probability: Probability | None = None
    active: bool = True


class OddsMarket(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One market in an ``odds_change``: its status, and its outcomes' odds."""

    id: MarketId
    specifiers: Specifiers = ""
    status: MarketStatus
    outcomes: tuple[OddsOutcome, ...] = ()


class MarketRef(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A market named by id and specifiers."""

    id: MarketId
    specifiers: Specifiers = ""


class OddsChange(Event, tag="odds_change", frozen=True, kw_only=True, gc=False):
    """New odds or statuses for some markets of one event (UOF ``odds_change``).

    ``betstop_reason`` gives the cause of the stop this message ends, when there was one.
    """

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    markets: tuple[OddsMarket, ...]
    betstop_reason: StopReason | None = None
    event_status: EventStatus | None = None
    request_id: int | None = None


class BetStop(Event, tag="bet_stop", frozen=True, kw_only=True, gc=False):
    """Suspend every ACTIVE market of one event in the named groups (UOF ``bet_stop``).

    ``markets``, when given, narrows the stop to those markets.
    """

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    groups: tuple[str, ...] = ("all",)
    markets: tuple[MarketRef, ...] = ()
    market_status: MarketStatus = MarketStatus.SUSPENDED
    reason: StopReason | None = None


class VoidReason(enum.Enum):
    """Why an outcome or market was voided."""

    PUSH = "push"
    NON_RUNNER = "non_runner"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_ABANDONED = "event_abandoned"
    NO_RESULT = "no_result"
    OTHER = "other"


class SettledOutcome(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How one outcome settles (UOF semantics).

    A bet on it returns ``stake x void_factor`` refunded, plus, on the rest of the stake,
    ``result x dead_heat_factor x odds``.
    """

    id: str
    result: Literal[0, 1]
    void_factor: Factor = 0.0
    dead_heat_factor: DeadHeatFactor = 1.0


class SettledMarket(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One settled market."""

    id: MarketId
    specifiers: Specifiers = ""
    outcomes: tuple[SettledOutcome, ...]
    void_reason: VoidReason | None = None


class BetSettlement(Event, tag="bet_settlement", frozen=True, kw_only=True, gc=False):
    """Settle markets of one event from its result (UOF ``bet_settlement``).

    ``certainty`` is 2 for a confirmed (official) result, 1 for a scouted one.
    """

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    certainty: Literal[1, 2] = 2
    markets: tuple[SettledMarket, ...]


class RollbackBetSettlement(
    Event, tag="rollback_bet_settlement", frozen=True, kw_only=True, gc=False
):
    """Undo an earlier settlement of these markets: a corrected result follows."""

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    markets: tuple[MarketRef, ...]


class CancelledMarket(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One cancelled market."""

    id: MarketId
    specifiers: Specifiers = ""
    void_reason: VoidReason = VoidReason.EVENT_CANCELLED


class BetCancel(Event, tag="bet_cancel", frozen=True, kw_only=True, gc=False):
    """Void every bet on these markets (UOF ``bet_cancel``).

    With ``start_time``/``end_time``, only bets placed in that window are void.
    ``superseded_by`` names the event that replaces this one, if any.
    """

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    markets: tuple[CancelledMarket, ...]
    start_time: datetime | None = None
    end_time: datetime | None = None
    superseded_by: str | None = None


class FixtureChangeType(enum.Enum):
    """UOF's fixture change types (1 NEW ... 5 COVERAGE)."""

    NEW = "new"
    DATETIME = "datetime"
    CANCELLED = "cancelled"
    FORMAT = "format"
    COVERAGE = "coverage"


class FixtureChange(Event, tag="fixture_change", frozen=True, kw_only=True, gc=False):
    """An event was added, moved, cancelled or changed format (UOF ``fixture_change``)."""

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime
    change_type: FixtureChangeType
    start_time: datetime | None = None
    sport: str = ""
    competitors: tuple[str, ...] = ()


class Alive(Event, tag="alive", frozen=True, kw_only=True, gc=False):
    """The producer's heartbeat, every 10 s. ``subscribed=False``: recover before trusting it."""

    producer: int = LIVE_PRODUCER
    timestamp: datetime
    subscribed: bool = True


OddsMessage: TypeAlias = (
    OddsChange | BetStop | BetSettlement | BetCancel | RollbackBetSettlement | FixtureChange | Alive
)


def odds_key(message: OddsMessage) -> str:
    """The partitioning key of an odds message: its event id, or ``producer:<id>`` for alive."""
    if isinstance(message, Alive):
        return f"producer:{message.producer}"
    return message.event_id


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


class Selection(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One leg of a ticket: an outcome of a market, at the odds the customer saw."""

    event_id: Id
    market_id: MarketId
    specifiers: Specifiers = ""
    outcome_id: Id
    odds: SeenOdds


Selections = Annotated[tuple[Selection, ...], msgspec.Meta(min_length=1, max_length=20)]


class TicketSubmitted(Event, tag="ticket", frozen=True, kw_only=True, gc=False):
    """A bet: one selection (single) or several on different events (accumulator)."""

    ticket_id: Id
    operator: Id
    customer_id: Id
    jurisdiction: JurisdictionCode
    channel: Channel
    selections: Selections
    stake_cents: PositiveCents
    currency: Currency = "EUR"
    odds_policy: OddsPolicy = OddsPolicy.NONE


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


BetMessage: TypeAlias = TicketSubmitted | TicketChange | CashOutRequest | CustomerDeposit


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
    CUTOFF_PASSED = "cutoff_passed"
    DUPLICATE_TICKET = "duplicate_ticket"
    TICKET_NOT_FOUND = "ticket_not_found"
    TICKET_NOT_OPEN = "ticket_not_open"
    SELECTION_LOST = "selection_lost"
    CASH_OUT_BELOW_MINIMUM = "cash_out_below_minimum"
    INSUFFICIENT_FUNDS = "insufficient_funds"


class TicketAccepted(Event, tag="ticket_accepted", frozen=True, kw_only=True, gc=False):
    """The ticket stands, at ``odds`` (one per selection, possibly better than those seen)."""

    ticket_id: Id
    operator: Id
    customer_id: Id
    stake_cents: PositiveCents
    odds: tuple[float, ...]
    potential_payout_cents: Cents
    in_play: bool = False
    delay_ms: int = 0


class TicketRejected(Event, tag="ticket_rejected", frozen=True, kw_only=True, gc=False):
    """The ticket was refused; ``selection`` is the index of the leg at fault, if one was."""

    ticket_id: Id
    operator: Id
    customer_id: Id
    reason: ReasonCode
    selection: int | None = None
    detail: str = ""


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


class TicketSettled(Event, tag="ticket_settled", frozen=True, kw_only=True, gc=False):
    """The ticket is settled; ``payout_cents`` (stake included) goes to the customer."""

    ticket_id: Id
    operator: Id
    customer_id: Id
    outcome: TicketOutcome
    stake_cents: PositiveCents
    payout_cents: Cents


class TicketSettlementRolledBack(
    Event, tag="ticket_settlement_rolled_back", frozen=True, kw_only=True, gc=False
):
    """An earlier settlement is undone; ``reversed_cents`` is taken back from the customer."""

    ticket_id: Id
    operator: Id
    customer_id: Id
    reversed_cents: Cents


DecisionMessage: TypeAlias = (
    TicketAccepted
    | TicketRejected
    | TicketChanged
    | ChangeRejected
    | CashOutAccepted
    | CashOutRejected
    | TicketSettled
    | TicketSettlementRolledBack
)


default_registry.register(
    ODDS_STREAM,
    OddsMessage,
    partitions=8,
    # UOF lets a client recover up to 72 h back; keep a little more than that.
    max_age=timedelta(days=4),
    description="UOF-shaped odds feed: odds_change, bet_stop, settlements, cancels, alive",
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
    ),
)
default_registry.register(
    DECISIONS_STREAM,
    DecisionMessage,
    partitions=8,
    description="Bet engine decisions with reason codes, cash-outs and settlements per ticket",
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
