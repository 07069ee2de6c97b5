"""Cold state: values kept in an unnamed temporary file, read back by position."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest

from flambeau.events import NewEvent, Registry
from flambeau.log import open_log
from flambeau.processing import Batch, Processor, ProcessorConfigError, State, Transaction, Worker
from flambeau.processing import spill as spill_module
from flambeau.processing.spill import Spill
from flambeau.processing.state import StateStore
from tests.unit.processing.schemas import T0, Note, make_registry


def test_values_round_trip_and_are_replaced_and_deleted() -> None:
    spill = Spill()
    spill.put("a", b"first")
    spill.put("b", b"")
    spill.put("a", b"second, longer")
    assert (spill.get("a"), spill.get("b"), spill.get("c")) == (b"second, longer", b"", None)
    assert (len(spill), spill.live, spill.dead) == (2, 14, 5)
    spill.delete("a")
    spill.delete("missing")
    assert ("a" in spill, len(spill), spill.live, spill.dead) == (False, 1, 0, 19)
    spill.close()


def test_the_file_has_no_name_so_nothing_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spill = Spill()
    spill.put("k", b"x" * 10_000)
    assert os.listdir(tmp_path) == []
    assert spill.get("k") == b"x" * 10_000
    spill.close()


def test_dead_bytes_are_compacted_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill_module, "COMPACT_AFTER", 100)
    spill = Spill()
    spill.put("keep", b"k" * 40)
    for n in range(10):
        spill.put("churn", bytes([n]) * 30)
    # compacted when the dead bytes passed 100 and the live ones: the file restarted
    assert spill.dead <= 100
    assert spill.live == 70
    assert (spill.get("keep"), spill.get("churn")) == (b"k" * 40, bytes([9]) * 30)
    spill.close()


def _encoded(**values: object) -> dict[str, bytes]:
    return {k: msgspec.msgpack.encode(v) for k, v in values.items()}


def test_cold_keys_stay_out_of_memory_and_read_like_the_others() -> None:
    store = StateStore(0, _encoded(**{"t/1": [1, 2], "hot": 5}), cold=("t/",))
    assert store.cold_bytes == len(msgspec.msgpack.encode([1, 2]))
    state = State(store)
    state.put("t/2", [3])
    state.put("hot", 6)
    state.commit()
    assert store.cold_bytes > len(msgspec.msgpack.encode([1, 2]))
    reader = State(store)
    assert (reader.get("t/1"), reader.get("t/2"), reader.get("hot")) == ([1, 2], [3], 6)
    assert [k for k, _ in reader.scan()] == ["hot", "t/1", "t/2"]
    assert "t/2" in reader
    assert len(store) == 3
    assert reader.committed()("t/2") == msgspec.msgpack.encode([3])
    # what the runtime commits and what a reload would read are the same for cold keys
    changes = {c.key: c.value for c in store.take_changes()}
    assert changes == _encoded(**{"t/2": [3], "hot": 6})
    assert store.snapshot() == _encoded(**{"t/1": [1, 2], "t/2": [3], "hot": 6})
    reader.delete("t/1")
    reader.commit()
    assert (State(store).get("t/1"), list(State(store).scan("t/"))) == (None, [("t/2", [3])])
    store.close()


def test_cold_prefixes_are_checked() -> None:
    with pytest.raises(ProcessorConfigError, match="cold prefixes"):
        Processor("x.y", inputs=["s"], outputs=[], cold=("~t/",))
    with pytest.raises(ProcessorConfigError, match="cold prefixes"):
        Processor("x.y", inputs=["s"], outputs=[], cold="t/")
    assert Processor("x.y", inputs=["s"], outputs=[], cold=["t/", "x/"]).cold == ("t/", "x/")


def _first_seen(registry: Registry) -> Processor:
    """Counts the distinct note texts, remembering each under a cold key."""
    processor = Processor(
        "bank.seen", inputs=["bank.notes"], outputs=[], registry=registry, cold=("seen/",)
    )

    @processor.on_batch
    def count(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            key = f"seen/{record.data.text}"
            if key not in tx.state:
                tx.state.put(key, record.id)
                tx.state.put("distinct", tx.state.get("distinct", int, 0) + 1)

    return processor


async def test_cold_state_survives_a_restart_through_the_log(tmp_path: Path) -> None:
    registry = make_registry(partitions=1)
    seen = _first_seen(registry)
    url = f"sqlite:///{tmp_path / 'log.db'}"

    def notes(first: int, texts: range) -> list[NewEvent]:
        return [
            NewEvent(Note(text=f"n{t}"), key="k", id=f"e{first + i}", time=T0)
            for i, t in enumerate(texts)
        ]

    async with await open_log(url, registry) as log:
        await log.append("bank.notes", notes(0, range(40)))
        await Worker(log, [seen], drain=True, batch_size=9).run()
    async with await open_log(url, registry) as log:
        # 20 texts seen before the restart, 10 new ones
        await log.append("bank.notes", notes(100, range(20, 50)))
        await Worker(log, [seen], drain=True, batch_size=9).run()
        stored = await log.load_state("bank.seen", 0)
    assert msgspec.msgpack.decode(stored["distinct"]) == 50
    assert sum(key.startswith("seen/") for key in stored) == 50


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_the_file_is_made_in_the_directory_given(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    spill.put("k", b"v")
    assert spill._file is not None
    where = os.readlink(f"/proc/self/fd/{spill._file.fileno()}")
    assert where.startswith(f"{tmp_path}/")  # (O_TMPFILE: no name at all)
    assert where.endswith("(deleted)")
    spill.close()
