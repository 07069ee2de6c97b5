"""Liveness of any source: a pure reducer, one state per source, one event per transition.

:func:`observe` folds a :class:`~.schemas.Sign` (a heartbeat, or an event the source sent on a
watched stream); :func:`check` is what the source's timer calls at the end of its allowed
silence. A source's allowed silence is ``misses`` times the interval it declared (or that its
watch expects), so a heartbeat every 5 s means down after 10 s of silence.

Transitions, each emitted once on ``ops.health``:

- the first fresh sign of a new source, or the first fresh sign after being down: ``source_up``;
- silence past the allowed time: ``source_down`` with ``reason: "silent"``;
- a heartbeat reporting ``failed`` while up (or from a new source): ``source_down`` with
  ``reason: "failed"`` at once; the next ``ok`` sign brings it up.

Every ``ok`` sign is also published as a ``keep_alive``. A sign that arrives already older than
the allowed silence updates ``last_seen`` but brings nothing up: it says nothing about now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from flambeau.services.ops.schemas import (
    DownReason,
    HealthEvent,
    KeepAlive,
    Reported,
    Sign,
    SourceDown,
    SourceKind,
    SourceUp,
)

__all__ = ["LivenessPolicy", "SourceHealth", "check", "deadline", "observe"]


@dataclass(frozen=True)
class LivenessPolicy:
    """How many expected intervals a source may miss before it is down (2, as for results)."""

    misses: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.misses <= 100:
            raise ValueError(f"misses must be between 1 and 100, got {self.misses}")

    def silence(self, interval_ms: int) -> timedelta:
        """The silence allowed to a source expected every ``interval_ms`` milliseconds."""
        return timedelta(milliseconds=interval_ms * self.misses)


class SourceHealth(msgspec.Struct, frozen=True, kw_only=True):
    """One source's liveness, as the processor keeps it.

    Attributes:
        source: Its id.
        kind: What it is (from its latest sign).
        venue: The venue it serves (from its latest sign), if any.
        interval_ms: Its latest expected interval.
        up: Whether it is up.
        last_seen: The latest sign of life, failures included.
        since: When the current status began.
        reason: Why it is down (meaningless while up).
    """

    source: str
    kind: SourceKind
    venue: str | None
    interval_ms: int
    up: bool
    last_seen: datetime
    since: datetime
    reason: DownReason = DownReason.SILENT


def observe(
    state: SourceHealth | None, sign: Sign, *, now: datetime, policy: LivenessPolicy
) -> tuple[SourceHealth, list[HealthEvent]]:
    """Fold ``sign`` into ``state`` at ``now``; return the new state and what to publish."""
    last_seen = sign.seen_at if state is None else max(state.last_seen, sign.seen_at)
    failed = sign.status is Reported.FAILED
    fresh = now - last_seen <= policy.silence(sign.interval_ms)
    base = SourceHealth(
        source=sign.source,
        kind=sign.kind,
        venue=sign.venue,
        interval_ms=sign.interval_ms,
        up=state is not None and state.up,
        last_seen=last_seen,
        since=now if state is None else state.since,
        reason=DownReason.SILENT if state is None else state.reason,
    )
    events: list[HealthEvent] = []
    if not failed:
        events.append(
            KeepAlive(source=sign.source, seen_at=sign.seen_at, kind=sign.kind, venue=sign.venue)
        )
    if failed and (state is None or state.up):
        health = msgspec.structs.replace(base, up=False, since=now, reason=DownReason.FAILED)
        events.append(_down(health, detail=sign.detail))
    elif not failed and fresh and (state is None or not state.up):
        health = msgspec.structs.replace(base, up=True, since=now)
        events.append(_up(health, down_since=None if state is None else state.since))
    elif state is None:  # a new source whose first sign is already stale
        health = msgspec.structs.replace(base, up=False, since=now)
        events.append(_down(health))
    else:
        health = base
    return health, events


def check(
    state: SourceHealth, *, now: datetime, policy: LivenessPolicy
) -> tuple[SourceHealth, list[HealthEvent]]:
    """At ``now``, mark an up source down if it has been silent longer than allowed."""
    if not state.up or now - state.last_seen <= policy.silence(state.interval_ms):
        return state, []
    health = msgspec.structs.replace(state, up=False, since=now, reason=DownReason.SILENT)
    return health, [_down(health)]


def deadline(state: SourceHealth, policy: LivenessPolicy) -> datetime | None:
    """When an up source's silence becomes too long (``None`` while it is down)."""
    return state.last_seen + policy.silence(state.interval_ms) if state.up else None


def _up(health: SourceHealth, *, down_since: datetime | None) -> SourceUp:
    return SourceUp(
        source=health.source,
        seen_at=health.last_seen,
        down_since=down_since,
        kind=health.kind,
        venue=health.venue,
    )


def _down(health: SourceHealth, *, detail: str = "") -> SourceDown:
    return SourceDown(
        source=health.source,
        last_seen=health.last_seen,
        detected_at=health.since,
        silence_ms=max(0, (health.since - health.last_seen) // timedelta(milliseconds=1)),
        kind=health.kind,
        venue=health.venue,
        reason=health.reason,
        detail=detail,
    )
