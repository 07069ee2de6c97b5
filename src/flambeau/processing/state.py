"""Keyed state of one processor partition.

A processor's state is scoped to (processor, partition): the runtime loads it with
``Log.load_state`` when the partition is assigned and keeps it in a :class:`StateStore` while
it owns the partition. Handlers see it through :class:`State` (``tx.state``), a per-transaction
overlay: writes stay in the overlay until the batch succeeds, so a handler that raises leaves
no trace. Values are encoded to MessagePack when they are put (so an unencodable value fails
inside the handler, where the runtime can isolate it) and only changed keys are written with
the batch's commit.

Keys starting with ``~`` belong to the runtime (watermark, timers, window accumulators).

Keys under a processor's *cold* prefixes (``Processor(..., cold=...)``) are kept on local disk
in a :class:`~flambeau.processing.spill.Spill` rather than in memory: reading one is a disk
read, and their decoded values are never cached. They suit values written once and read
rarely, such as the payments ledger's segments of accepted transfers.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar, overload

import msgspec
import numpy as np

from flambeau.log import StateChange
from flambeau.processing.errors import ReservedStateKeyError
from flambeau.processing.spill import Spill

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
    """The committed state of one (processor, partition).

    Holds each key's encoded bytes (what the log has, or will have once the pending commit
    lands): in memory, or in the spill file for keys under a ``cold`` prefix; and a cache of
    up to :data:`CACHED_VALUES` decoded values (never cold ones). :meth:`take_changes` hands
    the keys written since the last call to the runtime, for the next ``Log.commit``.
    """

    def __init__(
        self,
        partition: int,
        stored: Mapping[str, bytes] | None = None,
        *,
        cold: tuple[str, ...] = (),
        spill_dir: Path | None = None,
    ) -> None:
        self.partition = partition
        self.cold = cold
        self._raw: dict[str, bytes] = {}
        self._spill = Spill(spill_dir)
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._sorted: list[str] | None = None
        self._changed: dict[str, bytes | None] = {}
        for key, raw in (stored or {}).items():
            if cold and key.startswith(cold):
                self._spill.put(key, raw)
            else:
                self._raw[key] = raw

    def lookup(self, key: str, type: Any = None) -> Any:
        """The value of ``key`` (decoded as ``type``), or ``MISSING``."""
        cached = self._cache.get(key)
        if cached is not None and (cached[0] is _AS_PUT or cached[0] == type):
            return cached[1]
        raw = self._raw.get(key)
        if raw is None:
            raw = self._spill.get(key) if self._spill.places else None
            return MISSING if raw is None else decode_value(raw, type)
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
        """The encoded value of ``key``, or ``None`` (a disk read for a cold key)."""
        raw = self._raw.get(key)
        return raw if raw is not None else self._spill.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._raw or key in self._spill

    def __len__(self) -> int:
        return len(self._raw) + len(self._spill)

    @property
    def cold_bytes(self) -> int:
        """The bytes of the cold values, which are on disk."""
        return self._spill.live

    def close(self) -> None:
        """Free the spill file now rather than when the store is collected."""
        self._spill.close()

    def keys_with_prefix(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, sorted."""
        if self._sorted is None:
            self._sorted = sorted([*self._raw, *self._spill.places])
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
        if self.cold and key.startswith(self.cold):
            if (key in self._spill) == (raw is None):
                self._sorted = None  # a key added or removed
            if raw is None:
                self._spill.delete(key)
            else:
                self._spill.put(key, raw)
        elif raw is None:
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
        """A copy of every key's encoded value, cold ones read back from disk."""
        out = dict(self._raw)
        for key in self._spill.places:
            raw = self._spill.get(key)
            assert raw is not None
            out[key] = raw
        return out


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

    def committed(self) -> Callable[[str], bytes | None]:
        """A function reading a key's encoded value as last committed (not this transaction's
        writes): for a cache a handler keeps between batches, valid until the next batch."""
        return self._store.raw

    def stored(self, skip: tuple[str, ...] = ()) -> Mapping[str, bytes]:
        """The committed keys (but the runtime's and those starting with ``skip``) and their
        encoded values, each read when asked: for a handler rebuilding its own structures
        without holding all of a partition's cold values at once."""
        store = self._store
        keys = [k for k in store.keys_with_prefix("") if not k.startswith((RESERVED, *skip))]
        return _Stored(keys, store)

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

    def put_encoded(self, key: str, raw: bytes | None) -> None:
        """Set ``key`` to a value already encoded to MessagePack, or delete it with ``None``.

        The write side of :meth:`committed` and :meth:`stored`: for a handler that keeps its
        own structures and encodes their changed values itself (the payments ledger writes a
        batch's accounts and transfers this way). ``raw`` is stored as given; ``get`` decodes
        it when asked, so it must be what ``msgspec.msgpack.encode`` makes of the value.

        Raises:
            ReservedStateKeyError: ``key`` starts with ``~``.
        """
        _check_key(key)
        self._changes[key] = DELETED if raw is None else (MISSING, raw)

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
        """Set ``key`` to already-encoded bytes, or delete it with ``None``, without the
        reserved-prefix check (runtime keys; handlers use :meth:`put_encoded`)."""
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


class _Stored(Mapping[str, bytes]):
    __slots__ = ("_keys", "_store")

    def __init__(self, keys: list[str], store: StateStore) -> None:
        self._keys = keys
        self._store = store

    def __getitem__(self, key: str) -> bytes:
        raw = self._store.raw(key)
        if raw is None:
            raise KeyError(key)
        return raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _check_key(key: str) -> None:
    if key.startswith(RESERVED):
        raise ReservedStateKeyError(
            f"state key {key!r} starts with {RESERVED!r}, which the runtime reserves for itself"
        )
