"""Event-time and processing-time timers, driven through flambeau.testing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import Event, NewEvent, Registry
from flambeau.processing import (
    Batch,
    ManualClock,
    Processor,
    TimeDomain,
    Timer,
    Transaction,
)
from flambeau.testing import Advance, run
from tests.unit.processing.schemas import T0


class Open(Event, tag="open", frozen=True):
    ends_at: datetime


class Bet(Event, tag="bet", frozen=True):
    stake: int


class Decision(Event, tag="decision", frozen=True):
    accepted: bool
    stake: int


class Closed(Event, tag="closed", frozen=True):
    market: str


CLOSE_BEFORE = timedelta(minutes=5)


def _book(registry: Registry, *, explode: bool = False) -> Processor:
    """Accepts bets on a market until 5 minutes before its end (an event-time timer)."""
    registry.register("bets.events", Open | Bet, partitions=1)
    registry.register("bets.decisions", Decision | Closed, partitions=1)
    book = Processor(
        "bets.book", inputs=["bets.events"], outputs=["bets.decisions"], registry=registry
    )

    @book.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            match record.data:
                case Open(ends_at=ends_at):
                    tx.state.put(record.key, "open")
                    tx.timers.at(
                        f"close:{record.key}", ends_at - CLOSE_BEFORE, data=record.key,
                        causation_id=record.id,
                    )  # fmt: skip
                case Bet(stake=stake):
                    accepted = tx.state.get(record.key, str) == "open"
                    tx.emit("bets.decisions", Decision(accepted=accepted, stake=stake),
                            key=record.key, causation_id=record.id)  # fmt: skip

    @book.on_timer
    def close(timer: Timer, tx: Transaction) -> None:
        if explode:
            raise RuntimeError("timer handler broke")
        tx.state.put(timer.data, "closed")
        tx.emit("bets.decisions", Closed(market=timer.data), key=timer.data)

    return book


def _market(*bets_at_minutes: int) -> list[NewEvent]:
    events = [NewEvent(Open(ends_at=T0 + timedelta(minutes=60)), key="m1", time=T0)]
    events += [
        NewEvent(Bet(stake=minute), key="m1", time=T0 + timedelta(minutes=minute))
        for minute in bets_at_minutes
    ]
    return events


@pytest.mark.parametrize("batch_size", [1, 3, 100])
@pytest.mark.parametrize("restart_every", [None, 1])
def test_betting_closes_at_the_deadline_however_events_are_batched(
    batch_size: int, restart_every: int | None
) -> None:
    registry = Registry()
    result = run(
        _book(registry), _market(10, 54, 55, 56, 70), registry=registry,
        batch_size=batch_size, restart_every=restart_every,
    )  # fmt: skip
    out = result.records("bets.decisions")
    shown = [(type(r.data).__name__, getattr(r.data, "stake", None)) for r in out]
    assert shown == [
        ("Decision", 10), ("Decision", 54), ("Closed", None), ("Decision", 55), ("Decision", 56),
        ("Decision", 70),
    ]  # fmt: skip
    assert [r.data.accepted for r in out if isinstance(r.data, Decision)] == [
        True, True, False, False, False,
    ]  # fmt: skip
    closed = next(r for r in out if isinstance(r.data, Closed))
    assert closed.time == T0 + timedelta(minutes=55)  # a timer's events carry its time
    assert result.value("m1") == "closed"


def test_timer_events_name_the_event_that_set_the_timer() -> None:
    registry = Registry()
    events = _market(56)
    result = run(_book(registry), events, registry=registry)
    closed = next(r for r in result.records("bets.decisions") if isinstance(r.data, Closed))
    assert closed.causation_id == "test-1"  # the Open event, first of the run


def test_a_failing_timer_handler_is_a_dead_letter_and_the_timer_is_gone() -> None:
    registry = Registry()
    result = run(_book(registry, explode=True), _market(56, 57), registry=registry)
    [dead] = result.events("bets.book.dead")
    assert (dead.source, dead.offset) == ("timer", -1)
    assert dead.event_id.startswith("~timer/event/close:m1/")
    assert dead.error == "RuntimeError: timer handler broke"
    assert result.value("m1") == "open"  # the failed handler's write was discarded


def _reminder(registry: Registry) -> Processor:
    registry.register("todo.items", Bet, partitions=1)
    registry.register("todo.reminders", Closed, partitions=1)
    processor = Processor(
        "todo.remind", inputs=["todo.items"], outputs=["todo.reminders"], registry=registry
    )

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            if record.data.stake < 0:
                tx.timers.cancel(f"r:{record.key}", TimeDomain.PROCESSING)
            else:
                tx.timers.after(f"r:{record.key}", timedelta(minutes=record.data.stake))

    @processor.on_timer
    def remind(timer: Timer, tx: Transaction) -> None:
        tx.emit("todo.reminders", Closed(market=timer.key), key=timer.key)

    return processor


def test_processing_time_timers_fire_when_the_clock_reaches_them() -> None:
    registry = Registry()
    clock = ManualClock(T0)
    events = [
        NewEvent(Bet(stake=2), key="a"),
        NewEvent(Bet(stake=5), key="b"),
        Advance(timedelta(minutes=1)),
        NewEvent(Bet(stake=3), key="a"),  # moves a's reminder to minute 1 + 3
        Advance(timedelta(minutes=2, seconds=30)),
        NewEvent(Bet(stake=-1), key="b"),  # cancels b's reminder
        Advance(timedelta(minutes=1)),
        Advance(timedelta(hours=1)),
    ]
    result = run(_reminder(registry), events, registry=registry, clock=clock)
    reminders = result.records("todo.reminders")
    assert [r.data.market for r in reminders] == ["r:a"]
    assert reminders[0].time == T0 + timedelta(minutes=4, seconds=30)  # the clock when it fired


def test_setting_a_timer_without_a_timer_handler_is_an_error_in_the_handler() -> None:
    registry = Registry()
    registry.register("todo.items", Bet, partitions=1)
    processor = Processor("todo.nohandler", inputs=["todo.items"], outputs=[], registry=registry)

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        tx.timers.after("x", timedelta(seconds=1))

    [dead] = run(processor, [Bet(stake=1)], registry=registry).events("todo.nohandler.dead")
    assert "has no on_timer handler" in dead.error


def test_a_timer_reads_back_and_moves() -> None:
    registry = Registry()
    registry.register("todo.items", Bet, partitions=1)
    processor = Processor("todo.read", inputs=["todo.items"], outputs=[], registry=registry)
    seen: list[Any] = []

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            tx.timers.at("t", T0 + timedelta(hours=record.data.stake), data=record.data.stake)
            seen.append(tx.timers.get("t"))
        seen.append(tx.timers.get("missing"))

    processor.on_timer(lambda timer, tx: None)
    run(processor, [NewEvent(Bet(stake=1), time=T0), NewEvent(Bet(stake=2), time=T0)],
        registry=registry, batch_size=1)  # fmt: skip
    assert [t.at if t else None for t in seen] == [
        T0 + timedelta(hours=1), None, T0 + timedelta(hours=2), None,
    ]  # fmt: skip
    assert seen[2].data == 2


class Tick(Event, tag="tick", frozen=True):
    v: int


class Seen(Event, tag="seen", frozen=True):
    v: int
    fired: int


def _ticker(registry: Registry) -> Processor:
    """Sets event-time timers (some already due) and reports what it has seen fire."""
    registry.register("tick.in", Tick, partitions=1)
    registry.register("tick.out", Seen | Closed, partitions=1)
    processor = Processor("tick.proc", inputs=["tick.in"], outputs=["tick.out"], registry=registry)

    @processor.on_batch
    def apply(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            v = record.data.v
            if v % 3 == 0:
                at = record.time + timedelta(seconds=v - 4)
                tx.timers.at(f"t{v % 4}", at, data=v, causation_id=record.id)
            fired = tx.state.get("fired", int, 0)
            tx.emit("tick.out", Seen(v=v, fired=fired), causation_id=record.id)

    @processor.on_timer
    def fire(timer: Timer, tx: Transaction) -> None:
        tx.state.put("fired", tx.state.get("fired", int, 0) + 1)
        tx.emit("tick.out", Closed(market=f"{timer.key}@{timer.at:%M:%S}"))

    return processor


@settings(max_examples=150, deadline=None)
@given(
    ticks=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12)), max_size=30),
    batch_size=st.integers(2, 12),
    restart_every=st.none() | st.integers(1, 3),
)
def test_event_time_timers_fire_at_the_same_point_however_events_are_batched(
    ticks: list[tuple[int, int]], batch_size: int, restart_every: int | None
) -> None:
    events = [
        NewEvent(Tick(v=v), key="k", id=f"e{i}", time=T0 + timedelta(seconds=t))
        for i, (t, v) in enumerate(ticks)
    ]

    def outputs(size: int, restarts: int | None) -> list[tuple[str, Any]]:
        registry = Registry()
        result = run(_ticker(registry), events, registry=registry, batch_size=size,
                     restart_every=restarts)  # fmt: skip
        return [(r.id, r.data) for r in result.records("tick.out")]

    assert outputs(batch_size, restart_every) == outputs(1, None)
