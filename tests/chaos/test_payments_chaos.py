"""``kill -9`` the ledger worker again and again: no cent lost, none counted twice.

A seeded random workload (:mod:`tests.chaos.payments_workload`: pending, post, void, linked
chains, replays of ids and of whole requests, reused keys, fraud contexts) is appended to
``payments.requests``. A worker subprocess (``flambeau worker``'s code, running only the ledger
processor) works through it and is killed with SIGKILL at random moments after it has started
committing, restarted each time, and finally left to drain. Then:

- every request was decided exactly once, and ``payments.transfers`` and ``payments.alerts``
  hold exactly what an uninterrupted run emits (computed in-process with the ledger's own code),
  in the same order, with no gap and no duplicate;
- the balances of the committed ledger state equal those of the reference model, which
  recomputes them from the accepted decisions alone and refuses a transfer applied twice or a
  hold resolved twice;
- the full invariant check of every partition passes, and no invariant check the processor
  emitted on the way reported a violation.

It runs on SQLite and on NATS JetStream: 100,000 transfers and 5 kills per backend in ``make
test`` (about a minute each on a 2-core machine), and a soak of 300,000 transfers and 10 kills
marked ``slow`` (``make soak``). Set ``FLAMBEAU_CHAOS_SEED`` to replay a given workload and
sequence of kill points.
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
from pathlib import Path
from typing import Any

import pytest

from flambeau.log import open_log
from flambeau.services.payments.decisions import PaymentsState
from flambeau.services.payments.invariants import check
from flambeau.services.payments.reference import ReferenceModel
from flambeau.services.payments.schemas import LedgerChecked
from tests.chaos import cluster, workers
from tests.chaos.payments_workload import PARTITIONS, Expected, expected, workload
from tests.support.nats_server import NatsServer

SEED = int(os.environ.get("FLAMBEAU_CHAOS_SEED", random.randrange(2**32)))
PROCESSOR = "payments.ledger"
REQUESTS = "payments.requests"
BATCH = 16  # requests per worker batch: small commits, so kills land between many of them

UrlFactory = Callable[[Path, pytest.FixtureRequest], str]


def _sqlite(tmp: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp / 'log.db'}"


def _nats(tmp: Path, request: pytest.FixtureRequest) -> str:
    server = NatsServer(tmp / "nats")
    server.store_dir.mkdir()
    server.start()
    request.addfinalizer(server.stop)
    return server.url


URL_FACTORIES: dict[str, UrlFactory] = {
    "sqlite": _sqlite,
    "nats": _nats,
    "nats-r3": lambda tmp, request: cluster.cluster_url(tmp / "cluster", request),
}
MARKS = {"nats": [pytest.mark.nats], "nats-r3": [pytest.mark.nats]}
TRANSFERS_OF = {"nats-r3": 50_000}
"""Fewer transfers where the run is slower (a replicated cluster on the same two cores)."""


async def _append(url: str, requests: list[Any]) -> None:
    async with await open_log(url) as log:
        for start in range(0, len(requests), 500):
            await log.append(REQUESTS, requests[start : start + 500])


async def _progress(url: str) -> tuple[int, int]:
    async with await open_log(url) as log:
        done = sum((await log.committed(PROCESSOR, REQUESTS)).values())
        return done, sum((await log.end_offsets(REQUESTS)).values())


WORKER = """
import asyncio, sys
import flambeau.services.payments.processors
from flambeau.cli.worker import work
asyncio.run(work(sys.argv[1], ["payments.ledger"], batch_size=int(sys.argv[2]), drain=True))
"""


def _start(url: str, stderr: Path) -> subprocess.Popen[bytes]:
    # ``flambeau worker --processors payments.ledger --drain`` without importing the other
    # services: this test runs the command's own code, and only the payments processor
    command = [sys.executable, "-c", WORKER, url, str(BATCH)]
    return workers.start(command, stderr)


def _changed(url: str, since: float, progress: int) -> bool:
    """Whether the worker has committed since it started (its start-up and state load done)."""
    if url.startswith("sqlite:///"):
        wal = Path(url[len("sqlite:///") :] + "-wal")  # the log is locked: watch its WAL
        return wal.exists() and wal.stat().st_mtime > since
    return asyncio.run(_progress(url))[0] > progress


def _kill_repeatedly(url: str, tmp: Path, kills: int, rng: random.Random, note: str) -> int:
    """Start, let work, SIGKILL, restart: ``kills`` kills that land mid-work, spread over it.

    A worker is killed at a random moment after its first commit (so start-up and state
    loading, which grow with the state, do not eat the pause), aiming at the next of ``kills``
    evenly spaced points of the work at the pace of the previous run. Returns how many kills
    landed with work committed before them and work left after.
    """
    faults = cluster.NodeFaults(url, rng)  # a cluster: a NATS node down across every other kill
    landed, progress, pace, backoff = 0, 0, 0.0, 1.0
    worked, moved = 0.0, 0  # over the runs killed mid-work: seconds after the first commit, work
    for attempt in range(4 * kills):
        if landed == kills:
            break
        total = asyncio.run(_progress(url))[1]
        target = total * (landed + 1) // (kills + 1)
        pause = 0.3 if not pace else min(20.0, max(0.05, (target - progress) / pace))
        # a kill that landed before any new commit (a busy machine) waits longer next time
        pause *= rng.uniform(0.6, 1.4) * backoff
        if faults.cluster is not None:  # node kills make the pace erratic: kill early, often
            pause = min(pause, 1.0)
        stderr = tmp / f"worker-{attempt}.err"
        started = time.time()
        proc = _start(url, stderr)
        workers.wait_ready(proc, stderr)
        deadline = time.monotonic() + 120
        while not _changed(url, started, progress) and proc.poll() is None:
            assert time.monotonic() < deadline, f"the worker never committed {note}"
            time.sleep(0.02)
        working = time.monotonic()
        faults.toggle()
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        elapsed = time.monotonic() - working
        done, total = asyncio.run(_progress(url))
        assert done >= progress, f"committed offsets went backwards {note}"
        print(f"kill {attempt} {elapsed:.2f} s after its first commit: exit {code}, {done}/{total}")
        print(f"NATS nodes killed so far: {faults.kills}")
        if done == total:
            break
        if code == -signal.SIGKILL and progress < done:
            landed += 1
            worked, moved = worked + elapsed, moved + done - progress
            pace = moved / worked
            backoff = 1.0
        else:
            backoff *= 2
        progress = done
    faults.heal()
    return landed


async def _outputs(url: str, stream: str) -> dict[int, list[tuple[str, Any]]]:
    async with await open_log(url) as log:
        decode = log.registry.decoder(stream).decode
        out: dict[int, list[tuple[str, Any]]] = {}
        for partition in range(PARTITIONS):
            offset = 0
            rows = out.setdefault(partition, [])
            ids: set[str] = set()
            while batch := await log.read(stream, partition, offset, 5_000):
                for record in batch:
                    assert record.offset == offset, f"gap in {stream}[{partition}] at {offset}"
                    assert record.id not in ids, f"duplicate id {record.id} in {stream}"
                    ids.add(record.id)
                    rows.append((record.causation_id or "", decode(record.data)))
                    offset += 1
        return {p: rows for p, rows in out.items() if rows}


async def _committed_states(url: str) -> dict[int, PaymentsState]:
    async with await open_log(url) as log:
        states = {}
        for partition in range(PARTITIONS):
            stored = await log.load_state(PROCESSOR, partition)
            ledger_keys = {k: v for k, v in stored.items() if not k.startswith(("p/", "~"))}
            if ledger_keys:
                states[partition] = PaymentsState.load(ledger_keys)
        return states


async def _checks(url: str) -> list[LedgerChecked]:
    async with await open_log(url) as log:
        decode = log.registry.decoder("payments.checks").decode
        found = []
        offset = 0
        while batch := await log.read("payments.checks", 0, offset, 5_000):
            found.extend(decode(record.data) for record in batch)
            offset = batch[-1].offset + 1
        return found


def _verify(url: str, want: Expected, requests: int, note: str) -> None:
    done, total = asyncio.run(_progress(url))
    assert done == total == requests, f"{done} of {total} requests decided {note}"
    decisions = asyncio.run(_outputs(url, "payments.transfers"))
    alerts = asyncio.run(_outputs(url, "payments.alerts"))
    # exactly the uninterrupted run's decisions and alerts, in the same order
    assert decisions.keys() == want.decisions.keys(), note
    for partition, rows in want.decisions.items():
        got = decisions[partition]
        assert len(got) == len(rows), f"partition {partition}: {len(got)} != {len(rows)} {note}"
        assert got == rows, f"decisions of partition {partition} differ {note}"
    assert alerts == want.alerts, f"alerts differ {note}"
    # balances from the accepted decisions alone equal the committed ledger's
    states = asyncio.run(_committed_states(url))
    for partition, rows in decisions.items():
        model = ReferenceModel()
        for _, event in rows:
            model.apply(event)  # raises on a transfer applied twice or a hold resolved twice
        ledger = states[partition].ledger
        for account_id, sums in model.balances.items():
            account = ledger.accounts[account_id]
            assert (
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
            ) == (
                sums.debits_pending,
                sums.debits_posted,
                sums.credits_pending,
                sums.credits_posted,
            ), f"account {account_id} {note}"
        assert model.balances.keys() == ledger.accounts.keys(), note
        assert check(ledger) == [], f"invariants of partition {partition} {note}"
        # and the committed state is the uninterrupted run's
        assert ledger.accounts == want.states[partition].ledger.accounts, note
        assert ledger.holds == want.states[partition].ledger.holds, note
        assert ledger.transfers == want.states[partition].ledger.transfers, note
    checks = asyncio.run(_checks(url))
    assert checks, f"no invariant checks were emitted {note}"
    assert [c for c in checks if c.violations_total] == [], note


def _run(
    backend: str, transfers: int, kills: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(SEED)
    note = f"(backend {backend}, FLAMBEAU_CHAOS_SEED={SEED})"
    load = workload(transfers, SEED)
    assert load.transfers >= transfers
    want = expected(load.requests)
    url = URL_FACTORIES[backend](tmp_path, request)
    asyncio.run(_append(url, load.requests))
    landed = _kill_repeatedly(url, tmp_path, kills, rng, note)
    assert landed >= kills - 1, f"only {landed} kills landed mid-work {note}"
    final = tmp_path / "worker-final.err"
    proc = _start(url, final)
    assert proc.wait(timeout=600) == 0, final.read_text()
    _verify(url, want, len(load.requests), note)


BACKENDS = [pytest.param(name, marks=MARKS.get(name, [])) for name in sorted(URL_FACTORIES)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_through_100k_transfers_loses_and_doubles_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _run(backend, TRANSFERS_OF.get(backend, 100_000), 5, tmp_path, request)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_through_300k_transfers(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _run(backend, 300_000, 10, tmp_path, request)
