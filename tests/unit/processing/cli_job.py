"""A processor the ``flambeau worker`` command tests import with ``--import``."""

from __future__ import annotations

from typing import Any

from flambeau.events import default_registry
from flambeau.processing import Batch, Processor, Transaction, default_processors
from tests.unit.processing.schemas import Balance, Deposit

default_registry.register("cli.deposits", Deposit, partitions=2)
default_registry.register("cli.balances", Balance, partitions=2)

ledger = default_processors.register(
    Processor("cli.ledger", inputs=["cli.deposits"], outputs=["cli.balances"])
)


@ledger.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    for record in batch:
        balance = tx.state.get(record.key, int, 0) + record.data.amount
        tx.state.put(record.key, balance)
        tx.emit("cli.balances", Balance(account=record.key, balance=balance), key=record.key,
                causation_id=record.id)  # fmt: skip
