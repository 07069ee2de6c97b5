"""Races: a start list, the splits as the field passes them, unofficial then official times.

A competitor's time is the event's winning time, slowed by 0.25% per strength point under 90,
times a normal noise (0.6% in short races, 1.2% over half an hour). Times are kept to the
millisecond (a photo finish separates two runners shown in the same hundredth); equal times
share a rank, as a dead heat does. Long races lose a few competitors (DNF) on the way.
"""

from __future__ import annotations

import random
from datetime import timedelta

from flambeau.scenario.generators._common import Recorder, assign_medals, draw_entrants, rank_lines
from flambeau.scenario.generators.results import (
    Action,
    Irm,
    Line,
    ResultUpdate,
    format_time,
)
from flambeau.scenario.schedule import Unit
from flambeau.scenario.sports import discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = ["race_updates"]

_LONG_MS = 30 * 60_000
_DNF_CHANCE = 0.04


def race_updates(unit: Unit, rng: random.Random) -> list[ResultUpdate]:
    """The updates of race ``unit``: start list, start, each split, unofficial, official."""
    spec = discipline(unit.discipline)
    event = spec.event(unit.event)
    entrants = draw_entrants(unit, rng)
    factor = {"W": event.women_factor, "X": (1.0 + event.women_factor) / 2}.get(unit.gender, 1.0)
    base = event.base_ms * factor
    long_race = base >= _LONG_MS
    noise = 0.012 if long_race else 0.006
    count = len(event.splits)

    finals: list[int | None] = []
    splits: list[list[int]] = []
    for entrant in entrants:
        total = base * (1.0 + 0.0025 * (90.0 - entrant.strength)) * rng.gauss(1.0, noise)
        total_ms = round(total)  # timed to the thousandth, shown to the hundredth
        passed = sorted(
            min(total_ms - 10, round(total_ms * (k + 1) / (count + 1) * rng.gauss(1.0, 0.015)))
            for k in range(count)
        )
        if long_race and rng.random() < _DNF_CHANCE:
            finals.append(None)
            splits.append(passed[: rng.randrange(count + 1)])
        else:
            finals.append(total_ms)
            splits.append(passed)

    if all(total is None for total in finals):
        # Someone always finishes; give the first starter back a time.
        rescued = round(base / 10) * 10
        finals[0] = rescued
        splits[0] = [round(rescued * (k + 1) / (count + 1)) for k in range(count)]

    record = Recorder(unit.code)
    start_lines = [Line(entrant, order) for order, entrant in enumerate(entrants, start=1)]
    record.emit(unit.start - timedelta(minutes=15), ResultStatus.START_LIST, Action.START_LIST,
                start_lines)  # fmt: skip
    slot_ms = unit.duration.total_seconds() * 1000
    gun = unit.start + timedelta(milliseconds=min(180_000, 0.2 * slot_ms))
    record.emit(gun, ResultStatus.LIVE, Action.START, start_lines)

    for k, label in enumerate(event.splits):
        lines = []
        for order, entrant in enumerate(entrants, start=1):
            so_far = tuple(splits[order - 1][: k + 1])
            at_split = so_far[k] if len(so_far) > k else None
            shown = "" if at_split is None else format_time(at_split)
            irm = Irm.DNF if at_split is None else None
            lines.append(Line(entrant, order, None, shown, at_split, so_far, irm=irm))
        last_pass = max(line.value for line in lines if line.value is not None)
        record.emit(gun + timedelta(milliseconds=last_pass), ResultStatus.INTERMEDIATE,
                    Action.SPLIT, rank_lines(lines, _value), period=label)  # fmt: skip

    lines = []
    for order, entrant in enumerate(entrants, start=1):
        final = finals[order - 1]
        irm = Irm.DNF if final is None else None
        shown = format_time(final) if final is not None else "DNF"
        lines.append(Line(entrant, order, None, shown, final, tuple(splits[order - 1]), irm=irm))
    finish = gun + timedelta(milliseconds=max(t for t in finals if t is not None) + 15_000)
    ranked = rank_lines(lines, _value)
    record.emit(finish, ResultStatus.UNOFFICIAL, Action.FINISH, ranked)
    official = finish + timedelta(seconds=rng.uniform(120, 300))
    record.emit(official, ResultStatus.OFFICIAL, Action.CONFIRM, assign_medals(ranked, unit.medal))
    return record.updates


def _value(line: Line) -> float | None:
    return None if line.value is None else float(line.value)
