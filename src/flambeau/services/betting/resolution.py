"""Resolving an event's markets on the feed: settlement, its rollback, and cancellation.

The trading processor (:mod:`.trading`) calls :func:`settle` on an OFFICIAL result and
:func:`cancel` on a cancelled unit. Each emits the odds message (``bet_settlement``,
``rollback_bet_settlement``, ``bet_cancel``) and replies to the ticket half for every held leg
of the markets it resolves, and returns the event's book with those markets moved.
"""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Transaction
from flambeau.services.betting.book import EventBook, HeldLeg, leg_ids, leg_prefix, reply
from flambeau.services.betting.errors import InvalidResultError, UnsettleableMarketError
from flambeau.services.betting.feed import fixture_change
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.messages import (
    LegSettled,
    LegSettlementRolledBack,
)
from flambeau.services.betting.readings import match_result, race_result
from flambeau.services.betting.schemas import (
    ODDS_STREAM,
    BetCancel,
    BetSettlement,
    CancelledMarket,
    EventPhase,
    FixtureChangeType,
    MarketRef,
    RollbackBetSettlement,
    SettledMarket,
    SettledOutcome,
    VoidReason,
)
from flambeau.services.betting.settlement import settle_market, void_outcome
from flambeau.services.results.schemas import UnitResult

__all__ = ["cancel", "settle"]

_TERMINAL = frozenset({MarketStatus.SETTLED, MarketStatus.CANCELLED})


def settle(tx: Transaction, book: EventBook, data: UnitResult, record: Record[Any]) -> EventBook:
    """Settle on an OFFICIAL result; a different later result rolls back and settles again."""
    result = race_result(data) if book.is_race else match_result(data, book.goals)
    if result is None:
        return book
    rows = [row for row in book.rows() if row.status is not MarketStatus.CANCELLED]
    settled: list[SettledMarket] = []
    for row in rows:
        try:
            outcomes, void = settle_market(book.market(row), result)
        except (UnsettleableMarketError, InvalidResultError):
            outcomes, void = tuple(void_outcome(o) for o in row.outcomes), VoidReason.NO_RESULT
        settled.append(
            SettledMarket(id=row.id, specifiers=row.specifiers, outcomes=outcomes, void_reason=void)
        )
    if tuple(settled) == book.settlement:
        return msgspec.structs.replace(book, phase=EventPhase.CLOSED)
    legs = list(tx.state.scan(leg_prefix(book.event_id), HeldLeg))
    if book.settlement:
        book = _rollback(tx, book, legs, record)
    by_market = {(m.id, m.specifiers): m for m in settled}
    tx.emit(
        ODDS_STREAM,
        BetSettlement(
            event_id=book.event_id, timestamp=record.time, certainty=2, markets=tuple(settled)
        ),
        key=book.event_id,
        causation_id=record.id,
    )
    for _, leg in legs:
        market = by_market.get((leg.market_id, leg.specifiers))
        if market is None:
            continue
        outcome = next((o for o in market.outcomes if o.id == leg.outcome_id), None)
        if outcome is None:
            continue
        _reply_settled(tx, book, leg, outcome, record.id)
    book = _move_all(book, MarketStatus.SETTLED, {(m.id, m.specifiers) for m in settled})
    return msgspec.structs.replace(book, phase=EventPhase.CLOSED, settlement=tuple(settled))


def _rollback(
    tx: Transaction,
    book: EventBook,
    legs: list[tuple[str, HeldLeg]],
    record: Record[Any],
) -> EventBook:
    refs = tuple(MarketRef(id=m.id, specifiers=m.specifiers) for m in book.settlement)
    tx.emit(
        ODDS_STREAM,
        RollbackBetSettlement(event_id=book.event_id, timestamp=record.time, markets=refs),
        key=book.event_id,
        causation_id=record.id,
    )
    settled = {(m.id, m.specifiers) for m in book.settlement}
    for _, leg in legs:
        if (leg.market_id, leg.specifiers) in settled:
            rolled_back = LegSettlementRolledBack(**leg_ids(leg), event_id=book.event_id)
            reply(tx, leg, rolled_back, record.id)
    book = _move_all(book, MarketStatus.DEACTIVATED, settled)
    return msgspec.structs.replace(book, settlement=())


def cancel(tx: Transaction, book: EventBook, record: Record[Any]) -> EventBook:
    """The unit is cancelled: void every market not yet settled (``bet_cancel``).

    The caller has checked that the event is not cancelled already and taken it off the
    index of open events.
    """
    open_rows = [row for row in book.rows() if row.status not in _TERMINAL]
    tx.emit(
        ODDS_STREAM,
        fixture_change(book.fixture(), FixtureChangeType.CANCELLED, timestamp=record.time),
        key=book.event_id,
        causation_id=record.id,
    )
    if open_rows:
        tx.emit(
            ODDS_STREAM,
            BetCancel(
                event_id=book.event_id,
                timestamp=record.time,
                markets=tuple(
                    CancelledMarket(id=row.id, specifiers=row.specifiers) for row in open_rows
                ),
            ),
            key=book.event_id,
            causation_id=record.id,
        )
        cancelled = {(row.id, row.specifiers) for row in open_rows}
        for _, leg in tx.state.scan(leg_prefix(book.event_id), HeldLeg):
            if (leg.market_id, leg.specifiers) in cancelled:
                _reply_settled(tx, book, leg, void_outcome(leg.outcome_id), record.id)
        book = _move_all(book, MarketStatus.CANCELLED, cancelled)
    tx.timers.cancel(f"cutoff/{book.event_id}")
    return msgspec.structs.replace(book, phase=EventPhase.CANCELLED)


def _move_all(book: EventBook, target: MarketStatus, keys: set[tuple[int, str]]) -> EventBook:
    return book.moving(target, keys=keys, retired=True)[0]


def _reply_settled(
    tx: Transaction, book: EventBook, leg: HeldLeg, outcome: SettledOutcome, cause: str
) -> None:
    settled = LegSettled(**leg_ids(leg), event_id=book.event_id, outcome=outcome)
    reply(tx, leg, settled, cause)
