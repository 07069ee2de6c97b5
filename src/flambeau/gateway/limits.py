"""Request rates and connection counts per API key.

A token bucket per key refills ``rate`` tokens per second up to ``burst``. A request costs one
token and an ingest request one per event, so a producer's budget is in events, the unit that
loads the log. A request that would overdraw the bucket is refused whole with the time after
which it would fit (the ``Retry-After`` of a 429); it never takes a partial batch.

Anonymous clients have no key: they are limited per remote address instead.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["ConnectionLimiter", "RateLimiter", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; starts full."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens; return 0.0 on success, else the seconds until they would fit.

        A refused request takes nothing. A cost above ``burst`` can never fit: that returns
        ``inf`` (callers refuse such requests as too large before asking).
        """
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if cost <= self.tokens:
            self.tokens -= cost
            return 0.0
        if cost > self.burst:
            return float("inf")
        return (cost - self.tokens) / self.rate


class RateLimiter:
    """One :class:`TokenBucket` per client id; the least recently used beyond ``max_clients`` go.

    A forgotten bucket was idle long enough to have refilled (when ``max_clients`` is generous),
    so forgetting it loses nothing but memory.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max = max_clients
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, client: str, cost: float = 1.0) -> float:
        """Charge ``client`` ``cost`` tokens: 0.0 if allowed, else seconds to wait."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = TokenBucket(self.rate, self.burst, now)
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        return bucket.take(cost, now)


class ConnectionLimiter:
    """Counts live connections per client id and refuses the one beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def acquire(self, client: str) -> bool:
        """Count one more connection of ``client``; ``False`` (and no count) when at the limit."""
        count = self._counts.get(client, 0)
        if count >= self.limit:
            return False
        self._counts[client] = count + 1
        return True

    def release(self, client: str) -> None:
        """Forget one connection of ``client``."""
        count = self._counts.get(client, 0) - 1
        if count > 0:
            self._counts[client] = count
        else:
            self._counts.pop(client, None)

    def count(self, client: str) -> int:
        """Live connections of ``client``."""
        return self._counts.get(client, 0)

    def total(self) -> int:
        """Live connections of every client."""
        return sum(self._counts.values())
