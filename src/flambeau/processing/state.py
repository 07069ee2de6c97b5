"""Keyed state of one processor partition.

A processor's state is scoped to (processor, partition): the runtime loads it with
``Log.load_state`` when the partition is assigned and keeps it in a :class:`StateStore` while
it owns the partition. Handlers see it through :class:`State` (``tx.state``), a per-transaction
overlay: writes stay in the overlay until the batch succeeds, so a handler that raises leaves
no trace. Values are encoded to MessagePack when they are put (so an unencodable value fails
inside the handler, where the runtime can isolate it) and only changed keys are written with
the batch's commit.

Keys starting with ``~`` belong to the runtime (watermark, timers, window accumulators).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar, overload

import msgspec
import numpy as np

from flambeau.log import StateChange
from flambeau.processing.errors import ReservedStateKeyError

__all__ = ["State", "StateStore"]

T = TypeVar("T")

RESERVED = "~"


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Final = _Sentinel("MISSING")
DELETED: Final = _Sentinel("DELETED")
_AS_PUT: Final = _Sentinel("AS_PUT")


def _enc_hook(value: Any) -> Any:
    # numpy scalars come out of vectorised handlers all the time; store them as plain numbers
    if isinstance(value, np.generic):
        return value.item()
    raise NotImplementedError(f"cannot store a value of type {type(value).__name__} in state")


encode_value = msgspec.msgpack.Encoder(enc_hook=_enc_hook).encode
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def decode_value(raw: bytes, type: Any = None) -> Any:
    """Decode a stored state value, as ``type`` when given (a Struct, ``int``, ...)."""
    if type is None:
        return msgspec.msgpack.decode(raw)
    decoder = _decoders.get(type)
    if decoder is None:
        decoder = _decoders[type] = msgspec.msgpack.Decoder(type)
    return decoder.decode(raw)


CACHED_VALUES = 8192
"""Decoded values a partition's store keeps (the most recently decoded or put); older ones are
decoded again from their bytes when read."""


class StateStore:
    """The committed state of one (processor, partition), cached in memory.

    Holds each key's encoded bytes (what the log has, or will have once the pending commit
    lands) and a cache of up to :data:`CACHED_VALUES` decoded values. :meth:`take_changes`
    hands the keys written since the last call to the runtime, for the next ``Log.commit``.
    """

    def __init__(self, partition: int, stored: Mapping[str, bytes] | None = None) -> None:
        self.partition = partition
        self._raw: dict[str, bytes] = dict(stored or {})
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._sorted: list[str] | None = None
        self._changed: dict[str, bytes | None] = {}

    def lookup(self, key: str, type: Any = None) -> Any:
        """The value of ``key`` (decoded as ``type``), or ``MISSING``."""
        cached = self._cache.get(key)
        if cached is not None and (cached[0] is _AS_PUT or cached[0] == type):
            return cached[1]
        raw = self._raw.get(key)
        if raw is None:
            return MISSING
        value = decode_value(raw, type)
        self._remember(key, (type, value))
        return value

    def _remember(self, key: str, entry: tuple[Any, Any]) -> None:
        cache = self._cache
        cache.pop(key, None)
        cache[key] = entry
        if len(cache) > CACHED_VALUES:
            del cache[next(iter(cache))]

    def raw(self, key: str) -> bytes | None:
        """The encoded value of ``key``, or ``None``."""
        return self._raw.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def keys_with_prefix(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, sorted."""
        if self._sorted is None:
            self._sorted = sorted(self._raw)
        keys = self._sorted
        if not prefix:
            return list(keys)
        start = bisect.bisect_left(keys, prefix)
        end = start
        while end < len(keys) and keys[end].startswith(prefix):
            end += 1
        return keys[start:end]

    def write(self, key: str, raw: bytes | None, value: Any = MISSING) -> None:
        """Record a committed change (``raw=None`` deletes); ``value`` is the decoded form."""
        if raw is None:
            if self._raw.pop(key, None) is not None:
                self._sorted = None
            self._cache.pop(key, None)
        else:
            if key not in self._raw:
                self._sorted = None
            self._raw[key] = raw
            if value is MISSING:
                self._cache.pop(key, None)
            else:
                self._remember(key, (_AS_PUT, value))
        self._changed[key] = raw

    def take_changes(self) -> list[StateChange]:
        """The changes written since the last call, one per key, for ``Log.commit``."""
        changed, self._changed = self._changed, {}
        partition = self.partition
        return [StateChange(partition, key, raw) for key, raw in changed.items()]

    def snapshot(self) -> dict[str, bytes]:
        """A copy of every key's encoded value."""
        return dict(self._raw)


class State:
    """``tx.state``: the keyed state a handler reads and writes, scoped to its partition.

    Reads see the transaction's own writes first, then the committed state. Values are
    MessagePack-encoded msgspec Structs or plain values (``int``, ``str``, lists, dicts, ...);
    treat what ``get`` returns as immutable and ``put`` a new value to change it.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store
        # key -> (decoded value, encoded bytes), or DELETED
        self._changes: dict[str, tuple[Any, bytes] | _Sentinel] = {}

    @overload
    def get(self, key: str) -> Any: ...
    @overload
    def get(self, key: str, type: type[T]) -> T | None: ...
    @overload
    def get(self, key: str, type: type[T], default: T) -> T: ...

    def get(self, key: str, type: Any = None, default: Any = None) -> Any:
        """The value of ``key`` decoded as ``type`` (a Struct, ``int``, ...), or ``default``."""
        changed = self._changes.get(key)
        if changed is not None:
            if changed is DELETED:
                return default
            value, raw = changed  # type: ignore[misc]
            return decode_value(raw, type) if value is MISSING else value
        value = self._store.lookup(key, type)
        return default if value is MISSING else value

    def __contains__(self, key: object) -> bool:
        changed = self._changes.get(key)  # type: ignore[call-overload]
        if changed is not None:
            return changed is not DELETED
        return key in self._store

    def put(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value``.

        Raises:
            ReservedStateKeyError: ``key`` starts with ``~``.
            TypeError: ``value`` cannot be encoded to MessagePack.
        """
        _check_key(key)
        self.put_internal(key, value)

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it is absent)."""
        _check_key(key)
        self._changes[key] = DELETED

    def scan(self, prefix: str = "", type: Any = None) -> Iterator[tuple[str, Any]]:
        """``(key, value)`` for every key starting with ``prefix``, in key order."""
        keys = set(self._store.keys_with_prefix(prefix))
        keys.update(k for k in self._changes if k.startswith(prefix))
        for key in sorted(keys):
            if not prefix and key.startswith(RESERVED):
                continue
            value = self.get(key, type, MISSING)
            if value is not MISSING:
                yield key, value

    # -- for the runtime ------------------------------------------------------------------------

    def put_internal(self, key: str, value: Any) -> None:
        """Set ``key`` without the reserved-prefix check (runtime keys)."""
        try:
            raw = encode_value(value)
        except NotImplementedError as exc:
            raise TypeError(f"state key {key!r}: {exc}") from None
        self._changes[key] = (value, raw)

    def put_raw(self, key: str, raw: bytes | None) -> None:
        """Set ``key`` to already-encoded bytes, or delete it with ``None`` (runtime keys)."""
        self._changes[key] = DELETED if raw is None else (MISSING, raw)

    def commit(self) -> None:
        """Write this transaction's changes into the store."""
        store = self._store
        for key, change in self._changes.items():
            if change is DELETED:
                store.write(key, None)
            else:
                value, raw = change  # type: ignore[misc]
                store.write(key, raw, value)
        self._changes.clear()


def _check_key(key: str) -> None:
    if key.startswith(RESERVED):
        raise ReservedStateKeyError(
            f"state key {key!r} starts with {RESERVED!r}, which the runtime reserves for itself"
        )
