"""The liveness reducer: one event per transition, for any kind of source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flambeau.services.ops.liveness import LivenessPolicy, SourceHealth, check, deadline, observe
from flambeau.services.ops.schemas import (
    DownReason,
    KeepAlive,
    Reported,
    Sign,
    SourceDown,
    SourceKind,
    SourceUp,
)

T0 = datetime(2024, 8, 4, 20, tzinfo=UTC)
POLICY = LivenessPolicy()
INTERVAL_MS = 5_000  # down after 10 s


def sign(seconds: float, status: Reported = Reported.OK, detail: str = "") -> Sign:
    return Sign(
        source="STA-ENC-1",
        kind=SourceKind.BROADCAST_ENCODER,
        interval_ms=INTERVAL_MS,
        seen_at=T0 + timedelta(seconds=seconds),
        venue="STA",
        status=status,
        detail=detail,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_new_source_comes_up_and_each_ok_sign_is_a_keep_alive() -> None:
    health, events = observe(None, sign(0), now=at(0), policy=POLICY)
    assert events == [
        KeepAlive(source="STA-ENC-1", seen_at=T0, kind=SourceKind.BROADCAST_ENCODER, venue="STA"),
        SourceUp(source="STA-ENC-1", seen_at=T0, kind=SourceKind.BROADCAST_ENCODER, venue="STA"),
    ]
    assert health.up
    assert deadline(health, POLICY) == at(10)
    again, more = observe(health, sign(4), now=at(4), policy=POLICY)
    assert [type(e) for e in more] == [KeepAlive]
    assert deadline(again, POLICY) == at(14)


def test_silence_past_the_allowed_misses_takes_it_down_once_and_a_sign_brings_it_back() -> None:
    health, _ = observe(None, sign(0), now=at(0), policy=POLICY)
    assert check(health, now=at(10), policy=POLICY) == (health, [])  # exactly at the limit
    down, events = check(health, now=at(10.5), policy=POLICY)
    assert events == [
        SourceDown(
            source="STA-ENC-1",
            last_seen=T0,
            detected_at=at(10.5),
            silence_ms=10_500,
            kind=SourceKind.BROADCAST_ENCODER,
            venue="STA",
            reason=DownReason.SILENT,
        )
    ]
    assert check(down, now=at(60), policy=POLICY) == (down, [])
    assert deadline(down, POLICY) is None
    up, events = observe(down, sign(70), now=at(70), policy=POLICY)
    assert [type(e) for e in events] == [KeepAlive, SourceUp]
    assert isinstance(events[1], SourceUp)
    assert events[1].down_since == at(10.5)
    assert up.up


def test_a_reported_failure_takes_it_down_at_once_and_the_next_ok_sign_brings_it_up() -> None:
    health, _ = observe(None, sign(0), now=at(0), policy=POLICY)
    failed, events = observe(
        health, sign(1, Reported.FAILED, "no signal on SDI 2"), now=at(1), policy=POLICY
    )
    assert len(events) == 1
    down = events[0]
    assert isinstance(down, SourceDown)
    assert (down.reason, down.detail, down.silence_ms) == (
        DownReason.FAILED,
        "no signal on SDI 2",
        0,
    )
    assert observe(failed, sign(2, Reported.FAILED), now=at(2), policy=POLICY)[1] == []
    _, events = observe(failed, sign(3), now=at(3), policy=POLICY)
    assert [type(e) for e in events] == [KeepAlive, SourceUp]


def test_a_late_sign_brings_nothing_up_and_a_stale_first_sign_is_down() -> None:
    health, _ = observe(None, sign(0), now=at(0), policy=POLICY)
    down, _ = check(health, now=at(30), policy=POLICY)
    late, events = observe(down, sign(25), now=at(40), policy=POLICY)  # sent 15 s ago
    assert [type(e) for e in events] == [KeepAlive]
    assert not late.up
    assert late.last_seen == at(25)
    first: SourceHealth
    first, events = observe(None, sign(0), now=at(60), policy=POLICY)
    assert [type(e) for e in events] == [KeepAlive, SourceDown]
    assert not first.up


def test_the_policy_is_bounded() -> None:
    assert LivenessPolicy(misses=3).silence(1_000) == timedelta(seconds=3)
    for misses in (0, 101):
        with pytest.raises(ValueError, match="misses must be between 1 and 100"):
            LivenessPolicy(misses=misses)
