"""Fair probabilities for every outcome of every live event, vectorised with numpy.

Three models, each pricing a whole group of events in a handful of array operations:

- :func:`poisson_matrix` (football-like): each side scores as a Poisson process. Over the time
  left, home and away score ``Pois(lambda * remaining)`` more goals, added to the current
  score. 1X2, totals, team totals and handicaps come from the two goal distributions
  (cut at a bound far in the tail, the tail's mass folded into the last cell so every market
  sums to exactly one); the next goal comes from the race between the two processes.
- :func:`elo_matrix` (tennis and other head-to-head sports): the Elo expectation
  ``1 / (1 + 10^(-diff/400))`` is the match win probability; for sports won by a race to
  ``n`` units (sets, games, touches) the per-unit probability that reproduces it is found, and
  the match is re-priced from the units already won.
- :func:`race_matrix` (races): Plackett-Luce weights ``10^(rating/400)`` give win
  probabilities; Harville's formula gives 2nd and 3rd place, hence the podium.

:func:`price_events` groups events by sport, runs the models, and lays the probabilities out
flat in the order of :func:`~flambeau.services.betting.markets.markets_for`, so margins and
odds can be applied to every outcome of every event at once.

Expected goals of a match come from the two ratings: ``goals_per_team * 10^(+-diff/800)``, so
the ratio of the two rates is the Elo odds ratio ``10^(diff/400)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from flambeau.services.betting._arrays import FloatArray, IntArray
from flambeau.services.betting.fixtures import Fixture, LiveState
from flambeau.services.betting.scorers import with_scorers
from flambeau.services.betting.sports import SPORTS, PricingModel, SportProfile

__all__ = [
    "PriceSheet",
    "cash_out_value",
    "cash_out_values",
    "elo_matrix",
    "elo_win_probability",
    "harville_top3",
    "market_widths",
    "outcome_widths",
    "poisson_matrix",
    "price_events",
    "race_matrix",
]


_TINY_RATE = 1e-12


# ---------------------------------------------------------------- Poisson (football-like)


@lru_cache(maxsize=64)
def _log_factorials(k_max: int) -> FloatArray:
    out = np.zeros(k_max + 1)
    out[1:] = np.cumsum(np.log(np.arange(1, k_max + 1)))
    out.setflags(write=False)
    return out


def _bound(rates: FloatArray) -> int:
    """A goal count past which the Poisson tail is negligible (below 1e-9) for every rate.

    The tail is folded into the last cell, so markets still sum to one; only the far lines'
    probabilities would move, by less than the bound.
    """
    top = float(rates.max()) if rates.size else 0.0
    return math.ceil(top + 6.0 * math.sqrt(top) + 8.0)


def _pmf(rates: FloatArray, k_max: int) -> FloatArray:
    """Poisson pmf over 0..k_max per row, the tail beyond k_max folded into the last column."""
    mu = np.maximum(rates, _TINY_RATE)[:, None]
    k = np.arange(k_max + 1)
    pmf = np.exp(k * np.log(mu) - mu - _log_factorials(k_max))
    pmf[:, -1] = np.maximum(1.0 - pmf[:, :-1].sum(axis=1), 0.0)
    return pmf


def _cdf(pmf: FloatArray) -> FloatArray:
    cdf = np.cumsum(pmf, axis=1)
    cdf[:, -1] = 1.0
    return np.minimum(cdf, 1.0)


class _Padded:
    """A ``(N, K+1)`` table readable at any column: ``below`` left of it, ``above`` right of it.

    Out-of-range columns are clipped onto one padding column each side, so a lookup is one
    flat fancy-index, cheaper than ``take_along_axis`` plus masks.
    """

    def __init__(self, table: FloatArray, below: float, above: float) -> None:
        n, width = table.shape
        padded = np.empty((n, width + 2))
        padded[:, 0] = below
        padded[:, 1:-1] = table
        padded[:, -1] = above
        self._flat = padded.ravel()
        self._width = width
        self._rows = np.arange(n, dtype=np.int64) * (width + 2) + 1

    def at(self, index: IntArray) -> FloatArray:
        """``table[row, index[row, ...]]`` for an index array of shape ``(N, ...)``."""
        index = np.minimum(np.maximum(index, -1), self._width)
        rows = self._rows.reshape((-1,) + (1,) * (index.ndim - 1))
        picked: FloatArray = self._flat[rows + index]
        return picked


def _shifted_sums(weights: FloatArray, cdf: FloatArray, shifts: IntArray) -> FloatArray:
    """``sum_i weights[n, i] * cdf[n, i + shifts[n, j]]`` for every row ``n`` and shift ``j``.

    ``cdf`` reads 0 left of its columns and 1 right of them. Sliding windows over a padded
    copy pick each shifted run without building a big index array.
    """
    n, width = weights.shape
    columns = cdf.shape[1]
    # A shift past either end reads only padding, whatever its size.
    start = np.minimum(np.maximum(shifts, -width), columns) + width
    padded = np.empty((n, width + columns + width))
    padded[:, :width] = 0.0
    padded[:, width : width + columns] = cdf
    padded[:, width + columns :] = 1.0
    windows = sliding_window_view(padded, width, axis=1)  # (N, columns + width + 1, width)
    picked = windows[np.arange(n)[:, None], start]  # (N, J, width)
    sums: FloatArray = np.einsum("nk,njk->nj", weights, picked)
    return sums


def _winner_columns(
    can_draw: bool, home: FloatArray, draw: FloatArray, away: FloatArray, share: FloatArray
) -> list[FloatArray]:
    """The winner markets' columns: 1X2 then draw no bet where a draw is possible, else 12.

    ``share`` is the home side's share of the scoring rates: it splits draw no bet when no
    decided outcome is left, and extra time where a level score goes on."""
    if can_draw:
        decided = home + away
        safe = np.where(decided > 0, decided, 1.0)
        dnb_home = np.where(decided > 0, home / safe, share)
        return [np.stack([home, draw, away], axis=1), np.stack([dnb_home, 1.0 - dnb_home], axis=1)]
    # Level after regulation goes to extra time, which the stronger side is likelier to win.
    winner_home = home + draw * share
    return [np.stack([winner_home, 1.0 - winner_home], axis=1)]


def _under_over(cdf: _Padded, scored: IntArray, lines: tuple[float, ...]) -> FloatArray:
    """(under, over) per line, flattened per event: under line L means at most
    ``floor(L - scored)`` more goals."""
    room = np.floor(np.asarray(lines)[None, :] - scored[:, None]).astype(np.int64)
    under = cdf.at(room)
    return np.stack([under, 1.0 - under], axis=2).reshape(scored.shape[0], -1)


def poisson_matrix(
    profile: SportProfile,
    home_rate: npt.ArrayLike,
    away_rate: npt.ArrayLike,
    home_score: npt.ArrayLike,
    away_score: npt.ArrayLike,
    elapsed: npt.ArrayLike,
) -> FloatArray:
    """Probabilities of every outcome of every Poisson-sport event.

    Args:
        profile: The sport (lines, whether a draw is possible).
        home_rate: Expected home goals over the whole regulation time, shape ``(N,)``.
        away_rate: Expected away goals, shape ``(N,)``.
        home_score: Home goals so far.
        away_score: Away goals so far.
        elapsed: Share of regulation time played (clipped to [0, 1]).

    Returns:
        Shape ``(N, W)``: per event, the outcomes of its markets in
        :func:`~flambeau.services.betting.markets.markets_for` order: winner (1X2 or 12),
        draw no bet (when a draw is possible), next goal (home, none, away), then
        (under, over) per total line, per home-total line and per away-total line, then
        (home, away) per handicap line.
    """
    lam_h = np.asarray(home_rate, dtype=np.float64)
    lam_a = np.asarray(away_rate, dtype=np.float64)
    s_h = np.asarray(home_score, dtype=np.int64)
    s_a = np.asarray(away_score, dtype=np.int64)
    remaining = 1.0 - np.clip(np.asarray(elapsed, dtype=np.float64), 0.0, 1.0)
    mu_h = lam_h * remaining
    mu_a = lam_a * remaining
    mu_t = mu_h + mu_a
    n = lam_h.shape[0]
    # Each distribution gets its own cut: the total's tail reaches further than either side's.
    k_h, k_a, k_t = _bound(mu_h), _bound(mu_a), _bound(mu_t)
    pmf_h = _pmf(mu_h, k_h)
    cdf_h = _Padded(_cdf(pmf_h), 0.0, 1.0)
    cdf_a_table = _cdf(_pmf(mu_a, k_a))
    cdf_a = _Padded(cdf_a_table, 0.0, 1.0)
    cdf_t = _Padded(_cdf(_pmf(mu_t, k_t)), 0.0, 1.0)
    lead = s_h - s_a

    # Everything head-to-head is F(s) = P(away's extra goals <= home's extra goals + s):
    # home wins at s = lead - 1, draws between lead - 1 and lead, and covers handicap h at
    # s = lead + floor(h). One gather over the window of shifts serves them all.
    floors = np.floor(np.asarray(profile.handicap_lines, dtype=np.float64)).astype(np.int64)
    low = min(-1, int(floors.min())) if floors.size else -1
    high = max(0, int(floors.max())) if floors.size else 0
    shifts = lead[:, None] + np.arange(low, high + 1)[None, :]  # (N, J)
    below_or_at = _shifted_sums(pmf_h, cdf_a_table, shifts)  # F over the window

    home = below_or_at[:, -1 - low]
    draw = np.maximum(below_or_at[:, -low] - home, 0.0)
    away = 1.0 - below_or_at[:, -low]
    scale = home + draw + away
    home, draw, away = home / scale, draw / scale, away / scale

    columns = _winner_columns(profile.can_draw, home, draw, away, lam_h / (lam_h + lam_a))
    none = np.exp(-mu_t)
    safe_t = np.where(mu_t > 0, mu_t, 1.0)
    next_home = np.where(mu_t > 0, (1.0 - none) * mu_h / safe_t, 0.0)
    columns.append(np.stack([next_home, none, 1.0 - none - next_home], axis=1))
    for cdf, scored, lines in (
        (cdf_t, s_h + s_a, profile.total_lines),
        (cdf_h, s_h, profile.team_lines),
        (cdf_a, s_a, profile.team_lines),
    ):
        if lines:
            columns.append(_under_over(cdf, scored, lines))
    if floors.size:
        cover = below_or_at[:, floors - low]
        columns.append(np.stack([cover, 1.0 - cover], axis=2).reshape(n, -1))
    # Complements such as 1 - 1.0000000000000002 would publish a probability of -2e-16,
    # which the feed's own schema (probability >= 0) rejects on decode.
    return np.clip(np.concatenate(columns, axis=1), 0.0, 1.0)


# ---------------------------------------------------------------- Elo (head-to-head)


def elo_win_probability(rating: npt.ArrayLike, opponent: npt.ArrayLike) -> FloatArray:
    """The Elo expectation of ``rating`` against ``opponent``: ``1 / (1 + 10^(-diff/400))``."""
    diff = np.asarray(rating, dtype=np.float64) - np.asarray(opponent, dtype=np.float64)
    return np.asarray(1.0 / (1.0 + np.power(10.0, -diff / 400.0)), dtype=np.float64)


def _race_to(q: FloatArray, need_a: IntArray, need_b: IntArray) -> FloatArray:
    """P(A wins ``need_a`` units before B wins ``need_b``), each unit won by A with ``q``.

    Sums the negative binomial: A wins its last unit after ``j < need_b`` losses.
    """
    a = np.maximum(need_a, 1).astype(np.float64)
    term = np.power(q, a)
    total = np.where(need_b > 0, term, 0.0)
    longest = int(need_b.max()) if need_b.size else 0
    for j in range(1, longest):
        term = term * (a - 1.0 + j) / j * (1.0 - q)
        total = total + np.where(j < need_b, term, 0.0)
    return np.where(need_a <= 0, 1.0, np.where(need_b <= 0, 0.0, total))


@lru_cache(maxsize=32)
def _unit_curve(race_to: int) -> tuple[FloatArray, FloatArray]:
    """Match win probability as a function of the per-unit probability, on a fine grid."""
    q = np.linspace(0.0, 1.0, 4001)
    need = np.full(q.shape, race_to, dtype=np.int64)
    match = _race_to(q, need, need)
    q.setflags(write=False)
    match.setflags(write=False)
    return match, q


def elo_matrix(
    profile: SportProfile,
    home_rating: npt.ArrayLike,
    away_rating: npt.ArrayLike,
    home_units: npt.ArrayLike,
    away_units: npt.ArrayLike,
) -> FloatArray:
    """Winner probabilities ``(home, away)`` of head-to-head events, shape ``(N, 2)``.

    Args:
        profile: The sport; ``race_to`` is the number of units (sets...) needed to win.
        home_rating: Elo ratings of the home side, shape ``(N,)``.
        away_rating: Elo ratings of the away side.
        home_units: Units the home side has won so far (ignored when ``race_to`` is 1).
        away_units: Units the away side has won.
    """
    match = elo_win_probability(home_rating, away_rating)
    if profile.race_to > 1:
        curve, grid = _unit_curve(profile.race_to)
        unit = np.interp(match, curve, grid)
        need_h = profile.race_to - np.asarray(home_units, dtype=np.int64)
        need_a = profile.race_to - np.asarray(away_units, dtype=np.int64)
        match = _race_to(unit, need_h, need_a)
    return np.clip(np.stack([match, 1.0 - match], axis=1), 0.0, 1.0)


# ---------------------------------------------------------------- races


def harville_top3(weights: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Plackett-Luce (Harville) probabilities of finishing 1st, 2nd and 3rd.

    Args:
        weights: Shape ``(N, C)``, non-negative; a zero weight is an empty slot (padding).

    Returns:
        Three ``(N, C)`` arrays; each sums to one per race over the places the field can fill.
    """
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)
    first = w / total
    rest = total - w  # weight left once j has won
    # P(i 2nd) = w_i * sum_{j != i} p_j / (S - w_j)
    ratio = np.divide(first, rest, out=np.zeros_like(w), where=rest > 0)
    second = w * (ratio.sum(axis=1, keepdims=True) - ratio)
    # P(i 3rd) = w_i * sum_{j != k, both != i} p_j w_k / ((S - w_j)(S - w_j - w_k))
    left = rest[:, :, None] - w[:, None, :]  # S - w_j - w_k, indexed [j, k]
    pair = ratio[:, :, None] * w[:, None, :]
    # With only j and k left, S - w_j - w_k is zero up to rounding: no third place, not a
    # division by a rounding error.
    room = left > 1e-13 * total[:, :, None]
    pair = np.divide(pair, left, out=np.zeros_like(pair), where=room)
    diag = np.arange(w.shape[1])
    pair[:, diag, diag] = 0.0
    outside = (
        pair.sum(axis=(1, 2))[:, None] - pair.sum(axis=2) - pair.sum(axis=1)
    )  # pairs with neither j nor k equal to i
    third = w * np.maximum(outside, 0.0)
    return first, second, third


def race_matrix(ratings: npt.ArrayLike, places: int = 3) -> tuple[FloatArray, FloatArray]:
    """Win and top-``places`` probabilities of races, padded to a common field size.

    Args:
        ratings: Shape ``(N, C)`` Elo-scale strengths; ``nan`` marks an empty slot.
        places: Podium size, 1 to 3.

    Returns:
        ``(win, podium)``, both ``(N, C)``; empty slots get 0. ``win`` sums to 1 per race and
        ``podium`` to ``min(places, field size)``.
    """
    if not 1 <= places <= 3:
        raise ValueError(f"podium places must be 1 to 3, got {places}")
    r = np.asarray(ratings, dtype=np.float64)
    present = ~np.isnan(r)
    top = np.nanmax(np.where(present, r, -np.inf), axis=1, keepdims=True)
    w = np.where(present, np.power(10.0, (np.where(present, r, 0.0) - top) / 400.0), 0.0)
    first, second, third = harville_top3(w)
    podium = first + (second if places >= 2 else 0.0) + (third if places >= 3 else 0.0)
    return first, np.minimum(podium, 1.0)


# ---------------------------------------------------------------- all events at once


def market_widths(fixture: Fixture) -> tuple[int, ...]:
    """How many outcomes each market of ``fixture`` has, in ``markets_for`` order."""
    return _widths(fixture.profile.name, len(fixture.competitors), len(fixture.scorers))


def outcome_widths(sport: str, field: int, players: int = 0) -> tuple[int, ...]:
    """:func:`market_widths` by canonical sport name, number of competitors and of players
    listed in scorer markets (cached)."""
    return _widths(sport, field, players)


@lru_cache(maxsize=1024)
def _widths(sport: str, field: int, players: int = 0) -> tuple[int, ...]:
    if players:  # next goalscorer (each player and "none"), anytime goalscorer
        return (*_widths(sport, field), players + 1, players)
    # Keyed by name, not profile: hashing a profile dataclass on every event costs more than
    # pricing it.
    profile = SPORTS[sport]
    if profile.model is PricingModel.RACE:
        return (field, field) if field > profile.podium_places else (field,)
    if profile.model is PricingModel.ELO:
        return (2,)
    head = (3, 2) if profile.can_draw else (2,)
    lines = len(profile.total_lines) + 2 * len(profile.team_lines) + len(profile.handicap_lines)
    return (*head, 3, *([2] * lines))


@lru_cache(maxsize=256)
def _width_array(widths: tuple[int, ...]) -> IntArray:
    array = np.array(widths, dtype=np.int64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class PriceSheet:
    """Fair probabilities of every outcome of many events, flat, in input order.

    Attributes:
        event_ids: The events, in the order they were given.
        probabilities: Every outcome's probability; event ``i`` owns
            ``probabilities[outcome_offsets[i]:outcome_offsets[i + 1]]``, laid out as its
            ``markets_for`` outcomes.
        outcome_offsets: Shape ``(N + 1,)``.
        widths: Per event, the number of outcomes of each of its markets.
    """

    event_ids: tuple[str, ...]
    probabilities: FloatArray
    outcome_offsets: IntArray
    widths: tuple[tuple[int, ...], ...]

    def of(self, position: int) -> FloatArray:
        """The outcome probabilities of the event at ``position``."""
        start, end = self.outcome_offsets[position], self.outcome_offsets[position + 1]
        return self.probabilities[start:end]

    @cached_property
    def market_offsets(self) -> IntArray:
        """Shape ``(M + 1,)``: market ``m`` of the sheet owns outcomes ``[m]:[m + 1]``."""
        flat = [_width_array(w) for w in self.widths]
        widths = np.concatenate(flat) if flat else np.empty(0, dtype=np.int64)
        offsets = np.zeros(widths.size + 1, dtype=np.int64)
        np.cumsum(widths, out=offsets[1:])
        return offsets

    @cached_property
    def market_index(self) -> IntArray:
        """For each outcome, the number of its market across the sheet (Shin needs it)."""
        offsets = self.market_offsets
        return np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))


def _ratings(fixtures: Sequence[Fixture]) -> tuple[FloatArray, FloatArray]:
    home = np.fromiter((f.competitors[0].rating for f in fixtures), np.float64, len(fixtures))
    away = np.fromiter((f.competitors[1].rating for f in fixtures), np.float64, len(fixtures))
    return home, away


def _scores(states: Sequence[LiveState | None]) -> tuple[IntArray, IntArray, FloatArray]:
    n = len(states)
    home = np.fromiter((s.home_score if s else 0 for s in states), np.int64, n)
    away = np.fromiter((s.away_score if s else 0 for s in states), np.int64, n)
    elapsed = np.fromiter((s.elapsed_fraction if s else 0.0 for s in states), np.float64, n)
    return home, away, elapsed


def _race_rows(profile: SportProfile, fixtures: Sequence[Fixture]) -> list[FloatArray]:
    size = max(len(f.competitors) for f in fixtures)
    ratings = np.full((len(fixtures), size), np.nan)
    for row, fixture in enumerate(fixtures):
        ratings[row, : len(fixture.competitors)] = [c.rating for c in fixture.competitors]
    win, podium = race_matrix(ratings, profile.podium_places)
    rows = []
    for row, fixture in enumerate(fixtures):
        field = len(fixture.competitors)
        parts = [win[row, :field]]
        if field > profile.podium_places:
            parts.append(podium[row, :field])
        rows.append(np.concatenate(parts))
    return rows


def _match_matrix(
    profile: SportProfile, fixtures: Sequence[Fixture], states: Sequence[LiveState | None]
) -> FloatArray:
    home_rating, away_rating = _ratings(fixtures)
    home_score, away_score, elapsed = _scores(states)
    if profile.model is PricingModel.ELO:
        return elo_matrix(profile, home_rating, away_rating, home_score, away_score)
    home_rate, away_rate = _rates(profile, home_rating, away_rating)
    return poisson_matrix(profile, home_rate, away_rate, home_score, away_score, elapsed)


def _rates(
    profile: SportProfile, home_rating: FloatArray, away_rating: FloatArray
) -> tuple[FloatArray, FloatArray]:
    diff = (home_rating - away_rating) / 800.0
    return (
        profile.goals_per_team * np.power(10.0, diff),
        profile.goals_per_team * np.power(10.0, -diff),
    )


def price_events(events: Sequence[tuple[Fixture, LiveState | None]]) -> PriceSheet:
    """Fair probabilities of every market of every event, one vectorised pass per sport.

    Args:
        events: ``(fixture, live state or None before the start)`` pairs.

    Returns:
        A :class:`PriceSheet` in input order; every market's probabilities sum to one (a
        podium market to its number of places).
    """
    groups: dict[str, list[int]] = {}
    widths: list[tuple[int, ...]] = []
    for position, (fixture, _state) in enumerate(events):
        sport = fixture.profile.name
        groups.setdefault(sport, []).append(position)
        widths.append(_widths(sport, len(fixture.competitors), len(fixture.scorers)))
    outcome_offsets = np.zeros(len(events) + 1, dtype=np.int64)
    np.cumsum([sum(w) for w in widths], out=outcome_offsets[1:])
    probabilities = np.empty(int(outcome_offsets[-1]))
    for sport, positions in groups.items():
        profile = SPORTS[sport]
        fixtures = [events[p][0] for p in positions]
        if profile.model is PricingModel.RACE:
            for position, row in zip(positions, _race_rows(profile, fixtures), strict=True):
                probabilities[outcome_offsets[position] : outcome_offsets[position + 1]] = row
            continue
        states = [events[p][1] for p in positions]
        matrix = _match_matrix(profile, fixtures, states)
        if any(f.scorers for f in fixtures):  # rows of their own widths
            rates = _rates(profile, *_ratings(fixtures))
            rows = with_scorers(matrix, fixtures, states, *rates)
            for position, row in zip(positions, rows, strict=True):
                probabilities[outcome_offsets[position] : outcome_offsets[position + 1]] = row
            continue
        first = int(outcome_offsets[positions[0]])
        if positions[-1] - positions[0] == len(positions) - 1:  # contiguous: one slice
            probabilities[first : first + matrix.size] = matrix.ravel()
        else:
            starts = outcome_offsets[np.asarray(positions)]
            target = starts[:, None] + np.arange(matrix.shape[1])
            probabilities[target.ravel()] = matrix.ravel()
    return PriceSheet(
        event_ids=tuple(fixture.event_id for fixture, _ in events),
        probabilities=probabilities,
        outcome_offsets=outcome_offsets,
        widths=tuple(widths),
    )


# ---------------------------------------------------------------- cash-out


def cash_out_value(
    stake_cents: int,
    odds_taken: float | Sequence[float],
    probability: float | Sequence[float],
    *,
    margin: float = 0.05,
) -> int:
    """What the bookmaker offers to close a bet now, in cents, rounded down.

    ``stake x odds taken x current probability of winning x (1 - margin)``; for an accumulator
    the odds and the probabilities of its legs multiply (legs taken as independent).

    Args:
        stake_cents: The stake, integer cents.
        odds_taken: The odds the bet was accepted at, one per leg.
        probability: The current fair probability of each leg (1 for a leg already won).
        margin: The share the bookmaker keeps, such as ``0.05``.

    Raises:
        ValueError: a negative stake, a margin outside [0, 1), legs that do not pair up.
    """
    odds = np.atleast_1d(np.asarray(odds_taken, dtype=np.float64))
    probs = np.atleast_1d(np.asarray(probability, dtype=np.float64))
    if odds.shape != probs.shape:
        raise ValueError(f"{odds.size} odds for {probs.size} probabilities")
    values = cash_out_values(
        np.array([stake_cents]), np.array([odds.prod()]), np.array([probs.prod()]), margin=margin
    )
    return int(values[0])


def cash_out_values(
    stakes_cents: npt.ArrayLike,
    odds_taken: npt.ArrayLike,
    probability: npt.ArrayLike,
    *,
    margin: float = 0.05,
) -> IntArray:
    """Vectorised :func:`cash_out_value` for single bets (or pre-multiplied accumulators)."""
    stakes = np.asarray(stakes_cents, dtype=np.int64)
    if stakes.size and stakes.min() < 0:
        raise ValueError("stakes must be >= 0 cents")
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"cash-out margin must be in [0, 1), got {margin}")
    p = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
    value = stakes * np.asarray(odds_taken, dtype=np.float64) * p * (1.0 - margin)
    # The epsilon keeps a value that is a whole cent in exact arithmetic (1000 x 2 x 0.5) from
    # losing that cent to binary rounding; anything else rounds down, never up.
    return np.floor(value + 1e-6).astype(np.int64)
