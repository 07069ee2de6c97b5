"""``flambeau bench ledger``: transfers per second through the ledger processor on SQLite.

The workload (:func:`flambeau.bench._ledger_loop.workload`): 10,000 accounts, of
which 10 hot merchant accounts receive every payment, and customers that must not go
overdrawn (so each transfer pays for a balance check); requests of 1,000 transfers each.

*Ours* is the real path: the requests are appended to ``payments.requests`` in a SQLite log
(one ``CreateTransfers`` of 1,000 transfers each), then a :class:`~flambeau.processing.Worker`
runs the ``payments.ledger`` processor until it has drained them. Each batch of requests
commits its decisions, alerts, checks, state changes and input offsets in one SQLite
transaction. The clock runs from the worker's start to its end; the accounts and top-ups are
applied beforehand, by the same worker, unmeasured.

The *baseline* applies the same transfers the way an application on SQLite would without a
ledger engine: one transaction per transfer (``BEGIN IMMEDIATE``; insert the transfer, which
its primary key makes idempotent; read the debit account and check its balance; update both
accounts; ``COMMIT``), with the same journal mode and synchronous level.

``ratio`` is ours ÷ baseline. Figures are wall-clock rates; ``*_per_cpu_s`` divides by the
process's CPU time instead, which other processes on a shared machine disturb less.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flambeau.bench._common import ratio
from flambeau.bench._ledger_loop import LEDGER as LEDGER_ID
from flambeau.bench._ledger_loop import START, Workload, workload
from flambeau.events import NewEvent
from flambeau.log import open_log
from flambeau.log.sqlite import connect
from flambeau.processing import Worker, default_processors
from flambeau.processing.runtime import DEFAULT_BATCH
from flambeau.services.payments.processors import LEDGER, REQUESTS
from flambeau.services.payments.schemas import (
    MAX_BATCH,
    AccountFlags,
    CreateAccounts,
    CreateTransfers,
    Transfer,
)

__all__ = ["run"]

ACCOUNTS = 10_000
HOT = 10
BATCH = 1_000
KEY = str(LEDGER_ID)

BASELINE_SCHEMA = """
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    flags INTEGER NOT NULL,
    debits_posted INTEGER NOT NULL,
    credits_posted INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    debit_account_id TEXT NOT NULL,
    credit_account_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    ledger INTEGER NOT NULL,
    code INTEGER NOT NULL,
    timestamp INTEGER NOT NULL
) WITHOUT ROWID;
"""


async def _ours(path: Path, plan: Workload) -> dict[str, float]:
    processor = default_processors.get(LEDGER)
    setup = [
        CreateAccounts(idempotency_key=f"accounts-{i}", ledger=LEDGER_ID, accounts=chunk)
        for i, chunk in enumerate(_chunks(plan.accounts))
    ] + [
        CreateTransfers(idempotency_key=f"top-ups-{i}", ledger=LEDGER_ID, transfers=chunk)
        for i, chunk in enumerate(_chunks(plan.top_ups))
    ]
    later = START + timedelta(minutes=1)
    measured = [
        NewEvent(
            CreateTransfers(idempotency_key=f"batch-{i}", ledger=LEDGER_ID, transfers=batch),
            key=KEY,
            time=later,
        )
        for i, batch in enumerate(plan.batches)
    ]
    async with await open_log(f"sqlite:///{path}") as log:
        await log.append(REQUESTS, [NewEvent(r, key=KEY, time=START) for r in setup])
        await Worker(log, [processor], drain=True).run()
        for start in range(0, len(measured), 100):
            await log.append(REQUESTS, measured[start : start + 100])
        wall, cpu = time.perf_counter(), time.process_time()
        await Worker(log, [processor], drain=True).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        decided = sum((await log.end_offsets("payments.transfers")).values())
    assert decided >= len(setup) + len(measured), "the worker did not decide every request"
    transfers = sum(len(batch) for batch in plan.batches)
    return {
        "transfers_per_s": transfers / wall,
        "transfers_per_cpu_s": transfers / cpu,
        "requests_per_s": len(measured) / wall,
        "seconds": wall,
    }


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + MAX_BATCH] for i in range(0, len(items), MAX_BATCH)]


def _baseline(path: Path, plan: Workload, count: int) -> dict[str, float]:
    conn = connect(path, "normal")
    conn.executescript(BASELINE_SCHEMA)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO accounts VALUES (?, ?, 0, 0)", [(a.id, a.flags) for a in plan.accounts]
    )
    conn.execute("COMMIT")
    for top_up in plan.top_ups:
        _apply(conn, top_up, 0)
    transfers = [t for batch in plan.batches for t in batch][:count]
    guard = int(AccountFlags.debits_must_not_exceed_credits)
    wall, cpu = time.perf_counter(), time.process_time()
    refused = 0
    for stamp, transfer in enumerate(transfers, 1):
        refused += not _apply(conn, transfer, stamp, guard)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return {
        "transfers_per_s": len(transfers) / wall,
        "transfers_per_cpu_s": len(transfers) / cpu,
        "transfers": len(transfers),
        "refused": refused,
    }


def _apply(conn: Any, t: Transfer, stamp: int, guard: int = 0) -> bool:
    """One transfer in its own transaction; ``False`` (rolled back) if it is refused."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        inserted = conn.execute(
            "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (t.id, t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.code, stamp),
        ).rowcount
        debit = conn.execute(
            "SELECT flags, debits_posted, credits_posted FROM accounts WHERE id = ?",
            (t.debit_account_id,),
        ).fetchone()
        credit = conn.execute(
            "SELECT 1 FROM accounts WHERE id = ?", (t.credit_account_id,)
        ).fetchone()
        flags, debits, credits = debit if debit else (0, 0, 0)
        overdrawn = bool(flags & guard) and debits + t.amount > credits
        if not inserted or debit is None or credit is None or overdrawn:
            conn.execute("ROLLBACK")
            return False
        conn.execute(
            "UPDATE accounts SET debits_posted = debits_posted + ? WHERE id = ?",
            (t.amount, t.debit_account_id),
        )
        conn.execute(
            "UPDATE accounts SET credits_posted = credits_posted + ? WHERE id = ?",
            (t.amount, t.credit_account_id),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def run(quick: bool) -> dict[str, Any]:
    """Measure the ledger processor and the one-transaction-per-transfer baseline."""
    batches = 50 if quick else 200
    baseline_count = 20_000 if quick else 50_000
    plan = workload(ACCOUNTS, HOT, batches, BATCH)
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_ours(Path(tmp) / "ledger.db", plan))
        raw = _baseline(Path(tmp) / "baseline.db", plan, baseline_count)
    return {
        "figures": {
            "transfers_per_s": round(ours["transfers_per_s"]),
            "transfers_per_cpu_s": round(ours["transfers_per_cpu_s"]),
            "requests_per_s": round(ours["requests_per_s"], 1),
        },
        "baseline": {
            "transfers_per_s": round(raw["transfers_per_s"]),
            "transfers_per_cpu_s": round(raw["transfers_per_cpu_s"]),
        },
        "ratio": ratio(ours["transfers_per_s"], raw["transfers_per_s"]),
        "params": {
            "backend": "sqlite",
            "sync": "normal",
            "journal": "wal",
            "accounts": ACCOUNTS,
            "hot_accounts": HOT,
            "transfers_per_request": BATCH,
            "transfers": batches * BATCH,
            "baseline_transfers": raw["transfers"],
            "worker_batch_requests": DEFAULT_BATCH,
            "goal_transfers_per_s": 100_000,
        },
    }
