"""A batch: consecutive records of one input stream's partition, handed to a handler at once.

Handlers may iterate typed records (``for record in batch``) or take columns for vectorised
work: ``batch.data`` (payloads), ``batch.keys``, ``batch.ids`` and ``batch.times`` (event times
as an int64 numpy array of microseconds since the Unix epoch). Columns are computed once and
shared by every slice of the batch; payloads are decoded in one call for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import msgspec
import numpy as np
import numpy.typing as npt

from flambeau.events import Record, pack_array

__all__ = ["Batch"]

T = TypeVar("T")

BulkDecoder = Callable[[bytes], list[Any]]


class Columns:
    """The records of a whole batch and their lazily computed columns (shared by slices)."""

    __slots__ = ("_data", "_ids", "_index", "_keys", "_times", "_typed", "decode", "records")

    def __init__(self, records: Sequence[Record[Any]], decode: BulkDecoder | None) -> None:
        self.records = records
        self.decode = decode  # None: payloads are already typed
        self._data: list[Any] | None = None
        self._typed: list[Record[Any]] | None = None
        self._times: npt.NDArray[np.int64] | None = None
        self._keys: list[str] | None = None
        self._ids: list[str] | None = None
        self._index: dict[str, int] | None = None

    def data(self) -> list[Any]:
        if self._data is None:
            if self.decode is None:
                self._data = [r.data for r in self.records]
            else:
                self._data = self.decode(pack_array([r.data for r in self.records]))
        return self._data

    def typed(self) -> list[Record[Any]]:
        if self._typed is None:
            if self.decode is None:
                self._typed = list(self.records)
            else:
                replace = msgspec.structs.replace
                self._typed = [
                    replace(r, data=d) for r, d in zip(self.records, self.data(), strict=True)
                ]
        return self._typed

    def times(self) -> npt.NDArray[np.int64]:
        if self._times is None:
            seconds = np.fromiter(
                (r.time.timestamp() for r in self.records), np.float64, len(self.records)
            )
            # float seconds carry well under half a microsecond of error for current dates
            self._times = np.rint(seconds * 1e6).astype(np.int64)
        return self._times

    def keys(self) -> list[str]:
        if self._keys is None:
            self._keys = [r.key for r in self.records]
        return self._keys

    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = [r.id for r in self.records]
        return self._ids

    def raw_payload(self, index: int) -> bytes:
        """The MessagePack payload of record ``index`` (for dead letters and late events)."""
        data = self.records[index].data
        if isinstance(data, msgspec.Raw):
            return bytes(data)
        return msgspec.msgpack.encode(data)

    def index_of(self, event_id: str) -> int | None:
        """The position of the record with id ``event_id``, if it is in the batch."""
        if self._index is None:
            self._index = {r.id: i for i, r in enumerate(self.records)}
        return self._index.get(event_id)


class Batch(Generic[T]):
    """Consecutive records of one (stream, partition); ``T`` is the stream's payload union."""

    __slots__ = ("_cols", "_start", "_stop", "partition", "stream")

    def __init__(
        self,
        stream: str,
        partition: int,
        records: Sequence[Record[Any]] | Columns,
        decode: BulkDecoder | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        self.stream = stream
        self.partition = partition
        self._cols = records if isinstance(records, Columns) else Columns(records, decode)
        self._start = start
        self._stop = len(self._cols.records) if stop is None else stop

    # -- sequence of typed records ----------------------------------------------------------------

    def __len__(self) -> int:
        return self._stop - self._start

    def __iter__(self) -> Iterator[Record[T]]:
        return iter(self._cols.typed()[self._start : self._stop])

    @overload
    def __getitem__(self, index: int) -> Record[T]: ...
    @overload
    def __getitem__(self, index: slice) -> Batch[T]: ...

    def __getitem__(self, index: int | slice) -> Record[T] | Batch[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("a batch slice must be contiguous")
            return Batch(
                self.stream,
                self.partition,
                self._cols,
                start=self._start + start,
                stop=self._start + max(start, stop),
            )
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} records")
        return self._cols.typed()[self._start + index % len(self)]

    def __repr__(self) -> str:
        return f"Batch({self.stream!r}, partition={self.partition}, records={len(self)})"

    # -- columns -------------------------------------------------------------------------------

    @property
    def data(self) -> list[T]:
        """The payloads, typed by the stream's schema."""
        return self._cols.data()[self._start : self._stop]

    @property
    def keys(self) -> list[str]:
        """The records' partitioning keys."""
        return self._cols.keys()[self._start : self._stop]

    @property
    def ids(self) -> list[str]:
        """The records' event ids."""
        return self._cols.ids()[self._start : self._stop]

    @property
    def times(self) -> npt.NDArray[np.int64]:
        """Event times in microseconds since the Unix epoch (int64, UTC)."""
        return self._cols.times()[self._start : self._stop]

    @property
    def first_offset(self) -> int:
        """The offset of the first record."""
        return self._cols.records[self._start].offset

    @property
    def next_offset(self) -> int:
        """The offset after the last record: where the next read of the partition starts."""
        return self._cols.records[self._stop - 1].offset + 1

    # -- for the runtime -----------------------------------------------------------------------

    @property
    def columns(self) -> Columns:
        """The whole batch this one is a slice of."""
        return self._cols

    @property
    def span(self) -> tuple[int, int]:
        """This slice's ``[start, stop)`` positions in :attr:`columns`."""
        return self._start, self._stop
