"""Processors through flambeau.testing: state, emitted ids, poison events, configuration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from flambeau.errors import SchemaMismatchError
from flambeau.events import NewEvent
from flambeau.processing import (
    Batch,
    DeadLetter,
    Processor,
    ProcessorConfigError,
    ProcessorRegistry,
    Transaction,
    UnknownProcessorError,
    output_id,
)
from flambeau.testing import run
from tests.unit.processing.schemas import (
    T0,
    Balance,
    Deposit,
    Note,
    balances,
    make_registry,
)


def _deposits(amounts: list[int], accounts: int = 3) -> list[NewEvent]:
    return [
        NewEvent(Deposit(amount=a), key=f"acc-{i % accounts}", id=f"d{i}",
                 time=T0 + timedelta(seconds=i))
        for i, a in enumerate(amounts)
    ]  # fmt: skip


def test_running_balances_are_state_and_outputs() -> None:
    registry = make_registry()
    result = run(balances(registry), _deposits([10, 20, 30, 40, 50, 60]), registry=registry)
    assert result.value("acc-0") == 10 + 40
    assert result.value("acc-2", int) == 30 + 60
    emitted = result.records("bank.balances")
    assert [r.data.balance for r in emitted if r.key == "acc-1"] == [20, 70]
    assert sorted(r.causation_id for r in emitted) == sorted(f"d{i}" for i in range(6))
    # an emitted event keeps its cause's event time
    assert {r.causation_id: r.time for r in emitted}["d4"] == T0 + timedelta(seconds=4)


def test_emitted_ids_are_derived_from_the_input_and_stable_across_batchings() -> None:
    registry = make_registry()
    events = _deposits(list(range(1, 40)))
    one = run(balances(registry), events, registry=registry, batch_size=1)
    many = run(balances(make_registry()), events, registry=make_registry(), batch_size=16)
    ids = [r.id for r in one.records("bank.balances")]
    assert ids == [r.id for r in many.records("bank.balances")]
    assert len(set(ids)) == len(ids)
    first = one.records("bank.balances")[0]
    assert first.id == output_id("bank.ledger", "bank.deposits", str(first.causation_id), 0)


def test_a_poison_event_goes_to_dead_letters_and_the_rest_of_its_batch_commits() -> None:
    registry = make_registry(partitions=1)
    events = _deposits([5, 7, 13, 11, 13, 2], accounts=1)
    result = run(balances(registry, poison=13), events, registry=registry, batch_size=100)
    assert result.value("acc-0") == 5 + 7 + 11 + 2
    assert [b.balance for b in result.events("bank.balances")] == [5, 12, 23, 25]
    dead = result.events("bank.ledger.dead")
    assert [(d.event_id, d.offset, d.source) for d in dead] == [
        ("d2", 2, "input"),
        ("d4", 4, "input"),
    ]
    assert all(d.error == "ValueError: cannot deposit 13" for d in dead)
    assert msgspec.msgpack.decode(dead[0].payload, type=Deposit) == Deposit(amount=13)
    assert all(isinstance(d, DeadLetter) and d.stream == "bank.deposits" for d in dead)


def test_a_handler_that_always_fails_never_stalls_the_partition() -> None:
    registry = make_registry()
    processor = Processor("bank.broken", inputs=["bank.deposits"], outputs=[], registry=registry)

    @processor.on_batch
    def fail(batch: Batch[Any], tx: Transaction) -> None:
        tx.state.put("touched", True)
        raise RuntimeError("bug")

    result = run(processor, _deposits([1] * 9), registry=registry, batch_size=4)
    assert len(result.events("bank.broken.dead")) == 9
    assert all(not part for part in result.state.values())  # failed writes left no trace


def test_emitting_the_wrong_type_is_a_dead_letter_naming_the_stream() -> None:
    registry = make_registry(partitions=1)
    processor = Processor(
        "bank.wrong",
        inputs=["bank.deposits"],
        outputs=["bank.balances", "bank.notes"],
        registry=registry,
    )

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            if record.data.amount < 0:
                tx.emit("bank.balances", Note(text="negative"), causation_id=record.id)
            else:
                tx.emit("bank.notes", Note(text="ok"), causation_id=record.id)

    result = run(processor, _deposits([1, -1, 2], accounts=1), registry=registry)
    [dead] = result.events("bank.wrong.dead")
    assert dead.event_id == "d1"
    assert SchemaMismatchError.__name__ in dead.error
    assert "bank.balances" in dead.error
    assert len(result.events("bank.notes")) == 2


def test_co_partitioned_inputs_share_state_per_partition() -> None:
    registry = make_registry(partitions=2)
    processor = Processor(
        "bank.audit", inputs=["bank.deposits", "bank.notes"], outputs=[], registry=registry
    )

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            seen = tx.state.get(record.key, list, [])
            tx.state.put(record.key, [*seen, batch.stream])

    events = [
        ("bank.deposits", NewEvent(Deposit(amount=1), key="x")),
        ("bank.notes", NewEvent(Note(text="hi"), key="x")),
        ("bank.deposits", NewEvent(Deposit(amount=2), key="x")),
    ]
    result = run(processor, events, registry=registry)
    assert result.value("x") == ["bank.deposits", "bank.notes", "bank.deposits"]


def test_inputs_with_different_partition_counts_are_refused() -> None:
    registry = make_registry(partitions=2)
    registry.register("bank.other", Note, partitions=3)
    processor = Processor(
        "bank.mixed", inputs=["bank.deposits", "bank.other"], outputs=[], registry=registry
    )
    processor.on_batch(lambda batch, tx: None)
    with pytest.raises(ProcessorConfigError, match="co-partitioned"):
        run(processor, [], registry=registry)


@pytest.mark.parametrize(
    ("name", "inputs", "message"),
    [
        ("Bad Name", ["bank.deposits"], "dotted lower case"),
        ("bank.none", [], "list of input streams"),
        ("bank.twice", ["bank.deposits", "bank.deposits"], "twice"),
    ],
)
def test_malformed_processors_are_refused(name: str, inputs: list[str], message: str) -> None:
    with pytest.raises(ProcessorConfigError, match=message):
        Processor(name, inputs=inputs, outputs=[], registry=make_registry())


def test_a_processor_without_a_handler_cannot_run() -> None:
    registry = make_registry()
    processor = Processor("bank.idle", inputs=["bank.deposits"], outputs=[], registry=registry)
    with pytest.raises(ProcessorConfigError, match="no on_batch handler"):
        run(processor, [], registry=registry)
    processor.on_batch(lambda batch, tx: None)
    with pytest.raises(ProcessorConfigError, match="already has a batch handler"):
        processor.on_batch(lambda batch, tx: None)


def test_side_streams_are_registered_with_the_processor() -> None:
    registry = make_registry()
    processor = balances(registry)
    assert registry.spec(processor.dead_stream).name == "bank.ledger.dead"
    assert registry.spec(processor.late_stream).name == "bank.ledger.late"


def test_the_processor_registry_finds_processors_by_name() -> None:
    registry = make_registry()
    processors = ProcessorRegistry()
    ledger = processors.register(balances(registry))
    processors.register(ledger)  # the same one again is fine
    assert processors.get("bank.ledger") is ledger
    assert processors.select() == [ledger]
    assert "bank.ledger" in processors
    with pytest.raises(ProcessorConfigError, match="already registered"):
        processors.register(balances(make_registry()))
    with pytest.raises(UnknownProcessorError, match=r"'bank\.nope'.*known: bank\.ledger"):
        processors.select(["bank.nope"])


def test_balance_type_is_what_the_output_stream_carries() -> None:
    registry = make_registry()
    result = run(balances(registry), _deposits([3]), registry=registry)
    assert result.events("bank.balances") == [Balance(account="acc-0", balance=3)]
