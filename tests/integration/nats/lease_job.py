"""The failover test's job: running sums per key, one output per input naming its worker.

Imported by the test and by each worker process (``python -m tests.integration.nats.lease_worker``).
"""

from __future__ import annotations

import os
from typing import Any

from flambeau.events import Event, Registry
from flambeau.processing import Batch, Processor, Transaction

INPUT = "lease.amounts"
OUTPUT = "lease.totals"
PARTITIONS = 12

REGISTRY = Registry()


class Amount(Event, tag="amount", frozen=True):
    n: int


class Running(Event, tag="running", frozen=True):
    key: str
    n: int
    total: int
    worker: str


REGISTRY.register(INPUT, Amount, partitions=PARTITIONS)
REGISTRY.register(OUTPUT, Running, partitions=PARTITIONS)

sums = Processor("lease.sums", inputs=[INPUT], outputs=[OUTPUT], registry=REGISTRY)


@sums.on_batch
def add(batch: Batch[Any], tx: Transaction) -> None:
    worker = os.environ.get("LEASE_WORKER", "?")
    for record in batch:
        total = tx.state.get(record.key, int, 0) + record.data.n
        tx.state.put(record.key, total)
        tx.emit(
            OUTPUT,
            Running(key=record.key, n=record.data.n, total=total, worker=worker),
            key=record.key,
            causation_id=record.id,
        )
