"""Source liveness: who was heard from when, and exactly one event per up or down transition.

Each source (per feed) has a :class:`SourceHealth`. :func:`observe` records a sign of life (a
``DT_KA`` keep-alive); :func:`check` is what a timer calls: given the current time (event or
processing time, the caller's choice) and the configured silence, it reports a source that has
gone quiet. Transitions follow :func:`~.statuses.advance_source_status`, so each is emitted
once: :class:`SourceDown` when the silence passes the threshold, :class:`SourceUp` on the
first sign of life and on the first one after being down. Every sign of life is also emitted
as a :class:`KeepAlive`. Everything goes to ``ops.health``, keyed by source; test feeds to
``results.test``.

A sign of life that arrives late (its time already older than the threshold) updates
``last_seen`` but does not bring a source up: it says nothing about the source *now*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from flambeau.services.results.outcomes import Emit, Step, Verdict, route
from flambeau.services.results.schemas import HEALTH, Feed, KeepAlive, SourceDown, SourceUp
from flambeau.services.results.statuses import SourceStatus, advance_source_status

__all__ = ["LivenessPolicy", "SourceHealth", "check", "liveness_state_key", "observe"]


@dataclass(frozen=True)
class LivenessPolicy:
    """How long a source may be silent before it is down.

    The default follows the betting industry's habit (a keep-alive every 10 s, the producer
    declared down after 20 s of silence).
    """

    silence: timedelta = timedelta(seconds=20)


class SourceHealth(msgspec.Struct, frozen=True, kw_only=True):
    """One source's liveness.

    Attributes:
        source: The ODF ``Source``.
        feed: Production or test.
        status: Up or down.
        last_seen: The latest sign of life.
        since: When the current status began.
    """

    source: str
    feed: Feed
    status: SourceStatus
    last_seen: datetime
    since: datetime


def liveness_state_key(source: str, feed: Feed = Feed.PRODUCTION) -> str:
    """The state key of a source's liveness."""
    return f"{feed.value}/{source}"


def observe(
    state: SourceHealth | None,
    *,
    source: str,
    seen_at: datetime,
    now: datetime,
    policy: LivenessPolicy,
    feed: Feed = Feed.PRODUCTION,
) -> Step[SourceHealth]:
    """Record a sign of life from ``source`` at ``seen_at``, evaluated at ``now``.

    Returns:
        ``APPLIED`` with a :class:`KeepAlive`, followed by :class:`SourceUp` when the source
        is new or was down and the sign is fresh, or :class:`SourceDown` when a new source's
        first sign is already older than the threshold.
    """
    last_seen = seen_at if state is None else max(state.last_seen, seen_at)
    fresh = now - last_seen <= policy.silence
    emits: list[Emit] = [
        route(HEALTH, feed, source, KeepAlive(source=source, seen_at=seen_at, feed=feed))
    ]
    if state is None:
        status = advance_source_status(None, SourceStatus.UP if fresh else SourceStatus.DOWN)
        health = SourceHealth(
            source=source, feed=feed, status=status, last_seen=last_seen, since=now
        )
        emits.append(_transition(health, down_since=None))
        return Step(health, Verdict.APPLIED, tuple(emits))
    health = msgspec.structs.replace(state, last_seen=last_seen)
    if state.status is SourceStatus.DOWN and fresh:
        health = msgspec.structs.replace(
            health, status=advance_source_status(state.status, SourceStatus.UP), since=now
        )
        emits.append(_transition(health, down_since=state.since))
    return Step(health, Verdict.APPLIED, tuple(emits))


def check(state: SourceHealth, *, now: datetime, policy: LivenessPolicy) -> Step[SourceHealth]:
    """At ``now``, mark an up source down if it has been silent longer than the policy allows.

    Returns:
        ``APPLIED`` with a :class:`SourceDown` on the transition; otherwise ``UNCHANGED``.
    """
    if state.status is SourceStatus.DOWN or now - state.last_seen <= policy.silence:
        return Step(state, Verdict.UNCHANGED)
    health = msgspec.structs.replace(
        state, status=advance_source_status(state.status, SourceStatus.DOWN), since=now
    )
    return Step(health, Verdict.APPLIED, (_transition(health, down_since=None),))


def _transition(health: SourceHealth, *, down_since: datetime | None) -> Emit:
    if health.status is SourceStatus.UP:
        event: SourceUp | SourceDown = SourceUp(
            source=health.source, seen_at=health.last_seen, down_since=down_since, feed=health.feed
        )
    else:
        silence = health.since - health.last_seen
        event = SourceDown(
            source=health.source,
            last_seen=health.last_seen,
            detected_at=health.since,
            silence_ms=max(0, silence // timedelta(milliseconds=1)),
            feed=health.feed,
        )
    return route(HEALTH, health.feed, health.source, event)
