"""The odds feed's payloads (``betting.odds``) and the primitive types every betting payload uses.

``betting.odds`` is shaped like Sportradar's Unified Odds Feed (UOF): ``odds_change``,
``bet_stop``, ``bet_settlement``, ``bet_cancel``, ``rollback_bet_settlement``,
``fixture_change`` and ``alive``, keyed by event id (``alive`` by producer). The stream is
registered, and everything here re-exported, by :mod:`.schemas`, the service's published
contract: import from there.

Every struct here opts out of the garbage collector (``gc=False``): each is an immutable tree of
scalars and tuples (never part of a cycle), and a busy feed makes tens of thousands a second.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal, TypeAlias

import msgspec

from flambeau.events import Event
from flambeau.services.betting.margins import MAX_ODDS
from flambeau.services.betting.markets import MarketStatus

__all__ = [
    "LIVE_PRODUCER",
    "PREMATCH_PRODUCER",
    "Alive",
    "BetCancel",
    "BetSettlement",
    "BetStop",
    "CancelledMarket",
    "Cents",
    "Currency",
    "DeadHeatFactor",
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
    "OfferedOdds",
    "PositiveCents",
    "Probability",
    "RollbackBetSettlement",
    "SeenOdds",
    "SettledMarket",
    "SettledOutcome",
    "Specifiers",
    "StopReason",
    "VoidReason",
    "odds_key",
]

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
        # ASCII whitespace spelled out: \s differs between Python's and JSON Schema's regexes
        pattern=r"^([a-z][a-z0-9_]*=[^|= \t\n\r\f\v]+(\|[a-z][a-z0-9_]*=[^|= \t\n\r\f\v]+)*)?$",
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
    VENUE_OUTAGE = "venue_outage"
    """A venue system (power, network, broadcast...) is down: crowds' outage incident."""


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


class _EventMessage(Event, frozen=True, kw_only=True, gc=False):
    """What every message about one sport event starts with: the event, the producer that sent
    it (live or pre-match), and when it did."""

    event_id: Id
    producer: int = LIVE_PRODUCER
    timestamp: datetime


class OddsChange(_EventMessage, tag="odds_change", frozen=True, kw_only=True, gc=False):
    """New odds or statuses for some markets of one event (UOF ``odds_change``).

    ``betstop_reason`` gives the cause of the stop this message ends, when there was one.
    """

    markets: tuple[OddsMarket, ...]
    betstop_reason: StopReason | None = None
    event_status: EventStatus | None = None
    request_id: int | None = None


class BetStop(_EventMessage, tag="bet_stop", frozen=True, kw_only=True, gc=False):
    """Suspend every ACTIVE market of one event in the named groups (UOF ``bet_stop``).

    ``markets``, when given, narrows the stop to those markets.
    """

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


class BetSettlement(_EventMessage, tag="bet_settlement", frozen=True, kw_only=True, gc=False):
    """Settle markets of one event from its result (UOF ``bet_settlement``).

    ``certainty`` is 2 for a confirmed (official) result, 1 for a scouted one.
    """

    certainty: Literal[1, 2] = 2
    markets: tuple[SettledMarket, ...]


class RollbackBetSettlement(
    _EventMessage, tag="rollback_bet_settlement", frozen=True, kw_only=True, gc=False
):
    """Undo an earlier settlement of these markets: a corrected result follows."""

    markets: tuple[MarketRef, ...]


class CancelledMarket(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One cancelled market."""

    id: MarketId
    specifiers: Specifiers = ""
    void_reason: VoidReason = VoidReason.EVENT_CANCELLED


class BetCancel(_EventMessage, tag="bet_cancel", frozen=True, kw_only=True, gc=False):
    """Void every bet on these markets (UOF ``bet_cancel``).

    With ``start_time``/``end_time``, only bets placed in that window are void.
    ``superseded_by`` names the event that replaces this one, if any.
    """

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


class FixtureChange(_EventMessage, tag="fixture_change", frozen=True, kw_only=True, gc=False):
    """An event was added, moved, cancelled or changed format (UOF ``fixture_change``)."""

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
