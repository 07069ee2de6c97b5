"""The log interface every backend implements, and the helpers they share.

The interface is deliberately small: append a batch, read from a position, wait for new data,
commit a consumer group's progress (optionally with processor state and emitted events, in one
atomic step), fetch committed offsets and state, describe a stream, close.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, Protocol, Self, runtime_checkable

import msgspec

from flambeau.errors import InvalidEventError
from flambeau.events import NewEvent, Record, Registry

__all__ = [
    "Appended",
    "Log",
    "LogBase",
    "StateChange",
    "StreamInfo",
    "encode_record",
    "partition_for",
]

Offsets = Mapping[str, Mapping[int, int]]
"""Committed positions: stream -> partition -> the next offset to read."""


class Appended(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Where one appended event landed. ``duplicate`` means its id was already in the log."""

    partition: int
    offset: int
    duplicate: bool


class StateChange(NamedTuple):
    """One keyed state write of a processor: ``value=None`` deletes ``key``."""

    partition: int
    key: str
    value: bytes | None


@dataclass(frozen=True)
class StreamInfo:
    """A stream as the log knows it.

    Attributes:
        name: The stream name.
        partitions: Fixed at creation.
        epoch: Changes when the log is reset, so a subscriber's old position is known stale.
        start: Per partition, the first offset still retained.
        end: Per partition, the next offset to be written.
    """

    name: str
    partitions: int
    epoch: str
    start: dict[int, int]
    end: dict[int, int]


_encode = msgspec.msgpack.Encoder().encode


def encode_record(record: object, position: int) -> bytes:
    """``record`` as MessagePack, the form every backend stores.

    Raises:
        InvalidEventError: the payload holds an integer MessagePack cannot carry (outside
            ``-2**63 .. 2**64 - 1``); ``position`` is the event's index in its batch.
    """
    try:
        return _encode(record)
    except OverflowError:
        raise InvalidEventError(
            f"event {position}: an integer in the payload is outside -2**63 .. 2**64 - 1"
        ) from None


def partition_for(key: str, partitions: int) -> int:
    """The partition of ``key``: a stable CRC-32 hash, the same in every process and backend."""
    return zlib.crc32(key.encode()) % partitions


@runtime_checkable
class Log(Protocol):
    """A durable, partitioned, append-only log of :class:`~flambeau.events.Record`."""

    registry: Registry
    url: str

    async def append(self, stream: str, events: Sequence[NewEvent]) -> list[Appended]:
        """Append a batch, all or nothing; return where each event landed.

        Raises:
            UnknownStreamError: the stream is not registered.
            SchemaMismatchError: a payload is not of the stream's schema.
            InvalidEventError: an envelope field breaks a limit.
        """
        ...

    async def read(
        self, stream: str, partition: int, offset: int, limit: int = 1000
    ) -> list[Record[msgspec.Raw]]:
        """Up to ``limit`` records of ``partition`` at offsets ``>= offset``, in order."""
        ...

    async def wait(self, stream: str, after: Mapping[int, int], timeout: float) -> bool:
        """Wait until a partition in ``after`` has data at or beyond its offset there.

        ``after`` maps partition -> the next offset the caller wants. Returns ``True`` at once
        if such data exists, ``False`` when ``timeout`` seconds pass first. Woken by the
        writer, never by polling.
        """
        ...

    async def info(self, stream: str) -> StreamInfo:
        """Partitions, epoch, and start and end offsets of ``stream`` (created if new)."""
        ...

    async def streams(self) -> list[StreamInfo]:
        """Every stream that exists in this log."""
        ...

    async def end_offsets(self, stream: str) -> dict[int, int]:
        """Per partition, the next offset to be written."""
        ...

    async def commit(
        self,
        group: str,
        offsets: Offsets,
        *,
        state: Sequence[StateChange] = (),
        emit: Sequence[tuple[str, NewEvent]] = (),
    ) -> list[Appended]:
        """Commit a consumer group's offsets, state changes and emitted events atomically.

        Emitted events are appended as by :meth:`append` (deduplicated by id), and their
        placements are returned in order.
        """
        ...

    async def committed(self, group: str, stream: str) -> dict[int, int]:
        """The offsets ``group`` committed for ``stream``; partitions never committed are absent."""
        ...

    async def load_state(self, group: str, partition: int) -> dict[str, bytes]:
        """All state ``group`` committed for ``partition``."""
        ...

    async def enforce_retention(self) -> None:
        """Apply every stream's retention now; backends also do it on their own schedule."""
        ...

    async def aclose(self) -> None:
        """Flush pending writes, then release every resource. Idempotent."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class LogBase:
    """Shared behaviour: async context management and envelope time stamps."""

    async def aclose(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime."""
    return int(moment.timestamp() * 1_000_000)
