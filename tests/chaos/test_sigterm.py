"""SIGTERM and SIGINT stop ``flambeau worker`` gracefully: commit, then exit 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flambeau.events import NewEvent
from flambeau.log import open_log
from tests.chaos.job import INPUT, OUTPUT, PARTITIONS, Amount
from tests.chaos.slow_job import slow

REPO = Path(__file__).resolve().parents[2]
EVENTS = 5000


async def _load(url: str) -> None:
    start = datetime(2024, 8, 1, tzinfo=UTC)
    async with await open_log(url) as log:
        await log.append(INPUT, [
            NewEvent(Amount(n=1), key=f"k{i % 50}", id=f"in-{i}", time=start + timedelta(seconds=i))
            for i in range(EVENTS)
        ])  # fmt: skip


async def _progress(url: str) -> tuple[int, int, int]:
    async with await open_log(url) as log:
        committed = sum((await log.committed(slow.name, INPUT)).values())
        outputs = sum((await log.end_offsets(OUTPUT)).values())
        state = 0
        for partition in range(PARTITIONS):
            stored = await log.load_state(slow.name, partition)
            state += sum(int.from_bytes(v, "big") if len(v) > 1 else v[0]
                         for k, v in stored.items() if not k.startswith("~"))  # fmt: skip
        return committed, outputs, state


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_commits_the_in_flight_batch_and_exits_cleanly(
    sig: signal.Signals, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    asyncio.run(_load(url))
    err = tmp_path / "worker.err"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from flambeau.cli.main import main; main()", "worker",
             "--log", url, "--import", "tests.chaos.slow_job", "--processors", slow.name,
             "--batch-size", "10"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready" not in err.read_bytes():
        assert proc.poll() is None, err.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(1.0)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0, err.read_text()
    assert b"stopping" in err.read_bytes()
    committed, outputs, total = asyncio.run(_progress(url))
    assert 0 < committed < EVENTS  # it stopped early, without draining everything first
    assert outputs == committed  # one output per committed input: no half-committed batch
    assert total == committed  # every committed input counted once in the state (n=1 each)
