"""SQLite-only behaviour: what the shared conformance suite cannot say about other backends."""

from __future__ import annotations

from pathlib import Path

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
