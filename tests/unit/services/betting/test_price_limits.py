"""Prices a trader would publish: odds capped per market type on the ladder, near-certain
markets suspended (and refused), and a maximum on a ticket's combined odds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flambeau.services.betting.margins import MAX_ODDS, round_odds
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.price_limits import NEAR_CERTAIN, ODDS_CAPS, odds_cap
from flambeau.services.betting.schemas import ReasonCode, TicketAccepted

from .feeds import STILL, Match, bet, decisions, latest_odds, minute, new_desk, offered, tick
from .harness import Desk
from .test_tickets import home_win, live_match


def late_lead() -> tuple[Match, Desk]:
    """1:0 from the 20th minute, the clock run down to the 112th (of 115, stoppage included)."""
    desk = new_desk()
    match = live_match(desk)
    match.goal((1, 0), minute(20))
    match.snapshot("live", minute(60), unit_status="running", period="H2")
    desk.advance()
    tick(desk, minute(112))  # the clock runs down: repriced every minute of play
    desk.advance()
    return match, desk


def test_every_cap_is_a_ladder_price() -> None:
    caps = list(ODDS_CAPS.values())
    assert list(round_odds(caps)) == caps
    assert all(cap < MAX_ODDS for cap in caps)


def test_one_nil_late_in_the_second_half_shows_no_price_above_its_cap() -> None:
    _, desk = late_lead()
    change = latest_odds(desk)
    assert change.event_status is not None
    assert change.event_status.home_score == 1
    prices = [o.odds for m in change.markets for o in m.outcomes if o.odds is not None]
    assert prices
    assert max(prices) < MAX_ODDS  # the rehearsal's 1000.00 is gone
    for market in change.markets:
        for outcome in market.outcomes:
            assert outcome.odds is not None
            assert outcome.odds <= odds_cap(market.id)
    capped = [m for m in change.markets if any(o.odds == odds_cap(m.id) for o in m.outcomes)]
    assert capped  # the draw, the away win, the overs: at their caps, not at 1000


def test_a_near_certain_market_is_suspended_and_a_bet_on_it_refused() -> None:
    _, desk = late_lead()
    change = latest_odds(desk)
    by_status: dict[MarketStatus, list[int]] = {}
    for market in change.markets:
        likeliest = max(o.probability or 0.0 for o in market.outcomes)
        near = likeliest >= NEAR_CERTAIN
        assert (market.status is MarketStatus.SUSPENDED) == near, (market.id, likeliest)
        by_status.setdefault(market.status, []).append(market.id)
    assert MarketStatus.SUSPENDED in by_status
    assert MarketStatus.ACTIVE in by_status
    suspended = next(m for m in change.markets if m.status is MarketStatus.SUSPENDED)
    outcome = suspended.outcomes[0]
    leg = (change.event_id, suspended.id, suspended.specifiers, outcome.id, outcome.odds or 2.0)
    bet(desk, "t-1", [leg], at=minute(112))
    desk.advance(timedelta(seconds=5))
    (refused,) = decisions(desk, "t-1")
    assert refused.reason is ReasonCode.MARKET_SUSPENDED


def test_a_ticket_above_the_maximum_odds_is_refused() -> None:
    desk = new_desk(replace(STILL, max_ticket_odds=1.5))
    live_match(desk)
    leg = home_win(desk)
    assert leg[4] > 1.5
    bet(desk, "t-1", [leg], at=minute(5))
    desk.advance(timedelta(seconds=5))
    (refused,) = decisions(desk, "t-1")
    assert refused.reason is ReasonCode.ODDS_ABOVE_MAXIMUM
    assert "above 1.5" in refused.detail
    calm = new_desk()
    live_match(calm)
    bet(calm, "t-1", [home_win(calm)], at=minute(5))
    calm.advance(timedelta(seconds=5))
    assert isinstance(decisions(calm, "t-1")[-1], TicketAccepted)
    assert offered(calm, 1, "", "1") <= odds_cap(1)
