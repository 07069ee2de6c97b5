"""Market status machine, market creation from fixtures, specifiers, bet stops."""

from __future__ import annotations

import itertools

import pytest

from flambeau.services.betting.errors import IllegalMarketTransitionError, InvalidSpecifiersError
from flambeau.services.betting.fixtures import LiveState
from flambeau.services.betting.markets import (
    MarketKind,
    MarketStatus,
    format_specifiers,
    markets_for,
    parse_specifiers,
    reopen_suspended,
    suspend_active,
    transition,
)

from .factories import match, race

S = MarketStatus
# Written out independently of the module's table: every move the docstring draws.
LEGAL = {
    (S.ACTIVE, S.ACTIVE),
    (S.ACTIVE, S.SUSPENDED),
    (S.ACTIVE, S.DEACTIVATED),
    (S.ACTIVE, S.HANDED_OVER),
    (S.ACTIVE, S.SETTLED),
    (S.ACTIVE, S.CANCELLED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.SUSPENDED),
    (S.SUSPENDED, S.DEACTIVATED),
    (S.SUSPENDED, S.HANDED_OVER),
    (S.SUSPENDED, S.SETTLED),
    (S.SUSPENDED, S.CANCELLED),
    (S.DEACTIVATED, S.DEACTIVATED),
    (S.DEACTIVATED, S.ACTIVE),
    (S.DEACTIVATED, S.SUSPENDED),
    (S.DEACTIVATED, S.SETTLED),
    (S.DEACTIVATED, S.CANCELLED),
    (S.HANDED_OVER, S.ACTIVE),
    (S.HANDED_OVER, S.SUSPENDED),
    (S.HANDED_OVER, S.CANCELLED),
    (S.SETTLED, S.DEACTIVATED),
    (S.CANCELLED, S.DEACTIVATED),
}
ILLEGAL = sorted(
    set(itertools.product(S, S)) - LEGAL, key=lambda pair: (pair[0].value, pair[1].value)
)


@pytest.mark.parametrize(
    ("current", "target"), sorted(LEGAL, key=lambda p: (p[0].value, p[1].value))
)
def test_legal_moves_return_the_target(current: MarketStatus, target: MarketStatus) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_illegal_move_raises_naming_both_statuses(
    current: MarketStatus, target: MarketStatus
) -> None:
    with pytest.raises(IllegalMarketTransitionError, match=f"{current.name} -> {target.name}"):
        transition(current, target, market="fbl-m1 18 total=2.5")


def test_settled_market_cannot_reopen_or_settle_again() -> None:
    market = markets_for(match())[0].moved(S.SETTLED)
    with pytest.raises(IllegalMarketTransitionError, match="fbl-m1 1"):
        market.moved(S.ACTIVE)
    with pytest.raises(IllegalMarketTransitionError):
        market.moved(S.SETTLED)
    assert market.moved(S.DEACTIVATED).moved(S.SETTLED).status is S.SETTLED


def test_uof_codes_match_the_feed() -> None:
    codes = {status: status.uof_code for status in S}
    assert codes == {
        S.ACTIVE: 1,
        S.SUSPENDED: -1,
        S.DEACTIVATED: 0,
        S.HANDED_OVER: -2,
        S.SETTLED: -3,
        S.CANCELLED: -4,
    }


def test_football_gets_1x2_totals_team_totals_handicaps_and_next_goal() -> None:
    markets = markets_for(match(), LiveState("fbl-m1", 1, 1, 0.6, True))
    described = [(m.id, m.specifiers, m.outcomes) for m in markets]
    assert described[:3] == [
        (1, "", ("1", "2", "3")),
        (11, "", ("4", "5")),
        (8, "goalnr=3", ("6", "7", "8")),
    ]
    totals = [m.specifiers for m in markets if m.kind is MarketKind.TOTAL]
    assert totals[:3] == ["total=0.5", "total=1.5", "total=2.5"]
    assert "total=3.5" in totals
    assert all(m.outcomes == ("13", "12") for m in markets if m.id in (18, 19, 20))
    assert [m.specifiers for m in markets if m.id == 16] == [
        "hcp=-2.5",
        "hcp=-1.5",
        "hcp=1.5",
        "hcp=2.5",
    ]
    assert len(markets) == 19
    assert all(m.status is S.ACTIVE and m.event_id == "fbl-m1" for m in markets)


def test_sports_that_cannot_draw_get_a_two_way_winner() -> None:
    kinds = [m.kind for m in markets_for(match(sport="BKB"))]
    assert kinds[0] is MarketKind.MATCH_WINNER
    assert MarketKind.MATCH_1X2 not in kinds
    assert MarketKind.DRAW_NO_BET not in kinds


def test_tennis_gets_the_winner_market() -> None:
    (winner,) = markets_for(match(sport="tennis"))
    assert (winner.id, winner.outcomes) == (186, ("4", "5"))


def test_races_get_winner_and_podium_over_competitor_ids() -> None:
    winner, podium = markets_for(race())
    assert winner.kind is MarketKind.RACE_WINNER
    assert podium.specifiers == "top=3"
    assert winner.outcomes == podium.outcomes == tuple(f"c{i}" for i in range(8))


def test_a_race_of_three_has_no_podium_market() -> None:
    assert [m.kind for m in markets_for(race(ratings=(1500.0, 1500.0, 1400.0)))] == [
        MarketKind.RACE_WINNER
    ]


def test_bet_stop_moves_only_active_markets() -> None:
    markets = list(markets_for(match()))
    markets[3] = markets[3].moved(S.DEACTIVATED)
    after, moved = suspend_active(markets)
    assert len(moved) == len(markets) - 1
    assert after[3].status is S.DEACTIVATED
    assert all(m.status is S.SUSPENDED for i, m in enumerate(after) if i != 3)
    reopened = reopen_suspended(after)
    assert reopened[3].status is S.DEACTIVATED
    assert all(m.status is S.ACTIVE for i, m in enumerate(reopened) if i != 3)


def test_a_second_stop_moves_nothing() -> None:
    after, _ = suspend_active(markets_for(match()))
    assert suspend_active(after)[1] == ()


def test_specifiers_round_trip() -> None:
    text = format_specifiers(total=2.5, goalnr=3, hcp=-1.5)
    assert text == "total=2.5|goalnr=3|hcp=-1.5"
    assert parse_specifiers(text) == {"total": "2.5", "goalnr": "3", "hcp": "-1.5"}
    assert parse_specifiers("") == {}


@pytest.mark.parametrize("text", ["total", "total=", "Total=2.5", "total=2.5|total=3.5", "a = 1"])
def test_malformed_specifiers_raise(text: str) -> None:
    with pytest.raises(InvalidSpecifiersError, match="specifiers"):
        parse_specifiers(text)
