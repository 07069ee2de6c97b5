"""What one process writes, another is woken for; ids are deduplicated within the window only."""

from __future__ import annotations

import asyncio

import pytest

from flambeau.events import NewEvent
from flambeau.log import Appended, open_log
from tests.integration.nats.schemas import Tick, make_registry

pytestmark = pytest.mark.nats


async def test_a_reader_is_woken_by_another_process_append(nats_url: str) -> None:
    writer = await open_log(nats_url, make_registry())
    reader = await open_log(nats_url, make_registry())
    try:
        await writer.append("it.ticks", [NewEvent(Tick(n=0), key="x")])
        end = await reader.end_offsets("it.ticks")
        waiting = asyncio.create_task(reader.wait("it.ticks", end, timeout=30))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        placed = await writer.append("it.ticks", [NewEvent(Tick(n=1), key="x")])
        assert await asyncio.wait_for(waiting, 10) is True
        assert (await reader.end_offsets("it.ticks"))[placed[0].partition] == placed[0].offset + 1
    finally:
        await writer.aclose()
        await reader.aclose()


async def test_an_id_is_a_duplicate_within_the_window_and_new_beyond_it(nats_url: str) -> None:
    log = await open_log(f"{nats_url}?dedupe_window=1", make_registry())
    try:
        first = await log.append("it.ticks", [NewEvent(Tick(n=1), id="once")])
        again = await log.append("it.ticks", [NewEvent(Tick(n=1), id="once")])
        assert again[0] == Appended(first[0].partition, first[0].offset, True)
        await asyncio.sleep(1.5)  # past the duplicate window
        later = await log.append("it.ticks", [NewEvent(Tick(n=1), id="once")])
        assert not later[0].duplicate
        assert later[0].offset == first[0].offset + 1
    finally:
        await log.aclose()


async def test_streams_lists_what_exists_with_its_epoch_kept_across_reopen(nats_url: str) -> None:
    log = await open_log(nats_url, make_registry())
    try:
        await log.append("it.ticks", [NewEvent(Tick(n=1))])
        (listed,) = await log.streams()
        assert listed.name == "it.ticks"
    finally:
        await log.aclose()
    again = await open_log(nats_url, make_registry())
    try:
        assert (await again.info("it.ticks")).epoch == listed.epoch
    finally:
        await again.aclose()
