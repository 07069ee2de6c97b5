"""Where each accepted transfer is stored, by id, in about 24 bytes an id.

The ledger must answer "does transfer ``id`` exist?" for every transfer it is asked to create,
over its whole history. A Python ``dict`` from id to location costs over 100 bytes an entry
(the id string, the slot, the value); :class:`IdIndex` keeps a 64-bit hash of each id and a
32-bit location in two numpy arrays instead (an open-addressing table, linear probing, at most
half full: 12 bytes a slot, 24 to 48 bytes an id).

A hash is not the id, so a location is only a *candidate*: the caller reads what is stored
there and checks the id. Two ids with the same hash both keep their location: the first in
the table, the next ones in :attr:`IdIndex.collided`, an exact dict (with 64-bit hashes, a
collision is expected about once in four billion ids).

Hashes are Python's string hash (SipHash, salted per process): the index lives in one process
and is rebuilt from the stored transfers when a partition is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["IdIndex"]

_EMPTY = 0
_START = 1024


def _hash(key: str) -> int:
    return hash(key) or 1  # 0 marks an empty slot


def _hashes(keys: Sequence[str]) -> npt.NDArray[np.int64]:
    """:func:`_hash` of each key, at C speed."""
    hashes = np.fromiter(map(hash, keys), np.int64, len(keys))
    hashes[hashes == 0] = 1
    return hashes


class IdIndex:
    """Ids to integer locations (see the module docstring)."""

    __slots__ = ("_keys", "_mask", "_values", "collided", "count")

    def __init__(self) -> None:
        self._keys: npt.NDArray[np.int64] = np.zeros(_START, np.int64)
        self._values: npt.NDArray[np.int32] = np.zeros(_START, np.int32)
        self._mask = _START - 1
        self.collided: dict[str, int] = {}
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        """The memory of the table (the collided dict aside)."""
        return self._keys.nbytes + self._values.nbytes

    def add(self, ids: Sequence[str], location: int) -> None:
        """Record that ``ids`` (distinct, and not added before) are at ``location``."""
        size = len(ids)
        if not size:
            return
        while (self.count + size) * 2 > len(self._keys):
            self._grow()
        hashes = _hashes(ids)
        same = self._insert(hashes, np.full(size, location, np.int32))
        for position in same.tolist():
            self.collided[ids[position]] = location
        self.count += size

    def candidates(self, key: str) -> list[int]:
        """The locations that may hold ``key``: none, one, or (after a collision) more."""
        wanted = _hash(key)
        keys, mask = self._keys, self._mask
        slot = wanted & mask
        found: list[int] = []
        while True:
            stored = int(keys[slot])
            if stored == wanted:
                found.append(int(self._values[slot]))
                break
            if stored == _EMPTY:
                break
            slot = (slot + 1) & mask
        extra = self.collided.get(key)
        if extra is not None:
            found.append(extra)
        return found

    def maybe_many(self, ids: Sequence[str]) -> list[bool]:
        """For each of ``ids``, whether it may be in the index (``False``: it certainly is not).

        One vectorised probe for a whole batch: what the ledger asks before creating transfers.
        """
        size = len(ids)
        if not size or not self.count:
            return [False] * size
        hashes = _hashes(ids)
        keys, mask = self._keys, self._mask
        maybe = np.zeros(size, np.bool_)
        todo = np.arange(size)
        slots = hashes & mask
        while todo.size:
            found = keys[slots]
            hit = found == hashes[todo]
            maybe[todo[hit]] = True
            going = ~hit & (found != _EMPTY)
            todo, slots = todo[going], (slots[going] + 1) & mask
        answer: list[bool] = maybe.tolist()
        if self.collided:
            answer = [m or key in self.collided for m, key in zip(answer, ids, strict=True)]
        return answer

    def _insert(
        self, hashes: npt.NDArray[np.int64], values: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.intp]:
        """Put every hash in the table; the positions whose hash was already there."""
        keys, stored_values, mask = self._keys, self._values, self._mask
        todo = np.arange(len(hashes))
        slots = hashes & mask
        same: list[npt.NDArray[np.intp]] = []
        while todo.size:
            found = keys[slots]
            wanted = hashes[todo]
            equal = found == wanted
            empty = found == _EMPTY
            done = equal.copy()
            if equal.any():
                same.append(todo[equal])
            claims = np.flatnonzero(empty)
            if claims.size:
                # several hashes may reach the same empty slot: the first of each takes it, and
                # the others look at it again next round (then equal, or taken: move on)
                taken, first = np.unique(slots[claims], return_index=True)
                winners = claims[first]
                keys[taken] = wanted[winners]
                stored_values[taken] = values[todo[winners]]
                done[winners] = True
            move = ~empty & ~equal
            slots = np.where(move, (slots + 1) & mask, slots)
            keep = ~done
            todo, slots = todo[keep], slots[keep]
        return np.concatenate(same) if same else np.empty(0, np.intp)

    def _grow(self) -> None:
        occupied = self._keys != _EMPTY
        hashes, values = self._keys[occupied], self._values[occupied]
        size = len(self._keys) * 2
        self._keys = np.zeros(size, np.int64)
        self._values = np.zeros(size, np.int32)
        self._mask = size - 1
        self._insert(hashes, values)
