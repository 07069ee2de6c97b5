"""UOF-shaped messages built from markets and prices."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from flambeau.events import default_registry
from flambeau.services.betting.feed import (
    alive,
    bet_stop,
    fixture_change,
    odds_change,
    odds_changes,
)
from flambeau.services.betting.fixtures import LiveState
from flambeau.services.betting.margins import to_odds
from flambeau.services.betting.markets import MarketStatus, markets_for, suspend_active
from flambeau.services.betting.pricing import price_events
from flambeau.services.betting.schemas import ODDS_STREAM, FixtureChangeType, StopReason

from .factories import KICK_OFF, match, race


def test_odds_change_carries_every_market_outcome_price_and_probability() -> None:
    fixture = match()
    markets = markets_for(fixture)
    sheet = price_events([(fixture, None)])
    odds = to_odds(sheet.probabilities)
    message = odds_change(markets, sheet.of(0), odds, timestamp=KICK_OFF)
    assert [(m.id, m.specifiers) for m in message.markets] == [
        (m.id, m.specifiers) for m in markets
    ]
    flat_odds = [o.odds for m in message.markets for o in m.outcomes]
    flat_probs = [o.probability for m in message.markets for o in m.outcomes]
    assert flat_odds == odds.tolist()
    assert flat_probs == sheet.probabilities.tolist()
    decoded = default_registry.decoder(ODDS_STREAM).decode(msgspec.msgpack.encode(message))
    assert decoded == message


def test_near_certain_outcomes_and_stopped_markets_are_not_bettable() -> None:
    fixture = match()
    state = LiveState("fbl-m1", 3, 0, 0.95, True)
    markets, _ = suspend_active(markets_for(fixture, state)[:1])
    sheet = price_events([(fixture, state)])
    message = odds_change(
        [*markets, *markets_for(fixture, state)[1:]],
        sheet.of(0),
        to_odds(sheet.probabilities),
        timestamp=KICK_OFF,
    )
    assert message.markets[0].status is MarketStatus.SUSPENDED
    assert not any(o.active for o in message.markets[0].outcomes)
    over_0_5 = next(m for m in message.markets if m.id == 18 and m.specifiers == "total=0.5")
    assert [o.active for o in over_0_5.outcomes] == [False, False]  # already decided
    assert [o.odds for o in over_0_5.outcomes] == [1000.0, 1.01]


def test_odds_changes_split_a_sheet_per_event() -> None:
    events = [(match("a"), None), (race("r"), None), (match("b", sport="tennis"), None)]
    sheet = price_events(events)
    messages = odds_changes(
        sheet,
        to_odds(sheet.probabilities),
        [markets_for(f) for f, _ in events],
        timestamp=KICK_OFF,
        betstop_reason=StopReason.SCORE_CHANGE,
    )
    assert [m.event_id for m in messages] == ["a", "r", "b"]
    assert [len(m.markets) for m in messages] == [19, 2, 1]
    assert all(m.betstop_reason is StopReason.SCORE_CHANGE for m in messages)


def test_odds_change_refuses_misaligned_input() -> None:
    markets = markets_for(match())
    with pytest.raises(ValueError, match="outcomes"):
        odds_change(markets, np.zeros(3), np.zeros(3), timestamp=KICK_OFF)
    mixed = [*markets_for(match("a"))[:1], *markets_for(match("b"))[:1]]
    with pytest.raises(ValueError, match="in one odds_change"):
        odds_change(mixed, np.full(6, 1 / 3), np.full(6, 2.9), timestamp=KICK_OFF)
    with pytest.raises(ValueError, match="at least one market"):
        odds_change([], [], [], timestamp=KICK_OFF)


def test_bet_stop_alive_and_fixture_change() -> None:
    markets = markets_for(match())
    stop = bet_stop("fbl-m1", timestamp=KICK_OFF, reason=StopReason.PRODUCER_DOWN)
    assert (stop.groups, stop.markets, stop.market_status) == (("all",), (), MarketStatus.SUSPENDED)
    narrow = bet_stop("fbl-m1", timestamp=KICK_OFF, markets=markets[:2])
    assert [(m.id, m.specifiers) for m in narrow.markets] == [(1, ""), (11, "")]
    beat = alive(timestamp=KICK_OFF, producer=3, subscribed=False)
    assert (beat.producer, beat.subscribed) == (3, False)
    change = fixture_change(race(), FixtureChangeType.NEW, timestamp=KICK_OFF)
    assert change.sport == "athletics"
    assert change.competitors == tuple(f"c{i}" for i in range(8))
    for message in (stop, narrow, beat, change):
        default_registry.check(ODDS_STREAM, message)
