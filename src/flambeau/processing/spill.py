"""A partition's cold state values, kept in an anonymous temporary file instead of memory.

A processor declares some state key prefixes *cold* (``Processor(..., cold=("t/",))``): values
that are written once and read rarely, such as the payments ledger's segments of accepted
transfers. The log keeps them like any other state; in the worker, :class:`Spill` holds their
bytes on local disk, and the state store keeps only each key's position in the file. Reading a
cold value is one ``pread``; the file is unlinked from the moment it is created, so nothing is
left behind when the process ends, however it ends. It is made in the directory the worker is
given (``flambeau up`` and ``flambeau worker`` give the data directory), else in ``$TMPDIR``;
where that is a tmpfs, cold values are in memory after all.

A value overwritten or deleted leaves dead bytes behind; once they outweigh the live ones (and
:data:`COMPACT_AFTER` bytes), the live values are copied to a new file and the old one closed.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import MutableMapping
from pathlib import Path
from typing import IO

__all__ = ["COMPACT_AFTER", "Spill"]

COMPACT_AFTER = 64 * 1024 * 1024
"""Dead bytes a spill file may hold before it is compacted (when they also outweigh the live)."""


class Spill:
    """Values by key in a temporary file; the file is created at the first :meth:`put`."""

    __slots__ = ("__weakref__", "_closer", "_end", "_file", "dead", "directory", "live", "places")

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.places: MutableMapping[str, tuple[int, int]] = {}  # key -> (offset, length)
        self._file: IO[bytes] | None = None
        self._closer: weakref.finalize[[], Spill] | None = None
        self._end = 0
        self.live = 0
        self.dead = 0

    def __contains__(self, key: object) -> bool:
        return key in self.places

    def __len__(self) -> int:
        return len(self.places)

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None``."""
        place = self.places.get(key)
        if place is None:
            return None
        assert self._file is not None
        offset, length = place
        return os.pread(self._file.fileno(), length, offset)

    def put(self, key: str, raw: bytes) -> None:
        """Set ``key`` to ``raw``."""
        self.delete(key)
        file = self._file if self._file is not None else self._open()
        offset = self._end
        view = memoryview(raw)
        while view:
            view = view[os.pwrite(file.fileno(), view, offset + len(raw) - len(view)) :]
        self.places[key] = (offset, len(raw))
        self._end += len(raw)
        self.live += len(raw)

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error if absent)."""
        place = self.places.pop(key, None)
        if place is None:
            return
        self.live -= place[1]
        self.dead += place[1]
        if self.dead > COMPACT_AFTER and self.dead > self.live:
            self._compact()

    def close(self) -> None:
        """Close the file (its space is freed at once: it has no name)."""
        if self._closer is not None:
            self._closer()
        self._file = None
        self._closer = None

    def _open(self) -> IO[bytes]:
        file = tempfile.TemporaryFile(prefix="flambeau-state-", dir=self.directory, buffering=0)  # noqa: SIM115 (closed below)
        self._file = file
        # closed with the store that owns it, even when nobody calls close()
        self._closer = weakref.finalize(self, file.close)
        self._end = 0
        return file

    def _compact(self) -> None:
        old, old_closer = self._file, self._closer
        assert old is not None
        assert old_closer is not None
        places, self.places = self.places, {}
        self._file = None
        self.live = self.dead = 0
        for key, (offset, length) in places.items():
            self.put(key, os.pread(old.fileno(), length, offset))
        old_closer()
