"""What the betting service reads from ``results.units``: sides, scores, periods, results.

The results service publishes each unit as full snapshots (:class:`UnitResult`, ascending
versions) and schedule changes (:class:`UnitScheduleChanged`), keyed by the unit's RSC. This
module turns them into the small values pricing and settlement take, so the rest of the
package never looks at ODF shapes:

- the sides of a match (``home``/``away`` when the unit names them, else the listed order) or
  the field of a race;
- the running score, the current period, whether the unit is in play, finished or cancelled;
- the official result: a :class:`MatchResult` (regulation-time score for 1X2, the winner after
  extra time or a shoot-out for two-way markets) or a :class:`RaceResult` (ranks, ties as dead
  heats, ``DNS`` as non-runners);
- a team's squad (its ``Composition`` in the start list, with each player's position when the
  team's line gives it as an extended result ``POSITION``) and who scored each goal (an
  extended result ``GOAL`` on the scoring team's line: ``Pos`` the goal's number in the match,
  ``Value`` the athlete's code), for the scorer markets (:mod:`.scorers`).

Only units of a sport with a betting profile carry markets: head-to-head units of a Poisson or
Elo sport, and timed units of a race sport.
"""

from __future__ import annotations

from flambeau.services.betting.errors import UnknownSportError
from flambeau.services.betting.fixtures import Player
from flambeau.services.betting.scorers import MAX_SQUAD, weight_of
from flambeau.services.betting.settlement import AWAY, HOME, MatchResult, RaceResult
from flambeau.services.betting.sports import PricingModel, SportProfile, profile_for
from flambeau.services.results.schemas import (
    CompetitorResult,
    MatchOutcome,
    PeriodKind,
    UnitResult,
)

__all__ = [
    "CANCELLED",
    "FINISHED",
    "HEAD_TO_HEAD",
    "IN_PLAY",
    "NON_RUNNER_MARKS",
    "OFFICIAL",
    "OVER",
    "RUNNING",
    "Sides",
    "has_profile",
    "match_result",
    "players_of",
    "profile_of",
    "race_result",
    "running_score",
    "scorers_of",
    "sides_of",
]

# The results service's status and shape enums live outside its published contract (its
# ``schemas`` module); they are string enums, so their values are the contract we compare to.
OFFICIAL = "official"
"""Result status of a confirmed result: settle."""
IN_PLAY = frozenset({"live", "intermediate"})
"""Result statuses of a unit in play."""
OVER = frozenset({"unconfirmed", "unofficial", "protested", "provisional"})
"""Result statuses of a unit whose play is over but whose result is not (or no longer) final."""
RUNNING = "running"
FINISHED = "finished"
CANCELLED = "cancelled"
"""Unit (schedule) statuses."""
HEAD_TO_HEAD = "head_to_head"
"""The shape of a match."""

NON_RUNNER_MARKS = frozenset({"DNS"})
"""Invalid result marks of competitors who did not start: their bets are void, not lost."""

Sides = tuple[tuple[str, str], ...]
"""``(code, name)`` of each side, home first for a match."""


def has_profile(discipline: str) -> bool:
    """Whether units of ``discipline`` may carry markets (its sport has a pricing profile)."""
    try:
        profile_for(discipline)
    except UnknownSportError:
        return False
    return True


def profile_of(discipline: str, head_to_head: bool) -> SportProfile | None:
    """The pricing profile of a unit, or ``None`` when its units carry no markets.

    Args:
        discipline: The ODF discipline code (``FBL``).
        head_to_head: Whether the unit is a match (else a race or a judged event).
    """
    try:
        profile = profile_for(discipline)
    except UnknownSportError:
        return None
    if (profile.model is PricingModel.RACE) == head_to_head:
        return None  # a match of a race sport, or a race of a match sport: no model fits
    return profile


def _ordered(unit: UnitResult) -> list[CompetitorResult]:
    lines = list(unit.competitors)
    if unit.home and unit.away:
        by_code = {line.competitor.code: line for line in lines}
        home, away = by_code.get(unit.home), by_code.get(unit.away)
        if home is not None and away is not None:
            return [home, away]
    return lines


def sides_of(unit: UnitResult) -> Sides:
    """The sides of a match (home first) or the field of a race, as ``(code, name)``."""
    return tuple(
        (line.competitor.code, line.competitor.name or line.competitor.code)
        for line in _ordered(unit)
    )


def running_score(unit: UnitResult) -> tuple[int, int] | None:
    """The current ``(home, away)`` score of a match, or ``None`` when the unit gives none.

    Competitors' scores win; else the ``TOT`` period; else the last period with a running
    score.
    """
    lines = _ordered(unit)
    if len(lines) == 2 and lines[0].score is not None and lines[1].score is not None:
        return lines[0].score, lines[1].score
    for period in unit.periods:
        if period.kind is PeriodKind.TOTAL and period.home_score is not None:
            return period.home_score, period.away_score or 0
    for period in reversed(unit.periods):
        if period.home_score is not None and period.away_score is not None:
            return period.home_score, period.away_score
    return None


def _regulation_score(unit: UnitResult, final: tuple[int, int]) -> tuple[int, int]:
    """The score at the end of regulation time (1X2, totals and handicaps settle on it)."""
    regular = [p for p in unit.periods if p.kind is PeriodKind.REGULAR]
    if not regular or len(regular) == len(
        [p for p in unit.periods if p.kind is not PeriodKind.TOTAL]
    ):
        return final
    last = regular[-1]
    if last.home_score is not None and last.away_score is not None:
        return last.home_score, last.away_score
    if all(p.home_period_score is not None and p.away_period_score is not None for p in regular):
        return (
            sum(p.home_period_score or 0 for p in regular),
            sum(p.away_period_score or 0 for p in regular),
        )
    return final


GOAL_DETAIL = "GOAL"
"""The extended result naming a goal's scorer on the scoring team's line."""
POSITION_DETAIL = "POSITION"
"""The extended result giving a player's position on their team's line."""


def players_of(unit: UnitResult) -> tuple[Player, ...]:
    """Both squads of a match (home first), or none unless both teams list their athletes."""
    lines = _ordered(unit)
    if len(lines) != 2 or not all(line.competitor.athletes for line in lines):
        return ()
    players: list[Player] = []
    seen: set[str] = set()
    for side, line in enumerate(lines):
        positions = {d.pos: d.value for d in line.details if d.code == POSITION_DETAIL}
        for athlete in line.competitor.athletes[:MAX_SQUAD]:
            if athlete.code not in seen:
                seen.add(athlete.code)
                players.append(Player(athlete.code, side, weight_of(positions.get(athlete.code))))
    return tuple(players)


def scorers_of(unit: UnitResult) -> tuple[tuple[str, str], ...]:
    """``(side, athlete code)`` of each goal the unit names, in the match's order.

    The code is ``""`` when it is not one of the scoring team's athletes (an own goal, or a
    goal the source names no scorer for).
    """
    goals: list[tuple[int, str, str]] = []
    for side, line in zip((HOME, AWAY), _ordered(unit), strict=False):
        squad = {athlete.code for athlete in line.competitor.athletes}
        for detail in line.details:
            if detail.code == GOAL_DETAIL and detail.pos is not None and detail.pos.isdigit():
                code = detail.value if detail.value in squad else ""
                goals.append((int(detail.pos), side, code))
    return tuple((side, code) for _, side, code in sorted(goals))


def _regulation_scorers(unit: UnitResult, home: int, away: int) -> tuple[str, ...] | None:
    """The scorers of the regulation goals, when the unit names every one of them."""
    named = scorers_of(unit)[: home + away]
    sides = [side for side, _ in named]
    if len(named) != home + away or sides.count(HOME) != home:
        return None
    return tuple(code for _, code in named)


def match_result(unit: UnitResult, goals: tuple[str, ...]) -> MatchResult | None:
    """The official result of a match, or ``None`` when the unit gives no score.

    Args:
        unit: The unit's official snapshot.
        goals: Who scored each goal as the service saw them arrive; kept only when they add up
            to the regulation score (otherwise next-goal markets a goal decided are void).
    """
    final = running_score(unit)
    if final is None:
        return None
    home, away = _regulation_score(unit, final)
    winner = None
    lines = _ordered(unit)
    if len(lines) == 2:
        if lines[0].outcome is MatchOutcome.WIN:
            winner = HOME
        elif lines[1].outcome is MatchOutcome.WIN:
            winner = AWAY
    if winner is None and final[0] != final[1]:
        winner = HOME if final[0] > final[1] else AWAY
    fits = goals.count(HOME) == home and goals.count(AWAY) == away and len(goals) == home + away
    scorers = _regulation_scorers(unit, home, away)
    return MatchResult(unit.unit, home, away, goals if fits else None, winner, scorers)


def race_result(unit: UnitResult) -> RaceResult | None:
    """The official result of a race, or ``None`` when nobody is ranked."""
    positions: dict[str, int] = {}
    non_runners: set[str] = set()
    for line in unit.competitors:
        code = line.competitor.code
        if line.irm in NON_RUNNER_MARKS:
            non_runners.add(code)
        elif line.rank is not None and line.irm is None:
            positions[code] = line.rank
    if not positions:
        return None
    return RaceResult(unit.unit, positions, frozenset(non_runners))
