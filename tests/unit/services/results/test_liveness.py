"""Source liveness: down after the configured silence, up when heard again, each exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.results.liveness import (
    LivenessPolicy,
    SourceHealth,
    check,
    liveness_state_key,
    observe,
)
from flambeau.services.results.outcomes import Verdict
from flambeau.services.results.schemas import HEALTH, TEST, Feed, KeepAlive, SourceDown, SourceUp
from flambeau.services.results.statuses import SourceStatus

from ._pipeline import kinds

T0 = datetime(2024, 7, 31, 18, 0, tzinfo=UTC)
POLICY = LivenessPolicy(silence=timedelta(seconds=20))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def seen(state: SourceHealth | None, seconds: float, now: float | None = None):  # type: ignore[no-untyped-def]
    return observe(
        state,
        source="SWMX",
        seen_at=at(seconds),
        now=at(seconds if now is None else now),
        policy=POLICY,
    )


def test_a_new_source_is_up_and_its_keepalive_is_published() -> None:
    step = seen(None, 0)

    assert kinds(list(step.emits)) == [
        (HEALTH, "SWMX", "keep_alive"),
        (HEALTH, "SWMX", "source_up"),
    ]
    assert step.emits[0].event == KeepAlive(source="SWMX", seen_at=at(0))
    assert step.emits[1].event == SourceUp(source="SWMX", seen_at=at(0))
    assert step.state.status is SourceStatus.UP


def test_silence_longer_than_the_threshold_is_reported_once() -> None:
    state = seen(None, 0).state

    quiet = check(state, now=at(20), policy=POLICY)
    down = check(quiet.state, now=at(21), policy=POLICY)
    still_down = check(down.state, now=at(60), policy=POLICY)

    assert (quiet.verdict, quiet.emits) == (Verdict.UNCHANGED, ())
    assert [e.event for e in down.emits] == [
        SourceDown(source="SWMX", last_seen=at(0), detected_at=at(21), silence_ms=21000)
    ]
    assert (still_down.verdict, still_down.emits) == (Verdict.UNCHANGED, ())


def test_the_source_comes_back_up_once() -> None:
    state = check(seen(None, 0).state, now=at(30), policy=POLICY).state

    back = seen(state, 45)
    again = seen(back.state, 55)

    assert [e.event for e in back.emits][1:] == [
        SourceUp(source="SWMX", seen_at=at(45), down_since=at(30))
    ]
    assert kinds(list(again.emits)) == [(HEALTH, "SWMX", "keep_alive")]


def test_a_late_keepalive_does_not_bring_a_source_up() -> None:
    state = check(seen(None, 0).state, now=at(30), policy=POLICY).state

    late = seen(state, 5, now=40)

    assert late.state.status is SourceStatus.DOWN
    assert late.state.last_seen == at(5)
    assert kinds(list(late.emits)) == [(HEALTH, "SWMX", "keep_alive")]


def test_a_new_source_heard_only_long_ago_starts_down() -> None:
    step = seen(None, 0, now=100)

    assert step.state.status is SourceStatus.DOWN
    assert [type(e.event) for e in step.emits] == [KeepAlive, SourceDown]


def test_test_feeds_report_on_the_test_stream() -> None:
    step = observe(None, source="SWMX", seen_at=T0, now=T0, policy=POLICY, feed=Feed.TEST)

    assert {e.stream for e in step.emits} == {TEST}
    assert liveness_state_key("SWMX", Feed.TEST) != liveness_state_key("SWMX")


# (seconds since last step, is a keep-alive rather than a check)
steps = st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=40)


@given(steps)
def test_transitions_alternate_and_match_the_silence(script: list[tuple[int, bool]]) -> None:
    state = seen(None, 0).state
    transitions = ["up"]
    now = 0
    for gap, keepalive in script:
        now += gap
        step = seen(state, now) if keepalive else check(state, now=at(now), policy=POLICY)
        state = step.state
        transitions += [
            "up" if isinstance(e.event, SourceUp) else "down"
            for e in step.emits
            if isinstance(e.event, SourceUp | SourceDown)
        ]
        if not keepalive:
            silent = at(now) - state.last_seen > POLICY.silence
            assert (state.status is SourceStatus.DOWN) == silent
    assert all(a != b for a, b in pairwise(transitions))
    assert transitions[-1] == state.status.value
