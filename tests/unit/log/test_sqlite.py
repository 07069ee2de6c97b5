"""SQLite-only behaviour: what the shared conformance suite cannot say about other backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flambeau.events import NewEvent, Registry
from flambeau.log import open_log
from tests.conformance.schemas import Ping


async def test_a_stream_registered_after_open_continues_where_the_file_left_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'late.db'}"
    first = Registry()
    first.register("test.late", Ping, partitions=2)
    async with await open_log(url, first) as log:
        await log.append("test.late", [NewEvent(Ping(n=i), id=f"e{i}", key="k") for i in range(3)])
        epoch = (await log.info("test.late")).epoch

    later = Registry()  # a process whose modules register test.late only after opening the log
    async with await open_log(url, later) as log:
        later.register("test.late", Ping, partitions=2)
        again = await log.append(
            "test.late", [NewEvent(Ping(n=1), id="e1", key="k"), NewEvent(Ping(n=9), key="k")]
        )
        info = await log.info("test.late")
    assert info.epoch == epoch
    assert again[0].duplicate
    assert (again[1].offset, again[1].duplicate) == (3, False)


async def test_the_in_memory_tail_is_bounded_in_bytes_and_older_records_still_read(
    tmp_path: Path,
) -> None:
    registry = Registry()
    registry.register("test.big", Ping, partitions=1)
    async with await open_log(f"sqlite:///{tmp_path / 'big.db'}", registry) as log:
        log.tail_bytes = 10_000  # type: ignore[attr-defined]
        for start in range(0, 2_000, 100):
            await log.append(
                "test.big", [NewEvent(Ping(n=i), key="k") for i in range(start, start + 100)]
            )
        held = log.debug_state()  # type: ignore[attr-defined]
        records: list[Any] = []
        while len(records) < 2_000:  # a read may stop where the tail begins
            records += await log.read("test.big", 0, len(records), 2_000)
    assert 0 < held["tail_bytes"] <= 12_500 + 100 * 60  # a quarter over, plus one append
    assert held["tail_records"] < 2_000
    decode = registry.decoder("test.big").decode
    assert [decode(r.data).n for r in records] == list(range(2_000))
