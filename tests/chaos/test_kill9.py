"""``kill -9`` a worker at random points: nothing it did may be lost or doubled.

A worker subprocess runs ``tests.chaos.job`` (running sums per key, one emitted event per input)
over 200k input events. The test kills it with SIGKILL at random moments, restarts it each
time, and finally lets it drain. The full output stream and the final state must equal those of
an uninterrupted run: same events, same ids, same positions, no gaps, no duplicates. The state
is also checked against sums the test computes itself.

The backend is a parameter: add a URL factory to ``URL_FACTORIES`` to run the same test on it.
Set ``FLAMBEAU_CHAOS_SEED`` to replay a given sequence of kill points.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from flambeau.events import NewEvent
from flambeau.log import open_log
from tests.chaos import cluster, workers
from tests.chaos.job import INPUT, OUTPUT, PARTITIONS, Amount, sums

EVENTS = 200_000
KEYS = 1000
KILLS = 6
SEED = int(os.environ.get("FLAMBEAU_CHAOS_SEED", random.randrange(2**32)))

UrlFactory = Callable[[Path, str, pytest.FixtureRequest], str]


def _sqlite(tmp: Path, name: str, request: pytest.FixtureRequest) -> str:
    (tmp / name).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{tmp / name / 'log.db'}"


def _nats(tmp: Path, name: str, request: pytest.FixtureRequest) -> str:
    from tests.support.nats_server import NatsServer

    server = NatsServer(tmp / f"nats-{name}")
    server.store_dir.mkdir(parents=True)
    server.start()
    request.addfinalizer(server.stop)
    return server.url


def _nats_r3(tmp: Path, name: str, request: pytest.FixtureRequest) -> str:
    if name == "reference":  # the uninterrupted run needs no cluster: its outputs are the same
        return _nats(tmp, name, request)
    return cluster.cluster_url(tmp / f"cluster-{name}", request)


URL_FACTORIES: dict[str, UrlFactory] = {"nats": _nats, "nats-r3": _nats_r3, "sqlite": _sqlite}
"""Backend -> a factory of fresh, separate log URLs (one per name)."""
EVENTS_OF = {"nats-r3": 60_000}
"""Fewer input events where the run is slower (a replicated cluster on the same two cores)."""
MARKS = {"nats": [pytest.mark.nats], "nats-r3": [pytest.mark.nats]}


def _inputs(count: int) -> list[NewEvent]:
    start = datetime(2024, 8, 1, 9, tzinfo=UTC)
    return [
        NewEvent(
            Amount(n=(i * 7919) % 101 - 50),
            key=f"k{i % KEYS}",
            id=f"in-{i}",
            time=start + timedelta(milliseconds=i),
        )
        for i in range(count)
    ]


def _expected_state(events: list[NewEvent]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for event in events:
        assert isinstance(event.data, Amount)
        totals[event.key] = totals.get(event.key, 0) + event.data.n
    return totals


async def _load(url: str, events: list[NewEvent]) -> None:
    async with await open_log(url) as log:
        for i in range(0, len(events), 10_000):
            await log.append(INPUT, events[i : i + 10_000])


@dataclass
class Snapshot:
    outputs: list[tuple[object, ...]]
    state: dict[int, dict[str, bytes]]
    committed: int


async def _snapshot(url: str) -> Snapshot:
    async with await open_log(url) as log:
        outputs: list[tuple[object, ...]] = []
        for partition in range(PARTITIONS):
            offset = 0
            while batch := await log.read(OUTPUT, partition, offset, 10_000):
                outputs.extend(
                    (r.partition, r.offset, r.id, r.key, r.causation_id, r.time, bytes(r.data))
                    for r in batch
                )
                offset = batch[-1].offset + 1
        state = {p: await log.load_state(sums.name, p) for p in range(PARTITIONS)}
        committed = sum((await log.committed(sums.name, INPUT)).values())
        return Snapshot(outputs, state, committed)


async def _committed(url: str) -> int:
    async with await open_log(url) as log:
        return sum((await log.committed(sums.name, INPUT)).values())


def _start(url: str, stderr: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from flambeau.cli.main import main; main()",
        "worker", "--log", url, "--import", "tests.chaos.job", "--drain",
    ]  # fmt: skip
    return workers.start(command, stderr)


def _wait_for_commit(url: str, progress: int, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the worker has committed past ``progress`` (or exited)."""
    deadline = time.monotonic() + 120
    while asyncio.run(_committed(url)) <= progress and proc.poll() is None:
        assert time.monotonic() < deadline, "the worker never committed"
        time.sleep(0.2)


def _run_to_end(url: str, stderr: Path) -> float:
    """Run a worker until it drains; return how long it processed (from ready to exit)."""
    proc = _start(url, stderr)
    workers.wait_ready(proc, stderr)
    began = time.monotonic()
    assert proc.wait(timeout=240) == 0, stderr.read_text()
    return time.monotonic() - began


@pytest.mark.timeout(900)  # about a minute on two idle cores; far more on a loaded machine
@pytest.mark.parametrize(
    "backend", [pytest.param(name, marks=MARKS.get(name, [])) for name in sorted(URL_FACTORIES)]
)
def test_kill_9_loses_and_doubles_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(SEED)
    note = f"(backend {backend}, FLAMBEAU_CHAOS_SEED={SEED})"
    count = EVENTS_OF.get(backend, EVENTS)
    events = _inputs(count)
    reference_url = URL_FACTORIES[backend](tmp_path, "reference", request)
    chaos_url = URL_FACTORIES[backend](tmp_path, "chaos", request)
    faults = cluster.NodeFaults(chaos_url, rng)  # a cluster: one NATS node killed per round
    asyncio.run(_load(reference_url, events))
    asyncio.run(_load(chaos_url, events))

    duration = _run_to_end(reference_url, tmp_path / "reference.err")
    reference = asyncio.run(_snapshot(reference_url))

    kills, progress, seen, backoff = 0, 0, [], 1.0
    for attempt in range(4 * KILLS):
        if kills == KILLS:
            break
        stderr = tmp_path / f"chaos-{attempt}.err"
        proc = _start(chaos_url, stderr)
        workers.wait_ready(proc, stderr)
        # the pause shrinks with the work left, so the kills land before the end on a fast
        # machine too: each takes a share of the time the rest would take uninterrupted
        left = duration * (count - progress) / count
        pause = rng.uniform(0.0, left / (KILLS - kills + 1)) * backoff
        if faults.cluster is not None:
            # on the cluster, kill at a moment of real work: after the worker's first commit,
            # which the test sees late (it polls), so the pause after it is shorter
            _wait_for_commit(chaos_url, progress, proc)
            faults.toggle()  # a NATS node down across this kill, up again during the next run
            pause /= 4
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        now = asyncio.run(_committed(chaos_url))
        assert now >= progress, f"committed offsets went backwards {note}"
        seen.append(now)
        if now == count:
            break
        if code == -signal.SIGKILL and now > progress:
            kills, backoff = kills + 1, 1.0
        else:  # killed before its first commit (a busy machine): wait longer next time
            backoff *= 2
        progress = now
    note += f", NATS nodes killed: {faults.kills}, progress {seen}" if faults.kills else ""
    assert kills >= 5, f"only {kills} kills landed before the work was done {note}"
    # the kills interrupted real work, not just start-ups: progress was committed between them
    assert len({n for n in seen if 0 < n < count}) >= 3, f"progress at kills: {seen} {note}"
    faults.heal()
    _run_to_end(chaos_url, tmp_path / "chaos-final.err")
    chaos = asyncio.run(_snapshot(chaos_url))

    # the uninterrupted run is complete and gap-free ...
    assert reference.committed == count
    assert len(reference.outputs) == count
    assert len({row[2] for row in reference.outputs}) == count, "duplicate output ids"
    assert {row[4] for row in reference.outputs} == {e.id for e in events}
    for partition in range(PARTITIONS):
        offsets = [row[1] for row in reference.outputs if row[0] == partition]
        assert offsets == list(range(len(offsets))), f"gap in partition {partition}"
    # ... its state is right ...
    decode = msgspec.msgpack.Decoder(int).decode
    merged = {k: decode(v) for part in reference.state.values() for k, v in part.items()}
    assert {k: v for k, v in merged.items() if not k.startswith("~")} == _expected_state(events)
    # ... and the killed run did exactly the same: same events, ids, positions and state
    assert chaos.committed == count, note
    assert chaos.outputs == reference.outputs, f"outputs differ after {kills} kills {note}"
    assert chaos.state == reference.state, f"state differs after {kills} kills {note}"
