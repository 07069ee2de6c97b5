"""The readers of one stream waiting for it to move on."""

from __future__ import annotations

import asyncio

__all__ = ["Waiters"]


class Waiters:
    """Futures waiting for a stream to grow; every wait removes its own future when it ends.

    A wait that times out or is cancelled takes its future out at once: a quiet stream that
    many callers poll (a processor's second input, an idle subscription) keeps nothing behind.
    """

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        return len(self._futures)

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for :meth:`wake`; ``False`` when the time ran out."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures.add(future)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            self._futures.discard(future)
        return True

    def wake(self) -> None:
        """Release every current wait."""
        futures, self._futures = self._futures, set()
        for future in futures:
            if not future.done():
                future.set_result(None)
