"""Scorer markets of team sports: who scores next, and who scores at all.

A sport whose goals come one at a time, each by one player (football, handball, hockey, water
polo: :attr:`~.sports.SportProfile.scorer_markets`), offers two player markets once the start
list names both squads (each team's ``Composition``):

- **next goalscorer** (90003, ``goalnr=n``): which player scores goal ``n``, or ``none``;
- **anytime goalscorer** (90004): for each player, whether they score at all in regulation
  time (outcomes are not exclusive: the market's probabilities sum to the expected number of
  players who score, and a player who has scored has won: shown, no longer bettable).

The model: each team scores as the Poisson process of the match markets (rate ``mu`` over the
time left, :mod:`.pricing`); each goal of a team is its player ``i``'s with a fixed share
``s_i = w_i / sum(w)`` of the team's squad weights, so player ``i`` scores as a Poisson process
of rate ``mu * s_i``. Then

- P(next goal is player ``i``'s) = ``(1 - e^-(mu_h + mu_a)) * mu_team / (mu_h + mu_a) * s_i``,
  and ``none`` = ``e^-(mu_h + mu_a)``, the same split as the next-goal market;
- P(player ``i`` scores again) = ``1 - e^-(mu_team * s_i)`` (1 once they have scored).

A player's weight comes from their position, when the team's start-list line gives it as an
extended result ``POSITION`` (``Pos`` = the athlete's code, ``Value`` = ``GK``, ``DF``,
``MF`` or ``FW``; the results service keeps it as a :class:`~...results.schemas.Detail`):
:data:`POSITION_WEIGHTS`, roughly each line's share of goals in top-level football. A player
without a position weighs 1 (an even split of the team's goals). Own goals are not modelled (a
goal no listed player of the scoring team scored voids that goal's next-goalscorer market).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from flambeau.services.betting._arrays import FloatArray
from flambeau.services.betting.fixtures import Fixture, LiveState, Player

__all__ = [
    "DEFAULT_WEIGHT",
    "MAX_SQUAD",
    "POSITION_WEIGHTS",
    "scorer_rows",
    "shares",
    "weight_of",
    "with_scorers",
]


POSITION_WEIGHTS: MappingProxyType[str, float] = MappingProxyType(
    {"GK": 0.02, "DF": 0.35, "MF": 1.0, "FW": 2.5}
)
"""Relative weight of a player by position (goalkeeper, defender, midfielder, forward)."""
DEFAULT_WEIGHT = 1.0
"""The weight of a player whose position is not given (or not one of the above)."""
MAX_SQUAD = 30
"""At most this many players of each team are listed; later ones in the start list are not."""


def weight_of(position: str | None) -> float:
    """A player's weight from their position code (``"FW"``), :data:`DEFAULT_WEIGHT` if none."""
    if position is None:
        return DEFAULT_WEIGHT
    return POSITION_WEIGHTS.get(position.strip().upper(), DEFAULT_WEIGHT)


def shares(players: Sequence[Player]) -> FloatArray:
    """Each player's share of their own team's goals (each team's shares sum to one)."""
    weights = np.array([max(p.weight, 0.0) for p in players], dtype=np.float64)
    sides = np.array([p.side for p in players], dtype=np.int64)
    out = np.zeros(len(players))
    for side in (0, 1):
        mine = sides == side
        total = weights[mine].sum()
        if mine.any():
            out[mine] = weights[mine] / total if total > 0 else 1.0 / mine.sum()
    return out


def _row(fixture: Fixture, state: LiveState | None, mu_home: float, mu_away: float) -> FloatArray:
    players = fixture.scorers
    share = shares(players)
    team_mu = np.where(np.array([p.side for p in players]) == 0, mu_home, mu_away)
    total = mu_home + mu_away
    none = float(np.exp(-total))
    next_goal = (1.0 - none) * team_mu / total * share if total > 0 else np.zeros(len(players))
    anytime = 1.0 - np.exp(-team_mu * share)
    if state is not None and state.scorers:
        scored = set(state.scorers)
        anytime = np.where([p.id in scored for p in players], 1.0, anytime)
    row: FloatArray = np.clip(np.concatenate([next_goal, [none], anytime]), 0.0, 1.0)
    return row


def scorer_rows(
    fixtures: Sequence[Fixture],
    states: Sequence[LiveState | None],
    home_rate: npt.ArrayLike,
    away_rate: npt.ArrayLike,
) -> list[FloatArray | None]:
    """The scorer markets' probabilities of each match, in ``markets_for`` order.

    Args:
        fixtures: The matches.
        states: Their live states (``None`` before the start).
        home_rate: Expected home goals over regulation time, per match.
        away_rate: Same, away.

    Returns:
        Per match, the next goalscorer (each player, then ``none``) and the anytime goalscorer
        (each player), or ``None`` for a match without scorer markets.
    """
    home = np.asarray(home_rate, dtype=np.float64)
    away = np.asarray(away_rate, dtype=np.float64)
    rows: list[FloatArray | None] = []
    for position, (fixture, state) in enumerate(zip(fixtures, states, strict=True)):
        if not fixture.scorers:
            rows.append(None)
            continue
        elapsed = 0.0 if state is None else state.elapsed_fraction
        remaining = 1.0 - min(max(elapsed, 0.0), 1.0)
        rows.append(
            _row(
                fixture, state, float(home[position]) * remaining, float(away[position]) * remaining
            )
        )
    return rows


def with_scorers(
    matrix: FloatArray,
    fixtures: Sequence[Fixture],
    states: Sequence[LiveState | None],
    home_rate: npt.ArrayLike,
    away_rate: npt.ArrayLike,
) -> list[FloatArray]:
    """Each match's row of ``matrix`` (its match markets) with its scorer markets appended."""
    extra = scorer_rows(fixtures, states, home_rate, away_rate)
    return [
        row if more is None else np.concatenate([row, more])
        for row, more in zip(matrix, extra, strict=True)
    ]
