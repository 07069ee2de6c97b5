"""Opening a ``nats://`` log: wait, with back-off, until one of its servers says hello."""

from __future__ import annotations

import asyncio
import logging
import time

from flambeau.errors import BackendUnavailableError
from flambeau.log._nats_options import Options

logger = logging.getLogger("flambeau.log.nats")


async def probe(url: str, options: Options, deadline: float) -> None:
    """Wait, with exponential back-off, until one server of ``options`` says hello.

    Raises:
        BackendUnavailableError: none did before ``deadline`` (a ``time.monotonic`` value).
    """
    delay = 0.05
    last: BaseException | None = None
    while True:
        for server in options.servers:
            host_port = server.rpartition("@")[2].removeprefix("nats://")
            host, _, port = host_port.rpartition(":")
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, int(port)), 2.0
                )
                try:
                    hello = await asyncio.wait_for(reader.readline(), 2.0)
                finally:
                    writer.close()
                    await writer.wait_closed()
                if hello.startswith(b"INFO"):
                    return
            except (OSError, TimeoutError) as exc:
                last = exc
        if time.monotonic() + delay >= deadline:
            raise unreachable(url, options, last)
        logger.info("NATS at %s unreachable (%s); retrying in %.2f s", url, last, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


def unreachable(url: str, options: Options, exc: BaseException | None) -> BackendUnavailableError:
    """The error naming ``url`` when no server answered."""
    return BackendUnavailableError(
        f"cannot reach the NATS server at {url} after retrying for "
        f"{options.open_timeout:g} s ({exc}); is nats-server running with -js?"
    )
