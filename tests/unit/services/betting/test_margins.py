"""Margins: the overround asked for, Shin's long-shot bias, the price ladder, the bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.services.betting.margins import (
    MAX_ODDS,
    MIN_ODDS,
    MarginMethod,
    implied_probabilities,
    round_odds,
    to_odds,
)

THREE_WAY = np.array([0.5, 0.3, 0.2])


@st.composite
def markets(draw: st.DrawFn) -> np.ndarray:
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=8))
    p = np.array(weights)
    return p / p.sum()


@settings(deadline=None)  # timing belongs in benchmarks; a loaded CI box is slow
@given(markets(), st.floats(0.0, 0.2))
def test_multiplicative_adds_exactly_the_margin(p: np.ndarray, margin: float) -> None:
    implied = implied_probabilities(p, margin=margin)
    assert implied.sum() == pytest.approx(1.0 + margin)
    np.testing.assert_allclose(implied / p, 1.0 + margin)


@settings(deadline=None)  # timing belongs in benchmarks; a loaded CI box is slow
@given(markets(), st.floats(0.005, 0.15))
def test_shin_adds_the_margin_and_loads_it_on_long_shots(p: np.ndarray, margin: float) -> None:
    implied = implied_probabilities(
        p, np.zeros(p.size, dtype=np.int64), margin=margin, method=MarginMethod.SHIN
    )
    assert implied.sum() == pytest.approx(1.0 + margin, abs=1e-9)
    ratio = implied / p
    order = np.argsort(p)
    # The less likely the outcome, the larger its share of the margin (ties aside).
    assert np.all(np.diff(ratio[order]) <= 1e-9)


@settings(deadline=None)  # timing belongs in benchmarks; a loaded CI box is slow
@given(markets(), st.floats(0.005, 0.15))
def test_shin_prices_follow_shins_formula_with_one_insider_share(
    p: np.ndarray, margin: float
) -> None:
    implied = implied_probabilities(
        p, np.zeros(p.size, dtype=np.int64), margin=margin, method=MarginMethod.SHIN
    )
    ceiling = np.sqrt(p).sum() ** 2 - 1.0
    if margin >= ceiling - 1e-6 or np.ptp(p) < 1e-6:
        return  # beyond Shin's reach, or all outcomes alike: nothing to tell the methods apart
    # pi_i^2 / sum(pi) = z p_i + (1 - z) p_i^2 must give the same z for every outcome.
    z = (implied**2 / implied.sum() - p**2) / (p - p**2)
    assert 0.0 < z.mean() < 1.0
    np.testing.assert_allclose(z, z.mean(), rtol=1e-6, atol=1e-9)


def test_shin_takes_more_margin_from_the_long_shot() -> None:
    implied = implied_probabilities(
        THREE_WAY, np.zeros(3, dtype=np.int64), margin=0.06, method=MarginMethod.SHIN
    )
    ratio = implied / THREE_WAY
    assert ratio[2] > ratio[1] > ratio[0] > 1.0
    assert ratio[2] - ratio[0] > 0.01


def test_shin_beyond_its_ceiling_falls_back_to_multiplicative() -> None:
    p = np.array([0.9999, 0.0001])  # (sum sqrt p)^2 - 1 is about 0.02
    implied = implied_probabilities(
        p, np.zeros(2, dtype=np.int64), margin=0.05, method=MarginMethod.SHIN
    )
    np.testing.assert_allclose(implied, p * 1.05)


def test_shin_solves_each_market_on_its_own() -> None:
    p = np.concatenate([THREE_WAY, [0.9, 0.1]])
    index = np.array([0, 0, 0, 1, 1])
    implied = implied_probabilities(p, index, margin=0.06, method=MarginMethod.SHIN)
    assert implied[:3].sum() == pytest.approx(1.06)
    assert implied[3:].sum() == pytest.approx(1.06)


def test_shin_falls_back_to_multiplicative_for_a_podium_market() -> None:
    podium = np.array([0.9, 0.8, 0.7, 0.4, 0.2])  # sums to 3
    implied = implied_probabilities(
        podium, np.zeros(5, dtype=np.int64), margin=0.1, method=MarginMethod.SHIN
    )
    np.testing.assert_allclose(implied, podium * 1.1)


def test_shin_needs_the_market_index() -> None:
    with pytest.raises(ValueError, match="market_index"):
        implied_probabilities(THREE_WAY, margin=0.05, method=MarginMethod.SHIN)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="margin"):
        implied_probabilities(THREE_WAY, margin=-0.01)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        implied_probabilities([1.5, -0.5])


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [
        (1.0, 1.01),
        (1.005, 1.01),
        (1.019, 1.01),
        (1.999, 1.99),
        (2.0, 2.0),
        (2.36, 2.36),
        (2.379, 2.36),
        (3.07, 3.05),
        (5.55, 5.5),
        (9.99, 9.8),
        (17.3, 17.0),
        (27.9, 27.0),
        (47.0, 46.0),
        (99.0, 95.0),
        (543.0, 540.0),
        (1e6, MAX_ODDS),
        (np.inf, MAX_ODDS),
    ],
)
def test_odds_round_down_onto_the_ladder(raw: float, rounded: float) -> None:
    assert round_odds([raw])[0] == rounded


@settings(deadline=None)  # timing belongs in benchmarks; a loaded CI box is slow
@given(st.floats(0.0, 1.0), st.floats(0.0, 0.2))
def test_odds_stay_within_bounds_and_never_favour_the_bettor(p: float, margin: float) -> None:
    rounded = to_odds([p], margin=margin)[0]
    exact = to_odds([p], margin=margin, rounded=False)[0]
    assert MIN_ODDS <= rounded <= MAX_ODDS
    # Down, except for odds a billionth of a tick below a ladder price (binary noise).
    assert rounded <= exact + 1e-8


def test_betradar_style_example_gives_an_overround_near_the_margin() -> None:
    odds = to_odds([0.4, 0.4, 0.2], margin=0.15)
    assert odds.tolist() == [2.16, 2.16, 4.3]
    assert (1 / odds).sum() == pytest.approx(1.15, abs=0.01)
