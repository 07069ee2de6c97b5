"""What the rehearsal measures: end-to-end latency matched by causation, rates, the status file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from flambeau.scenario.stats import Counters, Latency, RateMeter, write_status


def test_a_reaction_is_timed_from_the_send_of_its_cause() -> None:
    latency = Latency()
    latency.sent(["odf-1"], at=10.0)
    assert latency.observe("unit-1", "odf-1", at=10.25)
    assert latency.observe("stop-1", "unit-1", at=10.5)  # two hops: still from the send
    assert not latency.observe("other", "someone-elses", at=11.0)
    assert not latency.observe("root", None, at=11.0)
    assert latency.matched == 2
    assert latency.percentile(0.0, now=11.0) == 250.0
    assert latency.percentile(1.0, now=11.0) == 500.0


def test_an_id_the_platform_gave_stands_for_the_one_we_sent() -> None:
    latency = Latency()
    latency.sent(["ticket-9"], at=1.0)
    latency.alias("bet-abc", "ticket-9")
    assert latency.observe("decision", "bet-abc", at=1.1)


def test_old_samples_leave_the_window_and_ids_are_bounded() -> None:
    latency = Latency(max_ids=3)
    latency.sent(["a", "b", "c", "d"], at=0.0)
    assert not latency.observe("x", "a", at=1.0)  # forgotten: the oldest goes first
    assert latency.observe("y", "d", at=1.0)
    assert latency.percentile(0.99, window=30.0, now=100.0) is None


def test_at_most_max_ids_are_kept_and_always_the_newest_half() -> None:
    latency = Latency(max_ids=4)
    sent = [f"e{n}" for n in range(11)]
    for n, event_id in enumerate(sent):
        latency.sent([event_id], at=float(n))
        kept = [e for e in sent if latency._origin(e) is not None]
        assert len(kept) <= 4
        assert sent[max(0, n - 1) : n + 1] == kept[-2:] or kept == sent[: n + 1]


@given(st.lists(st.floats(min_value=0, max_value=10_000), min_size=1, max_size=200))
def test_percentiles_are_ordered_and_within_the_samples(values: list[float]) -> None:
    latency = Latency()
    for n, ms in enumerate(values):
        latency.sent([f"s{n}"], at=0.0)
        latency.observe(f"d{n}", f"s{n}", at=ms / 1000.0)
    p50 = latency.percentile(0.5, now=10.0)
    p99 = latency.percentile(0.99, now=10.0)
    assert p50 is not None
    assert p99 is not None
    assert min(values) - 1e-6 <= p50 <= p99 <= max(values) + 1e-6


def test_the_rate_covers_the_last_window_only() -> None:
    meter = RateMeter(window=5.0)
    assert meter.rate(now=0.0) == 0.0
    for second in range(10):
        meter.add(100, now=float(second))
    assert meter.rate(now=9.0) == 100.0  # seconds 5 to 9: 500 events in 5 s
    meter.add(0, now=30.0)
    assert meter.rate(now=30.0) == 0.0
    young = RateMeter(window=5.0)
    for second in range(3):
        young.add(100, now=float(second))
    assert young.rate(now=2.0) == 300 / 2.0  # before a whole window: since the first event


def test_counters_add_up_per_kind() -> None:
    counters = Counters()
    counters.count("purchase", 10, 8, 1, 1)
    counters.count("purchase", 5, 5, 0, 0)
    counters.count("bet", 2, 0, 0, 2)
    assert (counters.sent, counters.accepted, counters.duplicates, counters.rejected) == (
        17, 13, 1, 3)  # fmt: skip
    assert counters.by_kind == {"purchase": 15, "bet": 2}
    assert counters.rejected_by_kind == {"purchase": 1, "bet": 2}


def test_the_status_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    write_status(path, {"sim_time": "18:40", "at": datetime(2024, 8, 4, tzinfo=UTC)})
    write_status(path, {"sim_time": "18:41", "p99_ms": 3.5})
    assert json.loads(path.read_text()) == {"sim_time": "18:41", "p99_ms": 3.5}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temporary left
