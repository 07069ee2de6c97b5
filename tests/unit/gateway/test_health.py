"""``/healthz`` processing health: stalled partitions, unowned partitions, lag."""

from __future__ import annotations

from flambeau.gateway.health import ProcessingHealth
from flambeau.gateway.metrics import LagRow


class Rows:
    """A lag source whose rows the test moves on, and a clock it sets."""

    def __init__(self) -> None:
        self.committed = {0: 0, 1: 0}
        self.end = {0: 10, 1: 10}
        self.now = 100.0

    def __call__(self) -> list[LagRow]:
        return [LagRow("p", "in", part, self.committed[part], self.end[part]) for part in (0, 1)]

    def clock(self) -> float:
        return self.now


async def test_a_partition_with_a_backlog_and_no_commit_for_stall_s_is_stalled() -> None:
    rows = Rows()
    health = ProcessingHealth([rows], stall_s=30, clock=rows.clock)
    first = await health.check()
    assert first.ok  # nothing seen yet: nothing stalled
    assert first.processors[0].behind == 20
    rows.now += 31
    rows.committed[0] = 4  # partition 0 moves, partition 1 does not
    later = await health.check()
    assert not later.ok
    assert later.processors[0].stalled == [1]
    assert later.processors[0].behind == 16
    assert later.processors[0].unowned is None  # no leases: ownership unknown
    rows.committed[1] = 10  # caught up: a partition without backlog is never stalled
    rows.now += 60
    rows.committed[0] = 10
    assert (await health.check()).ok


async def test_partitions_no_worker_holds_are_unowned() -> None:
    rows = Rows()

    async def holders(processor: str) -> dict[int, str] | None:
        assert processor == "p"
        return {0: "worker-a"}

    checked = await ProcessingHealth([rows], holders, clock=rows.clock).check()
    assert not checked.ok
    assert checked.processors[0].unowned == [1]


async def test_current_health_is_computed_in_the_background_at_most_every_refresh_s() -> None:
    rows = Rows()
    calls: list[float] = []

    def source() -> list[LagRow]:
        calls.append(rows.now)
        return rows()

    health = ProcessingHealth([source], clock=rows.clock)
    first = await health.current(refresh_s=5)  # the first call waits for a result
    assert first is not None
    assert first.processors[0].behind == 20
    rows.committed[0] = 10
    assert await health.current(refresh_s=5) is first  # fresh enough: no log requests
    assert len(calls) == 1
    rows.now += 6
    assert await health.current(refresh_s=5) is first  # stale: refreshed in the background
    assert health._refreshing is not None
    await health._refreshing
    later = await health.current(refresh_s=5)
    assert later is not None
    assert later.processors[0].behind == 10
    assert len(calls) == 2
