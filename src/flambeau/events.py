"""The event envelope and the stream schema registry.

Every payload is a frozen ``msgspec.Struct`` deriving from :class:`Event`, tagged by a ``type``
field. A stream accepts a fixed set of payload types, its *schema*, registered once under a
``<domain>.<noun>`` name. Each stream gets one reusable MessagePack decoder (for the log) and
one JSON decoder (for the edges), built on first use.

A stored event is a :class:`Record`: the envelope fields plus the payload. In the log a record
is encoded as one MessagePack array; readers decode the envelope and keep the payload as
``msgspec.Raw`` until someone needs it typed, so fan-out never pays for a decode it does not use.

Evolution rules, as msgspec's: a new field gets a default; a field is never retyped.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import msgspec

from flambeau.errors import (
    InvalidEventError,
    InvalidStreamNameError,
    SchemaMismatchError,
    StreamConflictError,
    StreamWriterConflictError,
    UnknownStreamError,
)

__all__ = [
    "Event",
    "NewEvent",
    "Record",
    "Registry",
    "StreamSpec",
    "Writer",
    "default_registry",
    "new_event_id",
    "utc_now",
]

T = TypeVar("T")

STREAM_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$")
MAX_KEY_BYTES = 256
MAX_ID_BYTES = 128


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base class of every payload; subclasses name their tag: ``class Goal(Event, tag="goal")``."""


class Record(msgspec.Struct, Generic[T], frozen=True, array_like=True):
    """One stored event: the envelope plus its payload ``data``.

    Attributes:
        id: The producer's idempotency id (generated when the producer gave none).
        stream: The stream name.
        key: The partitioning key; events with one key keep their order.
        partition: The partition the key hashed to.
        offset: The position within the partition; strictly increasing.
        time: Event time, set by the producer, timezone-aware UTC.
        ingested_at: When Flambeau accepted the event, UTC.
        causation_id: The id of the event that caused this one, set by processors.
        data: The payload: an :class:`Event`, or ``msgspec.Raw`` when read untyped.
    """

    id: str
    stream: str
    key: str
    partition: int
    offset: int
    time: datetime
    ingested_at: datetime
    causation_id: str | None
    data: T

    @property
    def position(self) -> str:
        """The resumable position ``"<partition>:<offset>"``."""
        return f"{self.partition}:{self.offset}"


class NewEvent(msgspec.Struct, frozen=True):
    """An event on its way into the log: a payload plus the envelope fields a producer sets."""

    data: Event
    key: str = ""
    id: str | None = None
    time: datetime | None = None
    causation_id: str | None = None


def event_type(cls: type[Event]) -> str:
    """The ``type`` tag an event class is encoded with."""
    return str(cls.__struct_config__.tag)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


def new_event_id() -> str:
    """A process-unique event id: a random per-process prefix and a counter (cheaper than uuid4)."""
    return f"{_ID_PREFIX}-{next(_id_counter):x}"


def pack_array(items: Sequence[bytes | msgspec.Raw]) -> bytes:
    """One MessagePack array of already-encoded items, decodable in a single call.

    The log stores a segment of records this way, and a batch decodes its raw payloads this way.
    """
    count = len(items)
    if count < 16:
        header = bytes((0x90 | count,))
    elif count < 1 << 16:
        header = b"\xdc" + count.to_bytes(2, "big")
    else:
        header = b"\xdd" + count.to_bytes(4, "big")
    return header + b"".join(items)


def check_envelope(event: NewEvent) -> None:
    """Raise :class:`InvalidEventError` when an envelope field breaks a documented limit."""
    if event.time is not None and event.time.utcoffset() is None:
        raise InvalidEventError(f"event time {event.time.isoformat()} has no timezone; use UTC")
    if event.id is not None and not 0 < len(event.id.encode()) <= MAX_ID_BYTES:
        raise InvalidEventError(f"event id must be 1 to {MAX_ID_BYTES} bytes, got {event.id!r}")
    if len(event.key.encode()) > MAX_KEY_BYTES:
        raise InvalidEventError(f"event key is longer than {MAX_KEY_BYTES} bytes")


class Writer(msgspec.Struct, frozen=True):
    """Who writes a stream, when something other than producers does.

    A stream with a writer refuses the gateway's generic ingest for every key, admin included:
    only the platform writes what the platform derives.

    Attributes:
        kind: ``"processor"`` (processors that list it in ``outputs``), ``"route"`` (a service's
            HTTP routes or adapters append to it) or ``"gateway"`` (the gateway itself).
        routes: The HTTP routes that append to it (``"POST /v1/adapters/odf"``): where a producer
            sends what it would have posted to the stream.
        processors: The processors that emit to it. A route-written stream may also have some:
            a service's request stream that another service's processor submits to.
        inputs: The streams those processors read, so a refusal can point a producer at them.
        takes_processors: A route-written stream that processors may declare as an output too.
        shared: The processors, of any services, the stream's owner lets write it (a contract
            several services publish on, such as ``ops.health``); empty: one service's only.
    """

    kind: Literal["processor", "route", "gateway"]
    routes: tuple[str, ...] = ()
    processors: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    takes_processors: bool = False
    shared: tuple[str, ...] = ()

    @classmethod
    def route(cls, *routes: str, takes_processors: bool = False) -> Writer:
        """A stream appended to by a service's ``routes`` (``"POST /v1/..."``).

        ``takes_processors`` lets processors declare it as an output too: a service's request
        stream that another service's processor submits to, as its routes do.
        """
        return cls("route", routes=routes, takes_processors=takes_processors)

    @classmethod
    def gateway(cls, *routes: str) -> Writer:
        """A stream the gateway itself writes, through ``routes``."""
        return cls("gateway", routes=routes)

    @classmethod
    def processor(cls, name: str, inputs: tuple[str, ...] = ()) -> Writer:
        """A stream processor ``name`` emits to, computed from ``inputs``."""
        return cls("processor", processors=(name,), inputs=inputs)

    @classmethod
    def shared_by(cls, *processors: str) -> Writer:
        """A stream that exactly these ``processors`` may write, whatever their services.

        The stream's owner declares it when registering a contract several services publish on
        (``ops.health``: each service's liveness processor); any other processor is refused.
        """
        return cls("processor", shared=processors)

    def describe(self) -> str:
        """Who writes, in words: ``"processor results.medal-table"``, ``"the gateway"``..."""
        if self.kind == "gateway":
            return "the gateway"
        if self.kind == "route":
            also = f" (and processor {', '.join(self.processors)})" if self.processors else ""
            return "route " + " and ".join(self.routes) + also
        names = self.processors or self.shared
        plural = "processors " if len(names) > 1 else "processor "
        return plural + ", ".join(names)

    def merged(self, other: Writer, stream: str) -> Writer:
        """This writer and ``other`` as one, for ``stream``.

        Several processors of one service may write a stream (each emits its own facts), the
        processors its owner named (:meth:`shared_by`) may write it whatever their services,
        and processors may join a route-written stream declared ``takes_processors``. Anything
        else is a conflict: a second service, a processor the owner did not name, a second set
        of routes, or the gateway's stream.

        Raises:
            StreamWriterConflictError: the writers cannot share ``stream``.
        """
        if self == other:
            return self
        kinds = {self.kind, other.kind}
        if kinds == {"processor"}:
            names = (*self.processors, *other.processors)
            shared = {*self.shared, *other.shared}
            if shared:
                allowed = all(name in shared for name in names)
            else:
                allowed = len({_service(name) for name in names}) == 1
        else:
            routed = self if self.kind == "route" else other
            allowed = kinds == {"route", "processor"} and routed.takes_processors
        if not allowed:
            raise StreamWriterConflictError(
                f"stream {stream!r} is written by {self.describe()}; "
                f"{other.describe()} cannot write it too"
            )
        return Writer(
            "route" if "route" in kinds else "processor",
            routes=_union(self.routes, other.routes),
            processors=_union(self.processors, other.processors),
            inputs=_union(self.inputs, other.inputs),
            takes_processors=self.takes_processors or other.takes_processors,
            shared=_union(self.shared, other.shared),
        )


def _service(processor: str) -> str:
    return processor.split(".", 1)[0]


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


@dataclass(frozen=True)
class StreamSpec:
    """A registered stream.

    Attributes:
        name: ``<domain>.<noun>``.
        schema: The payload types the stream accepts (an :class:`Event` subclass or a union).
        partitions: Fixed when the stream is first created in a log.
        max_age: Retention by age; ``None`` keeps events forever.
        max_bytes: Retention by size, per partition; ``None`` means unbounded.
        public: Readable without an API key.
        description: One line for ``GET /v1/streams`` and the docs.
        writer: Who writes it (:class:`Writer`); ``None`` when producers do, through the
            gateway's generic ingest. Set at registration for routes and the gateway, and by
            each :class:`~flambeau.processing.Processor` for the streams in its ``outputs``.
    """

    name: str
    schema: Any
    partitions: int = 4
    max_age: timedelta | None = None
    max_bytes: int | None = None
    public: bool = False
    description: str = ""
    writer: Writer | None = field(default=None, compare=False)
    types: frozenset[type[Event]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", frozenset(_union_members(self.schema)))


def _union_members(schema: Any) -> list[type[Event]]:
    if get_origin(schema) is Union or type(schema).__name__ == "UnionType":
        members = list(get_args(schema))
    else:
        members = [schema]
    for member in members:
        if not (isinstance(member, type) and issubclass(member, Event)):
            raise TypeError(f"stream schema members must be Event subclasses, got {member!r}")
    return members


class Registry:
    """Maps stream names to their :class:`StreamSpec` and caches one decoder per stream."""

    def __init__(self) -> None:
        self._specs: dict[str, StreamSpec] = {}
        self._writers: dict[str, Writer] = {}
        self._msgpack: dict[str, msgspec.msgpack.Decoder[Any]] = {}
        self._json: dict[str, msgspec.json.Decoder[Any]] = {}

    def register(self, name: str, schema: Any, **options: Any) -> StreamSpec:
        """Register a stream; registering the same definition twice is allowed.

        ``options`` are :class:`StreamSpec`'s fields; ``writer=`` declares who writes it (see
        :meth:`declare_writer`).

        Raises:
            InvalidStreamNameError: ``name`` is not ``<domain>.<noun>``.
            StreamConflictError: ``name`` is already registered with another definition.
            StreamWriterConflictError: ``writer`` conflicts with the stream's writer.
        """
        if not STREAM_NAME.match(name):
            raise InvalidStreamNameError(
                f"stream name {name!r} must look like '<domain>.<noun>' "
                "(lower case letters, digits, '_' or '-', dot-separated)"
            )
        spec = StreamSpec(name, schema, **options)
        if spec.partitions < 1:
            raise ValueError(f"stream {name!r} needs at least one partition")
        known = self._specs.get(name)
        if known is not None and known != spec:
            raise StreamConflictError(f"stream {name!r} is already registered differently")
        if spec.writer is not None:
            self._writers[name] = self._merge_writer(name, spec.writer)
        spec = dataclasses.replace(spec, writer=self._writers.get(name))
        self._specs[name] = spec
        return spec

    def declare_writer(self, name: str, writer: Writer) -> None:
        """Record that ``writer`` writes stream ``name`` (registered now or later).

        Raises:
            StreamWriterConflictError: the stream already has a writer ``writer`` cannot join.
        """
        merged = self._writers[name] = self._merge_writer(name, writer)
        known = self._specs.get(name)
        if known is not None:
            self._specs[name] = dataclasses.replace(known, writer=merged)

    def _merge_writer(self, name: str, writer: Writer) -> Writer:
        known = self._writers.get(name)
        return writer if known is None else known.merged(writer, name)

    def spec(self, name: str) -> StreamSpec:
        """The spec of ``name``.

        Raises:
            UnknownStreamError: no stream of that name is registered.
        """
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownStreamError(f"unknown stream {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[StreamSpec]:
        return iter(sorted(self._specs.values(), key=lambda spec: spec.name))

    def check(self, name: str, event: Event) -> None:
        """Raise :class:`SchemaMismatchError` unless ``event`` belongs to stream ``name``."""
        spec = self.spec(name)
        if type(event) not in spec.types:
            accepted = ", ".join(sorted(event_type(t) for t in spec.types))
            raise SchemaMismatchError(
                f"stream {name!r} does not accept events of type {event_type(type(event))!r}; "
                f"it accepts: {accepted}"
            )

    def decoder(self, name: str) -> msgspec.msgpack.Decoder[Any]:
        """The reusable MessagePack decoder of stream ``name``'s payloads."""
        decoder = self._msgpack.get(name)
        if decoder is None:
            decoder = self._msgpack[name] = msgspec.msgpack.Decoder(self.spec(name).schema)
        return decoder

    def json_decoder(self, name: str) -> msgspec.json.Decoder[Any]:
        """The reusable JSON decoder of stream ``name``'s payloads (strict, tag-dispatched)."""
        decoder = self._json.get(name)
        if decoder is None:
            decoder = self._json[name] = msgspec.json.Decoder(self.spec(name).schema)
        return decoder

    def decode(self, name: str, record: Record[msgspec.Raw]) -> Record[Any]:
        """Turn an untyped record into a typed one using the stream's decoder."""
        return msgspec.structs.replace(record, data=self.decoder(name).decode(record.data))


default_registry = Registry()
"""The process-wide registry that services register their streams in at import time."""
