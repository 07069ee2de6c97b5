"""Give the C allocator's free memory back to the operating system.

A long-running process that allocates and frees many small objects (every event is decoded,
encoded and dropped) leaves glibc's heap with free pages it keeps for later: resident memory
then creeps up although Python holds no more objects. :func:`trim` asks glibc to return them
(``malloc_trim``); ``flambeau up`` and ``flambeau simulate`` call it every half minute. On
other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

__all__ = ["trim"]


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
