"""A full match through the pure pieces, in the order the betting processors will run them.

Markets open, a bet arrives in play and waits its live delay, a goal lands inside the delay:
``bet_stop`` first, the bet is rejected ``market_suspended``, the next-goal market settles,
the repriced ``odds_change`` reopens the markets. Cash-out closes at the cut-off; the final
whistle settles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from flambeau.events import Event
from flambeau.services.betting.feed import bet_stop, odds_change
from flambeau.services.betting.fixtures import LiveState
from flambeau.services.betting.margins import to_odds
from flambeau.services.betting.markets import (
    Market,
    MarketKey,
    MarketKind,
    MarketStatus,
    markets_for,
    reopen_suspended,
    suspend_active,
)
from flambeau.services.betting.pricing import price_events
from flambeau.services.betting.rules import (
    EXAMPLE_JURISDICTIONS,
    Quote,
    Verdict,
    cutoff_for,
    evaluate_cash_out,
    evaluate_ticket,
    ticket_delay,
)
from flambeau.services.betting.schemas import (
    BetStop,
    Channel,
    OddsChange,
    OddsPolicy,
    ReasonCode,
    Selection,
    StopReason,
    TicketSubmitted,
)
from flambeau.services.betting.settlement import MatchResult, payout_cents, settle, settle_market

from .factories import KICK_OFF, match

FIXTURE = match()


def at(minute: float) -> LiveState:
    return LiveState("fbl-m1", elapsed_fraction=minute / 90, in_play=True)


def price(markets: Sequence[Market], state: LiveState, **kw: object) -> OddsChange:
    sheet = price_events([(FIXTURE, state)])
    return odds_change(
        markets,
        sheet.of(0),
        to_odds(sheet.probabilities, margin=0.05),
        timestamp=KICK_OFF + timedelta(minutes=state.elapsed_fraction * 90),
        **kw,  # type: ignore[arg-type]
    )


def quotes_from(markets: Sequence[Market], message: OddsChange) -> dict[MarketKey, Quote]:
    """What the bet engine keeps from the feed: statuses, bettable odds, probabilities."""
    by_key = {(m.id, m.specifiers): m for m in message.markets}
    made = {}
    for market in markets:
        priced = by_key[market.type.id, market.specifiers]
        made[market.key] = Quote(
            market,
            "football",
            True,
            {o.id: o.odds for o in priced.outcomes if o.active and o.odds is not None},
            {o.id: o.probability for o in priced.outcomes if o.probability is not None},
        )
    return made


def bet(ticket_id: str, outcome: str, odds: float, policy: OddsPolicy) -> TicketSubmitted:
    return TicketSubmitted(
        ticket_id=ticket_id,
        operator="op-1",
        customer_id="cust-1",
        jurisdiction="FR",
        channel=Channel.MOBILE,
        selections=(Selection(event_id="fbl-m1", market_id=1, outcome_id=outcome, odds=odds),),
        stake_cents=2000,
        odds_policy=policy,
    )


def test_a_goal_during_the_live_delay_stops_the_bet_and_reprices_the_match() -> None:
    feed: list[Event] = []
    state = at(30)
    markets = markets_for(FIXTURE, state)
    opening = price(markets, state)
    feed.append(opening)
    quotes = quotes_from(markets, opening)
    home_odds = quotes[markets[0].key].odds["1"]
    away_odds = quotes[markets[0].key].odds["3"]

    # 30': a bet on the home win arrives; it passes now and must wait the live delay.
    ticket = bet("t-1", "1", home_odds, OddsPolicy.NONE)
    assert evaluate_ticket(ticket, quotes, jurisdictions=EXAMPLE_JURISDICTIONS).accepted
    assert ticket_delay(ticket, quotes) == timedelta(seconds=5)

    # 30' + 2 s: home scores. Stop first...
    markets, stopped = suspend_active(markets)
    assert len(stopped) == len(markets)
    feed.append(bet_stop("fbl-m1", timestamp=opening.timestamp, reason=StopReason.SCORE_CHANGE))

    # 30' + 5 s: the delay ends while the markets are stopped.
    verdict = evaluate_ticket(
        ticket, quotes_from(markets, opening), jurisdictions=EXAMPLE_JURISDICTIONS
    )
    assert verdict.reason is ReasonCode.MARKET_SUSPENDED

    # ...then the goal settles "1st goal", a "2nd goal" market opens, everything is repriced.
    scored = LiveState("fbl-m1", 1, 0, 30.2 / 90, True, goals=("home",))
    first_goal = next(m for m in markets if m.kind is MarketKind.NEXT_GOAL)
    outcomes, _ = settle_market(first_goal, MatchResult("fbl-m1", 1, 0, goals=("home",)))
    assert [o.id for o in outcomes if o.result] == ["6"]
    fresh = {m.kind: m for m in markets_for(FIXTURE, scored) if m.kind is MarketKind.NEXT_GOAL}
    markets = tuple(
        fresh[m.kind] if m.kind is MarketKind.NEXT_GOAL else m for m in reopen_suspended(markets)
    )
    repriced = price(markets, scored, betstop_reason=StopReason.SCORE_CHANGE)
    feed.append(repriced)

    assert [type(m).__name__ for m in feed] == ["OddsChange", "BetStop", "OddsChange"]
    assert isinstance(feed[1], BetStop)
    assert all(m.status is MarketStatus.ACTIVE for m in repriced.markets)
    assert {m.specifiers for m in repriced.markets if m.id == 8} == {"goalnr=2"}
    new_quotes = quotes_from(markets, repriced)
    assert new_quotes[markets[0].key].odds["1"] < home_odds  # home is now likelier to win
    assert new_quotes[markets[0].key].odds["3"] > away_odds

    # A bettor still holding the old price: NONE and HIGHER refuse a shorter home price;
    # HIGHER takes the longer away price at the new odds.
    stale = bet("t-2", "1", home_odds, OddsPolicy.NONE)
    stale_higher = bet("t-3", "1", home_odds, OddsPolicy.HIGHER)
    away = bet("t-4", "3", away_odds, OddsPolicy.HIGHER)

    def decide(t: TicketSubmitted) -> Verdict:
        return evaluate_ticket(t, new_quotes, jurisdictions=EXAMPLE_JURISDICTIONS)

    assert decide(stale).reason is ReasonCode.ODDS_CHANGED
    assert decide(stale_higher).reason is ReasonCode.ODDS_CHANGED
    assert decide(away).odds == (new_quotes[markets[0].key].odds["3"],)


def test_cash_out_closes_at_the_cutoff_and_the_final_whistle_settles() -> None:
    markets = markets_for(FIXTURE)
    cutoff = cutoff_for(FIXTURE)
    assert cutoff == KICK_OFF + timedelta(minutes=110)
    leg = [(markets[0].key, "1", 2.5)]

    late = LiveState("fbl-m1", 1, 0, 85 / 90, True)
    quotes = quotes_from(markets, price(markets, late))
    before = evaluate_cash_out(
        stake_cents=2000,
        legs=leg,
        quotes=quotes,
        event_time=KICK_OFF + timedelta(minutes=105),
        cutoff=cutoff,
    )
    p_home = quotes[markets[0].key].probabilities["1"]
    assert before.reason is None
    assert before.offer_cents == int(2000 * 2.5 * p_home * 0.95)
    after = evaluate_cash_out(
        stake_cents=2000,
        legs=leg,
        quotes=quotes,
        event_time=KICK_OFF + timedelta(minutes=110, seconds=1),
        cutoff=cutoff,
    )
    assert (after.reason, after.offer_cents) == (ReasonCode.CUTOFF_PASSED, None)

    message, settled = settle(
        markets,
        MatchResult("fbl-m1", 1, 0, goals=("home",)),
        timestamp=KICK_OFF + timedelta(hours=2),
    )
    assert all(m.status is MarketStatus.SETTLED for m in settled)
    home_win = next(o for o in message.markets[0].outcomes if o.id == "1")
    assert payout_cents(2000, [(2.5, home_win)]) == 5000


@pytest.mark.parametrize("minute", [0, 45, 89])
def test_repricing_keeps_every_market_summing_to_one(minute: int) -> None:
    state = LiveState("fbl-m1", 2, 1, minute / 90, True)
    message = price(markets_for(FIXTURE, state), state)
    for market in message.markets:
        total = sum(o.probability or 0.0 for o in market.outcomes)
        assert total == pytest.approx(1.0, abs=1e-9)
