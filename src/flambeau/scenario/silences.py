"""Results sources that say nothing for a while, in wall time, and what they hold back.

A source that goes silent (the ``source_silence`` incident) sends nothing until its silence
ends: every document it produces meanwhile is held, in order, and released together when it
is heard again. Silences are measured on the wall clock, not in Games time: the platform
notices a silent source by the clock, and a 30-second outage compressed 600 times would last
50 ms and go unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["Silences"]

T = TypeVar("T")


class Silences(Generic[T]):
    """Silent sources (until a wall time) and the payloads each holds, by source."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._held: dict[str, list[tuple[datetime, T]]] = {}

    def start(self, source: str, seconds: float, now: float) -> None:
        """``source`` goes silent for ``seconds`` from wall time ``now``."""
        self._until[source] = max(self._until.get(source, now), now + seconds)

    def hold(self, source: str, at: datetime, payload: T) -> bool:
        """Hold ``payload`` (produced at Games time ``at``) if ``source`` is silent."""
        if source not in self._until:
            return False
        self._held.setdefault(source, []).append((at, payload))
        return True

    def ended(
        self, now: float, *, every: bool = False
    ) -> list[tuple[str, list[tuple[datetime, T]]]]:
        """The sources whose silence is over at ``now`` (``every``: all of them), with what
        they held, in order; they speak normally from then on."""
        out = []
        for source, until in list(self._until.items()):
            if every or now >= until:
                del self._until[source]
                out.append((source, self._held.pop(source, [])))
        return out

    def oldest(self) -> datetime | None:
        """Games time of the oldest payload held, if any."""
        firsts = [held[0][0] for held in self._held.values() if held]
        return min(firsts) if firsts else None
