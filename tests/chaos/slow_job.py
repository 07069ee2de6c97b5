"""A deliberately slow processor over the chaos inputs, for the graceful-stop test."""

from __future__ import annotations

import time
from typing import Any

from flambeau.processing import Batch, Processor, Transaction, default_processors
from tests.chaos.job import INPUT, OUTPUT, Running

slow = default_processors.register(Processor("chaos.slow", inputs=[INPUT], outputs=[OUTPUT]))


@slow.on_batch
def add(batch: Batch[Any], tx: Transaction) -> None:
    time.sleep(0.05)  # a batch in flight long enough for a signal to land during it
    for record in batch:
        total = tx.state.get(record.key, int, 0) + record.data.n
        tx.state.put(record.key, total)
        tx.emit(OUTPUT, Running(key=record.key, n=record.data.n, total=total),
                key=record.key, causation_id=record.id)  # fmt: skip
