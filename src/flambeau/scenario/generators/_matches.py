"""Head-to-head matches: kickoff, scores as they happen, periods, extra time, the final result.

Clock sports (goals, points, bouts) score as two Poisson processes, one per side, whose rates
grow by a factor of ``e`` for every ``k`` strength points of advantage (k = 28 for goals, 60 for
points, 30 for bouts). A level knockout match plays the extra periods (a bout's golden score
ends at the first point), then a shoot-out where the sport has one; when nothing else can
separate the sides, a decision gives the stronger side the last point more often than not.

Set sports play points (games, in tennis) won with a probability that follows the strength gap.

A forced extra time replays regulation from fresh draws until it ends level, so the extra time
comes from a plausible match rather than a doctored score.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flambeau.scenario.generators._common import Recorder, assign_medals, draw_entrants
from flambeau.scenario.generators.results import (
    Action,
    Competitor,
    Line,
    Outcome,
    ResultUpdate,
)
from flambeau.scenario.schedule import Unit
from flambeau.scenario.sports import MatchRules, Period, Scoring, discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = ["can_go_to_extra_time", "match_updates"]

_GAP = {Scoring.GOALS: 28.0, Scoring.POINTS: 60.0, Scoring.BOUT: 30.0}
_ATOM_GAP = {"TEN": 25.0, "ARC": 30.0}
_SHOOTOUT_SCORE = {"FBL": 0.75, "HBL": 0.75, "HOC": 0.5, "WPO": 0.8}
_MAX_REPLAYS = 400

Event = tuple[float, int, int]
"""A scoring event: clock seconds into the period, side (0 home, 1 away), points."""


def can_go_to_extra_time(unit: Unit) -> bool:
    """Whether ``unit`` is a match that a level score would send to extra periods."""
    spec = discipline(unit.discipline)
    rules = spec.rules
    if rules is None or unit.draw_allowed or spec.scoring is Scoring.SETS:
        return False
    return bool(rules.extra) or rules.shootout


def match_updates(
    unit: Unit, rng: random.Random, *, extra_time: bool = False
) -> list[ResultUpdate]:
    """The updates of match ``unit``.

    Args:
        unit: A head-to-head unit.
        rng: The unit's random generator.
        extra_time: Force a level score at the end of regulation (the extra-time incident);
            ignored when the unit cannot go to extra time.
    """
    spec = discipline(unit.discipline)
    rules = spec.rules
    if rules is None:
        raise ValueError(f"{unit.code} is not a head-to-head unit")
    entrants = draw_entrants(unit, rng)
    match = _Match(unit, entrants, Recorder(unit.code))
    match.record.emit(unit.start - timedelta(minutes=30), ResultStatus.START_LIST,
                      Action.START_LIST, match.lines())  # fmt: skip
    walkout = min(timedelta(minutes=5), unit.duration / 10)
    match.now = unit.start + walkout
    if spec.scoring is Scoring.SETS:
        _play_sets(match, rules, rng, _ATOM_GAP.get(spec.code, 60.0))
    else:
        forced = extra_time and can_go_to_extra_time(unit)
        _play_clock(match, rules, rng, _GAP[spec.scoring], forced, spec.scoring)
    match.finish(rng)
    return match.record.updates


@dataclass
class _Match:
    unit: Unit
    entrants: list[Competitor]
    record: Recorder
    now: datetime = field(default_factory=lambda: datetime.min)
    codes: list[str] = field(default_factory=list)
    scores: list[list[int]] = field(default_factory=lambda: [[], []])
    sets_won: list[int] = field(default_factory=lambda: [0, 0])
    by_sets: bool = False
    over: bool = False

    def total(self, side: int) -> int:
        if self.by_sets:
            return self.sets_won[side]
        return sum(
            s for code, s in zip(self.codes, self.scores[side], strict=True) if code != "PSO"
        )

    def shootout(self, side: int) -> int:
        return sum(
            s for code, s in zip(self.codes, self.scores[side], strict=True) if code == "PSO"
        )

    def lines(self, outcomes: tuple[Outcome, Outcome] | None = None) -> list[Line]:
        out = []
        for side, entrant in enumerate(self.entrants):
            total = self.total(side)
            outcome = outcomes[side] if outcomes else None
            rank = None if outcome is None else (2 if outcome is Outcome.LOSS else 1)
            periods = tuple(self.scores[side])
            out.append(Line(entrant, side + 1, rank, str(total), total, periods, outcome))
        return sorted(out, key=lambda line: (line.rank or 0, line.order))

    def emit(self, status: ResultStatus, action: Action, **extra: object) -> None:
        self.record.emit(self.now, status, action, self.lines(), period=self.codes[-1],
                         period_codes=tuple(self.codes), **extra)  # fmt: skip

    def begin(self, code: str) -> None:
        self.codes.append(code)
        self.scores[0].append(0)
        self.scores[1].append(0)
        self.emit(ResultStatus.LIVE, Action.PERIOD_START)

    def score(self, at: datetime, side: int, points: int, clock: float) -> None:
        self.now = at
        self.scores[side][-1] += points
        self.emit(ResultStatus.LIVE, Action.SCORE, scorer=self.entrants[side].code,
                  points=points, clock=int(clock))  # fmt: skip

    def end(self, at: datetime) -> None:
        self.now = at
        self.emit(ResultStatus.INTERMEDIATE, Action.PERIOD_END)

    def level(self) -> bool:
        return self.total(0) == self.total(1) and self.shootout(0) == self.shootout(1)

    def finish(self, rng: random.Random) -> None:
        self.now += timedelta(seconds=30)
        a, b = (self.total(0), self.shootout(0)), (self.total(1), self.shootout(1))
        if a == b:
            outcomes = (Outcome.TIE, Outcome.TIE)
        else:
            outcomes = (Outcome.WIN, Outcome.LOSS) if a > b else (Outcome.LOSS, Outcome.WIN)
        self.record.emit(self.now, ResultStatus.UNOFFICIAL, Action.FINISH, self.lines(outcomes),
                         period_codes=tuple(self.codes))  # fmt: skip
        self.now += timedelta(seconds=rng.uniform(180, 600))
        final = assign_medals(self.lines(outcomes), self.unit.medal)
        self.record.emit(self.now, ResultStatus.OFFICIAL, Action.CONFIRM, final,
                         period_codes=tuple(self.codes))  # fmt: skip


def _rates(match: _Match, rules: MatchRules, gap: float) -> tuple[float, float]:
    a, b = (entrant.strength for entrant in match.entrants)
    return rules.rate * math.exp((a - b) / gap), rules.rate * math.exp((b - a) / gap)


def _period_events(
    period: Period, rates: tuple[float, float], rules: MatchRules, rng: random.Random
) -> tuple[list[Event], float]:
    """The scoring events of one clock period, and its length in clock seconds."""
    length = period.minutes * 60.0
    if period.minutes >= 40:
        length += rng.randint(1, 6) * 60.0  # stoppage time in a football half
    events: list[Event] = []
    for side, rate in enumerate(rates):
        clock = 0.0
        while rate > 0:
            clock += rng.expovariate(rate / 60.0)
            if clock >= length:
                break
            events.append((clock, side, rng.choice(rules.points)))
    events.sort()
    return events, length


def _regulation(
    match: _Match, rules: MatchRules, rng: random.Random, gap: float, forced: bool
) -> list[tuple[list[Event], float]]:
    rates = _rates(match, rules, gap)
    attempt = rng
    for _ in range(_MAX_REPLAYS):
        played = [_period_events(period, rates, rules, attempt) for period in rules.periods]
        home = sum(p for events, _ in played for _, side, p in events if side == 0)
        away = sum(p for events, _ in played for _, side, p in events if side == 1)
        if not forced or home == away:
            return played
        attempt = random.Random(rng.getrandbits(64))
    # Still not level: the last scores of the leading side are chalked off (VAR, say).
    leader = 0 if home > away else 1
    diff = abs(home - away)
    for events, _ in reversed(played):
        for index in range(len(events) - 1, -1, -1):
            if diff > 0 and events[index][1] == leader and events[index][2] <= diff:
                diff -= events[index][2]
                del events[index]
    return played


def _play_clock(
    match: _Match,
    rules: MatchRules,
    rng: random.Random,
    gap: float,
    forced: bool,
    scoring: Scoring,
) -> None:
    count = len(rules.periods)
    for index, (events, length) in enumerate(_regulation(match, rules, rng, gap, forced)):
        _run_period(match, rules, rules.periods[index], events, length)
        if match.over:
            return
        if index < count - 1:
            half = index == count // 2 - 1 and count % 2 == 0 and rules.half_time
            match.now += timedelta(minutes=rules.half_time if half else rules.break_minutes)
    if match.unit.draw_allowed or not match.level():
        return
    rates = _rates(match, rules, gap)
    sudden = scoring is Scoring.BOUT
    rounds = 4 if scoring is Scoring.POINTS else 1  # basketball plays overtime until decided
    for _ in range(rounds):
        if not match.level():
            break
        for period in rules.extra:
            if sudden and not match.level():
                break
            match.now += timedelta(minutes=rules.break_minutes)
            events, length = _period_events(period, rates, rules, rng)
            _run_period(match, rules, period, events[:1] if sudden else events, length, sudden)
    if not match.level():
        return
    if rules.shootout:
        _shootout(match, rng, _SHOOTOUT_SCORE.get(match.unit.discipline, 0.7))
    if match.level():
        # Nothing left to play: the referee's or judges' decision, weighted by strength.
        a, b = (entrant.strength for entrant in match.entrants)
        side = 0 if rng.random() < 1.0 / (1.0 + math.exp((b - a) / gap)) else 1
        match.begin("DEC")
        match.score(match.now + timedelta(seconds=30), side, 1, 0)
        match.end(match.now)


def _run_period(
    match: _Match,
    rules: MatchRules,
    period: Period,
    events: list[Event],
    length: float,
    sudden: bool = False,
) -> None:
    start = match.now
    match.begin(period.code)
    factor = rules.real_per_clock
    for clock, side, points in events:
        match.score(start + timedelta(seconds=clock * factor), side, points, clock)
        if (rules.cap and max(match.total(0), match.total(1)) >= rules.cap) or sudden:
            match.over = rules.cap > 0 and not sudden
            match.end(match.now + timedelta(seconds=5))
            return
    match.end(start + timedelta(seconds=length * factor))


def _shootout(match: _Match, rng: random.Random, chance: float) -> None:
    match.now += timedelta(minutes=3)
    match.begin("PSO")
    kicks = 0
    while True:
        for side in (0, 1):
            kicks += 1
            match.now += timedelta(seconds=50)
            if rng.random() < chance:
                match.score(match.now, side, 1, kicks * 50)
        rounds = kicks // 2
        if rounds >= 5 and not match.level():
            break
        if rounds < 5:
            # Stop early once one side cannot catch up.
            left = 5 - rounds
            if abs(match.shootout(0) - match.shootout(1)) > left:
                break
        if rounds >= 30:
            break
    match.end(match.now + timedelta(seconds=30))


def _play_sets(match: _Match, rules: MatchRules, rng: random.Random, gap: float) -> None:
    match.by_sets = True
    a, b = (entrant.strength for entrant in match.entrants)
    chance = 1.0 / (1.0 + math.exp((b - a) / gap))
    number = 0
    while max(match.sets_won) < rules.sets_to_win:
        number += 1
        deciding = match.sets_won[0] == match.sets_won[1] == rules.sets_to_win - 1
        target = rules.final_set_points if deciding else rules.set_points
        match.begin(f"S{number}")
        while True:
            match.now += timedelta(seconds=rules.atom_seconds * rng.uniform(0.6, 1.4))
            side = 0 if rng.random() < chance else 1
            match.score(match.now, side, 1, 0)
            x, y = match.scores[0][-1], match.scores[1][-1]
            tiebreak = rules.tiebreak_at and max(x, y) == rules.tiebreak_at + 1
            lead = abs(x - y) >= 2 or not rules.win_by_two or tiebreak
            if max(x, y) >= target and lead:
                match.sets_won[0 if x > y else 1] += 1
                break
        match.end(match.now + timedelta(seconds=20))
        match.now += timedelta(minutes=rules.break_minutes)
