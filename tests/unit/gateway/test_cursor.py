"""Start positions and cursors: exact resume, or recovered:false with the end, never a gap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.gateway.cursor import format_cursor, parse_cursor, resolve_start
from flambeau.log.base import StreamInfo

INFO = StreamInfo(
    name="results.units",
    partitions=3,
    epoch="e1",
    start={0: 5, 1: 0, 2: 10},
    end={0: 20, 1: 3, 2: 10},
)


def test_latest_and_earliest() -> None:
    assert resolve_start(None, INFO).offsets == [20, 3, 10]
    assert resolve_start("latest", INFO).offsets == [20, 3, 10]
    assert resolve_start("earliest", INFO).offsets == [5, 0, 10]


def test_a_cursor_in_range_is_recovered_exactly() -> None:
    start = resolve_start("e1/7.1.10", INFO)
    assert start.recovered
    assert start.offsets == [7, 1, 10]


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("e0/7.1.10", "epoch"),
        ("e1/7.1", "partitions"),
        ("e1/4.1.10", "no longer retained"),
        ("e1/7.9.10", "beyond the end"),
    ],
)
def test_positions_that_cannot_be_honoured_start_at_the_end(spec: str, why: str) -> None:
    start = resolve_start(spec, INFO)
    assert not start.recovered
    assert why in start.reason
    assert start.offsets == [20, 3, 10]


def test_only_the_subscribed_partitions_decide() -> None:
    assert resolve_start("e1/0.1.10", INFO, partitions=[1, 2]).recovered
    assert not resolve_start("e1/0.1.10", INFO).recovered


def test_explicit_offsets_leave_other_partitions_at_the_end() -> None:
    start = resolve_start("0:6,2:10", INFO)
    assert start.recovered
    assert start.offsets == [6, 3, 10]


@pytest.mark.parametrize("spec", ["soon", "3:1", "0:x", "e1/", "/1.2.3", "e1/1..2", "-1:0"])
def test_malformed_positions_raise(spec: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        resolve_start(spec, INFO)


@given(
    epoch=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="/"),
        min_size=1,
        max_size=20,
    ),
    offsets=st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=64),
)
def test_cursors_round_trip(epoch: str, offsets: list[int]) -> None:
    assert parse_cursor(format_cursor(epoch, offsets)) == (epoch, offsets)


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=8),
    st.text(max_size=30),
)
def test_resolution_is_exact_or_at_the_end(bounds: list[tuple[int, int]], spec: str) -> None:
    """Whatever is asked, the answer is either the exact request or the current end."""
    info = StreamInfo(
        name="s",
        partitions=len(bounds),
        epoch="ep",
        start={p: min(a, b) for p, (a, b) in enumerate(bounds)},
        end={p: max(a, b) for p, (a, b) in enumerate(bounds)},
    )
    end = [info.end[p] for p in range(info.partitions)]
    for candidate in (spec, "ep/" + spec, format_cursor("ep", [a for a, _ in bounds])):
        try:
            start = resolve_start(candidate, info)
        except ValueError:
            continue
        if not start.recovered:
            assert start.offsets == end
        else:
            for p, offset in enumerate(start.offsets):
                assert info.start[p] <= offset <= info.end[p]
