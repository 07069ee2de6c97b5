"""What the rehearsal measures: rates, refusals and end-to-end latency, and its status file.

End-to-end latency is measured from the subscriber side, as a user would see it: when the
driver sends an event it notes the wall time against the event's id; when an event arrives on
a subscription whose ``causation_id`` names a noted id, the time between the two is one sample.
The derived event's id inherits the original send time, so a reaction two hops away (an ODF
message, its unit result, then the bet stop it causes) is measured from the first send too.
Both maps are bounded: the oldest ids are forgotten first. The ids are kept in two generations
of plain dicts: when the newer fills, the older is dropped whole (smaller than an ordered map,
and nothing to do per id to forget it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flambeau.files import write_json

__all__ = ["PARIS", "Counters", "Latency", "RateMeter", "progress_line", "write_status"]

PARIS = timezone(timedelta(hours=2))
"""Games time is shown in Paris local time (CEST during the Games)."""


@dataclass
class Counters:
    """Running totals of the driver.

    Attributes:
        sent: Events sent (each one an event the platform was asked to take).
        accepted: Events the platform stored.
        duplicates: Events it already had (sent again after a restart, say).
        rejected: Events it refused (validation, authorization, limits).
        failed: Events given up on after the platform kept failing (5xx) for too long.
        retries: Requests tried again after a network error, a 5xx or a 429.
        unsendable: Scenario values the services' schemas refuse before anything is sent.
        bets_without_odds: Bets not placed because the bettor had seen no odds for them.
        shed: Purchases and bets not sent because the platform was behind (their lane full).
        by_kind: Events sent per kind (``result``, ``purchase``, ``bet``...).
        rejected_by_kind: Refusals per kind.
        last_problem: The detail of the last refusal, for the progress line and the report.
    """

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    unsendable: int = 0
    bets_without_odds: int = 0
    shed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    rejected_by_kind: dict[str, int] = field(default_factory=dict)
    last_problem: str = ""

    def count(self, kind: str, sent: int, accepted: int, duplicates: int, rejected: int) -> None:
        """Add the outcome of one request carrying ``sent`` events of ``kind``."""
        self.sent += sent
        self.accepted += accepted
        self.duplicates += duplicates
        self.rejected += rejected
        self.by_kind[kind] = self.by_kind.get(kind, 0) + sent
        if rejected:
            self.rejected_by_kind[kind] = self.rejected_by_kind.get(kind, 0) + rejected


class RateMeter:
    """Events per second over the last ``window`` seconds."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self._marks: deque[tuple[float, int]] = deque()
        self._total = 0
        self._first: float | None = None

    def add(self, count: int, now: float | None = None) -> None:
        """Count ``count`` events at ``now`` (monotonic seconds)."""
        moment = time.monotonic() if now is None else now
        if self._first is None:
            self._first = moment
        self._marks.append((moment, count))
        self._total += count
        self._trim(moment)

    def rate(self, now: float | None = None) -> float:
        """Events per second over the window ending at ``now``."""
        moment = time.monotonic() if now is None else now
        self._trim(moment)
        if self._first is None:
            return 0.0
        # Until a whole window has passed, divide by the time since the first event (at least
        # a second, so one early burst is not reported as a huge rate).
        return self._total / min(self.window, max(moment - self._first, 1.0))

    def _trim(self, now: float) -> None:
        while self._marks and self._marks[0][0] <= now - self.window:
            self._total -= self._marks.popleft()[1]


class Latency:
    """End-to-end latency samples, matched by causation ids (see the module docstring)."""

    def __init__(self, max_ids: int = 200_000, max_samples: int = 20_000) -> None:
        self.max_ids = max_ids
        # at most ``max_ids`` ids, at least the newest half of them
        self._generation = max(1, max_ids // 2)
        self._young: dict[str, float] = {}
        self._old: dict[str, float] = {}
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)
        self.matched = 0

    def sent(self, ids: Iterable[str], at: float | None = None) -> None:
        """Note that the events ``ids`` were sent at ``at`` (monotonic seconds)."""
        moment = time.monotonic() if at is None else at
        for event_id in ids:
            self._note(event_id, moment)

    def alias(self, event_id: str, known: str) -> None:
        """``event_id`` stands for ``known`` (a reply named the id the platform stored)."""
        origin = self._origin(known)
        if origin is not None:
            self._note(event_id, origin)

    def _note(self, event_id: str, origin: float) -> None:
        young = self._young
        young[event_id] = origin
        if len(young) >= self._generation:
            self._old, self._young = young, {}

    def _origin(self, event_id: str) -> float | None:
        origin = self._young.get(event_id)
        return origin if origin is not None else self._old.get(event_id)

    def observe(self, event_id: str, causation_id: str | None, at: float | None = None) -> bool:
        """A derived event arrived; record a sample if its cause was sent by us."""
        if causation_id is None:
            return False
        origin = self._origin(causation_id)
        if origin is None:
            return False
        moment = time.monotonic() if at is None else at
        self._samples.append((moment, (moment - origin) * 1000.0))
        self._note(event_id, origin)
        self.matched += 1
        return True

    def percentile(self, q: float, window: float = 30.0, now: float | None = None) -> float | None:
        """The ``q`` quantile (0-1) in milliseconds of the samples of the last ``window`` s."""
        moment = time.monotonic() if now is None else now
        values = sorted(ms for at, ms in self._samples if at >= moment - window)
        if not values:
            return None
        index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
        return values[index]


def progress_line(status: dict[str, Any]) -> str:
    """One line of a status: Games time, rate, refusals, latency, shedding, lag."""
    parts = [
        f"Games time {status['sim_time']} ({status['sim_day']})",
        f"{status['events_per_s']:,.0f} events/s",
        f"{status['sent']:,} sent",
        f"{status['rejected']:,} rejected",
    ]
    if status.get("p99_ms") is not None:
        parts.append(f"p99 {status['p99_ms']:.1f} ms")
    if status.get("shed"):
        parts.append(f"{status['shed']:,} shed")
    if status.get("behind_s", 0) >= 1:
        parts.append(f"behind {status['behind_s']:.0f} s")
    return "rehearsal: " + " · ".join(parts)


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Write ``status`` as JSON to ``path`` atomically (readers never see half a file)."""
    write_json(path, status, default=_default, sort_keys=True)


def _default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to the status file")
