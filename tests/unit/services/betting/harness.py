"""Run several processors together over in-memory streams, with one manual clock.

``flambeau.testing.run`` drives one processor; the betting service is three processors that
talk through streams (and a fourth, the payments ledger, downstream). :class:`Desk` places
events as the log would (partition by key hash, offsets in order, duplicate ids dropped), feeds
every processor partition with the same engine the worker uses, and repeats until nothing moves.
Processing-time timers fire only when the test moves the clock (:meth:`Desk.advance`), so a live
delay lasts exactly as long as the test says.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.events import Event, NewEvent, Record, Registry, default_registry
from flambeau.log import partition_for
from flambeau.processing import ManualClock, Processor
from flambeau.processing.engine import PartitionEngine, Step

START = datetime(2024, 7, 30, 18, 0, tzinfo=UTC)


class Desk:
    """Processors wired together by their streams."""

    def __init__(
        self,
        processors: Sequence[Processor],
        *,
        clock: ManualClock | None = None,
        registry: Registry = default_registry,
    ) -> None:
        self.clock = clock or ManualClock(START)
        self.registry = registry
        self.processors = list(processors)
        self.engines: dict[tuple[str, int], PartitionEngine] = {}
        for processor in self.processors:
            for partition in range(processor.partitions(registry)):
                self.engines[(processor.name, partition)] = PartitionEngine(
                    processor, partition, {}, registry=registry, clock=self.clock
                )
        self.partitions: dict[str, list[list[Record[Any]]]] = {}
        self.order: dict[str, list[Record[Any]]] = defaultdict(list)
        self.positions: dict[tuple[str, str, int], int] = defaultdict(int)
        self.ids: set[tuple[str, str]] = set()
        self._counter = itertools.count(1)

    # ------------------------------------------------------------------ the log

    def _place(self, stream: str, event: NewEvent) -> Record[Any] | None:
        event_id = event.id or f"desk-{next(self._counter)}"
        if (stream, event_id) in self.ids:
            return None
        self.ids.add((stream, event_id))
        count = self.registry.spec(stream).partitions
        parts = self.partitions.setdefault(stream, [[] for _ in range(count)])
        partition = partition_for(event.key or event_id, count) if count > 1 else 0
        now = self.clock.now()
        record: Record[Any] = Record(
            event_id,
            stream,
            event.key,
            partition,
            len(parts[partition]),
            event.time or now,
            now,
            event.causation_id,
            event.data,
        )
        parts[partition].append(record)
        self.order[stream].append(record)
        return record

    def send(
        self,
        stream: str,
        data: Event,
        *,
        key: str,
        time: datetime | None = None,
        event_id: str | None = None,
    ) -> Record[Any] | None:
        """Append one event as a producer would, then run every processor until idle."""
        record = self._place(stream, NewEvent(data, key, event_id, time))
        self.run()
        return record

    def _apply(self, step: Step) -> None:
        for stream, event in step.emit:
            self._place(stream, event)

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Feed every processor partition what it has not read, until nothing new appears."""
        moved = True
        while moved:
            moved = False
            for processor in self.processors:
                for stream in processor.inputs:
                    parts = self.partitions.get(stream)
                    if parts is None:
                        continue
                    for partition, records in enumerate(parts):
                        at = (processor.name, stream, partition)
                        start = self.positions[at]
                        if start >= len(records):
                            continue
                        self.positions[at] = len(records)
                        engine = self.engines[(processor.name, partition)]
                        self._apply(engine.process(stream, records[start:]))
                        moved = True

    def advance(self, by: timedelta = timedelta(0)) -> None:
        """Move the clock, fire the processing-time timers due, and run until idle."""
        self.clock.advance(by)
        fired = True
        while fired:
            fired = False
            for engine in self.engines.values():
                step = engine.fire_processing_timers()
                if step is not None:
                    self._apply(step)
                    fired = True
            self.run()

    # ------------------------------------------------------------------ reading

    def events(self, stream: str) -> list[Any]:
        """Payloads appended to ``stream``, in append order."""
        return [record.data for record in self.order[stream]]

    def records(self, stream: str) -> list[Record[Any]]:
        """Records appended to ``stream``, in append order."""
        return list(self.order[stream])
