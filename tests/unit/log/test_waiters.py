"""Waits on a stream leave nothing behind, however they end."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from flambeau.events import Registry
from flambeau.log import open_log
from flambeau.log._waiters import Waiters
from tests.conformance.schemas import Ping


async def test_a_wait_that_times_out_or_is_cancelled_takes_its_future_out() -> None:
    waiters = Waiters()
    assert await waiters.wait(0.01) is False
    task = asyncio.create_task(waiters.wait(10))
    await asyncio.sleep(0)
    assert len(waiters) == 1
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(waiters) == 0


async def test_wake_releases_every_wait() -> None:
    waiters = Waiters()
    tasks = [asyncio.create_task(waiters.wait(10)) for _ in range(3)]
    await asyncio.sleep(0)
    waiters.wake()
    assert await asyncio.gather(*tasks) == [True, True, True]
    assert len(waiters) == 0


@pytest.mark.parametrize("where", ["memory", "sqlite"])
async def test_polling_a_quiet_stream_keeps_no_waiters(where: str, tmp_path: Path) -> None:
    # A processor with a busy and a quiet input polls the quiet one on every wake-up: the
    # quiet stream never grows, so nothing but the wait itself may clean its waiter up.
    registry = Registry()
    registry.register("test.quiet", Ping, partitions=1)
    url = "memory://" if where == "memory" else f"sqlite:///{tmp_path / 'quiet.db'}"
    async with await open_log(url, registry) as log:
        for _ in range(200):
            poll = asyncio.create_task(log.wait("test.quiet", {0: 0}, 10))
            await asyncio.sleep(0)
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll
            assert await log.wait("test.quiet", {0: 0}, 0.001) is False
        assert log.debug_state()["waiters"] == 0  # type: ignore[attr-defined]
