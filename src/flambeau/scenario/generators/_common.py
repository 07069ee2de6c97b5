"""Pieces every progression shares: the entrants, the versioned recorder, ranking and medals."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from flambeau.scenario._random import derive_seed
from flambeau.scenario.generators.results import (
    Action,
    Competitor,
    Line,
    Medal,
    ResultUpdate,
    transition,
)
from flambeau.scenario.nocs import noc, pick_field, strength
from flambeau.scenario.schedule import MedalKind, Unit
from flambeau.scenario.sports import discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = ["Recorder", "assign_medals", "draw_entrants", "rank_lines"]


def draw_entrants(unit: Unit, rng: random.Random) -> list[Competitor]:
    """The competitors of ``unit``, strong NOCs more likely, in start order."""
    spec = discipline(unit.discipline)
    team = spec.event(unit.event).team
    nocs = pick_field(unit.discipline, unit.competitors, rng)
    entrants = []
    for code in nocs:
        if team:
            entrants.append(
                Competitor(
                    f"{code}-{unit.discipline}{unit.gender}{unit.event}"[:24],
                    code,
                    noc(code).name,
                    strength(code, unit.discipline),
                )
            )
            continue
        number = rng.randint(1, 3)
        # The same NOC's athlete n in one event keeps one code all day (heats, then final).
        digits = derive_seed(0, unit.discipline, unit.gender, unit.event, code, number) % 10**7
        entrants.append(
            Competitor(
                f"{digits:07d}",
                code,
                f"{noc(code).name} {number}",
                # Athletes of one NOC differ a little; the strongest is number 1.
                strength(code, unit.discipline) - 2.0 * (number - 1),
            )
        )
    return entrants


class Recorder:
    """Collects a unit's updates, bumping the version and checking each status move."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.updates: list[ResultUpdate] = []
        self.status: ResultStatus | None = None

    def emit(
        self,
        at: datetime,
        status: ResultStatus,
        action: Action,
        lines: Iterable[Line],
        **extra: Any,
    ) -> None:
        """Append an update; its version is one more than the last.

        Raises:
            IllegalStatusTransitionError: the status move breaks the ODF life cycle.
            ValueError: ``at`` is earlier than the last update (a generator bug).
        """
        if self.updates and at < self.updates[-1].time:
            raise ValueError(f"update for {self.unit} at {at} goes back in time")
        self.status = transition(self.status, status)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # ODF times are to the ms
        self.updates.append(
            ResultUpdate(
                at, self.unit, status, len(self.updates) + 1, action, tuple(lines), **extra
            )
        )


def rank_lines(
    lines: Sequence[Line],
    key: Callable[[Line], float | None],
    *,
    reverse: bool = False,
) -> list[Line]:
    """Rank ``lines`` by ``key`` (lower first unless ``reverse``); equal keys share a rank.

    Lines whose key is ``None`` (no result yet, or an invalid mark) get no rank and go last,
    by start order.
    """
    scored = [line for line in lines if key(line) is not None and line.irm is None]
    rest = [line for line in lines if key(line) is None or line.irm is not None]
    rest.sort(key=lambda line: line.order)
    sign = -1.0 if reverse else 1.0
    scored.sort(key=lambda line: (sign * (key(line) or 0.0), line.order))
    ranked: list[Line] = []
    previous: float | None = None
    rank = 0
    for position, line in enumerate(scored, start=1):
        value = key(line)
        if value != previous:
            rank = position
            previous = value
        ranked.append(_replace(line, rank=rank))
    return ranked + [_replace(line, rank=None) for line in rest]


def assign_medals(lines: Sequence[Line], kind: MedalKind | None) -> list[Line]:
    """Give ``kind``'s medals by rank: 1-2-3 in a final; gold/silver or bronze in a match."""
    if kind is None:
        return [_replace(line, medal=None) for line in lines]
    by_rank = {
        MedalKind.ALL: {1: Medal.GOLD, 2: Medal.SILVER, 3: Medal.BRONZE},
        MedalKind.GOLD: {1: Medal.GOLD, 2: Medal.SILVER},
        MedalKind.BRONZE: {1: Medal.BRONZE},
    }[kind]
    return [
        _replace(line, medal=by_rank.get(line.rank) if line.rank and line.irm is None else None)
        for line in lines
    ]


def _replace(line: Line, **changes: Any) -> Line:
    return replace(line, **changes)
