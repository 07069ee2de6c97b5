"""``flambeau up``: the whole platform in one process, and the Paris 2024 rehearsal beside it.

One process holds the log (the embedded SQLite log has one writing process), serves the
gateway and runs every registered processor. Unless ``--no-sim`` is given, the rehearsal runs
as a separate process that talks to the gateway over HTTP and WebSocket with its own API key,
exactly as a timing system or a payment switch would. Ctrl-C stops everything cleanly:
the simulator first, then the gateway's subscribers (told their positions), then the workers
(in-flight batches committed), then the log (flushed). Running it again resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from flambeau import heap
from flambeau.cli._options import DataOption, data_dir, log_url
from flambeau.cli.gateway import RUN_FILE, assembled_app, run, shown_host
from flambeau.errors import FlambeauError
from flambeau.files import write_json

if TYPE_CHECKING:
    from flambeau.gateway.keys import KeyStore

console = Console(stderr=True)
SIM_KEY_FILE = "simulator.key"
SIM_STATUS_FILE = "simulator.json"
OPERATOR_KEY_FILE = "operator.key"
OPERATOR_SCOPES = ("read:*", "tenants:*")
"""The operator dashboard's key: reads every stream (``admin.keys`` aside), writes none."""


@dataclass(frozen=True)
class UpOptions:
    """What ``flambeau up`` was asked to do."""

    url: str
    data: Path
    host: str
    port: int
    simulate: bool
    sim_args: tuple[str, ...]
    duration: float | None


async def _simulator_key(keys: KeyStore, data: Path) -> str:
    """The rehearsal's own API key: created once (write on every stream), kept mode 0600.

    ``write:*`` reaches only the streams producers write: every stream a processor, a route
    or the gateway writes refuses the generic ingest, so the rehearsal posts to the routes.
    """
    key, _ = await keys.ensure_saved_key(
        data / SIM_KEY_FILE, "rehearsal", ("write:*", "read:*"), "the rehearsal simulator"
    )
    return key


async def _operator_key(keys: KeyStore, data: Path) -> str:
    """The dashboard's read-only key (``read:*``, ``tenants:*``): created once, mode 0600."""
    key, _ = await keys.ensure_saved_key(
        data / OPERATOR_KEY_FILE, "operator", OPERATOR_SCOPES, "the operator dashboard (read-only)"
    )
    return key


def dashboard_url(base: str, key: str) -> str:
    """The dashboard's address carrying ``key`` in the fragment, which the page reads, keeps
    and removes from the address bar; a fragment is never sent to the server (nor logged)."""
    return f"{base}/#key={key}"


def _start_simulator(
    target: str, key_file: Path, data: Path, args: tuple[str, ...]
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "flambeau.cli.main", "simulate",
        "--target", target,
        "--key-file", str(key_file),
        "--status-file", str(data / SIM_STATUS_FILE),
        "--state-dir", str(data),
        *args,
    ]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def _status_line(total_events: int, rate: float, lag: int, data: Path) -> str:
    parts = [f"{rate:,.0f} events/s", f"{total_events:,} events", f"lag {lag:,}"]
    status_file = data / SIM_STATUS_FILE
    with contextlib.suppress(OSError, ValueError):
        status = json.loads(status_file.read_text())
        parts.insert(0, f"Games time {status.get('sim_time', '?')}")
        if status.get("p99_ms") is not None:
            parts.append(f"p99 {status['p99_ms']:.1f} ms")
        if status.get("rejected"):
            parts.append(f"rejected {status['rejected']}")
        if status.get("behind_s", 0) >= 1:
            parts.append(f"behind {status['behind_s']:.0f} s")
        if status.get("shed"):
            parts.append(f"shed {status['shed']:,}")
    return " · ".join(parts)


def _announce(base: str, operator: str, options: UpOptions) -> None:
    """Where the API, the dashboard, the log and the keys are."""
    console.print(f"[bold]Flambeau is up[/]  ·  API {base}/schema")
    # soft_wrap: the URL stays on one line, so a terminal can open it as a link
    console.print(f"dashboard (read-only key): {dashboard_url(base, operator)}", soft_wrap=True)
    console.print(f"log {options.url}  ·  data {options.data}/")
    console.print(
        f"keys: admin in {options.data / 'admin.key'}  ·  "
        f"dashboard in {options.data / OPERATOR_KEY_FILE}"
    )


async def _stop_simulator(simulator: subprocess.Popen[bytes]) -> None:
    """Ask the simulator to stop (SIGINT), and kill it after 10 s."""
    if simulator.poll() is not None:
        return
    simulator.send_signal(signal.SIGINT)
    try:
        await asyncio.get_running_loop().run_in_executor(None, simulator.wait, 10)
    except subprocess.TimeoutExpired:
        simulator.kill()


async def up(options: UpOptions) -> None:
    """Run log + gateway + workers (+ simulator) until Ctrl-C, SIGTERM or ``duration``."""
    from flambeau.gateway import GatewayConfig
    from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
    from flambeau.log import open_log
    from flambeau.processing import Worker, default_processors

    log = await open_log(options.url)
    simulator: subprocess.Popen[bytes] | None = None
    try:
        config = GatewayConfig(data_dir=options.data)
        app = assembled_app(log, config, leases=False)
        sock = bind(options.host, options.port)
        port = sock.getsockname()[1]
        base = f"http://{shown_host(options.host)}:{port}"
        server = GatewayServer(uvicorn_config(app))
        worker = Worker(log, list(default_processors), spill_dir=options.data)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        serving = asyncio.create_task(server.serve(sockets=[sock]), name="gateway")
        working = asyncio.create_task(worker.run(), name="worker")
        while not server.started:
            if serving.done():
                await serving  # raises the reason it could not start
                return
            await asyncio.sleep(0.05)
        heap.settle()
        keys = app.state.gateway.keys
        operator = await _operator_key(keys, options.data)
        write_json(options.data / RUN_FILE, {"url": base, "pid": os.getpid()})
        _announce(base, operator, options)
        if options.simulate:
            await _simulator_key(keys, options.data)
            simulator = _start_simulator(
                base, options.data / SIM_KEY_FILE, options.data, options.sim_args
            )
            console.print("rehearsal simulator started (Ctrl-C stops everything)")
        await _watch(log, worker, stop, options, serving, working, simulator)
    except BaseException:
        console.print("[bold red]Flambeau stopped after an error[/] (below); committed work is "
                      "safe, run it again to resume.")  # fmt: skip
        raise
    finally:
        if simulator is not None:
            await _stop_simulator(simulator)
        with contextlib.suppress(Exception):
            server.should_exit = True
            await asyncio.wait_for(serving, 15)
        with contextlib.suppress(Exception):
            worker.stop()
            await asyncio.wait_for(working, 30)
        (options.data / RUN_FILE).unlink(missing_ok=True)
        await log.aclose()
    for task in (serving, working):
        if not task.done():
            raise PlatformStoppedError(f"the {task.get_name()} did not stop in time")
        if not task.cancelled() and task.exception() is not None:
            raise PlatformStoppedError(f"the {task.get_name()} failed while stopping") from (
                task.exception()
            )
    console.print("Flambeau stopped cleanly; run it again to resume.")


class PlatformStoppedError(FlambeauError):
    """The gateway or the workers of ``flambeau up`` ended without being asked to."""


async def _watch(
    log: Any,
    worker: Any,
    stop: asyncio.Event,
    options: UpOptions,
    serving: asyncio.Task[None],
    working: asyncio.Task[None],
    simulator: subprocess.Popen[bytes] | None,
) -> None:
    """Print a progress line every second until asked to stop or something ends."""
    started = time.monotonic()
    last_total, last_at = None, time.monotonic()
    next_trim = started + heap.TRIM_EVERY_S
    with console.status("starting…") as status:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            for task in (serving, working):
                if task.done():
                    await task  # a crash surfaces with its own error
                    raise PlatformStoppedError(f"the {task.get_name()} stopped by itself")
            if simulator is not None and simulator.poll() is not None:
                console.print(f"rehearsal simulator finished (exit {simulator.returncode})")
                simulator = None
            infos = await log.streams()
            total = sum(sum(i.end.values()) - sum(i.start.values()) for i in infos)
            now = time.monotonic()
            rate = 0.0 if last_total is None else (total - last_total) / max(now - last_at, 1e-6)
            last_total, last_at = total, now
            lag = sum(row.behind for row in await worker.lag())
            status.update(_status_line(total, rate, lag, options.data))
            if now >= next_trim:
                next_trim = now + heap.TRIM_EVERY_S
                heap.trim()
            if options.duration is not None and now - started >= options.duration:
                return


def register(app: typer.Typer) -> None:
    """Add ``up`` to ``app``."""

    @app.command("up", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def up_command(
        ctx: typer.Context,
        log: Annotated[
            str | None, typer.Option(help="Log URL (default: sqlite:///<data>/log.db).")
        ] = None,
        data: DataOption = None,
        host: Annotated[str, typer.Option(help="Interface for the gateway.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Gateway port (0 picks a free one).")] = 8000,
        no_sim: Annotated[
            bool, typer.Option("--no-sim", help="Run the platform alone, for real producers.")
        ] = False,
        duration: Annotated[
            float | None, typer.Option(help="Stop after this many seconds (default: never).")
        ] = None,
    ) -> None:
        """Run the gateway, every processor and the Paris 2024 rehearsal in one command.

        Options after the known ones are passed to the simulator, for example
        ``flambeau up --speed 60 --seed 7``.
        """
        directory = data_dir(data)
        options = UpOptions(
            url=log_url(log, directory),
            data=directory,
            host=host,
            port=port,
            simulate=not no_sim,
            sim_args=tuple(ctx.args),
            duration=duration,
        )
        with contextlib.suppress(KeyboardInterrupt):
            run(up(options))
