"""Windows against a brute-force reference, over random events, batchings and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import Event, NewEvent, Registry
from flambeau.processing import (
    Batch,
    Hopping,
    Processor,
    Session,
    Sliding,
    Transaction,
    Tumbling,
    WindowResult,
    WindowSpec,
)
from flambeau.testing import RunResult, run
from tests.unit.processing import window_reference as ref

BASE = datetime(2024, 8, 4, 20, tzinfo=UTC)


class Num(Event, tag="num", frozen=True):
    v: int


class Result(Event, tag="result", frozen=True):
    key: str
    start: datetime
    end: datetime
    value: int | float
    count: int
    final: bool


def _to_result(r: WindowResult) -> Result:
    return Result(key=r.key, start=r.start, end=r.end, value=r.value, count=r.count, final=r.final)


def _processor(spec: WindowSpec, grace: int, agg: Any, emit: str) -> tuple[Processor, Registry]:
    registry = Registry()
    registry.register("w.in", Num, partitions=1)
    registry.register("w.out", Result, partitions=1)
    processor = Processor("w.proc", inputs=["w.in"], outputs=["w.out"], registry=registry)
    window = processor.window(
        "win", spec, grace=timedelta(seconds=grace), agg=agg, emit=emit,
        output="w.out", to_event=_to_result, dtype=int,
    )  # fmt: skip

    @processor.on_batch
    def add(batch: Batch[Num], tx: Transaction) -> None:
        window.add(tx, batch, [n.v for n in batch.data])

    return processor, registry


def _run(
    spec: WindowSpec, grace: int, agg: str, emit: str, events: list[ref.In],
    batch_size: int, restart_every: int | None,
) -> tuple[list[ref.Out], list[int]]:  # fmt: skip
    processor, registry = _processor(spec, grace, agg, emit)
    inputs = [
        NewEvent(Num(v=e.v), key=e.key, id=f"e{i}", time=BASE + timedelta(seconds=e.t))
        for i, e in enumerate(events)
    ]
    result: RunResult = run(
        processor, inputs, registry=registry, batch_size=batch_size, restart_every=restart_every
    )
    results = []
    for record in result.records("w.out"):
        r = record.data
        assert record.causation_id is not None
        results.append((
            int(record.causation_id[1:]), r.key, _seconds(r.start), _seconds(r.end),
            r.value, r.count, r.final,
        ))  # fmt: skip
    late = [int(d.event_id[1:]) for d in result.events("w.proc.late")]
    assert all(d.window == "win" for d in result.events("w.proc.late"))
    return results, late


def _seconds(moment: datetime) -> int:
    return int((moment - BASE).total_seconds())


events_st = st.lists(
    st.builds(
        ref.In,
        key=st.sampled_from(["a", "b", "c"]),
        t=st.integers(0, 60),
        v=st.integers(-5, 9),
    ),
    max_size=40,
)
aggs = st.sampled_from(["sum", "count", "min", "max", "mean"])
emits = st.sampled_from(["final", "current"])
batching = st.tuples(st.integers(1, 8), st.none() | st.integers(1, 4))


def _check(
    reference: Any, got: tuple[list[ref.Out], list[int]], emit: str, batch_size: int
) -> None:
    """Compare with ``reference(emit)``; coalesced updates are compared window by window."""
    expected = reference(emit)
    results, late = got
    assert late == expected.late
    if emit == "final" or batch_size == 1:
        assert results == expected.results
        return
    # every update reports a value the window really had at some point ...
    assert {r[1:] for r in results} <= {r[1:] for r in expected.results}
    # ... and each window that closed was last reported with its final value
    assert set(_last(reference("final").results).items()) <= set(_last(results).items())


def _last(results: list[ref.Out]) -> dict[tuple[str, int, int], tuple[Any, int]]:
    return {(key, start, end): (value, count) for _, key, start, end, value, count, _ in results}


@settings(max_examples=200, deadline=None)
@given(
    events=events_st, size=st.integers(1, 12), grace=st.integers(0, 6), agg=aggs, emit=emits,
    batching=batching,
)  # fmt: skip
def test_tumbling_matches_reference(
    events: list[ref.In], size: int, grace: int, agg: str, emit: str,
    batching: tuple[int, int | None],
) -> None:  # fmt: skip
    expected = partial(ref.fixed, events, size, size, grace, agg)
    spec = Tumbling(timedelta(seconds=size), align=BASE)
    _check(expected, _run(spec, grace, agg, emit, events, *batching), emit, batching[0])


@settings(max_examples=200, deadline=None)
@given(
    events=events_st, hop=st.integers(1, 5), hops=st.integers(1, 4), grace=st.integers(0, 6),
    agg=aggs, emit=emits, batching=batching,
)  # fmt: skip
def test_hopping_matches_reference(
    events: list[ref.In], hop: int, hops: int, grace: int, agg: str, emit: str,
    batching: tuple[int, int | None],
) -> None:  # fmt: skip
    size = hop * hops + (hop > 1 and hops > 1)  # sometimes not a multiple of the hop
    expected = partial(ref.fixed, events, size, hop, grace, agg)
    spec = Hopping(timedelta(seconds=size), timedelta(seconds=hop), align=BASE)
    _check(expected, _run(spec, grace, agg, emit, events, *batching), emit, batching[0])


@settings(max_examples=200, deadline=None)
@given(
    events=events_st, size=st.integers(1, 12), grace=st.integers(0, 6), agg=aggs, emit=emits,
    batching=batching,
)  # fmt: skip
def test_sliding_matches_reference(
    events: list[ref.In], size: int, grace: int, agg: str, emit: str,
    batching: tuple[int, int | None],
) -> None:  # fmt: skip
    expected = partial(ref.sliding, events, size, grace, agg)
    spec = Sliding(timedelta(seconds=size))
    _check(expected, _run(spec, grace, agg, emit, events, *batching), emit, batching[0])


@settings(max_examples=200, deadline=None)
@given(
    events=events_st, gap=st.integers(1, 8), grace=st.integers(0, 6), agg=aggs, emit=emits,
    batching=batching,
)  # fmt: skip
def test_session_matches_reference(
    events: list[ref.In], gap: int, grace: int, agg: str, emit: str,
    batching: tuple[int, int | None],
) -> None:  # fmt: skip
    expected = partial(ref.session, events, gap, grace, agg)
    spec = Session(timedelta(seconds=gap))
    _check(expected, _run(spec, grace, agg, emit, events, *batching), emit, batching[0])


def test_late_event_goes_to_the_late_stream_with_its_payload() -> None:
    processor, registry = _processor(Tumbling(timedelta(minutes=1)), 0, "sum", "final")
    events = [
        NewEvent(Num(v=1), key="a", id="on-time", time=BASE + timedelta(minutes=2)),
        NewEvent(Num(v=7), key="a", id="too-late", time=BASE + timedelta(seconds=30)),
    ]
    result = run(processor, events, registry=registry)
    [late] = result.events("w.proc.late")
    assert (late.event_id, late.window, late.offset) == ("too-late", "win", 1)
    assert late.watermark == BASE + timedelta(minutes=2)
    assert Num(v=7) == __import__("msgspec").msgpack.decode(late.payload, type=Num)
    assert result.events("w.out") == []  # the late event closed nothing and counted nowhere


def test_float_windows_sum_floats() -> None:
    registry = Registry()
    registry.register("w.in", Num, partitions=1)
    registry.register("w.out", Result, partitions=1)
    processor = Processor("w.proc", inputs=["w.in"], outputs=["w.out"], registry=registry)
    window = processor.window(
        "win", Tumbling(timedelta(seconds=10)), grace=timedelta(0), agg="mean",
        output="w.out", to_event=_to_result,
    )  # fmt: skip

    @processor.on_batch
    def add(batch: Batch[Num], tx: Transaction) -> None:
        window.add(tx, batch, [n.v / 2 for n in batch.data])

    times = [0, 3, 11]
    events = [NewEvent(Num(v=v), key="k", time=BASE + timedelta(seconds=t)) for v, t in
              zip([1, 2, 5], times, strict=True)]  # fmt: skip
    [result] = run(processor, events, registry=registry).events("w.out")
    assert (result.value, result.count, result.final) == (0.75, 2, True)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (Tumbling(timedelta(0)), "size"),
        (Hopping(timedelta(seconds=5), timedelta(seconds=10)), "hop must not exceed size"),
        (Session(timedelta(0)), "gap"),
    ],
)
def test_bad_window_specs_are_refused(spec: WindowSpec, message: str) -> None:
    processor = Processor("w.bad", inputs=["w.in"], outputs=["w.out"], registry=Registry())
    with pytest.raises(ValueError, match=message):
        processor.window("win", spec, grace=timedelta(0), output="w.out", to_event=_to_result)
