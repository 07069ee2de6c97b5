"""Build the UOF-shaped messages of ``betting.odds`` from markets and prices.

A score change turns into two messages, in this order: a ``bet_stop`` for the ACTIVE markets
(:func:`bet_stop`, after :func:`~flambeau.services.betting.markets.suspend_active`), then an
``odds_change`` with the repriced, reopened markets (:func:`odds_change`, after
:func:`~flambeau.services.betting.markets.reopen_suspended`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from flambeau.services.betting.fixtures import Fixture
from flambeau.services.betting.markets import Market, MarketStatus
from flambeau.services.betting.pricing import PriceSheet
from flambeau.services.betting.schemas import (
    LIVE_PRODUCER,
    Alive,
    BetStop,
    EventStatus,
    FixtureChange,
    FixtureChangeType,
    MarketRef,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    StopReason,
)

__all__ = [
    "MIN_ACTIVE_PROBABILITY",
    "alive",
    "bet_stop",
    "fixture_change",
    "odds_change",
    "odds_changes",
]

MIN_ACTIVE_PROBABILITY = 1e-4
"""Outcomes less likely than this (or surer than its complement) are shown but not bettable:
their odds sit at the bounds and would only attract the sharpest bettors."""


def odds_change(
    markets: Sequence[Market],
    probabilities: npt.ArrayLike,
    odds: npt.ArrayLike,
    *,
    timestamp: datetime,
    producer: int = LIVE_PRODUCER,
    betstop_reason: StopReason | None = None,
    event_status: EventStatus | None = None,
) -> OddsChange:
    """An ``odds_change`` for one event's markets.

    Args:
        markets: The event's markets, all of one event, with their current status.
        probabilities: Fair probabilities, laid out as the markets' outcomes in order.
        odds: Offered odds, same layout.
        timestamp: When the prices were made, UTC.
        producer: UOF producer id.
        betstop_reason: The cause of the stop this message ends, if any.
        event_status: The event's status and score.

    Raises:
        ValueError: the markets span several events, or the arrays do not fit their outcomes.
    """
    if not markets:
        raise ValueError("an odds_change needs at least one market")
    event_id = markets[0].event_id
    probs = np.asarray(probabilities, dtype=np.float64).tolist()
    prices = np.asarray(odds, dtype=np.float64).tolist()
    if len(probs) != len(prices) or len(probs) != sum(len(m.outcomes) for m in markets):
        raise ValueError(
            f"event {event_id!r}: {len(probs)} probabilities and {len(prices)} odds for "
            f"{sum(len(m.outcomes) for m in markets)} outcomes"
        )
    low, high = MIN_ACTIVE_PROBABILITY, 1.0 - MIN_ACTIVE_PROBABILITY
    built: list[OddsMarket] = []
    at = 0
    for market in markets:
        if market.event_id != event_id:
            raise ValueError(f"markets of {event_id!r} and {market.event_id!r} in one odds_change")
        open_ = market.status is MarketStatus.ACTIVE
        outcomes = []
        for outcome_id in market.outcomes:
            p = probs[at]
            outcomes.append(
                OddsOutcome(
                    id=outcome_id, odds=prices[at], probability=p, active=open_ and low <= p <= high
                )
            )
            at += 1
        built.append(
            OddsMarket(
                id=market.type.id,
                specifiers=market.specifiers,
                status=market.status,
                outcomes=tuple(outcomes),
            )
        )
    return OddsChange(
        event_id=event_id,
        producer=producer,
        timestamp=timestamp,
        markets=tuple(built),
        betstop_reason=betstop_reason,
        event_status=event_status,
    )


def odds_changes(
    sheet: PriceSheet,
    odds: npt.ArrayLike,
    markets: Sequence[Sequence[Market]],
    *,
    timestamp: datetime,
    producer: int = LIVE_PRODUCER,
    betstop_reason: StopReason | None = None,
) -> list[OddsChange]:
    """One ``odds_change`` per event of a priced sheet.

    Args:
        sheet: The fair probabilities of many events.
        odds: Offered odds for every outcome of ``sheet``, same layout.
        markets: Per event of the sheet, in its order, the event's markets.
        timestamp: When the prices were made, UTC.
        producer: UOF producer id.
        betstop_reason: The cause of the stop these messages end, if any.
    """
    prices = np.asarray(odds, dtype=np.float64)
    if len(markets) != len(sheet.event_ids):
        raise ValueError(f"{len(markets)} market lists for {len(sheet.event_ids)} priced events")
    offsets = sheet.outcome_offsets.tolist()
    return [
        odds_change(
            event_markets,
            sheet.probabilities[offsets[i] : offsets[i + 1]],
            prices[offsets[i] : offsets[i + 1]],
            timestamp=timestamp,
            producer=producer,
            betstop_reason=betstop_reason,
        )
        for i, event_markets in enumerate(markets)
    ]


def bet_stop(
    event_id: str,
    *,
    timestamp: datetime,
    reason: StopReason | None = None,
    markets: Sequence[Market] = (),
    groups: tuple[str, ...] = ("all",),
    producer: int = LIVE_PRODUCER,
) -> BetStop:
    """A ``bet_stop`` for one event: every ACTIVE market in ``groups``, or just ``markets``."""
    return BetStop(
        event_id=event_id,
        producer=producer,
        timestamp=timestamp,
        groups=groups,
        markets=tuple(MarketRef(id=m.type.id, specifiers=m.specifiers) for m in markets),
        reason=reason,
    )


def alive(*, timestamp: datetime, producer: int = LIVE_PRODUCER, subscribed: bool = True) -> Alive:
    """The producer heartbeat, to send every 10 seconds."""
    return Alive(producer=producer, timestamp=timestamp, subscribed=subscribed)


def fixture_change(
    fixture: Fixture,
    change_type: FixtureChangeType,
    *,
    timestamp: datetime,
    producer: int = LIVE_PRODUCER,
) -> FixtureChange:
    """A ``fixture_change`` describing ``fixture`` (its sport, start and competitors)."""
    return FixtureChange(
        event_id=fixture.event_id,
        producer=producer,
        timestamp=timestamp,
        change_type=change_type,
        start_time=fixture.start,
        sport=fixture.profile.name,
        competitors=tuple(c.id for c in fixture.competitors),
    )
