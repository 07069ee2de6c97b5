"""Give the C allocator's free memory back to the operating system.

A long-running process that allocates and frees many small objects (every event is decoded,
encoded and dropped) leaves glibc's heap with free pages it keeps for later: resident memory
then creeps up although Python holds no more objects. :func:`trim` asks glibc to return them
(``malloc_trim``); ``flambeau up`` and ``flambeau simulate`` call it every half minute. On
other C libraries it does nothing. :func:`settle` tunes the garbage collector of a server
process once it has started.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable

__all__ = ["GC_THRESHOLDS", "TRIM_EVERY_S", "settle", "trim"]

TRIM_EVERY_S = 30.0
"""How often ``flambeau up`` and ``flambeau simulate`` call :func:`trim`."""
GC_THRESHOLDS = (5_000, 20, 100)
"""The collector's thresholds in server processes (CPython's default is 700, 10, 10)."""


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # musl or another libc: nothing to call
        return None
    function: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)
    return function


_TRIM = _malloc_trim()


def trim() -> bool:
    """Return free heap pages to the operating system; ``True`` if any were returned."""
    return _TRIM is not None and bool(_TRIM(0))


def settle() -> None:
    """Tune the garbage collector for a long-running server; call once it has started.

    Freezes the startup heap (modules, registries, compiled schemas, the app) so collections
    no longer walk it, and collects the young generation every 5,000 net allocations instead
    of 700, the older ones less often too. Measured on the end-to-end benchmark at 2,000
    events/s: full collections of 46 to 114 ms no longer occur within a run, and the p99 went
    from 107-158 ms to 40-66 ms. Only for processes that run a server; a library must leave
    its host's collector alone.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
