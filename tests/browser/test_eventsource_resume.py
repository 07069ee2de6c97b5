"""A real browser's EventSource follows a stream, is cut off by a restart, and resumes exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flambeau.events import NewEvent
from tests.unit.gateway.schemas import Score, make_registry
from tests.unit.gateway.served import ThreadedGateway

pytestmark = pytest.mark.browser


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[ThreadedGateway]:
    running = ThreadedGateway("memory://", tmp_path, make_registry).start()
    yield running
    running.stop()


def append(gateway: ThreadedGateway, start: int, count: int) -> None:
    assert gateway.log is not None
    events = [
        NewEvent(Score(unit=f"u{i % 5}", points=i), key=f"u{i % 5}")
        for i in range(start, start + count)
    ]
    gateway.call(gateway.log.append("results.units", events))


def received(page: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = page.evaluate("window.flambeau.events")
    return events


def test_eventsource_resumes_after_a_restart_with_no_gap(
    gateway: ThreadedGateway, browser: Any
) -> None:
    append(gateway, 0, 20)
    page = browser.new_page()
    try:
        page.goto(f"{gateway.base}/static/index.html?stream=results.units&from=earliest")
        page.wait_for_function("window.flambeau && window.flambeau.events.length >= 20")
        append(gateway, 20, 10)
        page.wait_for_function("window.flambeau.events.length >= 30")

        gateway.restart()  # the gateway drains: the page's connection ends
        append(gateway, 30, 25)  # appended while the page is away
        page.wait_for_function("window.flambeau.opens >= 2", timeout=15_000)
        append(gateway, 55, 5)  # and live again
        page.wait_for_function("window.flambeau.events.length >= 60", timeout=15_000)
        page.wait_for_timeout(300)  # anything extra (a duplicate) would arrive now

        events = received(page)
        subscribed = page.evaluate("window.flambeau.subscribed")
    finally:
        page.close()
    positions = [(e["partition"], e["offset"]) for e in events]
    assert len(positions) == 60
    assert len(set(positions)) == 60  # no duplicate
    per_partition: dict[int, list[int]] = {}
    for partition, offset in positions:
        per_partition.setdefault(partition, []).append(offset)
    for offsets in per_partition.values():
        assert offsets == list(range(len(offsets)))  # in order, no gap
    assert len(subscribed) >= 2
    assert all(s["recovered"] for s in subscribed)
