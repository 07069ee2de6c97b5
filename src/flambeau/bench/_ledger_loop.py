"""The ledger's workload, and a micro-measurement of its apply loop.

:func:`workload` is what ``flambeau bench ledger`` sends through the processor. Run by hand,
``python -m flambeau.bench._ledger_loop`` prints transfers per second for batches of 1,000
transfers over 10,000 accounts, 10 of them hot: every transfer pays one of the 10 hot
(merchant) accounts from a random customer account that must not go overdrawn. It measures the
pure loop (``payments.ledger.apply_transfers``), then the whole decision
(``payments.decisions.decide_transfers``: idempotency, expiry, results) plus encoding the
changed state keys, which is what a processor does per batch before its commit.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flambeau.services.payments.decisions import decide_transfers
from flambeau.services.payments.ledger import apply_transfers, create_accounts
from flambeau.services.payments.schemas import (
    MAX_BATCH,
    Account,
    AccountFlags,
    CreateTransfers,
    Transfer,
    TransferCode,
)
from flambeau.services.payments.state import LedgerState

__all__ = ["LEDGER", "START", "Workload", "build_workload", "measure", "workload"]

LEDGER = 1
START = datetime(2024, 7, 26, 19, 30, tzinfo=UTC)


class Workload(NamedTuple):
    """Accounts to create, top-ups that fund the customers, then the measured batches."""

    accounts: list[Account]
    top_ups: list[Transfer]
    batches: list[list[Transfer]]


def workload(
    accounts: int = 10_000,
    hot: int = 10,
    batches: int = 100,
    batch_size: int = 1_000,
    seed: int = 0,
) -> Workload:
    """The measurement workload, as requests would carry it (also ``flambeau bench ledger``'s).

    One funding account, ``hot`` merchant accounts, and customers for the rest. Customers carry
    ``debits_must_not_exceed_credits`` and are topped up first, so every transfer pays for its
    balance check; each measured transfer pays a random merchant from a random customer.
    """
    rng = random.Random(seed)
    customers = [str(10_000 + n) for n in range(accounts - hot - 1)]
    merchants = [str(1_000 + n) for n in range(hot)]
    guard = int(AccountFlags.debits_must_not_exceed_credits)
    specs = [Account(id="1", ledger=LEDGER, code=1)]
    specs += [Account(id=i, ledger=LEDGER, code=2, flags=guard) for i in customers]
    specs += [Account(id=i, ledger=LEDGER, code=3) for i in merchants]
    top_ups = [
        Transfer(
            id=str(1 + n),
            debit_account_id="1",
            credit_account_id=customer,
            amount=10**9,
            ledger=LEDGER,
            code=TransferCode.top_up,
        )
        for n, customer in enumerate(customers)
    ]
    next_id = 10**6
    work: list[list[Transfer]] = []
    for _ in range(batches):
        batch = []
        for _ in range(batch_size):
            next_id += 1
            batch.append(
                Transfer(
                    id=str(next_id),
                    debit_account_id=rng.choice(customers),
                    credit_account_id=rng.choice(merchants),
                    amount=rng.randint(100, 5_000),
                    ledger=LEDGER,
                    code=TransferCode.purchase,
                )
            )
        work.append(batch)
    return Workload(specs, top_ups, work)


def build_workload(
    accounts: int = 10_000,
    hot: int = 10,
    batches: int = 100,
    batch_size: int = 1_000,
    seed: int = 0,
) -> tuple[LedgerState, list[list[Transfer]]]:
    """A funded ledger (see :func:`workload`) and the batches to apply to it."""
    plan = workload(accounts, hot, batches, batch_size, seed)
    state = LedgerState()
    for chunk in range(0, len(plan.accounts), MAX_BATCH):
        create_accounts(state, plan.accounts[chunk : chunk + MAX_BATCH], START)
    for chunk in range(0, len(plan.top_ups), MAX_BATCH):
        apply_transfers(state, plan.top_ups[chunk : chunk + MAX_BATCH], START)
    state.changes()
    return state, plan.batches


def measure(batches: int = 100, batch_size: int = 1_000, repeats: int = 3) -> dict[str, int]:
    """Transfers per second of the bare loop and of a full decision with state encoding.

    Each figure is the best of ``repeats`` runs, by wall time and by this process's CPU time
    (the latter is what other processes on a shared machine disturb least).
    """
    now = START + timedelta(minutes=1)
    total = batches * batch_size
    figures: dict[str, int] = {"transfers": total}
    for name, run in (("apply", _apply), ("decide_and_encode", _decide)):
        wall = cpu = float("inf")
        for _ in range(repeats):
            state, work = build_workload(batches=batches, batch_size=batch_size)
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            run(state, work, now)
            wall = min(wall, time.perf_counter() - started_wall)
            cpu = min(cpu, time.process_time() - started_cpu)
        figures[f"{name}_per_s_wall"] = round(total / wall)
        figures[f"{name}_per_s_cpu"] = round(total / cpu)
    return figures


def _apply(state: LedgerState, work: list[list[Transfer]], now: datetime) -> None:
    for batch in work:
        apply_transfers(state, batch, now, ledger=LEDGER)


def _decide(state: LedgerState, work: list[list[Transfer]], now: datetime) -> None:
    for number, batch in enumerate(work):
        request = CreateTransfers(idempotency_key=f"k{number}", ledger=LEDGER, transfers=batch)
        decide_transfers(state, request, now)
        state.changes()


if __name__ == "__main__":  # pragma: no cover - a measurement to run by hand
    for name, value in measure().items():
        print(f"{name}: {value:,}")
