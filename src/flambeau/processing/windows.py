"""Event-time windows: tumbling, hopping, sliding and session, each with a grace period.

Declare a window on a processor, feed it from the batch handler, and say how a result becomes
an event::

    per_minute = totals.window(
        "per_minute", Tumbling(timedelta(minutes=1)), grace=timedelta(seconds=10),
        agg="sum", output="bench.totals",
        to_event=lambda r: Total(key=r.key, start=r.start, total=r.value),
    )

    @totals.on_batch
    def apply(batch: Batch[Reading], tx: Transaction) -> None:
        per_minute.add(tx, batch, [reading.value for reading in batch.data])

Semantics, per partition (event time is ``Record.time``; the *watermark* is the largest event
time the partition has seen, over all the processor's inputs):

- **Tumbling(size)**: windows ``[start, start + size)`` with ``start`` a multiple of ``size``
  from ``align``; each event is in exactly one.
- **Hopping(size, hop)**: windows ``[start, start + size)`` with ``start`` a multiple of
  ``hop``; an event is in every window that contains it.
- **Sliding(size)**: one window ``(t - size, t]`` per distinct event time ``t`` of a key: the
  aggregate of the key's last ``size`` of event time, as of each event.
- **Session(gap)**: a key's events closer than ``gap`` to each other chain into one session,
  reported as ``[first event time, last event time + gap)``.

A window *closes* when the watermark reaches its end plus ``grace`` (a session's end is its last
event time plus ``gap``). An event arriving for a closed window does not count in it; an event
that counts in no window at all (for sliding windows: whose own window is closed; for sessions:
that joins no open session and whose own session would be closed) is *late* and goes to the
``<processor>.late`` stream, never silently dropped. Closed sessions are never reopened.

``emit="final"`` emits each window once, when it closes. ``emit="current"`` emits a window's
value whenever a batch changes it (updates within one batch are coalesced to the last), and
nothing more when it closes: its last update already carried the final value.

Aggregations are numeric (``sum``, ``count``, ``min``, ``max``, ``mean``); tumbling and hopping
windows aggregate a whole batch with numpy, sliding and session windows per event.

This module holds only the definitions. A window's per-partition state (``_windowing.py`` for
tumbling and hopping, ``_sessions.py`` for sliding and session windows) belongs to the
partition's engine, which opens it for each declared window and folds in the rows that
:meth:`Window.add` queued on the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol, get_args

import msgspec
import numpy as np
import numpy.typing as npt

from flambeau.events import Event
from flambeau.processing._time import EPOCH
from flambeau.processing.batch import Batch

__all__ = [
    "Agg",
    "Emit",
    "Hopping",
    "Session",
    "Sliding",
    "Tumbling",
    "Window",
    "WindowResult",
    "WindowSpec",
]

Agg = Literal["sum", "count", "min", "max", "mean"]


class Emit(StrEnum):
    """When a window's value is emitted."""

    CURRENT = "current"
    FINAL = "final"


@dataclass(frozen=True)
class Tumbling:
    """Back-to-back windows of ``size``; ``align`` is an instant that starts a window."""

    size: timedelta
    align: datetime = EPOCH


@dataclass(frozen=True)
class Hopping:
    """Windows of ``size`` starting every ``hop``; ``align`` is an instant that starts one."""

    size: timedelta
    hop: timedelta
    align: datetime = EPOCH


@dataclass(frozen=True)
class Sliding:
    """Per key, the window ``(t - size, t]`` ending at each event time ``t``."""

    size: timedelta


@dataclass(frozen=True)
class Session:
    """Per key, runs of events less than ``gap`` apart."""

    gap: timedelta


WindowSpec = Tumbling | Hopping | Sliding | Session


class WindowResult(msgspec.Struct, frozen=True):
    """One window's value for one key, as ``to_event`` receives it.

    Attributes:
        key: The aggregation key (the record key unless ``add`` was given keys).
        start: Window start, UTC (exclusive for sliding windows, inclusive otherwise).
        end: Window end, UTC (inclusive for sliding windows, exclusive otherwise).
        value: The aggregate: ``int`` for ``count`` and for ``sum``/``min``/``max`` of an
            ``int`` window, ``float`` otherwise.
        count: How many events the window holds.
        final: ``True`` when the window has closed (``emit="final"``).
    """

    key: str
    start: datetime
    end: datetime
    value: int | float
    count: int
    final: bool


ToEvent = Callable[[WindowResult], Event | None]


class RowSink(Protocol):
    """What :meth:`Window.add` needs of a transaction: a place to queue the window's rows.

    A window is a definition only; its per-partition state lives with the engine, which folds
    the queued rows in when the batch commits.
    """

    def stage_window(
        self, window: Window, index: npt.NDArray[Any], keys: list[str], values: npt.NDArray[Any]
    ) -> None:
        """Queue ``values`` of ``keys`` at batch positions ``index`` for ``window``."""
        ...


class Window:
    """A windowed aggregation, declared with :meth:`Processor.window`."""

    def __init__(
        self,
        processor: str,
        name: str,
        spec: WindowSpec,
        *,
        grace: timedelta,
        agg: Agg,
        emit: Emit | str,
        output: str,
        to_event: ToEvent,
        dtype: type[int] | type[float],
    ) -> None:
        if agg not in get_args(Agg):
            raise ValueError(f"window {name!r}: agg must be one of {get_args(Agg)}, got {agg!r}")
        if dtype not in (int, float):
            raise ValueError(f"window {name!r}: dtype must be int or float, got {dtype!r}")
        if grace < timedelta(0):
            raise ValueError(f"window {name!r}: grace must not be negative")
        _check_spec(name, spec)
        self.processor = processor
        self.name = name
        self.spec = spec
        self.grace = grace
        self.agg: Agg = agg
        self.emit = Emit(emit)
        self.output = output
        self.to_event = to_event
        self.dtype = dtype
        self.np_dtype: type[np.generic] = np.int64 if dtype is int else np.float64

    def __repr__(self) -> str:
        return f"Window({self.processor!r}, {self.name!r}, {self.spec!r}, agg={self.agg!r})"

    def add(
        self,
        tx: RowSink,
        batch: Batch[Any],
        values: Sequence[float] | npt.ArrayLike | None = None,
        *,
        keys: Sequence[str] | None = None,
        where: npt.ArrayLike | None = None,
    ) -> None:
        """Add the batch's events to the window, at their event times.

        Args:
            tx: The handler's transaction (a :class:`~flambeau.processing.Transaction`); the
                events count only if the batch commits.
            batch: The batch (or a slice of it) the handler received.
            values: One number per record; may be omitted for ``agg="count"``.
            keys: One aggregation key per record; defaults to the record keys.
            where: A boolean mask selecting which records to add.

        Raises:
            ValueError: ``values``, ``keys`` or ``where`` do not have one entry per record.
        """
        size = len(batch)
        if values is None:
            if self.agg != "count":
                raise ValueError(f"window {self.name!r} ({self.agg}) needs values")
            array = np.zeros(size, self.np_dtype)
        else:
            array = np.asarray(values, dtype=self.np_dtype)
            if array.shape != (size,):
                raise ValueError(
                    f"window {self.name!r}: {array.shape[0] if array.ndim else 0} values "
                    f"for {size} records"
                )
        key_list = batch.keys if keys is None else list(keys)
        if len(key_list) != size:
            raise ValueError(f"window {self.name!r}: {len(key_list)} keys for {size} records")
        start, _ = batch.span
        index = np.arange(start, start + size, dtype=np.int64)
        if where is not None:
            mask = np.asarray(where, dtype=bool)
            if mask.shape != (size,):
                raise ValueError(f"window {self.name!r}: the mask needs one entry per record")
            index = index[mask]
            array = array[mask]
            key_list = [k for k, keep in zip(key_list, mask.tolist(), strict=True) if keep]
        tx.stage_window(self, index, key_list, array)


def _check_spec(name: str, spec: WindowSpec) -> None:
    one_us = timedelta(microseconds=1)
    if isinstance(spec, Tumbling | Sliding) and spec.size < one_us:
        raise ValueError(f"window {name!r}: size must be at least 1 microsecond")
    if isinstance(spec, Hopping) and (spec.size < one_us or spec.hop < one_us):
        raise ValueError(f"window {name!r}: size and hop must be at least 1 microsecond")
    if isinstance(spec, Hopping) and spec.hop > spec.size:
        raise ValueError(f"window {name!r}: hop must not exceed size (windows would leave gaps)")
    if isinstance(spec, Session) and spec.gap < one_us:
        raise ValueError(f"window {name!r}: gap must be at least 1 microsecond")
    if not isinstance(spec, Tumbling | Hopping | Sliding | Session):
        raise TypeError(f"window {name!r}: unknown window spec {spec!r}")
