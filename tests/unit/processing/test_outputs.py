"""Processors declare what they write: undeclared emits fail, writers are recorded and exclusive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flambeau.events import NewEvent, Writer
from flambeau.processing import (
    Batch,
    Processor,
    ProcessorConfigError,
    Transaction,
    Tumbling,
    UndeclaredOutputError,
)
from flambeau.testing import run
from tests.unit.processing.schemas import T0, Balance, Deposit, Note, make_registry


def _noting(name: str, outputs: list[str], target: str) -> tuple[Processor, Any]:
    registry = make_registry()
    processor = Processor(name, inputs=["bank.deposits"], outputs=outputs, registry=registry)
    calls: list[int] = []

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            calls.append(record.data.amount)
            tx.emit(target, Note(text="hi"), causation_id=record.id)

    return processor, (registry, calls)


def test_the_first_emit_to_an_undeclared_stream_raises_naming_processor_and_stream() -> None:
    processor, (registry, calls) = _noting("bank.chatty", ["bank.balances"], "bank.notes")
    events = [NewEvent(Deposit(amount=n), key="a", time=T0) for n in (1, 2, 3)]
    with pytest.raises(UndeclaredOutputError) as raised:
        run(processor, events, registry=registry)
    message = str(raised.value)
    assert "'bank.chatty'" in message
    assert "'bank.notes'" in message
    assert "bank.balances" in message  # what it did declare
    assert calls == [1]  # it stopped at the first emit, not dead-lettered event after event


def test_a_declared_output_and_the_side_streams_are_written_freely() -> None:
    processor, (registry, _) = _noting("bank.noter", ["bank.notes"], "bank.notes")
    result = run(processor, [NewEvent(Deposit(amount=1), key="a", time=T0)], registry=registry)
    assert [n.text for n in result.events("bank.notes")] == ["hi"]
    assert processor.writes == {"bank.notes", "bank.noter.late", "bank.noter.dead"}


def test_the_registry_records_each_output_and_side_stream_writer() -> None:
    registry = make_registry()
    Processor("bank.ledger", inputs=["bank.deposits"], outputs=["bank.balances"], registry=registry)
    for stream in ("bank.balances", "bank.ledger.late", "bank.ledger.dead"):
        writer = registry.spec(stream).writer
        assert writer is not None
        assert (writer.kind, writer.processors, writer.inputs) == (
            "processor",
            ("bank.ledger",),
            ("bank.deposits",),
        )
    assert registry.spec("bank.deposits").writer is None
    assert registry.spec("bank.notes").writer is None


def test_a_window_output_must_be_declared() -> None:
    registry = make_registry()
    processor = Processor("bank.sums", inputs=["bank.deposits"], outputs=[], registry=registry)
    with pytest.raises(ProcessorConfigError, match=r"window 'minute'.*'bank\.balances'"):
        processor.window(
            "minute",
            Tumbling(timedelta(minutes=1)),
            grace=timedelta(0),
            output="bank.balances",
            to_event=lambda r: Balance(account=r.key, balance=int(r.value)),
        )


def test_processors_of_one_service_share_an_output_but_not_with_another_service() -> None:
    registry = make_registry()
    Processor("bank.a", inputs=["bank.deposits"], outputs=["bank.balances"], registry=registry)
    Processor("bank.b", inputs=["bank.notes"], outputs=["bank.balances"], registry=registry)
    writer = registry.spec("bank.balances").writer
    assert writer is not None
    assert writer.processors == ("bank.a", "bank.b")
    assert writer.inputs == ("bank.deposits", "bank.notes")
    with pytest.raises(ProcessorConfigError, match=r"'shop\.c'.*'bank\.balances'.*bank\.a"):
        Processor("shop.c", inputs=["bank.deposits"], outputs=["bank.balances"], registry=registry)


def test_a_processor_cannot_write_a_route_or_gateway_stream_unless_it_takes_processors() -> None:
    registry = make_registry()
    registry.register("bank.orders", Note, partitions=2, writer=Writer.route("POST /v1/orders"))
    registry.register("bank.keys", Note, partitions=1, writer=Writer.gateway("POST /v1/keys"))
    registry.register(
        "bank.inbox",
        Note,
        partitions=2,
        writer=Writer.route("POST /v1/inbox", takes_processors=True),
    )
    for stream in ("bank.orders", "bank.keys"):
        with pytest.raises(ProcessorConfigError, match=f"stream '{stream}' is written by"):
            Processor("bank.forger", inputs=["bank.deposits"], outputs=[stream], registry=registry)
    Processor("shop.submit", inputs=["bank.deposits"], outputs=["bank.inbox"], registry=registry)
    writer = registry.spec("bank.inbox").writer
    assert writer is not None
    assert (writer.kind, writer.routes, writer.processors) == (
        "route",
        ("POST /v1/inbox",),
        ("shop.submit",),
    )


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ("bank.notes", "list of stream names"),
        (["bank.notes", "bank.notes"], "output stream twice"),
        (["bank.odd.dead"], "declared by the runtime"),
    ],
)
def test_malformed_outputs_are_refused(outputs: Any, message: str) -> None:
    with pytest.raises(ProcessorConfigError, match=message):
        Processor("bank.odd", inputs=["bank.deposits"], outputs=outputs, registry=make_registry())


def test_outputs_is_a_required_keyword() -> None:
    with pytest.raises(TypeError, match="outputs"):
        Processor("bank.none", inputs=["bank.deposits"])  # type: ignore[call-arg]
