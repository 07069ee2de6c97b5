"""Bettors bet at the odds they last saw: the odds book follows betting.odds messages."""

from __future__ import annotations

from datetime import UTC, datetime

from flambeau.scenario.generators.bettors import BetPlacement, Market, OddsPolicy
from flambeau.scenario.odds import OddsBook
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.schemas import (
    BetSettlement,
    BetStop,
    MarketRef,
    OddsChange,
    OddsMarket,
    OddsOutcome,
    SettledMarket,
    SettledOutcome,
)

AT = datetime(2024, 8, 4, 17, tzinfo=UTC)
EVENT = "FBLWTEAM11------------QFNL000200--"


def bet(market: Market, selection: str, specifier: str = "") -> BetPlacement:
    return BetPlacement(
        id="bet-1",
        time=AT,
        bettor="FR-000001",
        jurisdiction="FR",
        currency="EUR",
        channel="online",
        unit=EVENT,
        market=market,
        specifier=specifier,
        selection=selection,
        stake_cents=1000,
        odds_policy=OddsPolicy.NONE,
    )


def market(market_id: int, specifiers: str, **odds: float | None) -> OddsMarket:
    return OddsMarket(
        id=market_id,
        specifiers=specifiers,
        status=MarketStatus.ACTIVE,
        outcomes=tuple(
            OddsOutcome(id=name, odds=value, active=value is not None)
            for name, value in odds.items()
        ),
    )


def change(*markets: OddsMarket) -> OddsChange:
    return OddsChange(event_id=EVENT, timestamp=AT, markets=markets)


def football_book() -> OddsBook:
    book = OddsBook()
    book.apply(
        change(
            market(1, "", **{"1": 2.1, "2": 3.2, "3": 3.9}),
            market(18, "total=1.5", **{"12": 1.4, "13": 2.9}),
            market(18, "total=2.5", **{"12": 2.0, "13": 1.8}),
            market(8, "goalnr=1", **{"6": 1.9, "7": 8.0, "8": 2.4}),
        )
    )
    return book


def test_each_scenario_market_maps_to_its_uof_market_and_outcome() -> None:
    book = football_book()
    home = book.quote(bet(Market.MATCH_WINNER, "home"))
    assert home is not None
    assert (home.market_id, home.outcome_id, home.odds) == (1, "1", 2.1)
    draw = book.quote(bet(Market.MATCH_WINNER, "draw"))
    assert draw is not None
    assert draw.outcome_id == "2"
    under = book.quote(bet(Market.TOTAL, "under", "total=2.5"))
    assert under is not None
    assert (under.specifiers, under.outcome_id, under.odds) == ("total=2.5", "13", 1.8)
    nearest = book.quote(bet(Market.TOTAL, "over", "total=1.0"))
    assert nearest is not None
    assert nearest.specifiers == "total=1.5"  # the closest line offered
    nobody = book.quote(bet(Market.NEXT_SCORE, "none"))
    assert nobody is not None
    assert (nobody.market_id, nobody.specifiers, nobody.outcome_id) == (8, "goalnr=1", "7")


def test_a_two_way_winner_market_takes_home_and_away_but_no_draw() -> None:
    book = OddsBook()
    book.apply(change(market(186, "", **{"4": 1.5, "5": 2.6})))
    away = book.quote(bet(Market.MATCH_WINNER, "away"))
    assert away is not None
    assert (away.market_id, away.outcome_id) == (186, "5")
    assert book.quote(bet(Market.MATCH_WINNER, "draw")) is None


def test_no_quote_without_odds_or_for_an_inactive_outcome() -> None:
    assert OddsBook().quote(bet(Market.MATCH_WINNER, "home")) is None
    book = OddsBook()
    book.apply(change(market(1, "", **{"1": None, "2": 3.0, "3": 3.0})))
    assert book.quote(bet(Market.MATCH_WINNER, "home")) is None


def test_a_bet_stop_keeps_the_last_odds_and_a_repricing_replaces_them() -> None:
    book = football_book()
    book.apply(BetStop(event_id=EVENT, timestamp=AT))
    assert all(q.status == "suspended" for q in book.events[EVENT].values())
    late = book.quote(bet(Market.MATCH_WINNER, "home"))
    assert late is not None
    assert late.odds == 2.1  # what the bettor still sees on screen
    book.apply(change(market(1, "", **{"1": 1.3, "2": 5.0, "3": 9.0})))
    assert book.events[EVENT][(1, "")].status == "active"
    repriced = book.quote(bet(Market.MATCH_WINNER, "home"))
    assert repriced is not None
    assert repriced.odds == 1.3


def test_a_narrow_bet_stop_only_suspends_the_markets_it_names() -> None:
    book = football_book()
    book.apply(BetStop(event_id=EVENT, timestamp=AT, markets=(MarketRef(id=1),)))
    assert book.events[EVENT][(1, "")].status == "suspended"
    assert book.events[EVENT][(18, "total=2.5")].status == "active"


def test_settled_markets_and_events_are_forgotten() -> None:
    book = football_book()
    settled = [
        SettledMarket(id=m, specifiers=s, outcomes=(SettledOutcome(id="1", result=1),))
        for m, s in [(1, ""), (18, "total=1.5"), (18, "total=2.5"), (8, "goalnr=1")]
    ]
    book.apply(BetSettlement(event_id=EVENT, timestamp=AT, markets=tuple(settled[:1])))
    assert book.quote(bet(Market.MATCH_WINNER, "home")) is None
    book.apply(BetSettlement(event_id=EVENT, timestamp=AT, markets=tuple(settled[1:])))
    assert EVENT not in book.events


def test_the_book_keeps_a_bounded_number_of_events() -> None:
    book = OddsBook(max_events=3)
    for n in range(10):
        book.apply(
            OddsChange(event_id=f"E{n}", timestamp=AT, markets=(market(1, "", **{"1": 2.0}),))
        )
    assert list(book.events) == ["E7", "E8", "E9"]
