"""The engine of one (processor, partition): turns a batch into one atomic commit.

The engine holds the partition's state, watermark, timers and window accumulators in memory.
:meth:`PartitionEngine.process` runs the handler over a batch and returns a :class:`Step`: the
state changes, the emitted events and the next input offset, which the runtime passes to one
``Log.commit``. The engine does no I/O, so :func:`flambeau.testing.run` drives it directly.

Within a batch, for each segment (the batch is cut before the first event at or after an
event-time timer's time, and the timer fires there, so the events after it see its effects
however the input is batched):

1. the handler runs; if it raises, the segment is split in halves and retried until the
   failing event is alone, which goes to ``<processor>.dead`` (a poison event never stalls a
   partition, and the good events around it keep their effects);
2. window additions are folded in; events too late for every window go to ``<processor>.late``;
3. the watermark advances, closed windows emit, event-time timers set in the past fire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from flambeau.events import Event, NewEvent, Record, Registry
from flambeau.log import StateChange
from flambeau.processing._sessions import SessionWindows, SlidingWindows
from flambeau.processing._time import NO_TIME, from_us, span_us, to_us
from flambeau.processing._windowing import FixedWindows, Pending, Rows, WindowState
from flambeau.processing.batch import Batch, BulkDecoder
from flambeau.processing.clock import Clock
from flambeau.processing.errors import UndeclaredOutputError
from flambeau.processing.processor import Processor
from flambeau.processing.sidestreams import DeadLetter, LateEvent
from flambeau.processing.state import State, StateStore
from flambeau.processing.timers import TimeDomain, Timer, TimerTable
from flambeau.processing.transaction import TIMER_SCOPE, Transaction, derived_id, id_prefix
from flambeau.processing.windows import Emit, Hopping, Sliding, Tumbling, Window, WindowResult

__all__ = ["PartitionEngine", "Step"]

_Subject = TypeVar("_Subject")
WATERMARK_KEY = "~wm"
MAX_TIMER_ROUNDS = 100  # timers that keep re-arming in the past wait for the next batch


@dataclass
class Step:
    """What one processed batch (or timer firing) commits, atomically.

    Attributes:
        offsets: stream -> partition -> next offset to read.
        state: The changed state keys.
        emit: The emitted events, in order.
    """

    offsets: dict[str, dict[int, int]] = field(default_factory=dict)
    state: list[StateChange] = field(default_factory=list)
    emit: list[tuple[str, NewEvent]] = field(default_factory=list)


class _Origin(TypedDict):
    """The fields a dead letter and a late event share: the input record they stand for."""

    processor: str
    stream: str
    partition: int
    offset: int
    event_id: str
    payload: bytes


def _earliest_event_timer(tx: Transaction) -> int | None:
    """The earliest due time of the event-time timers ``tx`` set (even if moved since)."""
    return tx.timers.earliest_event


def open_window_state(window: Window, store: StateStore) -> WindowState:
    """The per-partition state of ``window``, loaded from ``store``.

    A :class:`Window` is only a definition; its state belongs to the partition's engine.
    """
    grace = span_us(window.grace)
    spec = window.spec
    if isinstance(spec, Tumbling):
        size = span_us(spec.size)
        return FixedWindows(window, size, size, to_us(spec.align), grace, store)
    if isinstance(spec, Hopping):
        size, hop = span_us(spec.size), span_us(spec.hop)
        return FixedWindows(window, size, hop, to_us(spec.align), grace, store)
    if isinstance(spec, Sliding):
        return SlidingWindows(window, span_us(spec.size), grace, store)
    return SessionWindows(window, span_us(spec.gap), grace, store)


def _raised(
    handler: Callable[[_Subject, Transaction], None], subject: _Subject, tx: Transaction
) -> Exception | None:
    """What ``handler`` raised on ``subject`` (a batch or a timer), or ``None``.

    An :class:`UndeclaredOutputError` is raised on: it is a defect of the processor's
    definition, not of an event or a timer, so the partition stops at once.
    """
    try:
        handler(subject, tx)
    except UndeclaredOutputError:
        raise
    except Exception as exc:
        return exc
    return None


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PartitionEngine:
    """One processor partition's in-memory state and batch logic."""

    def __init__(
        self,
        processor: Processor,
        partition: int,
        stored: Mapping[str, bytes],
        *,
        registry: Registry,
        clock: Clock,
        spill_dir: Path | None = None,
    ) -> None:
        if processor.handler is None:
            processor.partitions(registry)  # raises with a clear message
        self.processor = processor
        self.partition = partition
        self.registry = registry
        self.clock = clock
        self.store = StateStore(partition, stored, cold=processor.cold, spill_dir=spill_dir)
        mark = self.store.lookup(WATERMARK_KEY, int)
        self.watermark: int = NO_TIME if not isinstance(mark, int) else mark
        self.timer_table = TimerTable(self.store)
        self.window_states: list[tuple[Window, WindowState]] = [
            (w, open_window_state(w, self.store)) for w in processor.windows
        ]
        self._decoders: dict[str, BulkDecoder] = {}
        self._prefixes: dict[str, str] = {}
        self._types: dict[str, frozenset[type[Event]]] = {}
        self._out: list[tuple[str, NewEvent]] = []
        self._counts: dict[str, int] = {}
        self._staged: list[tuple[Window, npt.NDArray[Any], list[str], npt.NDArray[Any]]] = []

    def close(self) -> None:
        """Free what the partition holds outside memory (its cold state's spill file)."""
        self.store.close()

    # -- the PartitionContext of transactions ----------------------------------------------------

    @property
    def processor_name(self) -> str:
        """The processor's name."""
        return self.processor.name

    @property
    def has_timer_handler(self) -> bool:
        """Whether the processor handles timers."""
        return self.processor.timer_handler is not None

    def output_index(self, base: str) -> int:
        """How many events this step already emitted with id base ``base``."""
        return self._counts.get(base, 0)

    def id_prefix(self, scope: str) -> str:
        """The id prefix of events emitted for inputs of ``scope`` (a stream, or timers)."""
        prefix = self._prefixes.get(scope)
        if prefix is None:
            prefix = self._prefixes[scope] = id_prefix(self.processor.name, scope)
        return prefix

    def stream_types(self, stream: str) -> frozenset[type[Event]]:
        """The payload types ``stream`` accepts, as an output of this processor.

        Raises:
            UndeclaredOutputError: ``stream`` is not among the processor's outputs.
            UnknownStreamError: ``stream`` is not registered.
        """
        types = self._types.get(stream)
        if types is None:
            self.processor.check_output(stream)
            types = self._types[stream] = self.registry.spec(stream).types
        return types

    def decoder(self, stream: str) -> BulkDecoder:
        """A decoder of a MessagePack array of ``stream``'s payloads."""
        decode = self._decoders.get(stream)
        if decode is None:
            schema = self.registry.spec(stream).schema
            decode = self._decoders[stream] = msgspec.msgpack.Decoder(list[schema]).decode  # type: ignore[valid-type]
        return decode

    # -- batches -------------------------------------------------------------------------------

    def process(self, stream: str, records: Sequence[Record[Any]]) -> Step:
        """Process records read from ``stream`` (raw or typed payloads) as one batch."""
        typed = bool(records) and not isinstance(records[0].data, msgspec.Raw)
        batch: Batch[Any] = Batch(
            stream, self.partition, records, None if typed else self.decoder(stream)
        )
        return self.process_batch(batch)

    def process_batch(self, batch: Batch[Any]) -> Step:
        """Run the handler over ``batch``; return what to commit for it."""
        size = len(batch)
        if size == 0:
            return Step()
        times = batch.columns.times()
        peaks = np.maximum.accumulate(np.maximum(times, self.watermark))
        before = np.empty(size, np.int64)
        before[0] = self.watermark
        before[1:] = peaks[:-1]
        self._fire_event_timers(self.watermark)
        low = 0
        while low < size:
            due = self.timer_table.next_due(TimeDomain.EVENT)
            if due is not None and due <= peaks[low]:
                # event ``low`` is the first at or after a timer's time: fire it first
                self._fire_event_timers(int(peaks[low]))
            high = max(self._segment_end(peaks, size), low + 1)
            high = self._run_segment(batch, peaks, low, high)
            self._apply_windows(batch, before)
            self.watermark = max(self.watermark, int(peaks[high - 1]))
            self._close_windows(batch, peaks, low, high)
            self._fire_event_timers(self.watermark)  # timers set in the past by the segment
            low = high
        return self._finish({batch.stream: {self.partition: batch.next_offset}})

    def _segment_end(self, peaks: npt.NDArray[np.int64], size: int) -> int:
        """The position of the first event at or after the next event-time timer."""
        due = self.timer_table.next_due(TimeDomain.EVENT)
        return size if due is None else int(np.searchsorted(peaks, due, "left"))

    def _attempt(self, batch: Batch[Any], low: int, high: int) -> Transaction | Exception:
        """Run the handler over ``[low, high)``; its transaction, or what it raised."""
        handler = self.processor.handler
        assert handler is not None
        segment = batch[low:high]
        tx = Transaction(self, batch=segment)
        raised = _raised(handler, segment, tx)
        return tx if raised is None else raised

    def _run_segment(
        self, batch: Batch[Any], peaks: npt.NDArray[np.int64], low: int, high: int
    ) -> int:
        """Handle ``[low, high)`` or a prefix of it; commit it and return where it ends.

        A prefix is taken when the handler raises (halving until the failing event is alone,
        which goes to the dead letters) or when it sets an event-time timer due before a later
        event of the segment (cut so that the timer fires before that event, as it would if
        the events came one by one).
        """
        tx = self._attempt(batch, low, high)
        if isinstance(tx, Exception):
            if high - low == 1:
                self._dead_input(batch[low:high], tx)
                return high
            return self._run_segment(batch, peaks, low, low + (high - low) // 2)
        due = _earliest_event_timer(tx)
        if due is not None and due <= peaks[high - 1]:
            first = low + int(np.searchsorted(peaks[low:high], due, "left"))
            if first > low:  # events from ``first`` on must see the timer fired
                return self._run_segment(batch, peaks, low, first)
            return self._cut_after_setter(batch, peaks, low, high, tx)
        self._commit(tx)
        return high

    def _cut_after_setter(
        self, batch: Batch[Any], peaks: npt.NDArray[np.int64], low: int, high: int,
        full: Transaction,
    ) -> int:  # fmt: skip
        """Every event of the segment is past a timer it set: end the segment at its setter."""

        def sets_due(tx: Transaction | Exception, end: int) -> bool:
            if isinstance(tx, Exception):
                return True  # let the shorter segment isolate it
            due = _earliest_event_timer(tx)
            return due is not None and due <= peaks[end - 1]

        tries: dict[int, Transaction | Exception] = {high: full}
        first, last = low + 1, high
        while first < last:  # the shortest prefix that sets a timer due within it
            middle = (first + last) // 2
            tries[middle] = self._attempt(batch, low, middle)
            if sets_due(tries[middle], middle):
                last = middle
            else:
                first = middle + 1
        end = first
        if end - 1 > low:  # set before the prefix's last event, due by its time: cut before it
            shorter = tries.get(end - 1) or self._attempt(batch, low, end - 1)
            if not isinstance(shorter, Exception) and sets_due(shorter, end):
                self._commit(shorter)
                return end - 1
        chosen = tries[end]
        if isinstance(chosen, Exception):
            return self._run_segment(batch, peaks, low, end)
        self._commit(chosen)
        return end

    def _commit(self, tx: Transaction) -> None:
        self.timer_table.apply(tx.timers, tx.state)
        tx.state.commit()
        self._out.extend(tx.emitted)
        for trigger, count in tx.counts.items():
            self._counts[trigger] = self._counts.get(trigger, 0) + count
        self._staged.extend(tx.window_rows)

    # -- emitting on the runtime's behalf ------------------------------------------------------

    def _emit(
        self,
        stream: str,
        data: Event,
        *,
        key: str,
        base: str,
        causation_id: str | None,
        time: datetime,
    ) -> None:
        index = self._counts.get(base, 0)
        self._counts[base] = index + 1
        event_id = derived_id(base, index)
        self._out.append((stream, NewEvent(data, key, event_id, time, causation_id)))

    def _emit_for(
        self, batch: Batch[Any], position: int, stream: str, data: Event, key: str
    ) -> None:
        record = batch.columns.records[position]
        self._emit(
            stream,
            data,
            key=key,
            base=f"{self.id_prefix(batch.stream)}.{record.id}",
            causation_id=record.id,
            time=record.time,
        )

    def _dead_input(self, batch: Batch[Any], exc: Exception) -> None:
        position, _ = batch.span
        origin = self._origin(batch, position)
        letter = DeadLetter(source="input", error=_error_text(exc), **origin)
        key = batch.columns.records[position].key
        self._emit_for(batch, position, self.processor.dead_stream, letter, key)

    def _origin(self, batch: Batch[Any], position: int) -> _Origin:
        """Where the input record at ``position`` came from, as its side events name it."""
        record = batch.columns.records[position]
        return _Origin(
            processor=self.processor.name,
            stream=batch.stream,
            partition=self.partition,
            offset=record.offset,
            event_id=record.id,
            payload=batch.columns.raw_payload(position),
        )

    # -- windows -------------------------------------------------------------------------------

    def _apply_windows(self, batch: Batch[Any], before: npt.NDArray[np.int64]) -> None:
        staged, self._staged = self._staged, []
        if not staged:
            return
        times = batch.columns.times()
        for window, state in self.window_states:
            parts = [(i, k, v) for w, i, k, v in staged if w is window]
            if not parts:
                continue
            if len(parts) == 1:
                index, keys, values = parts[0]
            else:
                index = np.concatenate([p[0] for p in parts])
                keys = [key for p in parts for key in p[1]]
                values = np.concatenate([p[2] for p in parts])
                if np.any(index[1:] < index[:-1]):  # fold in record order
                    order = np.argsort(index, kind="stable")
                    index, values = index[order], values[order]
                    keys = [keys[i] for i in order.tolist()]
            rows = Rows(index, keys, times[index], values, before[index])
            late, updates = state.apply(rows)
            for row in np.flatnonzero(late).tolist():
                self._late(batch, window, int(index[row]), int(before[index[row]]))
            for pending in updates:
                self._emit_result(batch, window, pending, pending.cause, final=False)

    def _late(self, batch: Batch[Any], window: Window, position: int, mark: int) -> None:
        record = batch.columns.records[position]
        origin = self._origin(batch, position)
        event = LateEvent(window=window.name, time=record.time, watermark=from_us(mark), **origin)
        self._emit_for(batch, position, self.processor.late_stream, event, record.key)

    def _close_windows(
        self, batch: Batch[Any], peaks: npt.NDArray[np.int64], low: int, high: int
    ) -> None:
        for window, state in self.window_states:
            closed = state.close(self.watermark)
            if not closed or window.emit is Emit.CURRENT:
                continue  # in current mode the last update already carried the final value
            segment = peaks[low:high]
            at = np.searchsorted(segment, [p.close_at for p in closed], "left")
            for pending, offset in zip(closed, at.tolist(), strict=True):
                cause = low + min(offset, high - low - 1)
                self._emit_result(batch, window, pending, cause, final=True)

    def _emit_result(
        self, batch: Batch[Any], window: Window, pending: Pending, cause: int, *, final: bool
    ) -> None:
        result = WindowResult(
            pending.key,
            from_us(pending.start_us),
            from_us(pending.end_us),
            pending.value,
            pending.count,
            final,
        )
        record = batch.columns.records[cause]
        try:
            data = window.to_event(result)
            if data is None:
                return
            self.registry.check(window.output, data)
        except Exception as exc:
            letter = DeadLetter(
                processor=self.processor.name,
                source="window",
                stream=batch.stream,
                partition=self.partition,
                offset=-1,
                event_id=record.id,
                error=f"window {window.name!r}: {_error_text(exc)}",
                payload=msgspec.msgpack.encode(result),
            )
            self._emit_for(batch, cause, self.processor.dead_stream, letter, pending.key)
            return
        self._emit_for(batch, cause, window.output, data, pending.key)

    # -- timers --------------------------------------------------------------------------------

    def _fire_event_timers(self, upto: int) -> None:
        for _ in range(MAX_TIMER_ROUNDS):
            if not self._fire(TimeDomain.EVENT, upto):
                return

    def _fire(self, domain: TimeDomain, now_us: int) -> bool:
        removal = State(self.store)
        due = self.timer_table.pop_due(domain, now_us, removal)
        removal.commit()
        for timer in due:
            self._run_timer(timer)
        return bool(due)

    def _run_timer(self, timer: Timer) -> None:
        handler = self.processor.timer_handler
        if handler is None:
            return  # its handler was removed since the timer was set
        tx = Transaction(self, timer=timer)
        exc = _raised(handler, timer, tx)
        if exc is not None:
            letter = DeadLetter(
                processor=self.processor.name,
                source="timer",
                stream="",
                partition=self.partition,
                offset=-1,
                event_id=timer.id,
                error=_error_text(exc),
                payload=msgspec.msgpack.encode(timer.data),
            )
            when = timer.at if timer.domain is TimeDomain.EVENT else self.clock.now()
            self._emit(
                self.processor.dead_stream,
                letter,
                key=timer.key,
                base=f"{self.id_prefix(TIMER_SCOPE)}.{timer.id}",
                causation_id=timer.causation_id,
                time=when,
            )
            return
        self._commit(tx)

    def next_processing_due(self) -> datetime | None:
        """When the earliest processing-time timer is due, if any is set."""
        due = self.timer_table.next_due(TimeDomain.PROCESSING)
        return None if due is None else from_us(due)

    def fire_processing_timers(self) -> Step | None:
        """Fire the processing-time timers due by the clock; ``None`` if none is due."""
        if not self._fire(TimeDomain.PROCESSING, to_us(self.clock.now())):
            return None
        self._fire_event_timers(self.watermark)
        return self._finish({})

    # -- finishing a step ----------------------------------------------------------------------

    def _finish(self, offsets: dict[str, dict[int, int]]) -> Step:
        internal = State(self.store)
        for _, state in self.window_states:
            state.persist(internal)
        if self.watermark != NO_TIME and self.store.lookup(WATERMARK_KEY, int) != self.watermark:
            internal.put_internal(WATERMARK_KEY, self.watermark)
        internal.commit()
        out, self._out = self._out, []
        self._counts.clear()
        return Step(offsets, self.store.take_changes(), out)
