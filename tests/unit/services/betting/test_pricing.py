"""Pricing models: markets sum to one, agree with brute force, and move the right way."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.services.betting.fixtures import Competitor, Fixture, LiveState
from flambeau.services.betting.markets import MarketKind, markets_for
from flambeau.services.betting.pricing import (
    cash_out_value,
    cash_out_values,
    elo_matrix,
    elo_win_probability,
    poisson_matrix,
    price_events,
    race_matrix,
)
from flambeau.services.betting.sports import SPORTS, PricingModel

from .factories import KICK_OFF, match, race


def _market_sums(fixture: Fixture, state: LiveState | None) -> list[tuple[MarketKind, float]]:
    sheet = price_events([(fixture, state)])
    markets = markets_for(fixture, state)
    row = sheet.of(0)
    assert row.size == sum(len(m.outcomes) for m in markets)
    sums, at = [], 0
    for market in markets:
        sums.append((market.kind, float(row[at : at + len(market.outcomes)].sum())))
        at += len(market.outcomes)
    return sums


@st.composite
def events(draw: st.DrawFn) -> tuple[Fixture, LiveState | None]:
    sport = draw(st.sampled_from(sorted(SPORTS)))
    profile = SPORTS[sport]
    rating = st.floats(1200, 1800)
    if profile.model is PricingModel.RACE:
        ratings = draw(st.lists(rating, min_size=2, max_size=12))
        field = tuple(Competitor(f"c{i}", rating=r) for i, r in enumerate(ratings))
        return Fixture("e", sport, field, KICK_OFF), None
    fixture = Fixture(
        "e",
        sport,
        (Competitor("h", rating=draw(rating)), Competitor("a", rating=draw(rating))),
        KICK_OFF,
    )
    if not draw(st.booleans()):
        return fixture, None
    if profile.model is PricingModel.ELO:
        won = st.integers(0, profile.race_to - 1)
        return fixture, LiveState("e", draw(won), draw(won), in_play=True)
    goals = st.integers(0, int(profile.goals_per_team * 2))
    elapsed = draw(st.floats(0.0, 1.2))
    return fixture, LiveState("e", draw(goals), draw(goals), elapsed, True)


@settings(max_examples=150, deadline=None)
@given(events())
def test_every_market_sums_to_one_before_the_margin(
    event: tuple[Fixture, LiveState | None],
) -> None:
    fixture, state = event
    for kind, total in _market_sums(fixture, state):
        expected = min(3, len(fixture.competitors)) if kind is MarketKind.RACE_PODIUM else 1.0
        assert total == pytest.approx(expected, abs=1e-9), kind
    probabilities = price_events([event]).probabilities
    # Exactly within [0, 1]: the feed's schema rejects -2e-16 as firmly as -0.5.
    assert probabilities.min() >= 0.0
    assert probabilities.max() <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(events(), min_size=1, max_size=12))
def test_pricing_many_events_at_once_equals_pricing_each_alone(
    batch: list[tuple[Fixture, LiveState | None]],
) -> None:
    together = price_events(batch)
    for position, event in enumerate(batch):
        # Equal up to the Poisson cut, which a batch sets from its highest scoring rate.
        alone = price_events([event]).of(0)
        np.testing.assert_allclose(together.of(position), alone, rtol=0, atol=1e-9)
    assert together.market_offsets[-1] == together.probabilities.size
    assert together.market_index.size == together.probabilities.size


def _brute_force_football(
    lam_h: float, lam_a: float, home: int, away: int, remaining: float, line: float
) -> tuple[float, float, float, float]:
    def pmf(mu: float, k: int) -> float:
        return math.exp(-mu) * mu**k / math.factorial(k)

    win = draw = lose = over = 0.0
    for x, y in itertools.product(range(60), repeat=2):
        p = pmf(lam_h * remaining, x) * pmf(lam_a * remaining, y)
        diff = (home + x) - (away + y)
        win += p if diff > 0 else 0.0
        draw += p if diff == 0 else 0.0
        lose += p if diff < 0 else 0.0
        over += p if home + away + x + y > line else 0.0
    return win, draw, lose, over


@pytest.mark.parametrize(
    ("lam_h", "lam_a", "home", "away", "elapsed"),
    [(1.6, 1.1, 0, 0, 0.0), (1.2, 2.0, 1, 0, 0.5), (2.5, 0.7, 0, 2, 0.8), (1.3, 1.3, 3, 3, 0.95)],
)
def test_poisson_agrees_with_summing_the_joint_distribution(
    lam_h: float, lam_a: float, home: int, away: int, elapsed: float
) -> None:
    profile = SPORTS["football"]
    row = poisson_matrix(profile, [lam_h], [lam_a], [home], [away], [elapsed])[0]
    win, draw, lose, over = _brute_force_football(lam_h, lam_a, home, away, 1 - elapsed, 2.5)
    assert row[:3] == pytest.approx([win, draw, lose], abs=1e-9)
    total_2_5 = 8 + 2 * profile.total_lines.index(2.5)  # after 1X2, DNB and next goal
    assert row[total_2_5 : total_2_5 + 2] == pytest.approx([1 - over, over], abs=1e-9)


def test_next_goal_is_a_race_between_the_two_scoring_rates() -> None:
    profile = SPORTS["football"]
    row = poisson_matrix(profile, [2.0], [1.0], [0], [0], [0.5])[0]
    mu = (2.0 + 1.0) * 0.5
    none = math.exp(-mu)
    assert row[5:8] == pytest.approx([(1 - none) * 2 / 3, none, (1 - none) / 3])
    finished = poisson_matrix(profile, [2.0], [1.0], [1], [0], [1.0])[0]
    assert finished[:3] == pytest.approx([1.0, 0.0, 0.0])
    assert finished[5:8] == pytest.approx([0.0, 1.0, 0.0])


def _home_win(state: LiveState | None, fixture: Fixture | None = None) -> float:
    fixture = fixture or match()
    return float(price_events([(fixture, state)]).of(0)[0])


def test_a_team_leading_late_is_likelier_to_win_than_leading_early() -> None:
    early = _home_win(LiveState("fbl-m1", 1, 0, 0.1, True))
    half = _home_win(LiveState("fbl-m1", 1, 0, 0.5, True))
    late = _home_win(LiveState("fbl-m1", 1, 0, 0.9, True))
    assert _home_win(None) < early < half < late < 1.0


def test_a_goal_moves_the_match_winner() -> None:
    level = _home_win(LiveState("fbl-m1", 1, 1, 0.5, True))
    ahead = _home_win(LiveState("fbl-m1", 2, 1, 0.5, True))
    behind = _home_win(LiveState("fbl-m1", 1, 2, 0.5, True))
    assert behind < level < ahead


def test_the_stronger_side_is_favourite_before_kick_off() -> None:
    assert (
        _home_win(None, match(home=1700))
        > _home_win(None, match(home=1500))
        > _home_win(None, match(home=1300))
    )


def test_overs_get_likelier_with_goals_and_unlikelier_with_time() -> None:
    def over_2_5(state: LiveState) -> float:
        row = price_events([(match(), state)]).of(0)
        return float(row[8 + 2 * SPORTS["football"].total_lines.index(2.5) + 1])

    assert over_2_5(LiveState("fbl-m1", 0, 0, 0.5, True)) < over_2_5(
        LiveState("fbl-m1", 1, 0, 0.5, True)
    )
    assert over_2_5(LiveState("fbl-m1", 0, 0, 0.2, True)) > over_2_5(
        LiveState("fbl-m1", 0, 0, 0.7, True)
    )
    assert over_2_5(LiveState("fbl-m1", 2, 1, 0.7, True)) == 1.0


def test_elo_matches_its_expectation_and_follows_the_sets() -> None:
    tennis = SPORTS["tennis"]
    expected = float(elo_win_probability(1700, 1500))
    assert expected == pytest.approx(1 / (1 + 10 ** (-200 / 400)))
    before = elo_matrix(tennis, [1700], [1500], [0], [0])[0, 0]
    assert before == pytest.approx(expected, abs=1e-4)  # the per-set model reproduces Elo
    won_first = elo_matrix(tennis, [1700], [1500], [1], [0])[0, 0]
    lost_first = elo_matrix(tennis, [1700], [1500], [0], [1])[0, 0]
    assert lost_first < before < won_first < 1.0
    assert elo_matrix(tennis, [1500], [1700], [2], [1])[0, 0] == 1.0


def test_elo_without_units_ignores_the_score() -> None:
    judo = SPORTS["judo"]
    row = elo_matrix(judo, [1600], [1500], [0], [0])[0]
    expected = [float(elo_win_probability(1600, 1500)), float(elo_win_probability(1500, 1600))]
    assert row == pytest.approx(expected)


def _brute_force_race(ratings: list[float]) -> tuple[list[float], list[float]]:
    weights = [10 ** (r / 400) for r in ratings]
    win = [0.0] * len(ratings)
    podium = [0.0] * len(ratings)
    for order in itertools.permutations(range(len(ratings))):
        p, left = 1.0, sum(weights)
        for runner in order:
            p *= weights[runner] / left
            left -= weights[runner]
        win[order[0]] += p
        for runner in order[:3]:
            podium[runner] += p
    return win, podium


@pytest.mark.parametrize(
    "ratings",
    [
        [1500, 1500, 1500, 1500],
        [1800, 1600, 1500, 1400, 1300],
        [1500, 1550, 1450, 1900, 1200, 1500],
    ],
)
def test_race_probabilities_agree_with_enumerating_every_finishing_order(
    ratings: list[float],
) -> None:
    win, podium = race_matrix(np.array([ratings], dtype=np.float64))
    brute_win, brute_podium = _brute_force_race(ratings)
    assert win[0] == pytest.approx(brute_win, abs=1e-12)
    assert podium[0] == pytest.approx(brute_podium, abs=1e-12)


def test_padding_a_race_changes_nothing() -> None:
    ratings = [1700.0, 1600.0, 1500.0, 1400.0]
    alone = race_matrix(np.array([ratings]))
    padded = race_matrix(np.array([[*ratings, np.nan, np.nan], [1500.0] * 6]))
    np.testing.assert_allclose(padded[0][0, :4], alone[0][0], atol=1e-15)
    np.testing.assert_allclose(padded[1][0, :4], alone[1][0], atol=1e-15)
    assert padded[0][0, 4:].tolist() == [0.0, 0.0]
    assert padded[1][1] == pytest.approx([0.5] * 6)


def test_a_two_runner_race_fills_no_third_place() -> None:
    win, podium = race_matrix(np.array([[1600.0, 1500.0]]))
    assert win[0].sum() == pytest.approx(1.0)
    assert podium[0] == pytest.approx([1.0, 1.0])


def test_race_favourite_wins_and_places_most_often() -> None:
    row = price_events([(race(ratings=(1500, 1500, 1700, 1500, 1500)), None)]).of(0)
    win, podium = row[:5], row[5:]
    assert int(np.argmax(win)) == 2
    assert int(np.argmax(podium)) == 2
    assert (podium >= win).all()


def test_cash_out_is_stake_times_odds_times_probability_less_margin() -> None:
    assert cash_out_value(1000, 2.0, 0.5, margin=0.0) == 1000
    assert cash_out_value(1000, 2.0, 0.5, margin=0.05) == 950
    assert cash_out_value(1001, 1.5, 0.5, margin=0.0) == 750  # 750.75 rounds down
    assert cash_out_value(1000, [2.0, 3.0], [0.5, 0.25], margin=0.0) == 750
    np.testing.assert_array_equal(
        cash_out_values([1000, 2000], [2.0, 4.0], [0.5, 0.0], margin=0.1), [900, 0]
    )


def test_cash_out_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="stakes"):
        cash_out_value(-1, 2.0, 0.5)
    with pytest.raises(ValueError, match="margin"):
        cash_out_value(100, 2.0, 0.5, margin=1.0)
    with pytest.raises(ValueError, match="2 odds for 1"):
        cash_out_value(100, [2.0, 2.0], [0.5])
