"""A silent source holds what it produces, in order, until its wall-time silence ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flambeau.scenario.silences import Silences

T0 = datetime(2024, 8, 4, 18, tzinfo=UTC)


def test_a_silent_source_holds_in_order_until_its_silence_ends() -> None:
    silences: Silences[str] = Silences()
    assert not silences.hold("STA", T0, "before")  # not silent: sent at once
    silences.start("STA", 30.0, now=100.0)
    for n in range(3):
        assert silences.hold("STA", T0 + timedelta(seconds=n), f"doc-{n}")
    assert not silences.hold("PDP", T0, "other")  # another source speaks normally
    assert silences.oldest() == T0
    assert silences.ended(now=129.9) == []
    ((source, held),) = silences.ended(now=130.0)
    assert source == "STA"
    assert [payload for _, payload in held] == ["doc-0", "doc-1", "doc-2"]
    assert silences.oldest() is None
    assert not silences.hold("STA", T0, "after")  # heard again


def test_a_second_silence_extends_the_first_and_stop_releases_everything() -> None:
    silences: Silences[str] = Silences()
    silences.start("STA", 30.0, now=0.0)
    silences.start("STA", 10.0, now=25.0)  # until 35, not 30
    silences.hold("STA", T0, "doc")
    assert silences.ended(now=31.0) == []
    silences.start("PDP", 60.0, now=0.0)
    released = dict(silences.ended(now=31.0, every=True))
    assert set(released) == {"STA", "PDP"}
    assert [payload for _, payload in released["STA"]] == ["doc"]
