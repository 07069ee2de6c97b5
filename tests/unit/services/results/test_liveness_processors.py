"""Liveness through the processors: signs of life re-keyed by source, then up and down on timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flambeau.events import NewEvent
from flambeau.processing import ManualClock
from flambeau.services.results.documents import source_key
from flambeau.services.results.odf_builder import keepalive_xml
from flambeau.services.results.processors import POLICY, liveness, signs
from flambeau.services.results.schemas import HEALTH, HEARD, TEST, Feed, KeepAlive, SourceDown
from flambeau.testing import Advance, run

from ._documents import SOURCE, swimming_final
from ._feeds import odf, relayed, trace

T0 = datetime(2024, 7, 31, 18, 30, tzinfo=UTC)
SILENCE = POLICY.silence


def keepalive(seconds: float, *, feed: Feed = Feed.PRODUCTION) -> str:
    return keepalive_xml(
        competition="OG2024",
        discipline="SWM",
        source=SOURCE,
        seen_at=T0 + timedelta(seconds=seconds),
        feed=feed,
    )


def heard(seconds: float, source: str = SOURCE) -> tuple[str, NewEvent]:
    sign = KeepAlive(source=source, seen_at=T0 + timedelta(seconds=seconds))
    return HEARD, NewEvent(sign, key=source_key(source), id=f"heard-{source}-{seconds}")


def test_signs_are_relayed_by_source_at_most_once_a_second_per_partition() -> None:
    items = [
        odf(keepalive(0)),
        Advance(timedelta(milliseconds=400)),
        odf(keepalive(0.4)),  # too soon after the last sign: not relayed
        Advance(timedelta(seconds=1)),
        odf(keepalive(1.4)),
    ]

    out = run(signs, items, clock=ManualClock(T0))

    assert trace(out.records(HEARD)) == [
        ("keep_alive", f"source/{SOURCE}", items[0][1].id),  # type: ignore[index]
        ("keep_alive", f"source/{SOURCE}", items[4][1].id),  # type: ignore[index]
    ]
    assert [e.seen_at for e in out.events(HEARD)] == [T0, T0 + timedelta(seconds=1.4)]


def test_every_document_is_a_sign_of_life_not_only_keep_alives() -> None:
    out = run(signs, [odf(xml) for xml in swimming_final()[:2]], clock=ManualClock(T0))

    assert {e.source for e in out.events(HEARD)} == {SOURCE}
    assert {r.key for r in out.records(HEARD)} == {f"source/{SOURCE}"}


def test_a_silent_source_goes_down_once_and_comes_back_once() -> None:
    items = [
        heard(0),
        Advance(timedelta(seconds=10)),
        heard(10),
        Advance(SILENCE + timedelta(seconds=5)),  # 25 s after the last sign
        Advance(timedelta(seconds=60)),  # still silent: nothing more
        heard(10 + SILENCE.total_seconds() + 65),
    ]

    out = run(liveness, items, clock=ManualClock(T0))

    assert trace(out.records(HEALTH)) == [
        ("keep_alive", SOURCE, "heard-SWMXSWIMOG2024-0"),
        ("source_up", SOURCE, "heard-SWMXSWIMOG2024-0"),
        ("keep_alive", SOURCE, "heard-SWMXSWIMOG2024-10"),
        ("source_down", SOURCE, "heard-SWMXSWIMOG2024-10"),  # the last sign before the silence
        ("keep_alive", SOURCE, f"heard-SWMXSWIMOG2024-{10 + SILENCE.total_seconds() + 65}"),
        ("source_up", SOURCE, f"heard-SWMXSWIMOG2024-{10 + SILENCE.total_seconds() + 65}"),
    ]
    down = out.events(HEALTH)[3]
    assert isinstance(down, SourceDown)
    assert down.last_seen == T0 + timedelta(seconds=10)
    assert down.detected_at == T0 + timedelta(seconds=15) + SILENCE
    assert down.silence_ms == (SILENCE + timedelta(seconds=5)) // timedelta(milliseconds=1)
    assert out.events(HEALTH)[5].down_since == down.detected_at


def test_a_source_heard_in_time_never_goes_down() -> None:
    step = SILENCE / 2
    items: list[object] = [heard(0)]
    for n in range(1, 10):
        items += [Advance(step), heard(n * step.total_seconds())]
    items.append(Advance(step))

    out = run(liveness, items, clock=ManualClock(T0))  # type: ignore[arg-type]

    assert "source_down" not in [tag for tag, _, _ in trace(out.records(HEALTH))]


def test_a_late_sign_of_life_does_not_bring_a_down_source_up() -> None:
    items = [heard(0), Advance(SILENCE * 3), heard(1)]  # received long after it was sent

    out = run(liveness, items, clock=ManualClock(T0))

    assert [tag for tag, _, _ in trace(out.records(HEALTH))] == [
        "keep_alive",
        "source_up",
        "source_down",
        "keep_alive",
    ]


def test_source_down_traces_back_to_the_odf_message() -> None:
    clock = ManualClock(T0)
    message = odf(keepalive(0))
    relay = run(signs, [message], clock=clock)
    [sign] = relay.records(HEARD)

    health = run(liveness, [(HEARD, relayed(sign)), Advance(SILENCE * 2)], clock=clock)

    down = health.records(HEALTH)[-1]
    assert isinstance(down.data, SourceDown)
    assert down.causation_id == sign.id
    assert sign.causation_id == message[1].id


def test_test_feed_sources_are_watched_apart_and_never_on_ops_health() -> None:
    clock = ManualClock(T0)
    relay = run(signs, [odf(keepalive(0, feed=Feed.TEST))], clock=clock)
    [sign] = relay.records(HEARD)
    assert sign.data.feed is Feed.TEST

    health = run(liveness, [(HEARD, relayed(sign)), Advance(SILENCE * 2)], clock=clock)

    assert health.records(HEALTH) == []
    assert [tag for tag, _, _ in trace(health.records(TEST))] == [
        "keep_alive",
        "source_up",
        "source_down",
    ]


def test_the_silence_is_configured_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from flambeau.services.results.processors import _policy_from_env

    monkeypatch.setenv("FLAMBEAU_RESULTS_SILENCE_S", "7.5")
    assert _policy_from_env().silence == timedelta(seconds=7.5)
    monkeypatch.delenv("FLAMBEAU_RESULTS_SILENCE_S")
    assert _policy_from_env().silence == timedelta(seconds=20)
    for bad in ("0", "-3", "soon", "inf"):
        monkeypatch.setenv("FLAMBEAU_RESULTS_SILENCE_S", bad)
        with pytest.raises(ValueError, match="FLAMBEAU_RESULTS_SILENCE_S"):
            _policy_from_env()
