"""What a reducer step returns: the new state, the events to emit, and a verdict for metrics.

Reducers are pure: ``step = apply_x(state, input)`` reads nothing but its arguments. A
processor stores ``step.state`` under the reducer's state key, emits each of ``step.emits``
with ``tx.emit(emit.stream, emit.event, key=emit.key, causation_id=...)``, and counts
``step.verdict``.

Test feeds are kept apart here, once: :func:`route` sends anything a test document produces
to ``results.test`` instead of its public (or ops) stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar

from flambeau.events import Event
from flambeau.services.results.schemas import TEST, Feed

__all__ = ["Emit", "Step", "Verdict", "route"]

S = TypeVar("S")


class Verdict(StrEnum):
    """What a step did with its input."""

    APPLIED = "applied"
    """The input changed the state (a newer version, a new keep-alive)."""
    STALE = "stale"
    """An older or equal version: acknowledged, ignored, counted."""
    IGNORED = "ignored"
    """Not for this reducer (a medallists document that is not OFFICIAL)."""
    UNCHANGED = "unchanged"
    """A check that found nothing to report."""


class Emit(NamedTuple):
    """One event to append: on ``stream``, with partitioning ``key``."""

    stream: str
    key: str
    event: Event


@dataclass(frozen=True)
class Step(Generic[S]):
    """The result of one pure reducer call.

    Attributes:
        state: The state to store (the input state when nothing changed).
        verdict: What happened, for metrics.
        emits: Events to append, in order.
        irregular: Set when the input was applied although it contradicts the state machine
            (e.g. ``unit status finished -> running``); the source's snapshot still wins.
    """

    state: S
    verdict: Verdict
    emits: tuple[Emit, ...] = field(default=())
    irregular: tuple[str, ...] = field(default=())


def route(stream: str, feed: Feed, key: str, event: Event) -> Emit:
    """Where an event goes: its stream for production data, ``results.test`` for test feeds."""
    return Emit(stream if feed is Feed.PRODUCTION else TEST, key, event)
