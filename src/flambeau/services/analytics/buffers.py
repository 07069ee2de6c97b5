"""Columnar buffers of the recent past: each queryable stream's last minutes as an Arrow table.

A :class:`RecentBuffers` follows its streams with a view (:func:`flambeau.processing.view_of`)
and appends each record's fields to per-column Python lists; the first query after new records
arrived turns them into one Arrow record batch, appended to the stream's chunks. A query
therefore never re-reads the log: it gets the chunks already built, zero-copy.

Columns: ``_time`` (the event time, UTC), ``_key``, ``type`` (the payload's tag) and every
field of every payload type of the stream (``null`` where a type lacks it). Numbers stay
numbers, timestamps become ``TIMESTAMP WITH TIME ZONE``, anything nested is JSON text; text
is dictionary-encoded (:data:`TEXT`).

The same view folds ``mobility.transit`` into :attr:`RecentBuffers.lines` (every line's state
changes, :mod:`.transit`), which the forecast reads; it is not queryable.

Retention is by event time: chunks whose newest event is older than the buffer's newest event
minus :attr:`RecentBuffers.window` are dropped, so a buffer holds at least the last ``window``
of every stream (and at most one chunk more).
"""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pyarrow as pa

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.analytics.transit import Lines
from flambeau.services.mobility.schemas import TRANSIT, LineStatus

__all__ = ["DEFAULT_WINDOW", "QUERYABLE", "RecentBuffers", "StreamBuffer", "arrow_schema"]

DEFAULT_WINDOW = timedelta(minutes=60)
"""How much event time each buffer keeps at least."""
QUERYABLE = ("analytics.facts", "analytics.kpis", "crowds.venues", "payments.alerts")
"""The streams ``POST /v1/analytics/sql`` can query (flat payloads, useful for analysis)."""
TEXT = pa.dictionary(pa.int32(), pa.string())
"""Text columns are dictionary-encoded: venues, categories and tags repeat, and DuckDB filters
and groups dictionary columns several times faster than plain strings."""
_META = (("_time", pa.timestamp("us", tz="UTC")), ("_key", TEXT), ("type", TEXT))


def _arrow_type(hint: Any) -> pa.DataType:
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if isinstance(hint, type):
        if issubclass(hint, bool):
            return pa.bool_()
        if issubclass(hint, enum.Enum):
            return TEXT
        if issubclass(hint, int):
            return pa.int64()
        if issubclass(hint, float):
            return pa.float64()
        if issubclass(hint, datetime):
            return pa.timestamp("us", tz="UTC")
        if issubclass(hint, str):
            return TEXT
    return TEXT  # nested or union fields travel as JSON text


def arrow_schema(payload_types: Any) -> pa.Schema:
    """The Arrow schema of a stream whose payloads are ``payload_types`` (a type or a union)."""
    members = typing.get_args(payload_types) or (payload_types,)
    fields: dict[str, pa.DataType] = dict(_META)
    for member in members:
        hints = typing.get_type_hints(member, include_extras=True)
        for name in msgspec.structs.fields(member):
            fields.setdefault(name.name, _arrow_type(hints[name.name]))
    return pa.schema(list(fields.items()))


@dataclass
class StreamBuffer:
    """One stream's recent records: built Arrow chunks, and rows not yet converted."""

    schema: pa.Schema
    window: timedelta
    chunks: list[tuple[datetime, pa.RecordBatch]] = field(default_factory=list)
    pending: dict[str, list[Any]] = field(default_factory=dict)
    newest: datetime | None = None
    rows: int = 0
    _text: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        self.pending = {name: [] for name in self.schema.names}
        self._text = frozenset(f.name for f in self.schema if f.type == TEXT)

    def add(self, record: Record[Any]) -> None:
        """Queue one record's fields."""
        data = record.data
        values = msgspec.structs.asdict(data)
        pending = self.pending
        pending["_time"].append(record.time)
        pending["_key"].append(record.key)
        pending["type"].append(type(data).__struct_config__.tag)
        for name, column in pending.items():
            if name in _FIXED:
                continue
            value = values.get(name)
            if isinstance(value, enum.Enum):
                value = value.value
            if name in self._text and value is not None and not isinstance(value, str):
                value = _as_text(value)
            column.append(value)
        if self.newest is None or record.time > self.newest:
            self.newest = record.time

    def table(self) -> pa.Table:
        """Every kept record as one table (converting the queued rows first)."""
        count = len(self.pending["_time"])
        if count:
            batch = pa.record_batch(
                [pa.array(self.pending[f.name], f.type) for f in self.schema], schema=self.schema
            )
            self.chunks.append((max(self.pending["_time"]), batch))
            self.pending = {name: [] for name in self.schema.names}
            self.rows += count
        if self.newest is not None:
            cutoff = self.newest - self.window
            while self.chunks and self.chunks[0][0] < cutoff:
                self.rows -= self.chunks.pop(0)[1].num_rows
        return pa.Table.from_batches([c for _, c in self.chunks], schema=self.schema)


_FIXED = frozenset(name for name, _ in _META)


def _as_text(value: Any) -> str:
    """A value of a text column that is not text (a nested value, or a member of a union such
    as ``datetime | None``): ISO 8601 for a time, JSON for anything else."""
    if isinstance(value, datetime):
        return value.isoformat()
    return msgspec.json.encode(value).decode()


class RecentBuffers:
    """The buffers of :data:`QUERYABLE`, kept live by one view per log."""

    def __init__(self, log: Log, window: timedelta = DEFAULT_WINDOW) -> None:
        self.window = window
        self.buffers = {
            stream: StreamBuffer(arrow_schema(log.registry.spec(stream).schema), window)
            for stream in QUERYABLE
        }
        self.lines = Lines()

    def fold(self, record: Record[Any]) -> None:
        """Apply one record of a queryable stream, or a line state."""
        if record.stream == TRANSIT:
            if isinstance(record.data, LineStatus):
                self.lines.fold(record.time, record.data)
            return
        self.buffers[record.stream].add(record)

    def tables(self, streams: typing.Iterable[str]) -> dict[str, pa.Table]:
        """The current table of each of ``streams``."""
        return {stream: self.buffers[stream].table() for stream in streams}


def recent_buffers(log: Log) -> tuple[View, RecentBuffers]:
    """The running view feeding the buffers of ``log``, and the buffers."""
    holder: list[RecentBuffers] = []

    def factory() -> Any:
        holder.append(RecentBuffers(log))
        return holder[0].fold

    view = view_of(log, "analytics.buffers", (*QUERYABLE, TRANSIT), factory)
    owner = getattr(view.fold, "__self__", None)
    if not isinstance(owner, RecentBuffers):  # pragma: no cover - the factory always binds one
        raise TypeError("the analytics view folds into something other than RecentBuffers")
    return view, owner
