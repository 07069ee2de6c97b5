"""Batches: typed records, columns computed once, contiguous slices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.events import Record
from flambeau.processing import Batch
from tests.unit.processing.schemas import Deposit, Note

_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.Decoder(list[Deposit | Note]).decode


def _records(times: list[datetime]) -> list[Record[msgspec.Raw]]:
    return [
        Record(
            f"id-{i}", "bank.deposits", f"k{i}", 0, 100 + i, moment, moment, None,
            msgspec.Raw(_encode(Deposit(amount=i) if i % 2 else Note(text=str(i)))),
        )
        for i, moment in enumerate(times)
    ]  # fmt: skip


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_times_are_exact_microseconds(times: list[datetime]) -> None:
    batch: Batch[Deposit | Note] = Batch("bank.deposits", 0, _records(times), _decode)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert batch.times.tolist() == [(t - epoch) // timedelta(microseconds=1) for t in times]
    assert batch.times.dtype == np.int64


def test_payloads_decode_by_the_stream_schema() -> None:
    start = datetime(2024, 7, 26, tzinfo=UTC)
    batch: Batch[Deposit | Note] = Batch("bank.deposits", 0, _records([start] * 3), _decode)
    assert batch.data == [Note(text="0"), Deposit(amount=1), Note(text="2")]
    assert [r.data for r in batch] == batch.data
    assert batch[1].id == "id-1"
    assert batch[1].data == Deposit(amount=1)
    assert (batch.first_offset, batch.next_offset) == (100, 103)


def test_slices_share_the_columns_and_keep_positions() -> None:
    start = datetime(2024, 7, 26, tzinfo=UTC)
    batch: Batch[Deposit | Note] = Batch("bank.deposits", 0, _records([start] * 5), _decode)
    middle = batch[1:4]
    assert len(middle) == 3
    assert middle.keys == ["k1", "k2", "k3"]
    assert middle.ids == ["id-1", "id-2", "id-3"]
    assert (middle.first_offset, middle.next_offset) == (101, 104)
    assert middle.span == (1, 4)
    assert middle.columns is batch.columns
    assert middle[-1].key == "k3"
    with pytest.raises(IndexError):
        middle[3]
    with pytest.raises(ValueError, match="contiguous"):
        batch[::2]
