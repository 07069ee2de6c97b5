"""Opening a nats:// log: URL options, a server that is down, a server that comes up late."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flambeau.errors import BackendUnavailableError, InvalidLogURLError
from flambeau.log import open_log
from tests.integration.nats.schemas import make_registry
from tests.support.nats_server import NatsServer, free_port

pytestmark = pytest.mark.nats


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("nats://127.0.0.1:4222?replicas=7", "replicas"),
        ("nats://127.0.0.1:4222?storage=tape", "storage"),
        ("nats://127.0.0.1:4222?timeout=soon", "timeout"),
        ("nats://127.0.0.1:4222?dedupe_window=-1", "dedupe_window"),
        ("nats://127.0.0.1:4222?color=blue", "color"),
        ("nats://127.0.0.1:42x", "127.0.0.1:42x"),
        ("nats://127.0.0.1:4222/some/path", "nats://host:port"),
    ],
)
async def test_bad_urls_are_refused_naming_the_problem(url: str, named: str) -> None:
    with pytest.raises(InvalidLogURLError, match=named):
        await open_log(url, make_registry())


async def test_a_server_that_is_down_is_named_after_retrying() -> None:
    url = f"nats://127.0.0.1:{free_port()}?open_timeout=0.5"
    with pytest.raises(BackendUnavailableError, match=r"nats://127\.0\.0\.1:\d+") as caught:
        await open_log(url, make_registry())
    assert "nats-server" in str(caught.value)


async def test_a_server_that_starts_late_is_waited_for(tmp_path: Path) -> None:
    server = NatsServer(tmp_path)
    starter = asyncio.get_running_loop().call_later(
        0.5, lambda: asyncio.ensure_future(asyncio.to_thread(server.start))
    )
    try:
        log = await open_log(f"{server.url}?open_timeout=20", make_registry())
        try:
            info = await log.info("it.ticks")
            assert info.partitions == 4
        finally:
            await log.aclose()
    finally:
        starter.cancel()
        server.stop()


async def test_a_server_without_jetstream_is_refused_by_name(tmp_path: Path) -> None:
    server = NatsServer(tmp_path, jetstream=False)
    server.start()
    try:
        with pytest.raises(BackendUnavailableError, match="JetStream"):
            await open_log(server.url, make_registry())
    finally:
        server.stop()
