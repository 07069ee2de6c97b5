"""Result progressions: the ordered result updates of one unit, from start list to official.

:func:`progression` dispatches on the unit's shape: races (start list, splits, unofficial and
official times), matches (kickoff, every score, periods, extra time, the final), judged events
(a score per routine). Every progression starts with a ``START_LIST``, ends with an ``OFFICIAL``
of the highest version, and is deterministic for a seed and a unit.

A protest appends two updates after the official result: ``PROTESTED``, then a corrected
``OFFICIAL`` with a higher version in which the winner is disqualified and the medals move.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flambeau.scenario._random import rng_for
from flambeau.scenario.generators._common import assign_medals, rank_lines
from flambeau.scenario.generators._judged import judged_updates
from flambeau.scenario.generators._matches import can_go_to_extra_time, match_updates
from flambeau.scenario.generators._races import race_updates
from flambeau.scenario.generators.results import (
    Action,
    Competitor,
    Irm,
    Line,
    Medal,
    Outcome,
    ResultUpdate,
    transition,
)
from flambeau.scenario.schedule import Schedule, Unit
from flambeau.scenario.sports import Shape, discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "Progression",
    "can_go_to_extra_time",
    "day_progressions",
    "progression",
    "protest",
]


@dataclass(frozen=True)
class Progression:
    """The result updates of one unit, in time order.

    Attributes:
        unit: The scheduled unit.
        updates: Its updates; versions ascend from 1.
    """

    unit: Unit
    updates: tuple[ResultUpdate, ...]

    @property
    def competitors(self) -> tuple[Competitor, ...]:
        """The unit's competitors in start order."""
        lines = sorted(self.updates[0].lines, key=lambda line: line.order)
        return tuple(line.competitor for line in lines)

    @property
    def started_at(self) -> datetime:
        """When play began (the first ``LIVE`` update)."""
        return next(u.time for u in self.updates if u.status is ResultStatus.LIVE)

    @property
    def finished_at(self) -> datetime:
        """When play ended (the first ``UNOFFICIAL`` update)."""
        return next(u.time for u in self.updates if u.status is ResultStatus.UNOFFICIAL)

    @property
    def official(self) -> ResultUpdate:
        """The last ``OFFICIAL`` update: the result that stands."""
        return next(u for u in reversed(self.updates) if u.status is ResultStatus.OFFICIAL)

    def medallists(self) -> dict[Medal, tuple[str, ...]]:
        """The competitor codes holding each medal in the result that stands."""
        return self.official.medallists()


def progression(
    unit: Unit,
    seed: int,
    *,
    extra_time: bool = False,
    protest_at: datetime | None = None,
) -> Progression:
    """The result progression of ``unit``, deterministic for ``seed``.

    Args:
        unit: A scheduled unit.
        seed: The run's seed.
        extra_time: Force a level score after regulation (matches that can go to extra time).
        protest_at: File a protest at this time (or just after the official result, if that
            comes later); the corrected official result re-assigns the medals.
    """
    rng = rng_for(seed, "progression", unit.code)
    shape = discipline(unit.discipline).shape
    if shape is Shape.RACE:
        updates = race_updates(unit, rng)
    elif shape is Shape.HEAD_TO_HEAD:
        updates = match_updates(unit, rng, extra_time=extra_time)
    else:
        updates = judged_updates(unit, rng)
    result = Progression(unit, tuple(updates))
    if protest_at is not None:
        result = protest(result, protest_at, seed)
    return result


def protest(base: Progression, at: datetime, seed: int) -> Progression:
    """Append a protest to ``base``: ``PROTESTED``, then a corrected ``OFFICIAL``.

    The winner (rank 1) is disqualified; in a match the loser is awarded the win. The
    correction follows 5 to 15 minutes after the protest.

    Raises:
        ValueError: the unit has no winner to disqualify (a drawn match).
    """
    official = base.official
    winners = [line for line in official.lines if line.rank == 1 and line.irm is None]
    if not winners or any(line.outcome is Outcome.TIE for line in official.lines):
        raise ValueError(f"{base.unit.code} has no winner a protest could disqualify")
    rng = rng_for(seed, "protest", base.unit.code, at.isoformat())
    filed = max(at, official.time + timedelta(minutes=1))
    status = transition(base.updates[-1].status, ResultStatus.PROTESTED)
    version = base.updates[-1].version
    protested = replace(official, time=filed, status=status, version=version + 1,
                        action=Action.PROTEST)  # fmt: skip
    corrected_lines = _disqualify(base.unit, official.lines, winners[0].competitor.code)
    corrected = replace(
        official,
        time=filed + timedelta(seconds=rng.uniform(300, 900)),
        status=transition(status, ResultStatus.OFFICIAL),
        version=version + 2,
        action=Action.CORRECTION,
        lines=tuple(corrected_lines),
    )
    return Progression(base.unit, (*base.updates, protested, corrected))


def _disqualify(unit: Unit, lines: tuple[Line, ...], code: str) -> list[Line]:
    spec = discipline(unit.discipline)
    if spec.shape is Shape.HEAD_TO_HEAD:
        flipped = []
        for line in lines:
            if line.competitor.code == code:
                flipped.append(replace(line, rank=2, outcome=Outcome.LOSS, irm=Irm.DSQ))
            else:
                flipped.append(replace(line, rank=1, outcome=Outcome.WIN))
        flipped.sort(key=lambda line: (line.rank or 0, line.order))
        return assign_medals(flipped, unit.medal)
    marked = [
        replace(line, irm=Irm.DSQ, result="DSQ", rank=None)
        if line.competitor.code == code
        else line
        for line in lines
    ]
    lower_first = spec.shape is Shape.RACE or spec.event(unit.event).lower_is_better
    ranked = rank_lines(
        marked,
        lambda line: None if line.value is None else float(line.value),
        reverse=not lower_first,
    )
    return assign_medals(ranked, unit.medal)


def day_progressions(
    schedule: Schedule,
    seed: int,
    *,
    extra_time: Collection[str] = (),
    protests: Mapping[str, datetime] | None = None,
) -> dict[str, Progression]:
    """The progression of every unit of ``schedule``, by unit code.

    Args:
        schedule: The day.
        seed: The run's seed.
        extra_time: Codes of the units forced to extra time.
        protests: Unit code to protest time.
    """
    protests = protests or {}
    return {
        unit.code: progression(
            unit,
            seed,
            extra_time=unit.code in extra_time,
            protest_at=protests.get(unit.code),
        )
        for unit in schedule.units
    }
