"""Keyed state: the transaction overlay, typed values, scans, and what a commit writes."""

from __future__ import annotations

import msgspec
import pytest

from flambeau.processing import ReservedStateKeyError, State
from flambeau.processing.state import StateStore


class Medals(msgspec.Struct, frozen=True):
    gold: int = 0
    silver: int = 0


def _store(**values: object) -> StateStore:
    return StateStore(3, {k: msgspec.msgpack.encode(v) for k, v in values.items()})


def test_reads_see_the_transaction_first_then_the_committed_state() -> None:
    store = _store(a=1, b=2)
    state = State(store)
    state.put("a", 10)
    state.delete("b")
    assert (state.get("a"), state.get("b"), state.get("b", int, -1)) == (10, None, -1)
    assert "a" in state
    assert "b" not in state
    assert State(store).get("a") == 1  # nothing is visible to others before the commit
    state.commit()
    assert (State(store).get("a"), State(store).get("b")) == (10, None)


def test_structs_round_trip_typed() -> None:
    store = _store()
    state = State(store)
    state.put("FRA", Medals(gold=16, silver=26))
    state.commit()
    reloaded = State(StateStore(3, store.snapshot()))
    assert reloaded.get("FRA", Medals) == Medals(gold=16, silver=26)
    assert reloaded.get("FRA") == {"gold": 16, "silver": 26}  # untyped: plain values


def test_a_commit_writes_only_the_changed_keys() -> None:
    store = _store(a=1, b=2, c=3)
    state = State(store)
    state.put("a", 5)
    state.delete("c")
    state.get("b")
    state.commit()
    changes = {(c.partition, c.key): c.value for c in store.take_changes()}
    assert changes == {(3, "a"): msgspec.msgpack.encode(5), (3, "c"): None}
    assert store.take_changes() == []


def test_scan_by_prefix_merges_the_overlay_in_key_order() -> None:
    state = State(_store(**{"bet:2": 20, "bet:1": 10, "odds:1": 1.5}))
    state.put("bet:3", 30)
    state.delete("bet:2")
    state.put_internal("~secret", 1)
    assert list(state.scan("bet:")) == [("bet:1", 10), ("bet:3", 30)]
    assert [k for k, _ in state.scan()] == ["bet:1", "bet:3", "odds:1"]  # runtime keys hidden


def test_runtime_keys_are_reserved() -> None:
    state = State(_store())
    with pytest.raises(ReservedStateKeyError, match="'~wm'"):
        state.put("~wm", 1)
    with pytest.raises(ReservedStateKeyError):
        state.delete("~t/e/x")


def test_encoded_values_a_handler_made_itself_are_written_as_given() -> None:
    store = _store(old=1, gone=2)
    state = State(store)
    state.put_encoded("FRA", msgspec.msgpack.encode(Medals(gold=16)))
    state.put_encoded("gone", None)
    assert state.get("FRA", Medals) == Medals(gold=16)  # decoded from the overlay when asked
    assert "gone" not in state
    state.commit()
    changes = {c.key: c.value for c in store.take_changes()}
    assert changes == {"FRA": msgspec.msgpack.encode(Medals(gold=16)), "gone": None}
    assert state.committed()("FRA") == msgspec.msgpack.encode(Medals(gold=16))
    with pytest.raises(ReservedStateKeyError, match="'~wm'"):
        state.put_encoded("~wm", msgspec.msgpack.encode(1))


def test_unencodable_values_fail_when_put() -> None:
    state = State(_store())
    with pytest.raises(TypeError, match="'when'"):
        state.put("when", object())


def test_numpy_scalars_are_stored_as_plain_numbers() -> None:
    np = pytest.importorskip("numpy")
    store = _store()
    state = State(store)
    state.put("total", np.int64(7))
    state.commit()
    assert State(StateStore(3, store.snapshot())).get("total") == 7


def test_decoded_values_kept_are_bounded_and_the_rest_decode_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flambeau.processing.state.CACHED_VALUES", 10)
    store = _store(**{f"k{n}": n for n in range(50)})
    state = State(store)
    assert [state.get(f"k{n}") for n in range(50)] == list(range(50))
    for n in range(50, 60):
        state.put(f"k{n}", n)
    state.commit()
    assert len(store._cache) == 10
    assert [State(store).get(f"k{n}") for n in range(60)] == list(range(60))
