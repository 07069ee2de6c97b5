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
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from flambeau.errors import InvalidEventError
from flambeau.events import MAX_KEY_BYTES, Event, NewEvent
from flambeau.processing._time import NO_TIME, from_us
from flambeau.processing.batch import Batch
from flambeau.processing.state import State
from flambeau.processing.timers import TimeDomain, Timer, Timers

if TYPE_CHECKING:
    from flambeau.processing.engine import PartitionEngine
    from flambeau.processing.windows import Window

__all__ = ["Transaction", "output_id"]


def output_id(processor: str, trigger: str, index: int) -> str:
    """The id of the ``index``-th event ``processor`` emits for ``trigger`` (replay-stable)."""
    digest = hashlib.blake2b(f"{processor}\x00{trigger}\x00{index}".encode(), digest_size=16)
    return digest.hexdigest()


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
        engine: PartitionEngine,
        *,
        batch: Batch[Any] | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.processor = engine.processor.name
        self.partition = engine.partition
        self.state = State(engine.store)
        self.timers = Timers(
            engine.timer_table,
            engine.clock,
            self.processor,
            engine.processor.timer_handler is not None,
        )
        self._engine = engine
        self._batch = batch
        self._timer = timer
        self.emitted: list[tuple[str, NewEvent]] = []
        self.counts: dict[str, int] = {}
        self.window_rows: list[tuple[Window, npt.NDArray[Any], list[str], npt.NDArray[Any]]] = []

    @property
    def watermark(self) -> datetime | None:
        """The partition's watermark before this batch: the largest event time seen so far."""
        mark = self._engine.watermark
        return None if mark == NO_TIME else from_us(mark)

    def now(self) -> datetime:
        """Processing time, from the runtime's clock."""
        return self._engine.clock.now()

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
        self._engine.registry.check(stream, data)
        if len(key) > MAX_KEY_BYTES // 4 and len(key.encode()) > MAX_KEY_BYTES:
            raise InvalidEventError(f"emitted key is longer than {MAX_KEY_BYTES} bytes")
        if time is not None and time.utcoffset() is None:
            raise InvalidEventError(f"emitted time {time.isoformat()} has no timezone; use UTC")
        trigger, causation, default_time = self._trigger(causation_id)
        index = self._engine.output_index(trigger) + self.counts.get(trigger, 0)
        self.counts[trigger] = self.counts.get(trigger, 0) + 1
        event = NewEvent(
            data,
            key,
            output_id(self.processor, trigger, index),
            time or default_time,
            causation,
        )
        self.emitted.append((stream, event))

    def _trigger(self, causation_id: str | None) -> tuple[str, str | None, datetime]:
        """(trigger for the id, causation id, default event time) of an emitted event."""
        batch = self._batch
        if batch is not None:
            cols = batch.columns
            _, stop = batch.span
            last = cols.records[stop - 1]
            if causation_id is None:
                return f"{batch.stream}\x00{last.id}", last.id, last.time
            index = cols.index_of(causation_id)
            if index is not None:
                return f"{batch.stream}\x00{causation_id}", causation_id, cols.records[index].time
            # a cause outside this batch (say, an id kept in state): qualify it by the batch
            return f"{batch.stream}\x00{last.id}\x00{causation_id}", causation_id, last.time
        timer = self._timer
        assert timer is not None
        when = timer.at if timer.domain is TimeDomain.EVENT else self.now()
        if causation_id is None or causation_id == timer.causation_id:
            return timer.id, timer.causation_id, when
        return f"{timer.id}\x00{causation_id}", causation_id, when

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
