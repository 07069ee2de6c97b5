"""Abstract result updates: what a venue's results system says about a unit, and when.

These are not ODF XML; an ODF builder turns them into ``DT_RESULT`` messages. Each update is a
full snapshot of the unit's result document (as ODF's are), with an ascending version and a
result status (the results service's :class:`ResultStatus`, the published contract) that
follows the ODF life cycle::

    (none) ──▶ START_LIST ──▶ LIVE ◀──▶ INTERMEDIATE
                                 │            │
                                 ▼            ▼
                              UNOFFICIAL ◀────┘
                                 │
                                 ▼
                              OFFICIAL ◀──▶ PROTESTED
                                 │
                                 └──▶ OFFICIAL (a correction, higher version)

:func:`transition` enforces these moves; the generators call it for every update they emit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flambeau.machine import Machine
from flambeau.scenario.errors import IllegalStatusTransitionError
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "Action",
    "Competitor",
    "Irm",
    "Line",
    "Medal",
    "Outcome",
    "ResultUpdate",
    "format_time",
    "transition",
]


_MOVES = Machine(
    "result",
    {
        None: {ResultStatus.START_LIST},
        ResultStatus.START_LIST: {ResultStatus.START_LIST, ResultStatus.LIVE},
        ResultStatus.LIVE: {ResultStatus.LIVE, ResultStatus.INTERMEDIATE, ResultStatus.UNOFFICIAL},
        ResultStatus.INTERMEDIATE: {
            ResultStatus.LIVE,
            ResultStatus.INTERMEDIATE,
            ResultStatus.UNOFFICIAL,
        },
        ResultStatus.UNOFFICIAL: {ResultStatus.OFFICIAL, ResultStatus.PROTESTED},
        ResultStatus.OFFICIAL: {ResultStatus.OFFICIAL, ResultStatus.PROTESTED},
        ResultStatus.PROTESTED: {ResultStatus.OFFICIAL},
    },
    error=IllegalStatusTransitionError,
)
transition = _MOVES.transition
"""Move a result document from its status (``None`` before the first) to one the ODF life
cycle allows; else IllegalStatusTransitionError."""


class Action(StrEnum):
    """What happened to cause an update."""

    START_LIST = "start_list"
    START = "start"
    SPLIT = "split"
    SCORE = "score"
    PERIOD_START = "period_start"
    PERIOD_END = "period_end"
    ROUTINE = "routine"
    FINISH = "finish"
    CONFIRM = "confirm"
    PROTEST = "protest"
    CORRECTION = "correction"


class Medal(StrEnum):
    """ODF medal codes."""

    GOLD = "ME_GOLD"
    SILVER = "ME_SILVER"
    BRONZE = "ME_BRONZE"


class Outcome(StrEnum):
    """ODF ``ResultType`` of a head-to-head line: win, loss, tie."""

    WIN = "W"
    LOSS = "L"
    TIE = "T"


class Irm(StrEnum):
    """ODF invalid result marks."""

    DNF = "DNF"
    DNS = "DNS"
    DSQ = "DSQ"


@dataclass(frozen=True, slots=True)
class Competitor:
    """An athlete or a team in a unit.

    Attributes:
        code: A stable competitor code (seven digits for athletes; ``<NOC>`` plus the event
            for teams), the same in every unit of the day.
        noc: The IOC code of the NOC.
        name: Display name.
        strength: The strength the simulator drew results from (0-100).
    """

    code: str
    noc: str
    name: str
    strength: float


@dataclass(frozen=True, slots=True)
class Line:
    """One competitor's line in a result snapshot.

    Attributes:
        competitor: Who.
        order: Start order, lane, or 1 for home and 2 for away.
        rank: Current rank, ``None`` when not ranked (yet, or disqualified).
        result: The result as displayed: ``9.81``, ``1:43.27``, ``3``, ``14.633``.
        value: The result as a number: milliseconds for races, points for matches,
            thousandths of a point for judged events; ``None`` when there is none yet.
        periods: Matches: the score of each period played. Judged: each routine's score in
            thousandths. Races: each split time passed, in milliseconds.
        outcome: Matches: win, loss or tie, once finished.
        medal: The medal, on a medal unit's final results.
        irm: An invalid result mark (DNF, DSQ...).
    """

    competitor: Competitor
    order: int
    rank: int | None = None
    result: str = ""
    value: int | None = None
    periods: tuple[int, ...] = ()
    outcome: Outcome | None = None
    medal: Medal | None = None
    irm: Irm | None = None


@dataclass(frozen=True, slots=True)
class ResultUpdate:
    """A full snapshot of one unit's result document at one instant.

    Attributes:
        time: When the results system produced it, UTC.
        unit: The unit's RSC.
        status: ODF result status.
        version: Ascending per unit; a consumer keeps the highest.
        action: What caused this update.
        lines: Every competitor's line, in rank order (unranked last, by start order).
        period: The current period (``H2``, ``ET1``, ``S3``) or split (``50M``).
        period_codes: Matches: the codes of the periods in ``Line.periods``, in order.
        scorer: On a score, the competitor code that scored.
        points: On a score, how many points it was worth.
        clock: Matches: the game clock at the action, in seconds since the period began.
    """

    time: datetime
    unit: str
    status: ResultStatus
    version: int
    action: Action
    lines: tuple[Line, ...]
    period: str | None = None
    period_codes: tuple[str, ...] = ()
    scorer: str | None = None
    points: int = 0
    clock: int | None = None

    def medallists(self) -> dict[Medal, tuple[str, ...]]:
        """The competitor codes holding each medal in this snapshot."""
        out: dict[Medal, tuple[str, ...]] = {}
        for line in self.lines:
            if line.medal is not None:
                out[line.medal] = (*out.get(line.medal, ()), line.competitor.code)
        return out


def format_time(ms: int) -> str:
    """Display a race time: ``9.81``, ``1:43.27``, ``2:07:43``.

    Hundredths are shown under an hour; longer races are shown to the second, as ODF does.
    """
    if ms >= 3_600_000:
        seconds = round(ms / 1000)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    hundredths = round(ms / 10)
    minutes, rest = divmod(hundredths, 6000)
    if minutes:
        return f"{minutes}:{rest // 100:02d}.{rest % 100:02d}"
    return f"{rest // 100}.{rest % 100:02d}"
