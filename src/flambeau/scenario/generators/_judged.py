"""Judged and scored events: competitors perform in turn, and each routine gets a score.

A routine's score is the event's good score moved by ``score_spread`` per 10 strength points
above or below 80, plus a normal noise of 0.8 spread. Faults (show jumping) come in fours,
strokes (golf) are whole numbers, and judges' scores keep three decimals. When the field's
routines would not fit the slot one after another (golf groups play at once), they are spaced
closer together.
"""

from __future__ import annotations

import random
from datetime import timedelta

from flambeau.scenario.generators._common import Recorder, assign_medals, draw_entrants, rank_lines
from flambeau.scenario.generators.results import (
    Action,
    Competitor,
    Line,
    ResultUpdate,
)
from flambeau.scenario.schedule import Unit
from flambeau.scenario.sports import EventSpec, discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = ["judged_updates"]


def judged_updates(unit: Unit, rng: random.Random) -> list[ResultUpdate]:
    """The updates of judged ``unit``: start list, one per routine, unofficial, official."""
    event = discipline(unit.discipline).event(unit.event)
    entrants = draw_entrants(unit, rng)
    record = Recorder(unit.code)
    lines = [Line(entrant, order) for order, entrant in enumerate(entrants, start=1)]
    record.emit(unit.start - timedelta(minutes=20), ResultStatus.START_LIST, Action.START_LIST,
                lines)  # fmt: skip
    intro = min(timedelta(minutes=5), unit.duration / 10)
    begin = unit.start + intro
    record.emit(begin, ResultStatus.LIVE, Action.START, lines)
    turns = len(entrants) * event.routines
    room = (unit.duration - intro - timedelta(minutes=5)).total_seconds() / turns
    step = timedelta(seconds=max(10.0, min(float(event.routine_seconds), room)))
    scores: list[list[int]] = [[] for _ in entrants]
    at = begin
    for routine in range(event.routines):
        for index, entrant in enumerate(entrants):
            at += step
            scores[index].append(_score(event, entrant.strength, rng))
            current = [
                _line(event, entrant_, order, scores[order - 1])
                for order, entrant_ in enumerate(entrants, start=1)
            ]
            record.emit(at, ResultStatus.LIVE, Action.ROUTINE, _rank(event, current),
                        period=f"R{routine + 1}", scorer=entrant.code)  # fmt: skip
    final = _rank(event, [_line(event, e, o, scores[o - 1]) for o, e in enumerate(entrants, 1)])
    at += timedelta(seconds=60)
    record.emit(at, ResultStatus.UNOFFICIAL, Action.FINISH, final)
    at += timedelta(seconds=rng.uniform(120, 360))
    record.emit(at, ResultStatus.OFFICIAL, Action.CONFIRM, assign_medals(final, unit.medal))
    return record.updates


def _score(event: EventSpec, strength: float, rng: random.Random) -> int:
    """One routine's score in thousandths."""
    sign = -1.0 if event.lower_is_better else 1.0
    raw = event.score_base + sign * event.score_spread * (strength - 80.0) / 10.0
    raw += rng.gauss(0.0, 0.8 * event.score_spread)
    if event.lower_is_better and event.score_base < 10:
        return max(0, round(raw / 4.0)) * 4 * 1000  # show-jumping faults come in fours
    if event.lower_is_better:
        return max(1, round(raw)) * 1000  # strokes
    return max(0, round(raw * 1000))


def _line(event: EventSpec, entrant: Competitor, order: int, scores: list[int]) -> Line:
    if not scores:
        return Line(entrant, order)
    total = sum(scores)
    return Line(entrant, order, None, _display(event, total), total, tuple(scores))


def _display(event: EventSpec, total: int) -> str:
    if event.lower_is_better:
        return str(total // 1000)
    return f"{total / 1000:.3f}"


def _rank(event: EventSpec, lines: list[Line]) -> list[Line]:
    return rank_lines(
        lines,
        lambda line: None if line.value is None else float(line.value),
        reverse=not event.lower_is_better,
    )
