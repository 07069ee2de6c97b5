"""In-play bets: only while a match is live, from every jurisdiction, rushing after goals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flambeau.scenario.generators.bettors import (
    JURISDICTIONS,
    BetPlacement,
    Market,
    OddsPolicy,
    bets,
    jurisdiction,
)
from flambeau.scenario.generators.progressions import Progression, day_progressions
from flambeau.scenario.generators.results import Action
from flambeau.scenario.schedule import build_schedule
from flambeau.scenario.sports import Shape


@pytest.fixture(scope="module")
def played() -> dict[str, Progression]:
    return day_progressions(build_schedule(), seed=5)


@pytest.fixture(scope="module")
def placed(played: dict[str, Progression]) -> list[BetPlacement]:
    return list(bets(played.values(), seed=5, rate_multiplier=0.3))


def test_same_seed_same_bets_other_seed_other_bets(played: dict[str, Progression]) -> None:
    some = [p for p in played.values() if p.unit.discipline == "FBL"][:1]
    assert list(bets(some, 5)) == list(bets(some, 5))
    assert list(bets(some, 5)) != list(bets(some, 6))


def test_bets_are_placed_on_live_matches_only(
    played: dict[str, Progression], placed: list[BetPlacement]
) -> None:
    assert placed
    assert [b.time for b in placed] == sorted(b.time for b in placed)
    assert len({b.id for b in placed}) == len(placed)
    for bet in placed:
        match = played[bet.unit]
        assert match.unit.shape is Shape.HEAD_TO_HEAD
        assert match.started_at <= bet.time <= match.finished_at + timedelta(seconds=12)
        assert bet.in_play


def test_bets_are_well_formed_per_jurisdiction(
    played: dict[str, Progression], placed: list[BetPlacement]
) -> None:
    assert {b.jurisdiction for b in placed} == {j.code for j in JURISDICTIONS}
    for bet in placed:
        place = jurisdiction(bet.jurisdiction)
        assert bet.currency == place.currency
        assert isinstance(bet.stake_cents, int)
        assert 100 <= bet.stake_cents <= place.max_stake
        assert bet.seen_odds is None  # the driver fills it from the odds stream
        assert bet.odds_policy in set(OddsPolicy)
        assert bet.channel in ("online", "retail")
        if bet.market is Market.MATCH_WINNER:
            allowed = {"home", "away"} | ({"draw"} if played[bet.unit].unit.draw_allowed else set())
            assert bet.selection in allowed
        elif bet.market is Market.TOTAL:
            assert bet.specifier.startswith("total=")
            assert bet.selection in ("over", "under")
        else:
            assert bet.selection in ("home", "away", "none")
    assert any(b.selection == "draw" for b in placed)


def test_one_jurisdiction_forbids_in_play_and_one_limits_markets() -> None:
    assert not jurisdiction("AU").in_play_allowed
    assert all(j.in_play_allowed for j in JURISDICTIONS if j.code != "AU")
    assert set(jurisdiction("DE").in_play_markets) == {Market.MATCH_WINNER, Market.NEXT_SCORE}


def test_bettors_rush_in_after_a_goal(
    played: dict[str, Progression], placed: list[BetPlacement]
) -> None:
    football = [p for p in played.values() if p.unit.discipline == "FBL"]
    goals = [(p.unit.code, u.time) for p in football for u in p.updates if u.action is Action.SCORE]
    assert goals
    live_seconds = sum((p.finished_at - p.started_at).total_seconds() for p in football)
    on_football = [b for b in placed if b.unit in {p.unit.code for p in football}]
    per_second = len(on_football) / live_seconds
    after_goal = sum(
        1
        for unit, at in goals
        for b in on_football
        if b.unit == unit and at + timedelta(seconds=2) <= b.time <= at + timedelta(seconds=12)
    )
    # Without the rush the two rates would be the same.
    assert after_goal / (10 * len(goals)) > 2 * per_second


def test_the_rate_multiplier_scales_the_bets(played: dict[str, Progression]) -> None:
    some = [p for p in played.values() if p.unit.discipline in ("FBL", "BKB")]
    few = sum(1 for _ in bets(some, 5, rate_multiplier=0.2))
    many = sum(1 for _ in bets(some, 5, rate_multiplier=1.0))
    assert 4.0 < many / few < 6.0


def test_a_window_holds_what_the_whole_day_holds(
    played: dict[str, Progression], placed: list[BetPlacement]
) -> None:
    start = placed[len(placed) // 2].time
    end = start + timedelta(minutes=15)
    window = list(bets(played.values(), 5, rate_multiplier=0.3, start=start, end=end))
    assert window
    assert window == [b for b in placed if start <= b.time < end]
