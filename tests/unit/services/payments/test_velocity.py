"""Sliding-window counters agree with a naive count over every event kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.payments.velocity import DAY, HOUR, Buckets, BurstCounter, Window

START = 1_721_000_000  # seconds since the epoch, July 2024


@given(
    st.sampled_from([HOUR, DAY]),
    st.lists(st.tuples(st.integers(-600, 2_000), st.integers(0, 500)), max_size=60),
)
def test_buckets_count_what_a_naive_window_counts(
    window: Window, steps: list[tuple[int, int]]
) -> None:
    counter = Buckets()
    kept: list[tuple[int, int]] = []  # (bucket, amount) of the events the counter accepted
    now = START
    newest = now // window.width_s
    for delta, amount in steps:
        # Mostly forward, sometimes late: event time is not strictly ordered.
        now = max(START, now + delta * (window.width_s // 60))
        bucket = now // window.width_s
        if bucket > newest - window.buckets:
            kept.append((bucket, amount))
        counter.add(window, now, amount)
        newest = max(newest, bucket)
        live = [(b, a) for b, a in kept if b > newest - window.buckets]
        assert (counter.count, counter.amount) == (len(live), sum(a for _, a in live))
        assert len(counter.items) <= window.buckets


def test_since_reads_a_suffix_of_the_window() -> None:
    counter = Buckets()
    for minute in range(30):
        counter.add(HOUR, START + minute * 60, 10)
    assert counter.since(HOUR, START + 29 * 60, 5) == (5, 50)
    assert counter.since(HOUR, START + 29 * 60, 60) == (30, 300)


@given(st.lists(st.tuples(st.integers(0, 90), st.integers(0, 15)), max_size=80))
def test_distinct_cards_match_a_naive_count(attempts: list[tuple[int, int]]) -> None:
    burst = BurstCounter()
    seen: dict[str, int] = {}
    minute = START // 60
    for step, card in attempts:
        minute += step // 30  # often the same minute, sometimes a jump
        burst.add(minute * 60, f"card{card}", 1)
        seen[f"card{card}"] = minute
        for window in (1, 10, 60):
            distinct = sum(1 for last in seen.values() if last > minute - window)
            assert burst.recent(minute * 60, window)[2] == distinct
    assert all(last > minute - 60 for last in burst.cards.values())
