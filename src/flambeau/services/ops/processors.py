"""The ops processors: signs of life re-keyed by source, then up and down per source.

::

    ops.heartbeats (4, any key)   ──ops.heartbeat-signs──┐
    crowds.sensors (4, by venue)  ──ops.gate-signs───────┼─▶ ops.signs (4, by source)
    (each stream in WATCHES)      ──<its relay>──────────┘        │
                                                           ops.liveness ─▶ ops.health
    results feeds: results.signs ─▶ results.heard ─▶ results.liveness ─▶ ops.health

A source's signs come from streams keyed by something else (gate counts by venue) or by
whatever key the producer chose, so relays (:func:`flambeau.processing.relay`) re-key each one
by source onto ``ops.signs``, keeping the time Flambeau received it (``seen_at``), so a
source's clock skew never makes it look down. An implicit sign is relayed at most once per
source, input partition and :data:`SIGN_INTERVAL` (or the watch's interval, when shorter);
heartbeats are all relayed (a failure
report must not wait). ``ops.liveness`` folds the signs with :func:`~.liveness.observe` and
arms a processing-time timer per source at the end of its allowed silence; when it fires,
:func:`~.liveness.check` emits ``source_down``.

Results feeds keep their own pipeline (their signs are documents of every type, and test
feeds go to ``results.test``) and publish on ``ops.health`` through the same contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flambeau.events import Record
from flambeau.processing import (
    Batch,
    Processor,
    TimeDomain,
    Timer,
    Transaction,
    default_processors,
    relay,
)
from flambeau.services.crowds.schemas import SENSORS, GateCount
from flambeau.services.ops.liveness import LivenessPolicy, SourceHealth, check, deadline, observe
from flambeau.services.ops.schemas import HEALTH, HEARTBEATS, SIGNS, Heartbeat, Sign, SourceKind

__all__ = [
    "POLICY",
    "PROCESSORS",
    "SIGN_INTERVAL",
    "WATCHES",
    "Watch",
    "heartbeat_signs",
    "liveness",
    "liveness_processor",
    "watch_relay",
]

POLICY = LivenessPolicy()
"""Down after two expected intervals of silence."""
SIGN_INTERVAL = timedelta(seconds=1)
"""At most one implicit sign per source and input partition in this interval."""
_SLACK = timedelta(milliseconds=1)  # a deadline strictly after the allowed silence


@dataclass(frozen=True)
class Watch:
    """A stream whose events are signs of life of the sources that send them.

    Attributes:
        name: The relay's processor name.
        stream: The stream watched.
        kind: The kind of source sending it.
        interval: How often such a source sends when it works.
        source: The source id of a payload; ``None`` when the payload is no sign.
        venue: The venue of a payload's source, if any.
    """

    name: str
    stream: str
    kind: SourceKind
    interval: timedelta
    source: Callable[[Any], str | None]
    venue: Callable[[Any], str | None]


def _gate(event: Any) -> str | None:
    return f"{event.venue}/{event.gate}" if isinstance(event, GateCount) else None


def _venue(event: Any) -> str | None:
    venue: str = event.venue
    return venue


WATCHES: tuple[Watch, ...] = (
    Watch(
        "ops.gate-signs",
        SENSORS,
        SourceKind.GATE_COUNTER,
        timedelta(minutes=1),
        source=_gate,
        venue=_venue,
    ),
)
"""The watched streams: each gate count is a sign of life of its gate counter (``<venue>/<gate>``),
which reports once a counting period (a minute)."""


def watch_relay(watch: Watch, *, register: bool = True) -> Processor:
    """The relay turning ``watch``'s events into signs on ``ops.signs``, keyed by source."""
    interval_ms = watch.interval // timedelta(milliseconds=1)

    def key(record: Record[Any]) -> str | None:
        return watch.source(record.data)

    def sign(record: Record[Any]) -> Sign | None:
        source = watch.source(record.data)
        if source is None:
            return None
        return Sign(
            source=source,
            kind=watch.kind,
            interval_ms=interval_ms,
            seen_at=record.ingested_at,
            venue=watch.venue(record.data),
        )

    return relay(
        watch.name,
        source=watch.stream,
        target=SIGNS,
        key=key,
        convert=sign,
        # never longer than the silence allowed: the first sign after a down is always relayed
        throttle=min(SIGN_INTERVAL, watch.interval),
        processors=default_processors if register else None,
    )


def _heartbeat_source(record: Record[Heartbeat]) -> str:
    return record.data.source


def _heartbeat_sign(record: Record[Heartbeat]) -> Sign:
    beat = record.data
    return Sign(
        source=beat.source,
        kind=beat.kind,
        interval_ms=beat.interval_ms,
        seen_at=record.ingested_at,
        venue=beat.venue,
        status=beat.status,
        detail=beat.detail,
    )


def liveness_processor(policy: LivenessPolicy, *, name: str = "ops.liveness") -> Processor:
    """A processor tracking each source's liveness on ``ops.health`` under ``policy``.

    A sign of life moves the source's processing-time deadline; the deadline's timer reports
    the source down. Both emit with the causing ``ops.signs`` record's id, whose own causation
    id is the heartbeat or watched event.
    """
    processor = Processor(name, inputs=[SIGNS], outputs=[HEALTH])

    def arm(tx: Transaction, key: str, health: SourceHealth, cause: str | None) -> None:
        due = deadline(health, policy)
        if due is None:
            tx.timers.cancel(key, TimeDomain.PROCESSING)
        else:
            tx.timers.at(key, due + _SLACK, domain=TimeDomain.PROCESSING, causation_id=cause)

    @processor.on_batch
    def heard(batch: Batch[Sign], tx: Transaction) -> None:
        for record in batch:
            sign = record.data
            key = f"s/{sign.source}"
            state = tx.state.get(key, SourceHealth)
            health, events = observe(state, sign, now=tx.now(), policy=policy)
            tx.state.put(key, health)
            for event in events:
                tx.emit(HEALTH, event, key=sign.source, causation_id=record.id)
            arm(tx, key, health, record.id)

    @processor.on_timer
    def silent(timer: Timer, tx: Transaction) -> None:
        state = tx.state.get(timer.key, SourceHealth)
        if state is None:
            return
        health, events = check(state, now=tx.now(), policy=policy)
        tx.state.put(timer.key, health)
        for event in events:
            tx.emit(HEALTH, event, key=health.source, causation_id=timer.causation_id)
        if not events:
            arm(tx, timer.key, health, timer.causation_id)

    return processor


heartbeat_signs = relay(
    "ops.heartbeat-signs",
    source=HEARTBEATS,
    target=SIGNS,
    key=_heartbeat_source,
    convert=_heartbeat_sign,
)
watch_relays = tuple(watch_relay(watch) for watch in WATCHES)
liveness = default_processors.register(liveness_processor(POLICY))

PROCESSORS = (heartbeat_signs, *watch_relays, liveness)
"""The ops processors, in the order data flows through them."""
