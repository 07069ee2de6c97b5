"""Token buckets and connection counts."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from flambeau.gateway.limits import ConnectionLimiter, RateLimiter, TokenBucket


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=10.0, burst=5.0, now=0.0)
    assert bucket.take(5, now=0.0) == 0.0
    assert math.isclose(bucket.take(2, now=0.0), 0.2)
    assert bucket.take(2, now=0.2) == 0.0  # refilled exactly enough
    assert bucket.take(6, now=100.0) == float("inf")  # can never fit


def test_a_refused_request_takes_nothing() -> None:
    bucket = TokenBucket(rate=1.0, burst=3.0, now=0.0)
    assert bucket.take(3, now=0.0) == 0.0
    assert bucket.take(2, now=1.0) > 0
    assert bucket.take(1, now=1.0) == 0.0


@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=2, allow_nan=False), st.integers(1, 20)),
        max_size=200,
    )
)
def test_granted_tokens_never_exceed_burst_plus_rate_times_elapsed(
    requests: list[tuple[float, int]],
) -> None:
    rate, burst = 50.0, 20.0
    clock = [0.0]
    limiter = RateLimiter(rate, burst, clock=lambda: clock[0])
    granted = 0.0
    for delay, cost in requests:
        clock[0] += delay
        if limiter.take("k", cost) == 0.0:
            granted += cost
        assert granted <= burst + rate * clock[0] + 1e-6


def test_clients_have_separate_buckets_and_old_ones_are_forgotten() -> None:
    limiter = RateLimiter(1.0, 1.0, max_clients=2, clock=lambda: 0.0)
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0
    assert limiter.take("c") == 0.0  # "a" is forgotten: it would have refilled anyway
    assert limiter.take("a") == 0.0


def test_connection_limiter_counts_per_client() -> None:
    limiter = ConnectionLimiter(2)
    assert limiter.acquire("k")
    assert limiter.acquire("k")
    assert not limiter.acquire("k")
    assert limiter.acquire("other")
    limiter.release("k")
    assert limiter.acquire("k")
    assert limiter.count("k") == 2
    assert limiter.total() == 3
