"""``flambeau worker``: runs registered processors against a log URL."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flambeau.cli.main import app
from flambeau.events import NewEvent
from flambeau.log import open_log
from tests.unit.processing.schemas import Deposit

runner = CliRunner()


async def _append(url: str, count: int) -> None:
    import tests.unit.processing.cli_job  # noqa: F401  (registers the streams)

    async with await open_log(url) as log:
        await log.append("cli.deposits", [
            NewEvent(Deposit(amount=2), key=f"a{i % 3}", id=f"d{i}") for i in range(count)
        ])  # fmt: skip


async def _results(url: str) -> tuple[int, dict[int, int]]:
    async with await open_log(url) as log:
        outputs = sum((await log.end_offsets("cli.balances")).values())
        return outputs, await log.committed("cli.ledger", "cli.deposits")


def test_worker_drains_the_named_processor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    asyncio.run(_append(url, 30))
    done = runner.invoke(app, [
        "worker", "--log", url, "--import", "tests.unit.processing.cli_job",
        "--processors", "cli.ledger", "--drain", "--data", str(tmp_path),
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    outputs, committed = asyncio.run(_results(url))
    assert outputs == 30
    assert sum(committed.values()) == 30


def test_an_unknown_processor_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    done = runner.invoke(app, [
        "worker", "--log", "memory://", "--import", "tests.unit.processing.cli_job",
        "--processors", "cli.nope", "--data", str(tmp_path),
    ])  # fmt: skip
    assert done.exit_code == 2
    assert "cli.nope" in done.output


@pytest.mark.nats
def test_worker_drains_a_nats_log(nats_url: str, tmp_path: Path) -> None:
    asyncio.run(_append(nats_url, 30))
    done = runner.invoke(app, [
        "worker", "--log", nats_url, "--import", "tests.unit.processing.cli_job",
        "--processors", "cli.ledger", "--drain", "--data", str(tmp_path),
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    outputs, committed = asyncio.run(_results(nats_url))
    assert outputs == 30
    assert sum(committed.values()) == 30


def test_sigusr1_prints_where_every_partition_waits(tmp_path: Path) -> None:
    """An operator's look inside a worker that makes no progress: each partition task by name,
    with the chain of awaits it is suspended in; the worker runs on."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    asyncio.run(_append(url, 3))
    err = tmp_path / "worker.err"
    with err.open("wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flambeau.cli.main", "worker", "--log", url,
             "--import", "tests.unit.processing.cli_job", "--processors", "cli.ledger",
             "--data", str(tmp_path)],
            stderr=stderr, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(err, b"ready")
            worker.send_signal(signal.SIGUSR1)
            _wait_for(err, b"asyncio tasks")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0
        finally:
            worker.kill()
    text = err.read_text()
    assert "task cli.ledger[0]:" in text
    assert "runtime.py" in text  # the await chain, down into the worker's own frames


def _wait_for(path: Path, marker: bytes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while marker not in path.read_bytes():
        assert time.monotonic() < deadline, f"{marker!r} not in {path.read_text()}"
        time.sleep(0.05)
