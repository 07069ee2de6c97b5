"""``flambeau worker``: run the registered processors against a log until stopped.

SIGTERM or SIGINT stops it gracefully: every partition finishes and commits its in-flight
batch, then the log is flushed and closed. A second signal exits at once (committed work is
safe either way; the in-flight batch is simply processed again on restart). SIGUSR1 prints
the stack of every asyncio task on stderr, to see where a worker that makes no progress waits.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from flambeau import heap
from flambeau.cli._options import DataOption, LogOption, data_dir, log_url


async def work(
    url: str,
    names: Sequence[str] | None,
    *,
    batch_size: int,
    drain: bool,
    spill_dir: Path | None = None,
) -> None:
    """Open the log, run the processors until a signal (or, draining, until caught up)."""
    from flambeau.log import open_log
    from flambeau.processing import Worker, default_processors

    processors = default_processors.select(names)
    if not processors:
        raise typer.BadParameter("no processors are registered; nothing to run")
    log = await open_log(url)
    leases: Any = None
    lost: tuple[type[BaseException], ...] = ()
    if url.startswith("nats://"):
        # workers share a NATS log: partitions are leased, and a commit conflict means the
        # lease moved to another worker; a call that timed out means a node or a stream
        # leader was away (a node dies, a replica catches up). Either way that partition
        # reloads from the log, instead of the worker dying; a closed log still stops it
        from flambeau.errors import BackendUnavailableError
        from flambeau.log.nats import CommitConflictError
        from flambeau.log.nats_leases import leases_for

        # a draining run (a backfill) takes every partition; a live one takes its share. The
        # leases get a connection of their own: renewals never queue behind a large state load
        # or commit on the worker's connection (on a loaded cluster they did, past the TTL)
        leases = None if drain else leases_for(await open_log(url))
        lost = (CommitConflictError, BackendUnavailableError)
    try:
        worker = Worker(
            log,
            processors,
            assignment=leases,
            batch_size=batch_size,
            drain=drain,
            lost=lost,
            spill_dir=spill_dir,
        )
        loop = asyncio.get_running_loop()
        signals = 0

        def on_signal() -> None:
            nonlocal signals
            signals += 1
            if signals > 1:
                os._exit(130)  # a second signal: the user insists
            typer.echo("flambeau worker: stopping (committing in-flight batches)", err=True)
            worker.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        loop.add_signal_handler(signal.SIGUSR1, print_tasks)
        shown = ", ".join(p.name for p in processors)
        typer.echo(f"flambeau worker: ready, running {shown} (pid {os.getpid()})", err=True)
        heap.settle()
        await worker.run()
    finally:
        if leases is not None:
            await leases.aclose()  # hand the partitions over at once
            await leases.log.aclose()
        await log.aclose()


def print_tasks() -> None:
    """Every asyncio task, and the chain of awaits it is suspended in, on stderr (SIGUSR1)."""
    tasks = asyncio.all_tasks()
    lines = [f"flambeau worker: {len(tasks)} asyncio tasks"]
    for task in sorted(tasks, key=lambda t: t.get_name()):
        lines.append(f"task {task.get_name()}:")
        awaited: Any = task.get_coro()
        while awaited is not None and hasattr(awaited, "cr_frame"):
            frame = awaited.cr_frame
            if frame is not None:
                code = frame.f_code
                lines.append(f"  {code.co_filename}:{frame.f_lineno} {code.co_name}")
            awaited = awaited.cr_await
        if awaited is not None:
            lines.append(f"  awaiting {awaited!r:.200}")
    print("\n".join(lines), file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add ``worker`` to ``app``."""

    @app.command()
    def worker(
        processors: Annotated[
            str | None,
            typer.Option(help="Comma-separated processor names (default: every registered one)."),
        ] = None,
        imports: Annotated[
            list[str] | None,
            typer.Option(
                "--import", help="Also import this module (it registers processors); repeatable."
            ),
        ] = None,
        log: LogOption = None,
        data: DataOption = None,
        batch_size: Annotated[int, typer.Option(min=1, help="Most events per batch.")] = 1000,
        drain: Annotated[
            bool, typer.Option("--drain", help="Exit once every partition has caught up.")
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    ) -> None:
        """Run processors: read their inputs, commit state and outputs atomically per batch."""
        logging.basicConfig(
            level=logging.INFO if verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        importlib.import_module("flambeau.app")  # registers every service's processors
        if imports and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as ``python -m`` and uvicorn do: find local modules
        for module in imports or []:
            importlib.import_module(module)
        names = [n.strip() for n in processors.split(",") if n.strip()] if processors else None
        directory = data_dir(data)
        url = log_url(log, directory)
        from flambeau.processing import UnknownProcessorError

        try:
            asyncio.run(work(url, names, batch_size=batch_size, drain=drain, spill_dir=directory))
        except UnknownProcessorError as exc:
            raise typer.BadParameter(str(exc), param_hint="--processors") from None
