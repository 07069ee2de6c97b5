"""Run a processor over a list of events with no backend, and a clock tests can move.

::

    result = run(medals, [MedalAwarded(...), MedalAwarded(...)])
    assert result.events("results.medals") == [...]
    assert result.value("table:FRA", MedalTable) == ...

Events are placed as the log would place them (partition by key hash, offsets in order, ids
``test-<n>`` unless given) and fed to the same engine the worker uses, batch by batch. Items of
the event list may be payloads (for a single-input processor), :class:`~flambeau.events.NewEvent`
envelopes, ``(stream, payload_or_envelope)`` pairs, or :class:`Advance` to move the clock and
fire the processing-time timers that became due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple, TypeAlias, TypeVar, overload

from flambeau.events import Event, NewEvent, Record, Registry, default_registry
from flambeau.log import partition_for
from flambeau.processing.clock import ManualClock
from flambeau.processing.engine import PartitionEngine, Step
from flambeau.processing.processor import Processor
from flambeau.processing.state import RESERVED, decode_value

__all__ = ["Advance", "ManualClock", "RunResult", "run"]

T = TypeVar("T")


class Advance(NamedTuple):
    """An item of :func:`run`'s events: move the clock by ``by``, then fire due timers."""

    by: timedelta


Item: TypeAlias = Event | NewEvent | tuple[str, Event | NewEvent] | Advance
"""One entry of :func:`run`'s event list."""


@dataclass
class RunResult:
    """What a processor did over a :func:`run`.

    Attributes:
        outputs: Emitted records per stream (including ``<processor>.late`` and ``.dead``),
            typed, in emission order.
        state: Per partition, the final user state (keys not starting with ``~``), decoded
            as plain values.
        raw_state: Per partition, every stored key as bytes (runtime keys included).
    """

    outputs: dict[str, list[Record[Any]]] = field(default_factory=dict)
    state: dict[int, dict[str, Any]] = field(default_factory=dict)
    raw_state: dict[int, dict[str, bytes]] = field(default_factory=dict)

    def records(self, stream: str) -> list[Record[Any]]:
        """The records emitted to ``stream`` (empty if none)."""
        return self.outputs.get(stream, [])

    def events(self, stream: str) -> list[Any]:
        """The payloads emitted to ``stream`` (empty if none)."""
        return [r.data for r in self.outputs.get(stream, [])]

    @overload
    def value(self, key: str) -> Any: ...
    @overload
    def value(self, key: str, type: type[T]) -> T | None: ...

    def value(self, key: str, type: Any = None) -> Any:
        """The final state of ``key`` (decoded as ``type`` when given), from any partition."""
        for stored in self.raw_state.values():
            if key in stored:
                return decode_value(stored[key], type)
        return None


class _Sink:
    """Places emitted events as the log would: partition by key, offsets in order, dedupe ids."""

    def __init__(self, registry: Registry, clock: ManualClock) -> None:
        self.registry = registry
        self.clock = clock
        self.outputs: dict[str, list[Record[Any]]] = {}
        self.next: dict[tuple[str, int], int] = defaultdict(int)
        self.seen: dict[str, set[str]] = defaultdict(set)

    def place(self, stream: str, event: NewEvent, default_id: str) -> Record[Any]:
        partitions = self.registry.spec(stream).partitions
        event_id = event.id or default_id
        partition = partition_for(event.key or event_id, partitions) if partitions > 1 else 0
        offset = self.next[(stream, partition)]
        self.next[(stream, partition)] = offset + 1
        now = self.clock.now()
        return Record(
            event_id,
            stream,
            event.key,
            partition,
            offset,
            event.time or now,
            now,
            event.causation_id,
            event.data,
        )

    def apply(self, step: Step) -> None:
        for stream, event in step.emit:
            assert event.id is not None
            if event.id in self.seen[stream]:
                continue  # the log acknowledges a duplicate id without storing it again
            self.seen[stream].add(event.id)
            self.outputs.setdefault(stream, []).append(self.place(stream, event, event.id))


def run(
    processor: Processor,
    events: Iterable[Item],
    *,
    clock: ManualClock | None = None,
    registry: Registry = default_registry,
    batch_size: int = 1000,
    restart_every: int | None = None,
) -> RunResult:
    """Run ``processor`` over ``events`` with no backend; return its outputs and final state.

    Args:
        processor: The processor under test.
        events: Payloads, envelopes, ``(stream, event)`` pairs and :class:`Advance` items.
        clock: Processing time (a fresh :class:`ManualClock` by default); also the default
            event time of events that have none.
        registry: Where the processor's streams are registered.
        batch_size: Most consecutive events of one (stream, partition) handled as one batch.
        restart_every: Rebuild each partition from its committed state after this many
            batches, as a restarted worker would; results must not change.

    Raises:
        ValueError: a payload without a stream is given to a processor with several inputs,
            or an event names a stream the processor does not read.
        SchemaMismatchError: an event does not belong to its stream.
    """
    harness = _Harness(processor, clock or ManualClock(), registry, batch_size, restart_every)
    for item in events:
        if isinstance(item, Advance):
            harness.advance(item.by)
        else:
            harness.add(item)
    return harness.finish()


class _Harness:
    """:func:`run`'s partitions: batches of consecutive events per partition, handed to each
    partition's engine, their steps applied to an in-memory sink."""

    def __init__(
        self,
        processor: Processor,
        clock: ManualClock,
        registry: Registry,
        batch_size: int,
        restart_every: int | None,
    ) -> None:
        self.processor, self.clock, self.registry = processor, clock, registry
        self.batch_size, self.restart_every = batch_size, restart_every
        self.partitions = processor.partitions(registry)
        self.sink = _Sink(registry, clock)
        self.inputs = _Sink(registry, clock)
        self.engines: dict[int, PartitionEngine] = {}
        self.pending: dict[int, tuple[str, list[Record[Any]]]] = {}
        self.batches = 0
        self.count = 0

    def _engine(self, partition: int, stored: dict[str, bytes] | None = None) -> PartitionEngine:
        return PartitionEngine(
            self.processor, partition, stored or {}, registry=self.registry, clock=self.clock
        )

    def add(self, item: Item) -> None:
        """Place one event on its partition, closing that partition's batch when it changes
        stream or is full."""
        processor = self.processor
        stream, event = _envelope(processor, item)
        if stream not in processor.inputs:
            raise ValueError(f"processor {processor.name!r} does not read stream {stream!r}")
        self.registry.check(stream, event.data)  # as the log would, on append
        self.count += 1
        record = self.inputs.place(stream, event, f"test-{self.count}")
        if record.partition >= self.partitions:
            raise ValueError(f"stream {stream!r} is not co-partitioned with the processor")
        current = self.pending.get(record.partition)
        if current is not None and (current[0] != stream or len(current[1]) >= self.batch_size):
            self._flush(record.partition)
            current = None
        if current is None:
            self.pending[record.partition] = (stream, [record])
        else:
            current[1].append(record)

    def advance(self, by: timedelta) -> None:
        """Close every batch, move processing time on and fire the timers now due."""
        self._flush_all()
        self.clock.advance(by)
        for partition in sorted(self.engines):
            step = self.engines[partition].fire_processing_timers()
            if step is not None:
                self.sink.apply(step)

    def _flush(self, partition: int) -> None:
        stream, records = self.pending.pop(partition)
        if partition not in self.engines:
            self.engines[partition] = self._engine(partition)
        self.sink.apply(self.engines[partition].process(stream, records))
        self.batches += 1
        if self.restart_every and self.batches % self.restart_every == 0:
            for index, old in list(self.engines.items()):
                self.engines[index] = self._engine(index, old.store.snapshot())

    def _flush_all(self) -> None:
        for partition in sorted(self.pending):
            self._flush(partition)

    def finish(self) -> RunResult:
        """Close every batch; the outputs and each partition's final state."""
        self._flush_all()
        result = RunResult(outputs=self.sink.outputs)
        for partition, engine in sorted(self.engines.items()):
            stored = engine.store.snapshot()
            result.raw_state[partition] = stored
            result.state[partition] = {
                k: decode_value(v) for k, v in sorted(stored.items()) if not k.startswith(RESERVED)
            }
        return result


def _envelope(processor: Processor, item: Any) -> tuple[str, NewEvent]:
    if isinstance(item, tuple):
        stream, event = item
    else:
        if len(processor.inputs) != 1:
            raise ValueError(
                f"processor {processor.name!r} reads {len(processor.inputs)} streams; "
                "give each event as a (stream, event) pair"
            )
        stream, event = processor.inputs[0], item
    if isinstance(event, Event):
        event = NewEvent(event)
    return stream, event
