"""The chaos test's processor: running sums per key, and one emitted event per input.

Imported by the test and by the worker subprocess (``flambeau worker --import tests.chaos.job``).
"""

from __future__ import annotations

from typing import Any

from flambeau.events import Event, default_registry
from flambeau.processing import Batch, Processor, Transaction, default_processors

INPUT = "chaos.amounts"
OUTPUT = "chaos.totals"
PARTITIONS = 4


class Amount(Event, tag="amount", frozen=True):
    n: int


class Running(Event, tag="running", frozen=True):
    key: str
    n: int
    total: int


default_registry.register(INPUT, Amount, partitions=PARTITIONS)
default_registry.register(OUTPUT, Running, partitions=PARTITIONS)

sums = default_processors.register(Processor("chaos.sums", inputs=[INPUT], outputs=[OUTPUT]))


@sums.on_batch
def add(batch: Batch[Any], tx: Transaction) -> None:
    for record in batch:
        total = tx.state.get(record.key, int, 0) + record.data.n
        tx.state.put(record.key, total)
        tx.emit(
            OUTPUT,
            Running(key=record.key, n=record.data.n, total=total),
            key=record.key,
            causation_id=record.id,
        )
