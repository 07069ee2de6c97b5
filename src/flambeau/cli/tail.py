"""``flambeau tail STREAM``: print a stream's events as JSON lines, following new ones."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Annotated

import msgspec
import typer

from flambeau.cli._options import DataOption, LogOption, data_dir, log_url
from flambeau.log import open_log

_encode_json = msgspec.json.Encoder().encode


def parse_from(
    spec: str, partitions: int, start: dict[int, int], end: dict[int, int]
) -> dict[int, int]:
    """Positions from ``earliest``, ``latest``, one offset for all partitions, or ``P:O,...``."""
    if spec == "earliest":
        return dict(start)
    if spec == "latest":
        return dict(end)
    if spec.isdigit():
        return {p: int(spec) for p in range(partitions)}
    positions = dict(end)
    try:
        for item in spec.split(","):
            part, offset = item.split(":")
            positions[int(part)] = int(offset)
    except ValueError:
        raise typer.BadParameter(
            f"--from must be earliest, latest, OFFSET or PARTITION:OFFSET[,...], got {spec!r}"
        ) from None
    return positions


async def _tail(url: str, stream: str, start_spec: str, follow: bool, limit: int | None) -> None:
    import flambeau.app  # noqa: F401  (registers every service's streams)

    async with await open_log(url) as log:
        info = await log.info(stream)
        positions = parse_from(start_spec, info.partitions, info.start, info.end)
        printed = 0
        decoder = log.registry.decoder(stream)
        while True:
            progressed = False
            for part, offset in positions.items():
                for record in await log.read(stream, part, offset, 500):
                    typed = msgspec.structs.replace(record, data=decoder.decode(record.data))
                    sys.stdout.write(_encode_json(typed).decode() + "\n")
                    positions[part] = record.offset + 1
                    printed += 1
                    progressed = True
                    if limit is not None and printed >= limit:
                        return
            sys.stdout.flush()
            if not progressed:
                if not follow:
                    return
                await log.wait(stream, positions, timeout=1.0)


def register(app: typer.Typer) -> None:
    """Add ``tail`` to ``app``."""

    @app.command()
    def tail(
        stream: Annotated[str, typer.Argument(help="Stream name, for example results.medals.")],
        start: Annotated[
            str,
            typer.Option("--from", help="earliest, latest, OFFSET, or PARTITION:OFFSET,..."),
        ] = "earliest",
        follow: Annotated[bool, typer.Option(help="Keep waiting for new events.")] = True,
        limit: Annotated[int | None, typer.Option(help="Stop after this many events.")] = None,
        log: LogOption = None,
        data: DataOption = None,
    ) -> None:
        """Print STREAM's events as JSON lines; follow new ones until Ctrl-C."""
        url = log_url(log, data_dir(data))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_tail(url, stream, start, follow, limit))
