"""What the betting bench's scenarios share: football matches, and a stream's follower."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from flambeau.events import Record
from flambeau.log import Log
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorResult,
    ResultStatus,
    Shape,
    UnitResult,
    UnitStatus,
)

__all__ = ["StreamFollower", "football_result"]


def football_result(
    unit: str, version: int, start: datetime, source: str, score: tuple[int, int] | None
) -> UnitResult:
    """A football match's result: its start list (``score`` ``None``), else live in the first
    half at ``score`` (home, away). It ends 115 minutes after ``start``."""
    live = score is not None
    goals = score or (0, 0)
    lines = tuple(
        CompetitorResult(competitor=Competitor(code=code), score=scored if live else None)
        for code, scored in zip(("HOME", "AWAY"), goals, strict=True)
    )
    return UnitResult(
        competition="OG2024",
        unit=unit,
        discipline="FBL",
        version=version,
        status=ResultStatus.LIVE if live else ResultStatus.START_LIST,
        shape=Shape.HEAD_TO_HEAD,
        unit_status=UnitStatus.RUNNING if live else None,
        start=start,
        end=start + timedelta(minutes=115),
        home="HOME",
        away="AWAY",
        current_period="H1" if live else None,
        competitors=lines,
        source=source,
    )


class StreamFollower:
    """Reads one stream from where it ended at :meth:`start`, timing each record's arrival.

    Subclasses say what they make of each record in :meth:`seen`; ``batch`` is how many
    records one read of a partition takes at most.
    """

    def __init__(self, log: Log, stream: str, batch: int) -> None:
        self.log = log
        self.stream = stream
        self.batch = batch
        self.positions: dict[int, int] = {}

    async def start(self) -> None:
        """Start from the stream's current end."""
        self.positions = dict(await self.log.end_offsets(self.stream))

    async def follow(self) -> None:
        """Read every partition in turn until cancelled, waiting when none had news."""
        log, stream, positions = self.log, self.stream, self.positions
        while True:
            progressed = False
            for partition in range(len(positions)):
                records = await log.read(stream, partition, positions[partition], self.batch)
                if not records:
                    continue
                now = time.perf_counter()
                progressed = True
                positions[partition] = records[-1].offset + 1
                for record in records:
                    self.seen(record, now)
            if not progressed:
                await log.wait(stream, positions, timeout=1.0)

    def seen(self, record: Record[Any], now: float) -> None:
        """Take in ``record``, read at ``now`` (``time.perf_counter()``)."""
        raise NotImplementedError
