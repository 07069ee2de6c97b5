"""flambeau.testing: run a processor with no backend; a clock tests can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flambeau.errors import SchemaMismatchError
from flambeau.events import NewEvent
from flambeau.processing import Batch, Processor, Transaction
from flambeau.testing import Advance, ManualClock, run
from tests.unit.processing.schemas import T0, Balance, Deposit, Note, balances, make_registry


def test_payloads_envelopes_and_pairs_are_all_accepted() -> None:
    registry = make_registry()
    events = [
        Deposit(amount=1),
        NewEvent(Deposit(amount=2), key="acc-9", id="mine", time=T0),
        ("bank.deposits", Deposit(amount=3)),
    ]
    result = run(balances(registry), events, registry=registry)
    records = result.records("bank.balances")
    assert [r.causation_id for r in records if r.key == ""] == ["test-1", "test-3"]
    assert [(r.causation_id, r.time) for r in records if r.key == "acc-9"] == [("mine", T0)]
    assert result.value("acc-9") == 2
    assert result.events("nothing.here") == []
    assert result.value("missing") is None


def test_results_are_placed_as_the_log_would_place_them() -> None:
    registry = make_registry(partitions=2)
    deposits = [NewEvent(Deposit(amount=1), key=f"acc-{i}") for i in range(10)]
    result = run(balances(registry), deposits, registry=registry)
    records = result.records("bank.balances")
    for partition in (0, 1):
        offsets = [r.offset for r in records if r.partition == partition]
        assert offsets == list(range(len(offsets)))
    assert set(result.state) == {r.partition for r in records}
    assert result.state[records[0].partition][records[0].key] == 1
    assert not any(k.startswith("~") for part in result.state.values() for k in part)


def test_a_processor_with_several_inputs_needs_stream_event_pairs() -> None:
    registry = make_registry()
    processor = Processor(
        "bank.both", inputs=["bank.deposits", "bank.notes"], outputs=[], registry=registry
    )
    processor.on_batch(lambda batch, tx: None)
    with pytest.raises(ValueError, match="give each event as a"):
        run(processor, [Deposit(amount=1)], registry=registry)
    run(processor, [("bank.notes", Note(text="fine"))], registry=registry)
    with pytest.raises(ValueError, match=r"does not read stream 'bank\.balances'"):
        run(processor, [("bank.balances", Note(text="x"))], registry=registry)
    with pytest.raises(SchemaMismatchError, match=r"bank\.notes"):
        run(processor, [("bank.notes", Deposit(amount=1))], registry=registry)


def test_events_without_time_take_the_clock_time() -> None:
    registry = make_registry()
    clock = ManualClock(T0)
    seen: list[datetime] = []
    processor = Processor("bank.times", inputs=["bank.deposits"], outputs=[], registry=registry)

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        seen.extend(record.time for record in batch)

    run(processor, [Deposit(amount=1), Advance(timedelta(hours=1)), Deposit(amount=2)],
        registry=registry, clock=clock)  # fmt: skip
    assert seen == [T0, T0 + timedelta(hours=1)]
    assert clock.now() == T0 + timedelta(hours=1)


def test_restarting_every_batch_changes_nothing() -> None:
    registry = make_registry()
    events = [NewEvent(Deposit(amount=i), key=f"acc-{i % 3}") for i in range(25)]
    plain = run(balances(registry), events, registry=registry, batch_size=4)
    restarted = run(balances(make_registry()), events, registry=make_registry(), batch_size=4,
                    restart_every=1)  # fmt: skip
    assert restarted.state == plain.state
    assert restarted.events("bank.balances") == plain.events("bank.balances")
    assert isinstance(plain.events("bank.balances")[0], Balance)


def test_the_manual_clock_only_moves_forward() -> None:
    clock = ManualClock(T0)
    assert clock.advance(timedelta(seconds=5)) == T0 + timedelta(seconds=5)
    clock.set(T0 + timedelta(minutes=1))
    assert clock.now() == T0 + timedelta(minutes=1)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backwards"):
        clock.set(T0)
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(datetime(2024, 1, 1))
    assert ManualClock().now().tzinfo is UTC
