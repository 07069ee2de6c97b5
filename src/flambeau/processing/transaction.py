"""What one handler call may do, committed atomically with its batch.

A :class:`Transaction` gathers a handler's state writes, timer changes, window additions and
emitted events. If the handler returns, they become part of the batch's single
``Log.commit``; if it raises, they are discarded.

Emitted events get deterministic ids: a hash of (processor, trigger, output index), where the
trigger is the input event named by ``causation_id`` (or the timer being handled). Replaying
the same input therefore re-emits the same ids, and the log deduplicates them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy.typing as npt

from flambeau.errors import InvalidEventError
from flambeau.events import MAX_ID_BYTES, MAX_KEY_BYTES, Event, NewEvent, Registry
from flambeau.processing._time import NO_TIME, from_us
from flambeau.processing.batch import Batch
from flambeau.processing.clock import Clock
from flambeau.processing.state import State, StateStore
from flambeau.processing.timers import TimeDomain, Timer, Timers, TimerTable

if TYPE_CHECKING:
    from flambeau.processing.windows import Window

__all__ = ["Transaction", "output_id"]

TIMER_SCOPE = "~timer"


def id_prefix(processor: str, scope: str) -> str:
    """A short hash naming (processor, input stream or ``~timer``) in output ids."""
    return hashlib.blake2b(f"{processor}\x00{scope}".encode(), digest_size=6).hexdigest()


def derived_id(base: str, index: int) -> str:
    """``<base>.<index>``, or a hash of it when that would break the event id length limit."""
    if len(base) <= 28 or len(base.encode()) <= MAX_ID_BYTES - 12:
        return f"{base}.{index}"
    return hashlib.blake2b(f"{base}\x00{index}".encode(), digest_size=16).hexdigest()


def output_id(processor: str, stream: str, event_id: str, index: int) -> str:
    """The id of the ``index``-th event ``processor`` emits for input ``event_id`` of ``stream``.

    The same input always yields the same ids, so a replay is deduplicated by the log. Ids read
    ``<prefix>.<input id>.<index>``, where the prefix is a short hash of processor and stream.
    """
    return derived_id(f"{id_prefix(processor, stream)}.{event_id}", index)


def _hashed(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=12).hexdigest()


class PartitionContext(Protocol):
    """What a :class:`Transaction` uses of its partition (the engine provides it).

    Reads of the partition's state, timers, clock and watermark, and the bookkeeping that
    keeps emitted ids deterministic: nothing that runs a handler or commits.

    Attributes:
        partition: The partition being processed.
        store: The partition's committed state.
        timer_table: The partition's timers.
        clock: The runtime's clock.
        watermark: The partition's watermark in microseconds, or ``NO_TIME``.
        registry: The stream registry, to name the accepted types when a payload is refused.
    """

    partition: int
    store: StateStore
    timer_table: TimerTable
    clock: Clock
    watermark: int
    registry: Registry

    @property
    def processor_name(self) -> str:
        """The processor's name."""
        ...

    @property
    def has_timer_handler(self) -> bool:
        """Whether the processor handles timers (setting one is an error otherwise)."""
        ...

    def stream_types(self, stream: str) -> frozenset[type[Event]]:
        """The payload types ``stream`` accepts as an output of this processor."""
        ...

    def output_index(self, base: str) -> int:
        """How many events the current step already emitted with id base ``base``."""
        ...

    def id_prefix(self, scope: str) -> str:
        """The id prefix of events emitted for inputs of ``scope`` (a stream, or timers)."""
        ...


class Transaction:
    """``tx``: a handler's view of its partition for one batch (or one timer).

    Attributes:
        processor: The processor's name.
        partition: The partition being processed.
        state: Keyed state of this (processor, partition).
        timers: Event-time and processing-time timers of this partition.
    """

    def __init__(
        self,
        context: PartitionContext,
        *,
        batch: Batch[Any] | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.processor = context.processor_name
        self.partition = context.partition
        self.state = State(context.store)
        self.timers = Timers(
            context.timer_table, context.clock, self.processor, context.has_timer_handler
        )
        self._context = context
        self._batch = batch
        self._timer = timer
        self.emitted: list[tuple[str, NewEvent]] = []
        self.counts: dict[str, int] = {}
        self.window_rows: list[tuple[Window, npt.NDArray[Any], list[str], npt.NDArray[Any]]] = []

    @property
    def watermark(self) -> datetime | None:
        """The partition's watermark before this batch: the largest event time seen so far."""
        mark = self._context.watermark
        return None if mark == NO_TIME else from_us(mark)

    def now(self) -> datetime:
        """Processing time, from the runtime's clock."""
        return self._context.clock.now()

    def emit(
        self,
        stream: str,
        data: Event,
        *,
        key: str = "",
        causation_id: str | None = None,
        time: datetime | None = None,
    ) -> None:
        """Emit ``data`` to ``stream`` when the batch commits.

        Args:
            stream: A registered output stream.
            data: A payload of the stream's schema.
            key: The partitioning key of the emitted event.
            causation_id: The input event this one reacts to. Pass it: the emitted id is then
                derived from that event and stays the same however the input is batched.
                Defaults to the batch's last event (or the timer being handled).
            time: The event time; defaults to the causing event's time (for a timer: its due
                time, or the clock's now for processing-time timers).

        Raises:
            UnknownStreamError: ``stream`` is not registered.
            SchemaMismatchError: ``data`` is not of ``stream``'s schema.
            InvalidEventError: ``key`` is too long or ``time`` has no timezone.
        """
        context = self._context
        if type(data) not in context.stream_types(stream):
            context.registry.check(stream, data)  # raises, naming the accepted types
        if len(key) > MAX_KEY_BYTES // 4 and len(key.encode()) > MAX_KEY_BYTES:
            raise InvalidEventError(f"emitted key is longer than {MAX_KEY_BYTES} bytes")
        if time is not None and time.utcoffset() is None:
            raise InvalidEventError(f"emitted time {time.isoformat()} has no timezone; use UTC")
        base, causation, default_time = self._trigger(causation_id)
        counts = self.counts
        done = counts.get(base, 0)
        counts[base] = done + 1
        event_id = derived_id(base, context.output_index(base) + done)
        self.emitted.append(
            (stream, NewEvent(data, key, event_id, time or default_time, causation))
        )

    def _trigger(self, causation_id: str | None) -> tuple[str, str | None, datetime]:
        """(id base, causation id, default event time) of an emitted event."""
        context = self._context
        batch = self._batch
        if batch is not None:
            cols = batch.columns
            prefix = context.id_prefix(batch.stream)
            if causation_id is not None:
                index = cols.index_of(causation_id)
                if index is not None:
                    return f"{prefix}.{causation_id}", causation_id, cols.records[index].time
            last = cols.records[batch.span[1] - 1]
            if causation_id is None:
                return f"{prefix}.{last.id}", last.id, last.time
            # a cause outside this batch (say, an id kept in state): qualify it by the batch
            return _hashed(prefix, last.id, causation_id), causation_id, last.time
        timer = self._timer
        assert timer is not None
        when = timer.at if timer.domain is TimeDomain.EVENT else self.now()
        base = f"{context.id_prefix(TIMER_SCOPE)}.{timer.id}"
        if causation_id is None or causation_id == timer.causation_id:
            return base, timer.causation_id, when
        return _hashed(base, causation_id), causation_id, when

    def stage_window(
        self, window: Window, index: npt.NDArray[Any], keys: list[str], values: npt.NDArray[Any]
    ) -> None:
        """Queue rows for ``window`` (called by :meth:`Window.add`)."""
        if self._batch is None:
            raise TypeError(f"window {window.name!r}: add events from a batch handler, not a timer")
        if window.processor != self.processor:
            raise TypeError(
                f"window {window.name!r} belongs to processor {window.processor!r}, "
                f"not {self.processor!r}"
            )
        self.window_rows.append((window, index, keys, values))
