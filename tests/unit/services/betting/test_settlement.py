"""Settlement: results to outcomes, dead heats and voids, exact payouts, rollback and cancel."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import default_registry
from flambeau.services.betting.errors import (
    IllegalMarketTransitionError,
    InvalidResultError,
    UnsettleableMarketError,
)
from flambeau.services.betting.fixtures import LiveState
from flambeau.services.betting.markets import Market, MarketKind, MarketStatus, markets_for
from flambeau.services.betting.schemas import (
    ODDS_STREAM,
    BetSettlement,
    SettledOutcome,
    TicketOutcome,
    VoidReason,
)
from flambeau.services.betting.settlement import (
    AWAY,
    HOME,
    MatchResult,
    RaceResult,
    cancel,
    goals_after,
    leg_factor,
    payout_cents,
    rollback,
    settle,
    settle_market,
    ticket_outcome,
    void_outcome,
)

from .factories import KICK_OFF, match, race

FINAL_WHISTLE = KICK_OFF + timedelta(hours=2)


def _market(kind: MarketKind, specifiers: str = "", state: LiveState | None = None) -> Market:
    markets = markets_for(match(), state)
    return next(m for m in markets if m.kind is kind and m.specifiers.startswith(specifiers))


def _winners(market: Market, result: MatchResult | RaceResult) -> list[str]:
    outcomes, _ = settle_market(market, result)
    return [o.id for o in outcomes if o.result == 1]


def test_match_markets_settle_from_the_final_score() -> None:
    result = MatchResult("fbl-m1", 2, 1, goals=("away", "home", "home"))
    assert _winners(_market(MarketKind.MATCH_1X2), result) == ["1"]
    assert _winners(_market(MarketKind.DRAW_NO_BET), result) == ["4"]
    assert _winners(_market(MarketKind.TOTAL, "total=2.5"), result) == ["12"]
    assert _winners(_market(MarketKind.TOTAL, "total=3.5"), result) == ["13"]
    assert _winners(_market(MarketKind.HOME_TOTAL, "total=1.5"), result) == ["12"]
    assert _winners(_market(MarketKind.AWAY_TOTAL, "total=1.5"), result) == ["13"]
    assert _winners(_market(MarketKind.HANDICAP, "hcp=-1.5"), result) == ["1715"]
    assert _winners(_market(MarketKind.HANDICAP, "hcp=1.5"), result) == ["1714"]
    assert _winners(_market(MarketKind.NEXT_GOAL), result) == ["8"]  # goal 1 was away's
    second = _market(MarketKind.NEXT_GOAL, state=LiveState("fbl-m1", 0, 1, 0.3, True))
    assert second.specifiers == "goalnr=2"
    assert _winners(second, result) == ["6"]


def test_a_draw_voids_draw_no_bet() -> None:
    outcomes, reason = settle_market(_market(MarketKind.DRAW_NO_BET), MatchResult("fbl-m1", 1, 1))
    assert reason is VoidReason.PUSH
    assert all(o.void_factor == 1.0 and o.result == 0 for o in outcomes)


def test_next_goal_never_scored_settles_on_none() -> None:
    third = _market(MarketKind.NEXT_GOAL, state=LiveState("fbl-m1", 1, 1, 0.5, True))
    assert _winners(third, MatchResult("fbl-m1", 1, 1)) == ["7"]


def test_next_goal_needs_the_order_of_goals() -> None:
    with pytest.raises(UnsettleableMarketError, match="order of goals"):
        settle_market(_market(MarketKind.NEXT_GOAL), MatchResult("fbl-m1", 1, 0))


def test_a_level_two_way_winner_needs_the_winner() -> None:
    (winner,) = markets_for(match(sport="tennis"))
    with pytest.raises(UnsettleableMarketError, match="level"):
        settle_market(winner, MatchResult("fbl-m1", 1, 1))
    assert _winners(winner, MatchResult("fbl-m1", 1, 1, winner="away")) == ["5"]
    assert _winners(winner, MatchResult("fbl-m1", 2, 0)) == ["4"]


def test_inconsistent_results_are_refused() -> None:
    with pytest.raises(InvalidResultError, match="do not add up"):
        MatchResult("fbl-m1", 2, 0, goals=("home",))
    with pytest.raises(InvalidResultError, match=">= 0"):
        MatchResult("fbl-m1", -1, 0)
    with pytest.raises(InvalidResultError, match="cannot settle"):
        settle_market(_market(MarketKind.MATCH_1X2), MatchResult("other", 1, 0))
    winner, _ = markets_for(race())
    with pytest.raises(InvalidResultError, match="not in market"):
        settle_market(winner, RaceResult("ath-100m", {"ghost": 1}))


def _factors(market: Market, result: RaceResult) -> dict[str, tuple[int, float, float]]:
    outcomes, _ = settle_market(market, result)
    return {o.id: (o.result, o.void_factor, o.dead_heat_factor) for o in outcomes}


def test_a_dead_heat_for_first_halves_the_winners() -> None:
    winner, podium = markets_for(race())
    result = RaceResult("ath-100m", {"c0": 1, "c1": 1, "c2": 3, "c3": 4})
    factors = _factors(winner, result)
    assert factors["c0"] == factors["c1"] == (1, 0.0, 0.5)
    assert factors["c2"][0] == 0
    assert _factors(podium, result)["c2"] == (1, 0.0, 1.0)


def test_ties_straddling_the_last_podium_place_share_it() -> None:
    _, podium = markets_for(race())
    two_for_third = RaceResult("ath-100m", {"c0": 1, "c1": 2, "c2": 3, "c3": 3})
    factors = _factors(podium, two_for_third)
    assert factors["c2"] == factors["c3"] == (1, 0.0, 0.5)
    three_for_second = RaceResult("ath-100m", {"c0": 1, "c1": 2, "c2": 2, "c3": 2})
    shares = _factors(podium, three_for_second)
    assert [shares[c][2] for c in ("c1", "c2", "c3")] == pytest.approx([2 / 3] * 3)


def test_non_runners_are_void_and_non_finishers_lose() -> None:
    winner, _ = markets_for(race())
    result = RaceResult("ath-100m", {"c1": 1, "c2": 2}, non_runners=frozenset({"c7"}))
    factors = _factors(winner, result)
    assert factors["c7"] == (0, 1.0, 1.0)
    assert factors["c5"] == (0, 0.0, 1.0)


def test_payouts_follow_uof_factors_to_the_cent() -> None:
    won = SettledOutcome(id="1", result=1)
    lost = SettledOutcome(id="2", result=0)
    assert payout_cents(1000, [(2.35, won)]) == 2350
    assert payout_cents(1000, [(2.35, lost)]) == 0
    assert payout_cents(1000, [(2.35, void_outcome("1"))]) == 1000
    half_void_won = SettledOutcome(id="1", result=1, void_factor=0.5)
    assert payout_cents(1000, [(2.0, half_void_won)]) == 500 + 1000
    dead_heat = SettledOutcome(id="1", result=1, dead_heat_factor=0.5)
    assert payout_cents(1000, [(3.0, dead_heat)]) == 1500
    third = SettledOutcome(id="1", result=1, dead_heat_factor=1 / 3)
    assert payout_cents(999, [(4.0, third)]) == 1332  # exactly 999 * 4 / 3
    assert payout_cents(1001, [(1.5, won)]) == 1501  # 1501.5 rounds down
    assert payout_cents(1000, [(2.0, won), (3.0, void_outcome("x"))]) == 2000
    assert payout_cents(1000, [(2.0, won), (3.0, lost)]) == 0


@settings(deadline=None)  # timing belongs in benchmarks; a loaded CI box is slow
@given(st.integers(1, 10**9), st.integers(101, 100_000), st.integers(1, 20))
def test_payouts_are_exact_fractions_rounded_down(stake: int, hundredths: int, ways: int) -> None:
    odds = hundredths / 100
    outcome = SettledOutcome(id="1", result=1, dead_heat_factor=1 / ways)
    exact = Fraction(stake) * Fraction(hundredths, 100) / ways
    assert payout_cents(stake, [(odds, outcome)]) == int(exact)  # floor of a positive fraction
    assert leg_factor(odds, outcome) == Fraction(hundredths, 100) / ways


def test_ticket_outcomes() -> None:
    won = SettledOutcome(id="1", result=1)
    legs = [(2.0, void_outcome("a")), (3.0, void_outcome("b"))]
    assert ticket_outcome(legs, payout_cents(100, legs)) is TicketOutcome.VOID
    assert ticket_outcome([(2.0, won)], 200) is TicketOutcome.WON
    assert ticket_outcome([(2.0, SettledOutcome(id="1", result=0))], 0) is TicketOutcome.LOST


def _lookup(message: BetSettlement) -> dict[tuple[int, str, str], SettledOutcome]:
    return {
        (market.id, market.specifiers, outcome.id): outcome
        for market in message.markets
        for outcome in market.outcomes
    }


def test_protest_rollback_then_resettlement_leaves_balances_exact_to_the_cent() -> None:
    markets = markets_for(match())
    # Three customers, each with a 12.34 EUR ticket at quoted odds.
    tickets = {
        "alice": (1234, 1, "", "1", 2.35),  # home win
        "bob": (1234, 1, "", "2", 3.4),  # draw
        "carol": (1234, 18, "total=2.5", "12", 1.87),  # over 2.5
    }
    balances = dict.fromkeys(tickets, 0)
    paid: dict[str, int] = {}

    def pay(settlement: BetSettlement) -> None:
        results = _lookup(settlement)
        for customer, (stake, market_id, specifiers, outcome, odds) in tickets.items():
            paid[customer] = payout_cents(stake, [(odds, results[market_id, specifiers, outcome])])
            balances[customer] += paid[customer]

    official = MatchResult("fbl-m1", 2, 1, goals=("home", "away", "home"))
    first, settled = settle(markets, official, timestamp=FINAL_WHISTLE)
    pay(first)
    assert balances == {"alice": 2899, "bob": 0, "carol": 2307}
    assert all(m.status is MarketStatus.SETTLED for m in settled)

    protest = MatchResult("fbl-m1", 2, 2, goals=("home", "away", "home", "away"))
    with pytest.raises(IllegalMarketTransitionError):  # a second settlement must roll back first
        settle(settled, protest, timestamp=FINAL_WHISTLE)

    undo, reopened = rollback(settled, timestamp=FINAL_WHISTLE + timedelta(hours=1))
    assert [(m.id, m.specifiers) for m in undo.markets] == [(m.id, m.specifiers) for m in markets]
    for customer in tickets:
        balances[customer] -= paid[customer]
    assert balances == dict.fromkeys(tickets, 0)

    corrected, _ = settle(reopened, protest, timestamp=FINAL_WHISTLE)
    pay(corrected)
    assert balances == {"alice": 0, "bob": 4195, "carol": 2307}


def test_rolling_back_an_unsettled_market_raises() -> None:
    with pytest.raises(IllegalMarketTransitionError, match="ACTIVE"):
        rollback(markets_for(match()), timestamp=FINAL_WHISTLE)


def test_a_cancelled_match_voids_every_market() -> None:
    markets = markets_for(match())
    message, cancelled = cancel(markets, timestamp=KICK_OFF, superseded_by="fbl-m1-replay")
    assert all(m.status is MarketStatus.CANCELLED for m in cancelled)
    assert {m.void_reason for m in message.markets} == {VoidReason.EVENT_CANCELLED}
    assert message.superseded_by == "fbl-m1-replay"
    with pytest.raises(IllegalMarketTransitionError):
        settle(cancelled, MatchResult("fbl-m1", 1, 0), timestamp=FINAL_WHISTLE)
    with pytest.raises(ValueError, match="before it starts"):
        cancel(markets, timestamp=KICK_OFF, start_time=KICK_OFF, end_time=KICK_OFF - timedelta(1))
    with pytest.raises(ValueError, match="several events"):
        cancel([*markets, *markets_for(race())], timestamp=KICK_OFF)


def test_settlement_messages_travel_on_the_odds_stream() -> None:
    markets = markets_for(race())
    result = RaceResult("ath-100m", {"c0": 1, "c1": 1, "c2": 3})
    message, settled = settle(markets, result, timestamp=FINAL_WHISTLE)
    undo, _ = rollback(settled, timestamp=FINAL_WHISTLE)
    for event in (message, undo):
        default_registry.check(ODDS_STREAM, event)
        decoded = default_registry.decoder(ODDS_STREAM).decode(msgspec.msgpack.encode(event))
        assert decoded == event


def test_goals_after_follows_the_score_and_takes_back_a_disallowed_goal() -> None:
    assert goals_after((), (0, 0), (1, 0)) == (HOME,)
    assert goals_after((HOME,), (1, 0), (2, 1)) == (HOME, HOME, AWAY)  # home first
    assert goals_after((HOME, AWAY, HOME), (2, 1), (1, 1)) == (HOME, AWAY)  # VAR: latest home
