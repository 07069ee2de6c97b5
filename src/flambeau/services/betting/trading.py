"""The trading half of the betting service: one event's markets, from schedule to settlement.

:class:`Trading` is the handler of the ``betting.trading`` processor. It reads, co-partitioned
by event (the unit's RSC, 8 partitions each):

- ``results.units``: schedule changes and result snapshots. A head-to-head unit or a race of a
  sport with a pricing profile gets markets (and a ``fixture_change``) as soon as its sides are
  known. A score change, a period change or the start of play suspends every ACTIVE market at
  once: the ``bet_stop`` is emitted while the snapshot is handled, in that batch's commit.
  The event is then marked for repricing. A finished unit closes its markets, an OFFICIAL one
  settles them, a higher OFFICIAL version with another result rolls the settlement back and
  settles again, a cancelled one cancels them (:mod:`.resolution` emits those messages).
- ``betting.signals``: a source down suspends the markets of the events it feeds; a source up
  reprices and reopens them. A venue's outage (:mod:`.venue_outages`) does the same for the
  events at that venue.
- ``betting.legs``: ticket legs to decide, release or quote (from the ticket half).

Repricing is deferred to a processing-time timer due at once (``reprice``): the stops commit
first, with nothing in their way, and the timer then prices every event marked since, in one
vectorised pass, and emits the ``odds_change`` messages that reopen the markets. An event-time
timer (``drift``) reprices live matches every minute of play as the clock runs down.

**The live delay** is a processing-time timer per leg. The delay exists so that what happens
on the pitch reaches the engine before the bet is decided; the engine has seen every stop it
has processed by then, and a leg is refused ``market_suspended`` if *any* stop happened while
it waited (the event's stop count moved), even if the repriced markets have reopened since.
Processing time is the customer's actual wait: the decision arrives after the delay whether or
not the feed sends anything, and no producer's clock can stretch or skip it. An event-time
delay would hold a bet until the feed's next message, forever on a quiet feed.

**The cut-off** of changes and cash-outs is an event-time timer at 5 minutes before the
estimated end, moved whenever the estimate moves: it fires at the same point of the feed live
or replayed, and never reads a wall clock. The estimate is the results service's
(``unit_end_estimated`` on ``results.units``: late start, delays, interruptions, extra time,
shoot-outs, tie-breaks, added sets); before the first one arrives, the scheduled end moved by
however late play began.

``alive`` goes out every 10 s (processing time) from the partition that owns its key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.log import partition_for
from flambeau.processing import Batch, TimeDomain, Timer, Transaction
from flambeau.services.betting.book import (
    EventBook,
    Member,
    Side,
    load_book,
    producer_up,
    save_book,
)
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.feed import (
    alive,
    bet_stop,
    fixture_change,
)
from flambeau.services.betting.legs import DELAY_PREFIX, Legs
from flambeau.services.betting.margins import MarginMethod, to_odds
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.messages import (
    LEGS_STREAM,
    SIGNALS_STREAM,
    SourceSignal,
    VenueSignal,
)
from flambeau.services.betting.price_limits import limit_prices
from flambeau.services.betting.pricing import price_events
from flambeau.services.betting.readings import (
    CANCELLED,
    FINISHED,
    HEAD_TO_HEAD,
    IN_PLAY,
    OFFICIAL,
    OVER,
    RUNNING,
    has_profile,
    players_of,
    profile_of,
    running_score,
    scorers_of,
    sides_of,
)
from flambeau.services.betting.resolution import cancel, settle
from flambeau.services.betting.schemas import (
    LIVE_PRODUCER,
    ODDS_STREAM,
    EventPhase,
    FixtureChangeType,
    StopReason,
)
from flambeau.services.betting.settlement import goals_after
from flambeau.services.betting.sports import PricingModel
from flambeau.services.betting.venue_outages import outage_changed, venue_up
from flambeau.services.results.schemas import (
    UNITS,
    Feed,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)

__all__ = ["ALIVE_KEY", "Trading"]

ALIVE_KEY = f"producer:{LIVE_PRODUCER}"
_OPEN = frozenset({MarketStatus.ACTIVE, MarketStatus.SUSPENDED, MarketStatus.HANDED_OVER})
_PRICED_PHASES = frozenset({EventPhase.NOT_STARTED, EventPhase.LIVE})
DIRTY_KEY = "dirty"
"""State key of the events waiting for the next reprice, with what moved each."""
OPEN_KEY = "open"
"""State key of the events not yet over, in the order they opened."""


def _members(data: UnitResult) -> tuple[Member, ...]:
    return tuple(Member(p.id, p.side, p.weight) for p in players_of(data))


class _Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """A unit's schedule seen before its sides are known (state key ``s/<unit>``)."""

    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    estimated: datetime | None = None
    venue: str | None = None


class Trading:
    """Handlers of the trading processor (see the module docstring)."""

    def __init__(self, config: BettingConfig, partitions: int) -> None:
        self.config = config
        self.alive_partition = partition_for(ALIVE_KEY, partitions)
        self.legs = Legs(config)

    # ------------------------------------------------------------------ dispatch

    def on_batch(self, batch: Batch[Any], tx: Transaction) -> None:
        """Handle a batch of unit snapshots, source signals or legs."""
        stream = batch.stream
        for record in batch:
            data = record.data
            if stream == UNITS:
                if data.feed is not Feed.PRODUCTION:
                    continue
                if isinstance(data, UnitResult):
                    self._result(record, data, tx)
                elif isinstance(data, UnitEndEstimated):
                    self._estimate(record, data, tx)
                else:
                    self._schedule(record, data, tx)
            elif stream == SIGNALS_STREAM:
                if isinstance(data, SourceSignal):
                    self._signal(record, data, tx)
                elif isinstance(data, VenueSignal):
                    self._venue(record, data, tx)
            elif stream == LEGS_STREAM:
                self.legs.handle(record, data, tx)
        alive_unset = tx.timers.get("alive", TimeDomain.PROCESSING) is None
        if tx.partition == self.alive_partition and alive_unset:
            tx.timers.at("alive", tx.now(), domain=TimeDomain.PROCESSING)

    def on_timer(self, timer: Timer, tx: Transaction) -> None:
        """Reprice, send alive, drift, close the cut-off, or decide a leg after its delay."""
        key = timer.key
        if key == "reprice":
            self._reprice(tx)
        elif key == "alive":
            tx.emit(ODDS_STREAM, alive(timestamp=tx.now()), key=ALIVE_KEY)
            tx.timers.after("alive", self.config.alive_every)
        elif key == "drift":
            self._drift(timer, tx)
        elif key.startswith("cutoff/"):
            self._cutoff(key.removeprefix("cutoff/"), tx)
        elif key.startswith(DELAY_PREFIX):
            self.legs.delayed(key.removeprefix(DELAY_PREFIX), tx)

    # ------------------------------------------------------------------ state helpers

    def _mark(self, tx: Transaction, book: EventBook, cause: str) -> None:
        """Queue ``book``'s event for the next reprice, due at once.

        ``cause`` (the input event that moved the event) becomes the causation id of the
        ``odds_change``: it traces the reprice to its goal, and makes its id unique even when
        two reprices fire in the same clock tick.
        """
        # One small key, not a key per event: a prefix scan would sort every key of the
        # partition (held legs included) on each reprice.
        dirty: dict[str, str] = tx.state.get(DIRTY_KEY, dict[str, str], {})
        if dirty.get(book.event_id) != cause:
            tx.state.put(DIRTY_KEY, {**dirty, book.event_id: cause})
        tx.timers.at("reprice", tx.now(), domain=TimeDomain.PROCESSING)

    @staticmethod
    def _open_events(tx: Transaction) -> list[EventBook]:
        """The books of the events not yet over (an index key, kept by open and close)."""
        books = (load_book(tx, event_id) for event_id in tx.state.get(OPEN_KEY, list[str], []))
        return [book for book in books if book is not None]

    @staticmethod
    def _index(tx: Transaction, event_id: str, *, open_: bool) -> None:
        events: list[str] = tx.state.get(OPEN_KEY, list[str], [])
        if open_ and event_id not in events:
            tx.state.put(OPEN_KEY, [*events, event_id])
        elif not open_ and event_id in events:
            tx.state.put(OPEN_KEY, [e for e in events if e != event_id])

    def _set_cutoff(self, tx: Transaction, book: EventBook, cause: str | None) -> EventBook:
        """(Re)arm the event-time cut-off timer; reopen changes if the estimate moved later."""
        cutoff = book.cutoff(self.config.cutoff)
        key = f"cutoff/{book.event_id}"
        if cutoff is None:
            tx.timers.cancel(key)
            return book
        mark = tx.watermark
        if book.cutoff_passed and (mark is None or cutoff > mark):
            book = msgspec.structs.replace(book, cutoff_passed=False)
        if not book.cutoff_passed:
            tx.timers.at(key, cutoff, causation_id=cause)
        return book

    # ------------------------------------------------------------------ stops

    def _stop(
        self, tx: Transaction, book: EventBook, reason: StopReason, at: datetime, cause: str
    ) -> EventBook:
        """Suspend every ACTIVE market (``bet_stop`` first) and count the stop."""
        book, moved = book.swapped(MarketStatus.ACTIVE, MarketStatus.SUSPENDED)
        if moved:
            tx.emit(
                ODDS_STREAM,
                bet_stop(book.event_id, timestamp=at, reason=reason),
                key=book.event_id,
                causation_id=cause,
            )
        return msgspec.structs.replace(book, epoch=book.epoch + 1, stop_reason=reason)

    # ------------------------------------------------------------------ schedule

    def _schedule(self, record: Record[Any], data: UnitScheduleChanged, tx: Transaction) -> None:
        book = load_book(tx, data.unit)
        if book is None:
            # Sides come with the first result snapshot (the start list); keep the times of
            # units that may carry markets.
            if has_profile(data.discipline):
                noted = tx.state.get(f"s/{data.unit}", _Schedule)
                note = _Schedule(
                    start=data.start,
                    end=data.end,
                    status=data.status,
                    estimated=noted.estimated if noted else None,
                    venue=data.venue or (noted.venue if noted else None),
                )
                tx.state.put(f"s/{data.unit}", note)
            return
        if data.venue and data.venue != book.venue:
            book = msgspec.structs.replace(book, venue=data.venue)
        book = self._times(tx, book, data.start, data.end, record)
        if data.status == CANCELLED:
            book = self._cancel(tx, book, record)
        elif data.status == FINISHED:
            book = self._close(tx, book, record)
        elif data.status == RUNNING and book.phase is EventPhase.NOT_STARTED:
            book = self._begin(tx, book, record)
        save_book(tx, book)

    def _estimate(self, record: Record[Any], data: UnitEndEstimated, tx: Transaction) -> None:
        """The results service moved the unit's estimated end: move the cut-off with it."""
        book = load_book(tx, data.unit)
        if book is None:
            if has_profile(data.discipline):
                noted = tx.state.get(f"s/{data.unit}", _Schedule) or _Schedule()
                estimated = msgspec.structs.replace(noted, estimated=data.estimated_end)
                tx.state.put(f"s/{data.unit}", estimated)
            return
        if book.estimated == data.estimated_end or book.phase not in _PRICED_PHASES:
            return  # nothing moved, or the event is over: no cut-off left to move
        book = msgspec.structs.replace(book, estimated=data.estimated_end)
        save_book(tx, self._set_cutoff(tx, book, record.id))

    def _times(
        self,
        tx: Transaction,
        book: EventBook,
        start: datetime | None,
        end: datetime | None,
        record: Record[Any],
    ) -> EventBook:
        """Take a new scheduled start or end; announce it with a ``fixture_change``."""
        new_start = start or book.start
        new_end = end or book.end
        if new_start == book.start and new_end == book.end:
            return book
        book = msgspec.structs.replace(book, start=new_start, end=new_end)
        if book.phase is EventPhase.NOT_STARTED:
            tx.emit(
                ODDS_STREAM,
                fixture_change(book.fixture(), FixtureChangeType.DATETIME, timestamp=record.time),
                key=book.event_id,
                causation_id=record.id,
            )
        return self._set_cutoff(tx, book, record.id)

    # ------------------------------------------------------------------ results

    def _result(self, record: Record[Any], data: UnitResult, tx: Transaction) -> None:
        book = load_book(tx, data.unit)
        if book is None:
            book = self._open(record, data, tx)
            if book is None:
                return
        document = "/".join(p for p in (data.document.value, data.subcode, data.subtype) if p)
        if data.version <= book.versions.get(document, -1):
            return  # an older snapshot than one applied: the results service's order slipped
        book = msgspec.structs.replace(
            book,
            versions={**book.versions, document: data.version},
            clock=max(book.clock or record.time, record.time),
            source=data.source or book.source,
            venue=data.venue or book.venue,
        )
        book = self._times(tx, book, data.start, data.end, record)
        if data.unit_status == CANCELLED:
            save_book(tx, self._cancel(tx, book, record))
            return
        if not book.is_race:
            book = self._squads(tx, book, data, record)
            book = self._scores(tx, book, data, record)
        if data.status == OFFICIAL:
            book = self._close(tx, book, record)
            book = settle(tx, book, data, record)
        elif data.status in OVER or data.unit_status == FINISHED:
            book = self._close(tx, book, record)
        elif (
            data.status in IN_PLAY or data.unit_status == RUNNING
        ) and book.phase is EventPhase.NOT_STARTED:
            book = self._begin(tx, book, record)
        save_book(tx, book)

    def _open(self, record: Record[Any], data: UnitResult, tx: Transaction) -> EventBook | None:
        """Create the event's markets from its first snapshot that names its sides."""
        head_to_head = data.shape == HEAD_TO_HEAD
        profile = profile_of(data.discipline, head_to_head)
        if profile is None or data.status == OFFICIAL:
            return None
        if data.unit_status in (FINISHED, CANCELLED) or data.status in OVER:
            return None
        sides = sides_of(data)
        codes = [code for code, _ in sides]
        if len(set(codes)) != len(codes) or (len(codes) != 2 if head_to_head else len(codes) < 2):
            return None  # not yet a full start list
        noted = tx.state.get(f"s/{data.unit}", _Schedule)
        tx.state.delete(f"s/{data.unit}")
        start = data.start or (noted.start if noted else None) or record.time
        end = data.end or (noted.end if noted else None)
        book = EventBook(
            event_id=data.unit,
            sport=profile.name,
            sides=tuple(Side(code, name) for code, name in sides),
            players=_members(data) if profile.scorer_markets else (),
            start=start,
            end=end,
            estimated=noted.estimated if noted else None,
            source=data.source,
            venue=data.venue or (noted.venue if noted else None),
        )
        book = book.relaid(None)
        self._index(tx, book.event_id, open_=True)
        tx.emit(
            ODDS_STREAM,
            fixture_change(book.fixture(), FixtureChangeType.NEW, timestamp=record.time),
            key=book.event_id,
            causation_id=record.id,
        )
        book = self._set_cutoff(tx, book, record.id)
        self._mark(tx, book, record.id)
        return book

    def _begin(self, tx: Transaction, book: EventBook, record: Record[Any]) -> EventBook:
        """Play began: stop the pre-match prices; a match reopens in play, a race stays shut."""
        book = msgspec.structs.replace(
            book, phase=EventPhase.LIVE, started_at=record.time, clock=record.time
        )
        book = self._stop(tx, book, StopReason.EVENT_STATUS, record.time, record.id)
        book = self._set_cutoff(tx, book, record.id)
        if not book.is_race:
            self._mark(tx, book, record.id)
            self._arm_drift(tx, record.time)
        return book

    def _scores(
        self, tx: Transaction, book: EventBook, data: UnitResult, record: Record[Any]
    ) -> EventBook:
        """Stop on a score or period change; track who scored, and relay the next-goal line."""
        score = running_score(data)
        period = data.current_period or (data.periods[-1].code if data.periods else None)
        scored = score is not None and score != (book.home_score, book.away_score)
        new_period = period is not None and period != book.period
        if not scored and not new_period:
            return book
        if scored:
            assert score is not None
            goals = goals_after(book.goals, (book.home_score, book.away_score), score)
            book = msgspec.structs.replace(
                book,
                home_score=score[0],
                away_score=score[1],
                goals=goals,
                scorers=tuple(code for _, code in scorers_of(data)),
            )
        book = msgspec.structs.replace(book, period=period)
        began = book.phase is EventPhase.NOT_STARTED
        if began:
            book = self._begin(tx, book, record)
        if book.phase is not EventPhase.LIVE or (began and not scored):
            return book
        reason = StopReason.SCORE_CHANGE if scored else StopReason.PERIOD_CHANGE
        book = self._stop(tx, book, reason, record.time, record.id)
        if scored:
            book = book.relaid(book.live_state())
        self._mark(tx, book, record.id)
        return book

    def _squads(
        self, tx: Transaction, book: EventBook, data: UnitResult, record: Record[Any]
    ) -> EventBook:
        """A start list that names the squads after the markets opened adds scorer markets."""
        if book.players or book.phase is not EventPhase.NOT_STARTED:
            return book
        if not book.profile.scorer_markets:
            return book
        members = _members(data)
        if not members:
            return book
        book = msgspec.structs.replace(book, players=members).relaid(None)
        self._mark(tx, book, record.id)
        return book

    def _close(self, tx: Transaction, book: EventBook, record: Record[Any]) -> EventBook:
        """Play is over: stop, then deactivate every open market."""
        if book.phase not in (EventPhase.NOT_STARTED, EventPhase.LIVE):
            return book
        book = self._stop(tx, book, StopReason.EVENT_STATUS, record.time, record.id)
        book, _ = book.moving(MarketStatus.DEACTIVATED, only=_OPEN)
        book = msgspec.structs.replace(book, phase=EventPhase.ENDED)
        self._index(tx, book.event_id, open_=False)
        self._emit_odds(tx, book, record.time, record.id)
        return msgspec.structs.replace(book, stop_reason=None, announce=0)

    # ------------------------------------------------------------------ settlement

    def _cancel(self, tx: Transaction, book: EventBook, record: Record[Any]) -> EventBook:
        """The unit is cancelled: void every market not yet settled (``bet_cancel``)."""
        if book.phase is EventPhase.CANCELLED:
            return book
        self._index(tx, book.event_id, open_=False)
        return cancel(tx, book, record)

    # ------------------------------------------------------------------ sources

    def _signal(self, record: Record[Any], data: SourceSignal, tx: Transaction) -> None:
        was_up = bool(tx.state.get(f"src/{data.source}", bool, True))
        if was_up == data.up:
            return
        tx.state.put(f"src/{data.source}", data.up)
        affected = [book for book in self._open_events(tx) if book.source == data.source]
        self._stop_or_reprice(tx, affected, data.up, StopReason.PRODUCER_DOWN, data.at, record.id)

    def _venue(self, record: Record[Any], data: VenueSignal, tx: Transaction) -> None:
        """A venue's first outage stops its events' markets; its last recovery reprices them."""
        if not outage_changed(tx, data):
            return
        affected = [book for book in self._open_events(tx) if book.venue == data.venue]
        self._stop_or_reprice(tx, affected, data.up, StopReason.VENUE_OUTAGE, data.at, record.id)

    def _stop_or_reprice(
        self,
        tx: Transaction,
        books: list[EventBook],
        up: bool,
        reason: StopReason,
        at: datetime,
        cause: str,
    ) -> None:
        """What a source or venue going down or coming back does to the tradeable ``books``
        it serves: stop their markets for ``reason``, or mark them for repricing."""
        for book in books:
            if not book.tradeable:
                continue
            if up:
                self._mark(tx, book, cause)
            else:
                save_book(tx, self._stop(tx, book, reason, at, cause))

    # ------------------------------------------------------------------ prices

    def _reprice(self, tx: Transaction) -> None:
        books: list[EventBook] = []
        causes: list[str | None] = []
        dirty: dict[str, str] = tx.state.get(DIRTY_KEY, dict[str, str], {})
        tx.state.delete(DIRTY_KEY)
        for event_id, cause in dirty.items():
            book = load_book(tx, event_id)
            if book is not None and book.markets and book.phase in _PRICED_PHASES:
                books.append(book)
                causes.append(cause)
        self._price(tx, books, causes)

    def _drift(self, timer: Timer, tx: Transaction) -> None:
        live = [
            book
            for book in self._open_events(tx)
            if book.in_play and book.profile.model is PricingModel.POISSON and not book.stop_reason
        ]
        if live:
            when = max(timer.at, tx.watermark or timer.at)
            self._price(
                tx,
                [msgspec.structs.replace(b, clock=max(b.clock or when, when)) for b in live],
            )
            tx.timers.at("drift", when + self.config.drift_every)

    def _arm_drift(self, tx: Transaction, at: datetime) -> None:
        if tx.timers.get("drift") is None:
            tx.timers.at("drift", at + self.config.drift_every)

    def _price(
        self, tx: Transaction, books: list[EventBook], causes: list[str | None] | None = None
    ) -> None:
        """Price ``books`` in one vectorised pass, reopen what may reopen, emit odds changes."""
        if not books:
            return
        sheet = price_events([(b.fixture(), b.live_state()) for b in books])
        shin = self.config.margin_method is MarginMethod.SHIN
        odds = to_odds(
            sheet.probabilities,
            sheet.market_index if shin else None,
            margin=self.config.margin,
            method=self.config.margin_method,
        )
        offsets = sheet.outcome_offsets.tolist()
        all_probs = sheet.probabilities.tolist()
        all_odds = odds.tolist()
        now = tx.now()
        for i, book in enumerate(books):
            if book.tradeable and producer_up(tx, book) and venue_up(tx, book.venue):
                book, _ = book.swapped(MarketStatus.SUSPENDED, MarketStatus.ACTIVE)
                reason, book = book.stop_reason, msgspec.structs.replace(book, stop_reason=None)
            else:
                reason = None
            book = limit_prices(  # caps per market type, near-certain markets suspended
                msgspec.structs.replace(
                    book,
                    probabilities=tuple(all_probs[offsets[i] : offsets[i + 1]]),
                    odds=tuple(all_odds[offsets[i] : offsets[i + 1]]),
                )
            )
            self._emit_odds(tx, book, now, causes[i] if causes else None, reason)
            save_book(tx, msgspec.structs.replace(book, announce=0))

    def _emit_odds(
        self,
        tx: Transaction,
        book: EventBook,
        at: datetime,
        cause: str | None,
        reason: StopReason | None = None,
    ) -> None:
        """One ``odds_change``: the priced markets, then retired ones not yet announced."""
        tx.emit(
            ODDS_STREAM,
            book.odds_change(at, reason),
            key=book.event_id,
            causation_id=cause,
            # Event time stays on the feed's clock (a reprice runs on processing time).
            time=book.clock or at,
        )

    def _cutoff(self, event_id: str, tx: Transaction) -> None:
        book = load_book(tx, event_id)
        if book is not None and not book.cutoff_passed:
            save_book(tx, msgspec.structs.replace(book, cutoff_passed=True))
