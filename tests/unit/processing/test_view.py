"""Views follow the log: they catch up, keep up, and answer read-your-writes waits."""

from __future__ import annotations

from typing import Any

from flambeau.events import Event, NewEvent, Record, Registry
from flambeau.log import open_log
from flambeau.processing import view_of


class Scored(Event, frozen=True, tag="scored"):
    team: str
    points: int


def make_registry() -> Registry:
    registry = Registry()
    registry.register("test.scores", Scored, partitions=3)
    return registry


async def test_view_catches_up_then_follows_new_events() -> None:
    async with await open_log("memory://", make_registry()) as log:
        await log.append(
            "test.scores", [NewEvent(Scored(team=t, points=1), key=t) for t in "abcab"]
        )
        totals: dict[str, int] = {}

        def factory() -> Any:
            def fold(record: Record[Any]) -> None:
                totals[record.data.team] = totals.get(record.data.team, 0) + record.data.points

            return fold

        view = view_of(log, "scores", ["test.scores"], factory)
        assert await view.sync(timeout=5)
        assert totals == {"a": 2, "b": 2, "c": 1}
        await log.append("test.scores", [NewEvent(Scored(team="c", points=5), key="c")])
        assert await view.wait_until(lambda: totals.get("c") == 6, timeout=5)
        assert view_of(log, "scores", ["test.scores"], factory) is view  # one per log and name
        await view.stop()


async def test_wait_until_times_out_when_the_condition_never_holds() -> None:
    async with await open_log("memory://", make_registry()) as log:
        view = view_of(log, "empty", ["test.scores"], lambda: lambda record: None)
        assert await view.wait_until(lambda: False, timeout=0.1) is False
        await view.stop()
