"""The side streams every processor gets: ``<processor>.late`` and ``<processor>.dead``.

Nothing a processor reads is ever silently dropped. An event too late for every window it
belongs to goes to ``<processor>.late``; an event (or timer, or window result) whose handling
raised goes to ``<processor>.dead`` with the error text and its input position, and the
partition moves on. Both carry the original payload as MessagePack bytes, so an operator can
inspect and replay it.
"""

from __future__ import annotations

from datetime import datetime

from flambeau.events import Event, Registry, Writer

__all__ = ["DeadLetter", "LateEvent", "register_side_streams"]

SIDE_PARTITIONS = 1  # rare events: one partition keeps them in arrival order


class LateEvent(Event, tag="late_event", frozen=True):
    """An input event that arrived after every window it belongs to had closed.

    Attributes:
        processor: The processor that read it.
        window: The window it was too late for.
        stream: The input stream.
        partition: The input partition.
        offset: The input offset.
        event_id: The input event's id.
        time: The input event's time.
        watermark: The partition's watermark when it arrived.
        payload: The input payload, MessagePack-encoded.
    """

    processor: str
    window: str
    stream: str
    partition: int
    offset: int
    event_id: str
    time: datetime
    watermark: datetime
    payload: bytes


class DeadLetter(Event, tag="dead_letter", frozen=True):
    """Something a processor could not handle: the handler raised on it.

    Attributes:
        processor: The processor.
        source: ``"input"`` (an input event), ``"timer"`` or ``"window"`` (a window result).
        stream: The input stream (empty for timers).
        partition: The processor partition.
        offset: The input offset (``-1`` for timers and window results).
        event_id: The input event's id, or the timer's id.
        error: The exception, as ``"TypeName: message"``.
        payload: The input payload (or the timer's data, or the window result), MessagePack.
    """

    processor: str
    source: str
    stream: str
    partition: int
    offset: int
    event_id: str
    error: str
    payload: bytes


def register_side_streams(
    registry: Registry, processor: str, inputs: tuple[str, ...] = ()
) -> tuple[str, str]:
    """Register ``<processor>.late`` and ``<processor>.dead``, written by ``processor`` (which
    reads ``inputs``); return their names."""
    late, dead = f"{processor}.late", f"{processor}.dead"
    writer = Writer.processor(processor, inputs)
    registry.register(
        late,
        LateEvent,
        partitions=SIDE_PARTITIONS,
        description=f"events too late for every window of processor {processor}",
        writer=writer,
    )
    registry.register(
        dead,
        DeadLetter,
        partitions=SIDE_PARTITIONS,
        description=f"events processor {processor} failed on, with the error",
        writer=writer,
    )
    return late, dead
