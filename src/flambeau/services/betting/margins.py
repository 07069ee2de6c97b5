"""From fair probabilities to the odds a bookmaker offers: margin, rounding and bounds.

A margin ``m`` means the offered odds of a market whose probabilities sum to one imply
probabilities that sum to ``1 + m`` (the overround), before rounding:

- multiplicative (default): every implied probability is ``p * (1 + m)``, so every outcome
  carries the same share of the margin;
- Shin: Shin's (1993) insider model, ``pi_i = beta * sqrt(z p_i + (1 - z) p_i^2)`` with
  ``beta = sum_j sqrt(z p_j + (1 - z) p_j^2)``; ``z`` is solved per market so the overround is
  ``1 + m``. Long shots carry more of the margin than favourites, as in real books.

Markets Shin cannot serve take the multiplicative method whatever is asked: those whose
probabilities sum to ``k != 1`` (a podium market sums to 3; its overround becomes
``k (1 + m)``), those with a certain outcome, and margins above Shin's ceiling
``(sum_i sqrt(p_i))^2 - 1``.

Odds are then rounded *down* onto a price ladder (never in the bettor's favour) and bounded
to ``[MIN_ODDS, MAX_ODDS]``. Everything is vectorised over a flat array of outcomes; a parallel
``market_index`` array says which market each outcome belongs to.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from flambeau.services.betting._arrays import FloatArray, IntArray

__all__ = [
    "MAX_ODDS",
    "MIN_ODDS",
    "MarginMethod",
    "implied_probabilities",
    "round_odds",
    "to_odds",
]


MIN_ODDS = 1.01
MAX_ODDS = 1000.0

# Ladder bands [start, next start) and the tick inside each, like an exchange's price ladder:
# fine steps where favourites trade, coarse ones for long shots.
_BANDS = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 10.0, 20.0, 30.0, 50.0, 100.0, MAX_ODDS])
_TICKS = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 10.0])
_SHIN_ITERATIONS = 12
_UNIT_SUM_TOLERANCE = 1e-9


class MarginMethod(enum.Enum):
    """How the margin is spread over a market's outcomes."""

    MULTIPLICATIVE = "multiplicative"
    SHIN = "shin"


def implied_probabilities(
    probabilities: npt.ArrayLike,
    market_index: npt.ArrayLike | None = None,
    *,
    margin: float = 0.05,
    method: MarginMethod = MarginMethod.MULTIPLICATIVE,
) -> FloatArray:
    """The probabilities the offered odds imply (``1 / odds``), margin included, unrounded.

    Args:
        probabilities: Fair probabilities of every outcome, a flat array.
        market_index: For each outcome, the number of its market (0..M-1). Needed by Shin only.
        margin: The overround to add, such as ``0.05`` for 5 %.
        method: How to spread it.

    Raises:
        ValueError: a negative margin, probabilities outside [0, 1], or Shin without
            ``market_index``.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if p.size and (p.min() < 0.0 or p.max() > 1.0 + 1e-12):
        raise ValueError("probabilities must lie in [0, 1]")
    if method is MarginMethod.MULTIPLICATIVE or margin == 0:
        return p * (1.0 + margin)
    if market_index is None:
        raise ValueError("the Shin method needs market_index to group outcomes by market")
    index = np.asarray(market_index, dtype=np.int64)
    return _shin(p, index, margin)


def _shin(p: FloatArray, index: IntArray, margin: float) -> FloatArray:
    markets = int(index.max()) + 1 if index.size else 0
    sums = np.bincount(index, weights=p, minlength=markets)
    goal = np.sqrt(1.0 + margin)
    p2 = p * p
    spread = p - p2  # d/dz of z p + (1 - z) p^2
    # beta(z) = sum_i sqrt(z p_i + (1 - z) p_i^2) is concave and increasing in z, so Newton's
    # method from z = 0 climbs to the root without overshooting, all markets at once.
    z = np.zeros(markets)
    for _ in range(_SHIN_ITERATIONS):
        root = np.sqrt(z[index] * p + (1.0 - z[index]) * p2)
        beta = np.bincount(index, weights=root, minlength=markets)
        slope_terms = np.divide(0.5 * spread, root, out=np.zeros_like(p), where=root > 0)
        slope = np.bincount(index, weights=slope_terms, minlength=markets)
        step = np.divide(goal - beta, slope, out=np.zeros(markets), where=slope > 0)
        z = np.clip(z + step, 0.0, 1.0)
    root = np.sqrt(z[index] * p + (1.0 - z[index]) * p2)
    beta = np.bincount(index, weights=root, minlength=markets)
    solved = (np.abs(sums - 1.0) < _UNIT_SUM_TOLERANCE) & (np.abs(beta - goal) < 1e-9)
    # Markets Shin cannot serve (a podium summing to 3, a certain outcome, a margin beyond
    # Shin's ceiling) take the multiplicative margin instead.
    return np.where(solved[index], root * beta[index], p * (1.0 + margin))


def round_odds(odds: npt.ArrayLike) -> FloatArray:
    """Round odds down onto the price ladder and bound them to ``[MIN_ODDS, MAX_ODDS]``.

    The ladder steps by 0.01 up to 2, 0.02 up to 3, 0.05 up to 4, 0.1 up to 6, 0.2 up to 10,
    0.5 up to 20, 1 up to 30, 2 up to 50, 5 up to 100 and 10 beyond. Infinite odds (a
    probability of zero) become ``MAX_ODDS``.
    """
    o = np.clip(np.asarray(odds, dtype=np.float64), MIN_ODDS, MAX_ODDS)
    band = np.clip(np.searchsorted(_BANDS, o, side="right") - 1, 0, len(_TICKS) - 1)
    base = _BANDS[band]
    tick = _TICKS[band]
    # The epsilon keeps 2.36 on 2.36 when (2.36 - 2) / 0.02 comes out as 17.999999999999996;
    # it can lift odds within a billionth of a tick below a ladder price onto that price.
    steps = np.floor((o - base) / tick + 1e-9)
    rounded: FloatArray = np.clip(np.round(base + steps * tick, 2), MIN_ODDS, MAX_ODDS)
    return rounded


def to_odds(
    probabilities: npt.ArrayLike,
    market_index: npt.ArrayLike | None = None,
    *,
    margin: float = 0.05,
    method: MarginMethod = MarginMethod.MULTIPLICATIVE,
    rounded: bool = True,
) -> FloatArray:
    """Decimal odds for every outcome: margin applied, rounded down onto the ladder, bounded.

    Args:
        probabilities: Fair probabilities of every outcome, a flat array.
        market_index: For each outcome, its market number (Shin needs it).
        margin: The overround, such as ``0.05``.
        method: Multiplicative (default) or Shin.
        rounded: ``False`` skips the ladder (odds are still bounded).

    Returns:
        Odds, never below ``MIN_ODDS`` nor above ``MAX_ODDS``.
    """
    implied = implied_probabilities(probabilities, market_index, margin=margin, method=method)
    with np.errstate(divide="ignore", over="ignore"):  # p = 0 or subnormal: MAX_ODDS
        odds = 1.0 / implied
    return round_odds(odds) if rounded else np.clip(odds, MIN_ODDS, MAX_ODDS)
