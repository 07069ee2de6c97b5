"""Processors: named, stateful reactions to streams.

A :class:`Processor` reads one or more co-partitioned input streams, keeps keyed state per
partition, and emits events. Its batch handler receives consecutive records of one
(stream, partition) at a time::

    medals = Processor(
        "results.medals", inputs=["results.medallists"], outputs=["results.medals"]
    )

    @medals.on_batch
    def apply(batch: Batch[Medallist], tx: Transaction) -> None:
        for record in batch:
            ...
            tx.emit("results.medals", MedalTableChanged(...), key=..., causation_id=record.id)

A processor declares every stream it emits to in ``outputs``: the registry then records it as
that stream's writer, so the gateway's generic ingest refuses the stream (nobody else may forge
what a processor derives), and an emit to any other stream raises
:class:`~flambeau.processing.errors.UndeclaredOutputError`. Its side streams are declared for it.

Processors are registered in a :class:`ProcessorRegistry` (``default_processors`` for the
``flambeau worker`` command) and run by :class:`~flambeau.processing.runtime.Worker`, or with no
backend at all by :func:`flambeau.testing.run`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from flambeau.errors import StreamWriterConflictError
from flambeau.events import Registry, Writer, default_registry
from flambeau.processing.batch import Batch
from flambeau.processing.errors import (
    ProcessorConfigError,
    UndeclaredOutputError,
    UnknownProcessorError,
)
from flambeau.processing.sidestreams import register_side_streams
from flambeau.processing.timers import Timer
from flambeau.processing.transaction import Transaction
from flambeau.processing.windows import Agg, Emit, ToEvent, Window, WindowSpec

__all__ = ["BatchHandler", "Processor", "ProcessorRegistry", "TimerHandler", "default_processors"]

BatchHandler = Callable[[Batch[Any], Transaction], None]
TimerHandler = Callable[[Timer, Transaction], None]

PROCESSOR_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
WINDOW_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class Processor:
    """A named processor over ``inputs``.

    Args:
        name: Dotted lower-case name, for example ``"results.medals"``; also its consumer
            group and the prefix of its side streams ``<name>.late`` and ``<name>.dead``.
        inputs: The streams it reads; several streams must have the same partition count.
        outputs: Every stream it emits to (its windows' outputs included); it becomes their
            writer, and an emit to any other stream raises
            :class:`~flambeau.processing.errors.UndeclaredOutputError`.
        registry: Where its side streams are registered (the process-wide one by default).
        cold: State key prefixes whose values stay on local disk, not in memory, while a worker
            owns a partition (see :mod:`.state`): for state that grows with history and is
            read rarely.

    Raises:
        ProcessorConfigError: the name, the inputs, the outputs or a cold prefix is malformed,
            or an output already has a writer this processor cannot join.
    """

    def __init__(
        self,
        name: str,
        inputs: Sequence[str],
        *,
        outputs: Sequence[str],
        registry: Registry = default_registry,
        cold: Sequence[str] = (),
    ) -> None:
        if not PROCESSOR_NAME.match(name):
            raise ProcessorConfigError(
                f"processor name {name!r} must be dotted lower case, like 'results.medals'"
            )
        if isinstance(inputs, str) or not inputs:
            raise ProcessorConfigError(f"processor {name!r} needs a list of input streams")
        if len(set(inputs)) != len(inputs):
            raise ProcessorConfigError(f"processor {name!r} lists an input stream twice")
        _check_outputs(name, outputs)
        if isinstance(cold, str) or any(not p or p.startswith("~") for p in cold):
            raise ProcessorConfigError(
                f"processor {name!r}: cold prefixes must be a list of non-empty prefixes "
                f"not starting with '~' (the runtime's own keys), got {cold!r}"
            )
        self.name = name
        self.inputs: tuple[str, ...] = tuple(inputs)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self.cold: tuple[str, ...] = tuple(cold)
        self.handler: BatchHandler | None = None
        self.timer_handler: TimerHandler | None = None
        self.windows: list[Window] = []
        self.late_stream, self.dead_stream = self.declare(registry)
        self.writes: frozenset[str] = frozenset((*self.outputs, self.late_stream, self.dead_stream))

    def __repr__(self) -> str:
        return (
            f"Processor({self.name!r}, inputs={list(self.inputs)!r}, "
            f"outputs={list(self.outputs)!r})"
        )

    def declare(self, registry: Registry) -> tuple[str, str]:
        """Register its side streams and record it as the writer of its outputs in ``registry``;
        return the side streams' names.

        Raises:
            ProcessorConfigError: an output already has a writer this processor cannot join.
        """
        writer = Writer.processor(self.name, self.inputs)
        try:
            for stream in self.outputs:
                registry.declare_writer(stream, writer)
            return register_side_streams(registry, self.name, self.inputs)
        except StreamWriterConflictError as exc:
            raise ProcessorConfigError(f"processor {self.name!r}: {exc}") from None

    def check_output(self, stream: str) -> None:
        """Raise unless the processor may emit to ``stream``.

        Raises:
            UndeclaredOutputError: ``stream`` is neither in ``outputs`` nor a side stream.
        """
        if stream not in self.writes:
            declared = ", ".join(self.outputs) or "none"
            raise UndeclaredOutputError(
                f"processor {self.name!r} emitted to stream {stream!r}, which is not among its "
                f"declared outputs ({declared}); add it to Processor(..., outputs=[...])"
            )

    def on_batch(self, handler: BatchHandler) -> BatchHandler:
        """Decorator: the function called with each batch and its transaction.

        Raises:
            ProcessorConfigError: a batch handler is already set.
        """
        if self.handler is not None:
            raise ProcessorConfigError(f"processor {self.name!r} already has a batch handler")
        self.handler = handler
        return handler

    def on_timer(self, handler: TimerHandler) -> TimerHandler:
        """Decorator: the function called with each due timer and its transaction.

        Raises:
            ProcessorConfigError: a timer handler is already set.
        """
        if self.timer_handler is not None:
            raise ProcessorConfigError(f"processor {self.name!r} already has a timer handler")
        self.timer_handler = handler
        return handler

    def window(
        self,
        name: str,
        spec: WindowSpec,
        *,
        grace: timedelta,
        output: str,
        to_event: ToEvent,
        agg: Agg = "sum",
        emit: Emit | str = Emit.FINAL,
        dtype: type[int] | type[float] = float,
    ) -> Window:
        """Declare a windowed aggregation; feed it with ``window.add(tx, batch, values)``.

        Args:
            name: Unique within the processor (lower case); names its state and late events.
            spec: ``Tumbling``, ``Hopping``, ``Sliding`` or ``Session``.
            grace: How long after a window's end (in event time) it still accepts events.
            output: The stream results are emitted to.
            to_event: Builds the payload of each :class:`WindowResult` (``None`` skips it).
            agg: ``"sum"``, ``"count"``, ``"min"``, ``"max"`` or ``"mean"``.
            emit: ``"final"`` (once, when the window closes) or ``"current"`` (on updates).
            dtype: ``int`` (exact, for money in minor units) or ``float`` values.

        Raises:
            ProcessorConfigError: the name is malformed or taken, or ``output`` is not among
                the processor's ``outputs``.
            ValueError: a parameter is out of range.
        """
        if not WINDOW_NAME.match(name):
            raise ProcessorConfigError(f"window name {name!r} must be lower case, like 'minute'")
        if output not in self.outputs:
            raise ProcessorConfigError(
                f"window {name!r} of processor {self.name!r} emits to {output!r}, which is not "
                f"among the processor's outputs ({', '.join(self.outputs) or 'none'})"
            )
        if any(w.name == name for w in self.windows):
            raise ProcessorConfigError(f"processor {self.name!r} already has a window {name!r}")
        window = Window(
            self.name,
            name,
            spec,
            grace=grace,
            agg=agg,
            emit=emit,
            output=output,
            to_event=to_event,
            dtype=dtype,
        )
        self.windows.append(window)
        return window

    def partitions(self, registry: Registry) -> int:
        """The partition count shared by every input, checked against ``registry`` (where its
        side streams are registered and its outputs' writer recorded, as in :meth:`declare`).

        Raises:
            UnknownStreamError: an input or an output is not registered.
            ProcessorConfigError: no batch handler, the inputs are not co-partitioned, or an
                output has another writer.
        """
        if self.handler is None:
            raise ProcessorConfigError(f"processor {self.name!r} has no on_batch handler")
        counts = {stream: registry.spec(stream).partitions for stream in self.inputs}
        if len(set(counts.values())) != 1:
            shown = ", ".join(f"{s} has {n}" for s, n in counts.items())
            raise ProcessorConfigError(
                f"processor {self.name!r} reads streams with different partition counts "
                f"({shown}); inputs must be co-partitioned"
            )
        self.declare(registry)
        for stream in self.outputs:
            registry.spec(stream)
        return next(iter(counts.values()))


def _check_outputs(name: str, outputs: Sequence[str]) -> None:
    if isinstance(outputs, str):
        raise ProcessorConfigError(
            f"processor {name!r}: outputs must be a list of stream names, got {outputs!r}"
        )
    if len(set(outputs)) != len(outputs):
        raise ProcessorConfigError(f"processor {name!r} lists an output stream twice")
    side = {f"{name}.late", f"{name}.dead"}.intersection(outputs)
    if side:
        raise ProcessorConfigError(
            f"processor {name!r}: {', '.join(sorted(side))} is declared by the runtime; "
            "leave it out of outputs"
        )


class ProcessorRegistry:
    """Processors by name; services register theirs, ``flambeau worker`` runs them."""

    def __init__(self) -> None:
        self._processors: dict[str, Processor] = {}

    def register(self, processor: Processor) -> Processor:
        """Add ``processor`` (again is fine) and return it.

        Raises:
            ProcessorConfigError: another processor has the same name.
        """
        known = self._processors.get(processor.name)
        if known is not None and known is not processor:
            raise ProcessorConfigError(
                f"a processor named {processor.name!r} is already registered"
            )
        self._processors[processor.name] = processor
        return processor

    def get(self, name: str) -> Processor:
        """The processor called ``name``.

        Raises:
            UnknownProcessorError: none is registered under that name.
        """
        try:
            return self._processors[name]
        except KeyError:
            known = ", ".join(sorted(self._processors)) or "none"
            raise UnknownProcessorError(
                f"no processor named {name!r} is registered (known: {known})"
            ) from None

    def select(self, names: Sequence[str] | None = None) -> list[Processor]:
        """The processors called ``names``, or all of them, sorted by name."""
        if names is None:
            return [self._processors[n] for n in sorted(self._processors)]
        return [self.get(name) for name in names]

    def __iter__(self) -> Iterator[Processor]:
        return iter(self.select())

    def __contains__(self, name: object) -> bool:
        return name in self._processors

    def __len__(self) -> int:
        return len(self._processors)


default_processors = ProcessorRegistry()
"""The processors ``flambeau worker`` runs; services register theirs at import time."""
