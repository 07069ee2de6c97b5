"""Small streams and processors the processing tests share; a fresh registry per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flambeau.events import Event, Registry
from flambeau.processing import Batch, Processor, Transaction

T0 = datetime(2024, 7, 27, 9, tzinfo=UTC)


class Deposit(Event, tag="deposit", frozen=True):
    amount: int


class Balance(Event, tag="balance", frozen=True):
    account: str
    balance: int


class Note(Event, tag="note", frozen=True):
    text: str


def make_registry(partitions: int = 2) -> Registry:
    registry = Registry()
    registry.register("bank.deposits", Deposit, partitions=partitions)
    registry.register("bank.notes", Note, partitions=partitions)
    registry.register("bank.balances", Balance, partitions=partitions)
    return registry


def balances(registry: Registry, *, poison: int | None = None) -> Processor:
    """Running balance per account; raises on deposits of ``poison``."""
    processor = Processor(
        "bank.ledger", inputs=["bank.deposits"], outputs=["bank.balances"], registry=registry
    )

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            if record.data.amount == poison:
                raise ValueError(f"cannot deposit {poison}")
            balance = tx.state.get(record.key, int, 0) + record.data.amount
            tx.state.put(record.key, balance)
            tx.emit(
                "bank.balances",
                Balance(account=record.key, balance=balance),
                key=record.key,
                causation_id=record.id,
            )

    return processor
