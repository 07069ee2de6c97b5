"""The repricing micro-measurement prices every outcome of every live event it builds."""

from __future__ import annotations

from flambeau.bench._reprice import live_events, reprice_throughput


def test_live_events_are_in_play_and_reproducible() -> None:
    events = live_events(4, seed=3)
    assert [fixture.event_id for fixture, _ in events] == ["fbl-0", "fbl-1", "fbl-2", "fbl-3"]
    assert events == live_events(4, seed=3)
    assert events != live_events(4, seed=4)


def test_reprice_reports_every_figure_for_the_events_it_priced() -> None:
    figures = reprice_throughput(3, rounds=1, repeats=1)
    assert set(figures) == {
        "events", "markets", "outcomes", "reprice_ms", "prices_per_s", "shin_ms", "messages_ms",
    }  # fmt: skip
    assert figures["events"] == 3
    assert figures["markets"] >= 3  # every event has markets
    assert figures["outcomes"] > figures["markets"]  # and every market several outcomes
    assert figures["prices_per_s"] > 0
