"""The trading state of one event: its sides, live score, markets, last prices and liability.

An :class:`EventBook` is what the trading processor keeps per event (state key ``e/<event>``).
Its markets are laid out in :func:`~flambeau.services.betting.markets.markets_for` order, the
order pricing fills outcomes in, so the last prices (``probabilities``, ``odds``) line up with
them. Markets that stop being priced (the next-goal market of a goal already scored) move to
``retired``, deactivated, and settle with the rest at the end.

Event phases (the event's status as the feed reports it)::

    NOT_STARTED ──▶ LIVE ──▶ ENDED ──▶ CLOSED (settled)
         │            │        │
         └────────────┴────────┴──▶ CANCELLED
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TypeAlias, TypedDict

import msgspec

from flambeau.processing import Transaction
from flambeau.services.betting.feed import MIN_ACTIVE_PROBABILITY
from flambeau.services.betting.fixtures import Competitor, Fixture, LiveState, Player
from flambeau.services.betting.markets import (
    Market,
    MarketStatus,
    market_type,
    markets_for,
    transition,
)
from flambeau.services.betting.messages import REPLIES_STREAM, LegCheck, QuoteRequest, ReplyMessage
from flambeau.services.betting.pricing import outcome_widths
from flambeau.services.betting.rules import cutoff_for
from flambeau.services.betting.schemas import (
    EventPhase,
    EventStatus,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    SettledMarket,
    StopReason,
)
from flambeau.services.betting.sports import SPORTS, PricingModel, SportProfile

__all__ = [
    "AskedLeg",
    "EventBook",
    "HeldLeg",
    "LegIds",
    "MarketRow",
    "Member",
    "PendingLeg",
    "Side",
    "book_key",
    "leg_ids",
    "leg_prefix",
    "load_book",
    "market_label",
    "producer_up",
    "reply",
    "save_book",
]

_LIVE_PHASES = frozenset({EventPhase.NOT_STARTED, EventPhase.LIVE})


def book_key(event_id: str) -> str:
    """The state key of an event's book."""
    return f"e/{event_id}"


def leg_prefix(event_id: str) -> str:
    """The state key prefix of the legs held on an event's markets."""
    return f"l/{event_id}/"


def load_book(tx: Transaction, event_id: str) -> EventBook | None:
    """The book of ``event_id`` in ``tx``'s partition, if the event has one."""
    return tx.state.get(book_key(event_id), EventBook)


def save_book(tx: Transaction, book: EventBook) -> None:
    """Store ``book`` with ``tx``'s batch."""
    tx.state.put(book_key(book.event_id), book)


def producer_up(tx: Transaction, book: EventBook) -> bool:
    """Whether the results source feeding ``book``'s event is up (unknown sources are)."""
    if book.source is None:
        return True
    return bool(tx.state.get(f"src/{book.source}", bool, True))


def market_label(market_id: int, specifiers: str) -> str:
    """A market's name within its event: ``"18 total=2.5"``."""
    return f"{market_id} {specifiers}".rstrip()


class Side(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A side of a match or an entrant of a race."""

    id: str
    name: str
    rating: float = 1500.0


class Member(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A player of a team's squad (scorer markets): athlete code, side (0 home), weight."""

    id: str
    side: int
    weight: float = 1.0


class MarketRow(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One market as stored: its id, specifiers, outcome ids and status."""

    id: int
    specifiers: str
    outcomes: tuple[str, ...]
    status: MarketStatus

    @property
    def label(self) -> str:
        """The market's name within its event."""
        return market_label(self.id, self.specifiers)


class EventBook(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The trading state of one event (immutable and acyclic, so untracked by the GC).

    Attributes:
        event_id: The unit's RSC.
        sport: The sport profile's name.
        sides: Home and away, or the field of a race.
        start: Scheduled start.
        end: Scheduled end, when known.
        estimated: The results service's estimated end (``unit_end_estimated``), when known.
        phase: Not started, live, ended, closed (settled) or cancelled.
        started_at: When play began (event time).
        clock: The event time of the latest snapshot: how far play has gone.
        source: The results source feeding the event (its liveness gates the markets).
        venue: The venue code, when the feed gives one (its outages gate the markets).
        home_score: Running score, home.
        away_score: Running score, away.
        goals: Who scored each goal, in order (``"home"``/``"away"``).
        period: The current period's code.
        versions: Highest snapshot version seen per result document.
        markets: Priced markets, in pricing order.
        retired: Markets no longer priced, kept for settlement.
        announce: How many of the last ``retired`` markets the feed has not shown deactivated.
        probabilities: Last fair probabilities, aligned with ``markets``' outcomes.
        odds: Last offered odds, same layout.
        epoch: Counts the stops: a ticket whose leg saw another epoch waited through a stop.
        stop_reason: Why the markets are suspended, until the odds change that ends the stop.
        cutoff_passed: Whether changes and cash-outs are closed (set by an event-time timer).
        liability: Liability held per market label, in cents.
        settlement: The markets as last settled (empty before settlement).
        players: Both squads, from the start list, when the sport has scorer markets.
        scorers: The athlete who scored each goal so far (``""`` when not named).
    """

    event_id: str
    sport: str
    sides: tuple[Side, ...]
    start: datetime
    end: datetime | None = None
    estimated: datetime | None = None
    phase: EventPhase = EventPhase.NOT_STARTED
    started_at: datetime | None = None
    clock: datetime | None = None
    source: str | None = None
    venue: str | None = None
    home_score: int = 0
    away_score: int = 0
    goals: tuple[str, ...] = ()
    period: str | None = None
    versions: dict[str, int] = {}
    markets: tuple[MarketRow, ...] = ()
    retired: tuple[MarketRow, ...] = ()
    announce: int = 0
    probabilities: tuple[float, ...] = ()
    odds: tuple[float, ...] = ()
    epoch: int = 0
    stop_reason: StopReason | None = None
    cutoff_passed: bool = False
    liability: dict[str, int] = {}
    settlement: tuple[SettledMarket, ...] = ()
    players: tuple[Member, ...] = ()
    scorers: tuple[str, ...] = ()

    # ---------------------------------------------------------------- what it is

    @property
    def profile(self) -> SportProfile:
        """The sport's pricing profile."""
        return SPORTS[self.sport]

    @property
    def is_race(self) -> bool:
        """Whether the event is a race."""
        return self.profile.model is PricingModel.RACE

    @property
    def in_play(self) -> bool:
        """Whether play has begun."""
        return self.phase is EventPhase.LIVE

    @property
    def tradeable(self) -> bool:
        """Whether the markets may be open: before the start, or in play for a match."""
        return self.phase in _LIVE_PHASES and not (self.is_race and self.in_play)

    def fixture(self) -> Fixture:
        """The event as pricing takes it."""
        return _fixture(self.event_id, self.sport, self.sides, self.start, self.end, self.players)

    def estimated_end(self) -> datetime | None:
        """The results service's estimate; before it, the scheduled end moved by a late start."""
        if self.estimated is not None:
            return self.estimated
        if self.end is None:
            return None
        if self.started_at is None:
            return self.end
        return max(self.end, self.started_at + (self.end - self.start))

    def _duration(self) -> timedelta:
        if self.end is not None and self.end > self.start:
            return self.end - self.start
        # No scheduled end: regulation plus a third for breaks and stoppages.
        return self.profile.regulation * 4 / 3 or timedelta(hours=2)

    def live_state(self) -> LiveState | None:
        """The live state pricing conditions on, or ``None`` before the start."""
        if not self.in_play:
            return None
        elapsed = 0.0
        if self.started_at is not None and self.clock is not None:
            played = (self.clock - self.started_at) / self._duration()
            elapsed = min(max(played, 0.0), 1.0)
        return LiveState(
            self.event_id,
            self.home_score,
            self.away_score,
            elapsed,
            True,
            self.estimated_end(),
            self.goals,
            self.scorers,
        )

    def cutoff(self, lead: timedelta) -> datetime | None:
        """When changes and cash-outs close: ``lead`` before the estimated end (in play or not)."""
        estimate = LiveState(self.event_id, estimated_end=self.estimated_end())
        return cutoff_for(self.fixture(), estimate, lead=lead)

    def odds_change(self, at: datetime, reason: StopReason | None = None) -> OddsChange:
        """The ``odds_change`` of the book: its priced markets (outcomes unpriced until the
        book has prices), then the retired markets not yet announced."""
        probs, prices = self.probabilities, self.odds
        priced = len(probs) == self.outcome_count
        low, high = MIN_ACTIVE_PROBABILITY, 1.0 - MIN_ACTIVE_PROBABILITY
        markets: list[OddsMarket] = []
        start = 0
        for row in self.markets:
            ids = row.outcomes
            end = start + len(ids)
            if priced:
                open_ = row.status is MarketStatus.ACTIVE
                outcomes = tuple(
                    [
                        OddsOutcome(o, q, p, open_ and low <= p <= high)
                        for o, q, p in zip(ids, prices[start:end], probs[start:end], strict=True)
                    ]
                )
            else:
                outcomes = tuple([OddsOutcome(o, None, None, False) for o in ids])
            start = end
            markets.append(
                OddsMarket(
                    id=row.id, specifiers=row.specifiers, status=row.status, outcomes=outcomes
                )
            )
        if self.announce:
            markets.extend(
                OddsMarket(id=row.id, specifiers=row.specifiers, status=row.status)
                for row in self.retired[-self.announce :]
            )
        return OddsChange(
            event_id=self.event_id,
            timestamp=at,
            markets=tuple(markets),
            betstop_reason=reason,
            event_status=self.status(),
        )

    def status(self) -> EventStatus:
        """The event's status and score, for ``odds_change``."""
        scored = not self.is_race and self.phase is not EventPhase.NOT_STARTED
        return EventStatus(
            phase=self.phase,
            home_score=self.home_score if scored else None,
            away_score=self.away_score if scored else None,
            period=self.period,
        )

    # ---------------------------------------------------------------- markets

    @property
    def outcome_count(self) -> int:
        """How many outcomes the priced markets have (the length of a full set of prices)."""
        players = len(self.players) if self.profile.scorer_markets else 0
        return _outcome_count(self.sport, len(self.sides), players)

    def rows(self) -> Iterator[MarketRow]:
        """Every market, priced then retired."""
        yield from self.markets
        yield from self.retired

    def find(self, market_id: int, specifiers: str) -> MarketRow | None:
        """The market with this id and specifiers, if the event has it."""
        for row in self.rows():
            if row.id == market_id and row.specifiers == specifiers:
                return row
        return None

    def market(self, row: MarketRow) -> Market:
        """A stored market as the pure modules take it."""
        mtype = market_type(row.id)
        assert mtype is not None, f"market type {row.id} is not offered"
        return Market(self.event_id, mtype, row.specifiers, row.outcomes, row.status)

    def quote_of(self, row: MarketRow) -> tuple[dict[str, float], dict[str, float]]:
        """``(bettable odds, fair probabilities)`` of a market's outcomes, from the last prices.

        A retired market, a market that is not ACTIVE or an outcome priced at the bounds has
        no bettable odds.
        """
        offset = 0
        for priced in self.markets:
            if priced.id == row.id and priced.specifiers == row.specifiers:
                break
            offset += len(priced.outcomes)
        else:
            return {}, {}
        if len(self.probabilities) < offset + len(row.outcomes):
            return {}, {}
        odds: dict[str, float] = {}
        probabilities: dict[str, float] = {}
        low, high = MIN_ACTIVE_PROBABILITY, 1.0 - MIN_ACTIVE_PROBABILITY
        for position, outcome in enumerate(row.outcomes, start=offset):
            p = self.probabilities[position]
            probabilities[outcome] = p
            if row.status is MarketStatus.ACTIVE and low <= p <= high:
                odds[outcome] = self.odds[position]
        return odds, probabilities

    def relaid(self, state: LiveState | None) -> EventBook:
        """The book with its markets laid out for ``state`` (a goal moves the next-goal line).

        Markets that remain keep their status; new ones take the status of the event's first
        market; those no longer offered retire, deactivated, to be announced by the next
        ``odds_change``.
        """
        race = self.is_race
        sides = tuple(side.id for side in self.sides) if race else ()
        goals = 0 if state is None or race else state.total
        players = () if race else tuple(member.id for member in self.players)
        layout = _layout(self.sport, sides, goals, players)
        current = self.markets
        if len(layout) == len(current) and all(
            row.id == market_id and row.specifiers == specifiers
            for row, (market_id, specifiers, _) in zip(current, layout, strict=True)
        ):
            return self  # the usual case: no line moved
        known = {(row.id, row.specifiers): row for row in current}
        default = current[0].status if current else MarketStatus.ACTIVE
        laid: list[MarketRow] = []
        for market_id, specifiers, outcomes in layout:
            row = known.pop((market_id, specifiers), None)
            laid.append(row or MarketRow(market_id, specifiers, outcomes, default))
        retiring = tuple(_moved(row, MarketStatus.DEACTIVATED) for row in known.values())
        return msgspec.structs.replace(
            self,
            markets=tuple(laid),
            retired=self.retired + retiring,
            announce=self.announce + len(retiring),
            probabilities=(),
            odds=(),
        )

    def swapped(self, source: MarketStatus, target: MarketStatus) -> tuple[EventBook, int]:
        """Move every priced market in status ``source`` to ``target`` (a stop, a reopening).

        Returns:
            The book, and how many markets moved.

        Raises:
            IllegalMarketTransitionError: the status machine has no such move.
        """
        replace = msgspec.structs.replace
        moved: list[MarketRow] = []
        count = 0
        for row in self.markets:
            if row.status is source:
                row = replace(row, status=target)
                count += 1
            moved.append(row)
        if not count:
            return self, 0
        transition(source, target, market=self.event_id)  # one check serves every market
        return replace(self, markets=tuple(moved)), count

    def moving(
        self,
        target: MarketStatus,
        *,
        only: frozenset[MarketStatus] | None = None,
        keys: set[tuple[int, str]] | None = None,
        retired: bool = False,
    ) -> tuple[EventBook, int]:
        """Move markets to ``target`` through the status machine of :mod:`.markets`.

        Args:
            target: The status to move to.
            only: Move only markets in these statuses (a stop moves only ACTIVE ones).
            keys: Move only these ``(market id, specifiers)``.
            retired: Move retired markets too.

        Returns:
            The book, and how many markets moved.

        Raises:
            IllegalMarketTransitionError: a selected market cannot move to ``target``.
        """
        # Statuses compared by identity and their moves checked once per call: a stop moves
        # twenty markets of one status, and enum hashing would dominate the cost.
        chosen = _ids(only)
        checked: set[int] = set()
        count = 0

        def move(rows: tuple[MarketRow, ...]) -> tuple[MarketRow, ...]:
            nonlocal count
            out = list(rows)
            for position, row in enumerate(rows):
                status = row.status
                if status is target or id(status) not in chosen:
                    continue
                if keys is not None and (row.id, row.specifiers) not in keys:
                    continue
                if id(status) not in checked:
                    transition(status, target, market=row.label)
                    checked.add(id(status))
                out[position] = msgspec.structs.replace(row, status=target)
                count += 1
            return tuple(out)

        markets = move(self.markets)
        again = move(self.retired) if retired else self.retired
        if not count:
            return self, 0
        return msgspec.structs.replace(self, markets=markets, retired=again), count


@lru_cache(maxsize=256)
def _outcome_count(sport: str, field: int, players: int) -> int:
    # Keyed by name and sizes: every reprice asks, for every event.
    return sum(outcome_widths(sport, field, players))


@lru_cache(maxsize=16)
def _ids(only: frozenset[MarketStatus] | None) -> frozenset[int]:
    return frozenset(id(status) for status in MarketStatus if only is None or status in only)


def _moved(row: MarketRow, target: MarketStatus) -> MarketRow:
    return msgspec.structs.replace(row, status=transition(row.status, target, market=row.label))


@lru_cache(maxsize=4096)
def _fixture(
    event_id: str,
    sport: str,
    sides: tuple[Side, ...],
    start: datetime,
    end: datetime | None,
    members: tuple[Member, ...] = (),
) -> Fixture:
    # Every reprice asks for the fixture; building one resolves the sport's profile each time.
    competitors = tuple(Competitor(s.id, s.name, s.rating) for s in sides)
    players = tuple(Player(m.id, m.side, m.weight) for m in members)
    return Fixture(event_id, sport, competitors, start, end, players)


_LAYOUT_START = datetime(2024, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def _layout(
    sport: str, field: tuple[str, ...], goals: int, players: tuple[str, ...] = ()
) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """``(market id, specifiers, outcomes)`` of :func:`markets_for`, by sport and goals so far.

    A match's markets depend only on its sport, its squads (``players``, scorer markets) and,
    for the next-goal lines, the goals scored; a race's on its field (``field``), which is
    empty for a match.
    """
    competitors = tuple(Competitor(c) for c in (field or ("home", "away")))
    squad = tuple(Player(p, 0) for p in players)
    fixture = Fixture("layout", sport, competitors, _LAYOUT_START, players=squad)
    state = LiveState("layout", home_score=goals) if goals else None
    return tuple((m.type.id, m.specifiers, m.outcomes) for m in markets_for(fixture, state))


class PendingLeg(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A leg waiting out its live delay (state key ``p/<leg>``).

    Attributes:
        check: The leg to decide.
        epoch: The event's stop count when the leg arrived.
        delay_ms: The delay it waits.
    """

    check: LegCheck
    epoch: int
    delay_ms: int


class HeldLeg(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An accepted leg, held against its market until released or settled (``l/<event>/<leg>``)."""

    request: str
    ticket_id: str
    operator: str
    coordinator: str
    index: int
    market_id: int
    specifiers: str
    outcome_id: str
    liability_cents: int


class LegIds(TypedDict):
    """The fields that name one leg of an attempt in the messages about it, passed on with
    ``**``: the attempt (``request``), its ticket, and the leg's position."""

    request: str
    ticket_id: str
    operator: str
    index: int


AskedLeg: TypeAlias = LegCheck | QuoteRequest | HeldLeg
"""A leg the ticket half asked about: its check, its quote request, or the leg held since."""


def leg_ids(leg: AskedLeg) -> LegIds:
    """The fields that name ``leg``, for a message about it."""
    return LegIds(
        request=leg.request, ticket_id=leg.ticket_id, operator=leg.operator, index=leg.index
    )


def reply(tx: Transaction, leg: AskedLeg, message: ReplyMessage, cause: str | None) -> None:
    """Answer the ticket half about ``leg`` on ``betting.replies``, keyed by its coordinator."""
    tx.emit(REPLIES_STREAM, message, key=leg.coordinator, causation_id=cause)
