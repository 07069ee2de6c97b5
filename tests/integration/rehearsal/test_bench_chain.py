"""``flambeau bench chain``'s pieces on the real platform, cheaply: one goal, one bet stop.

``flambeau up --no-sim`` runs in a subprocess; the bench's feed posts a football match's
schedule and results through the ODF adapter up to its first goal, and the bench's wire
follows the derived streams over the gateway's WebSocket. The goal's ``bet_stop`` is matched
to the goal's document by following ``causation_id`` back. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flambeau.bench._chain_feed import Feed, is_goal
from flambeau.bench.chain import DAY, FOLLOWED, SEED, Platform, Wire, start_platform, trace
from flambeau.scenario.client import GatewayClient, Subscriber
from flambeau.scenario.documents import result_message, schedule_documents
from flambeau.scenario.generators.progressions import Progression
from flambeau.scenario.generators.results import ResultUpdate
from flambeau.scenario.timeline import ScenarioConfig, Timeline

pytestmark = pytest.mark.timeout(120)


def first_goal(timeline: Timeline) -> tuple[Progression, list[ResultUpdate], ResultUpdate]:
    """The first football match of the day with a goal: its updates before the goal, and it."""
    for _, progression in sorted(timeline.progressions.items()):
        if progression.unit.discipline != "FBL":
            continue
        scores: dict[str, tuple[int, ...]] = {}
        for index, update in enumerate(progression.updates):
            if is_goal(update, progression.unit, scores):
                return progression, list(progression.updates[:index]), update
    raise AssertionError("no football goal on the bench's day")


async def until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    up = start_platform(tmp_path / "data")
    yield up
    assert up.stop() == 0, up.tail()


async def test_a_goal_document_yields_a_bet_stop_traced_back_to_it(platform: Platform) -> None:
    timeline = Timeline(ScenarioConfig(day=DAY, seed=SEED, random_incidents=False,
                                       rate_multiplier=0))  # fmt: skip
    match, before, goal = first_goal(timeline)
    wire = Wire()
    ws = "ws" + platform.url[len("http") :] + "/v1/ws"
    subscriber = Subscriber([ws], platform.key, dict.fromkeys(FOLLOWED, "latest"), wire.take)
    stop = asyncio.Event()
    following = asyncio.create_task(subscriber.run(stop))
    client = GatewayClient(platform.url, platform.key)
    try:
        await asyncio.wait_for(subscriber.connected.wait(), 30)
        feed = Feed(client, rate=50)
        for message in schedule_documents(timeline.schedule, timeline.start):
            if message.code == "FBL":
                await feed.send(message, "schedule")
        for update in before:
            await feed.send(result_message(update, match.unit), "result")
        await feed.drain()

        def odds() -> list[str]:
            return [s.type for s in wire.seen if s.stream == "betting.odds"]

        # the match's markets are open again after the kick-off stopped them
        await until(lambda: odds()[-1:] == ["odds_change"] and "bet_stop" in odds(), "reopening")
        await feed.send(result_message(goal, match.unit), "result", goal=True)
        await feed.drain()
        await until(lambda: trace(feed.sent, wire.seen)["goal_to_bet_stop_count"] == 1, "stop")
    finally:
        stop.set()
        await following
        client.stop()
        await client.aclose()

    figures = trace(feed.sent, wire.seen)
    assert figures["goals_sent"] == 1
    assert figures["goals_without_bet_stop"] == 0
    assert all(s.status == 200 and s.id for s in feed.sent), feed.sent
    [sent_goal] = [s for s in feed.sent if s.goal]
    by_id = {s.id: s for s in wire.seen}
    stops = [s for s in wire.seen if s.type == "bet_stop" and s.at >= sent_goal.at]
    snapshot = by_id[stops[0].cause or ""]
    assert (snapshot.stream, snapshot.type) == ("results.units", "unit_result")
    assert snapshot.cause == sent_goal.id
