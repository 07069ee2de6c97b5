"""Which partitions of a processor this worker runs.

The runtime asks an :class:`Assignment` for the partitions it owns and follows the answer as it
changes: partitions that appear are loaded and started; partitions that disappear are stopped
gracefully (the in-flight batch commits first). :class:`StaticAssignment` owns a fixed set (all
partitions by default), which is right for one worker per log. A distributed backend plugs in
its own (for example NATS KV leases) without touching the runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Protocol

__all__ = ["Assignment", "StaticAssignment"]


class Assignment(Protocol):
    """Decides which partitions of each processor this worker owns."""

    def owned(self, processor: str, partitions: int) -> AsyncIterator[frozenset[int]]:
        """Yield the set of owned partitions of ``processor`` now and whenever it changes.

        Args:
            processor: The processor's name.
            partitions: How many partitions its inputs have.
        """
        ...


class StaticAssignment:
    """Own a fixed set of partitions: every partition unless ``partitions`` names some."""

    def __init__(self, partitions: Collection[int] | None = None) -> None:
        self._partitions = None if partitions is None else frozenset(partitions)

    async def owned(self, processor: str, partitions: int) -> AsyncIterator[frozenset[int]]:
        """Yield the fixed set once, then never change it."""
        every = frozenset(range(partitions))
        yield every if self._partitions is None else self._partitions & every
        await asyncio.Event().wait()  # never changes; the runtime cancels this when it stops
