"""Prices a trader would publish: odds caps per market type and near-certainty suspension.

Fair odds of an outcome that can hardly happen run to the ladder's top (1000.00): a football
match at 1:0 late in the second half priced the draw, the away win and every "over" there. Real
books do not offer such prices: they cap each market type's odds on the ladder, and suspend a
market once one of its outcomes is near certain (nothing is left to trade but the sharpest
bettors' edge). Every reprice goes through :func:`limit_prices` before the odds are stored and
published, so the decision of a leg (which reads the stored book) and the feed always agree:

- **caps** (:data:`ODDS_CAPS`): each outcome's odds are at most its market type's cap, itself
  a price of the ladder (:func:`~.margins.round_odds`), so a capped price stays on the ladder;
- **near certainty**: an ACTIVE market with an outcome at least :data:`NEAR_CERTAIN` likely is
  SUSPENDED (odds shown, no bets), and reopens at a later reprice once it no longer is (a
  goal for the trailing side, say); the anytime goalscorer, whose outcomes are not exclusive,
  is not: a player who has scored is certain, and only that outcome stops being bettable;
- **maximum ticket odds** (:data:`MAX_TICKET_ODDS`): a ticket whose combined odds pass it is
  refused ``odds_above_maximum``, as Sportradar MTS rejects selections above its maximum odds.

The caps and thresholds are this service's defaults (no regulator sets them; operators tune
their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import msgspec

from flambeau.services.betting.book import EventBook, MarketRow
from flambeau.services.betting.markets import (
    MARKET_TYPES,
    MarketKind,
    MarketStatus,
    market_type,
    transition,
)

__all__ = [
    "DEFAULT_CAP",
    "MAX_TICKET_ODDS",
    "NEAR_CERTAIN",
    "ODDS_CAPS",
    "limit_prices",
    "near_certain",
    "odds_cap",
]

NEAR_CERTAIN = 0.97
"""A market with an outcome at least this likely is suspended."""
DEFAULT_CAP = 100.0
"""The cap of a market type missing from :data:`ODDS_CAPS`."""
MAX_TICKET_ODDS = 5000.0
"""The most a ticket's combined odds may reach (an accumulator's product of odds)."""

_K = MarketKind
ODDS_CAPS: MappingProxyType[MarketKind, float] = MappingProxyType(
    {
        _K.MATCH_1X2: 50.0,
        _K.MATCH_WINNER: 50.0,
        _K.DRAW_NO_BET: 25.0,
        _K.NEXT_GOAL: 25.0,
        _K.TOTAL: 20.0,
        _K.HOME_TOTAL: 20.0,
        _K.AWAY_TOTAL: 20.0,
        _K.HANDICAP: 20.0,
        _K.RACE_WINNER: 500.0,
        _K.RACE_PODIUM: 100.0,
        _K.NEXT_SCORER: 150.0,
        _K.ANYTIME_SCORER: 100.0,
    }
)
"""The highest odds offered per market type (ladder prices)."""

_ANYTIME_ID = MARKET_TYPES[_K.ANYTIME_SCORER].id


def odds_cap(market_id: int) -> float:
    """The highest odds offered on market ``market_id`` (by its type)."""
    mtype = market_type(market_id)
    return DEFAULT_CAP if mtype is None else ODDS_CAPS.get(mtype.kind, DEFAULT_CAP)


def near_certain(probabilities: Sequence[float]) -> bool:
    """Whether an outcome of a market is so likely that the market must be suspended."""
    return any(p >= NEAR_CERTAIN for p in probabilities)


def limit_prices(book: EventBook) -> EventBook:
    """``book`` with its odds capped per market type and near-certain markets suspended.

    ``book.odds`` and ``book.probabilities`` are laid out as its markets' outcomes; a book
    whose prices do not cover its markets is returned as it is.
    """
    odds, probs = list(book.odds), book.probabilities
    if len(odds) != book.outcome_count or len(probs) != len(odds):
        return book
    rows: list[MarketRow] = []
    start = 0
    suspended = False
    for row in book.markets:
        end = start + len(row.outcomes)
        cap = odds_cap(row.id)
        for at in range(start, end):
            if odds[at] > cap:
                odds[at] = cap
        exclusive = row.id != _ANYTIME_ID
        if exclusive and row.status is MarketStatus.ACTIVE and near_certain(probs[start:end]):
            row = msgspec.structs.replace(row, status=MarketStatus.SUSPENDED)
            suspended = True
        rows.append(row)
        start = end
    if suspended:
        transition(MarketStatus.ACTIVE, MarketStatus.SUSPENDED, market=book.event_id)
    return msgspec.structs.replace(book, odds=tuple(odds), markets=tuple(rows))
