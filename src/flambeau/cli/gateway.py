"""``flambeau gateway``: serve the HTTP/WebSocket gateway over a log.

While it runs, ``<data dir>/gateway.json`` names its URL and process id, so ``flambeau keys``
on the same data directory goes through it rather than writing the log behind its back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flambeau import heap
from flambeau.cli._options import DataOption, data_dir, log_url
from flambeau.files import write_json

if TYPE_CHECKING:
    from litestar import Litestar

    from flambeau.gateway import GatewayConfig
    from flambeau.log import Log

RUN_FILE = "gateway.json"


def assembled_app(log: Log, config: GatewayConfig, *, leases: bool) -> Litestar:
    """The gateway over ``log`` with every service's routes, metrics and gauges, and, with
    ``leases``, who holds each processor partition for ``/healthz`` (a gateway beside leasing
    workers; ``flambeau up`` runs its own worker and leaves it out)."""
    import flambeau.app as assembly
    from flambeau.gateway import create_app

    return create_app(
        log,
        config,
        routers=assembly.gateway_routes,
        metrics_sources=assembly.gateway_metrics(log),
        metrics_gauges=assembly.gateway_gauges(log),
        lease_holders=assembly.gateway_lease_holders(log) if leases else None,
    )


def shown_host(host: str) -> str:
    """``host`` as a URL a client can open: a wildcard address becomes ``127.0.0.1``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104


async def serve(
    url: str,
    host: str,
    port: int,
    data: Path,
    public: list[str] | None,
    access_log: bool,
    webhook_networks: tuple[str, ...] = (),
) -> None:
    """Open the log, serve until SIGINT/SIGTERM, drain subscribers, close the log."""
    from flambeau.gateway import GatewayConfig
    from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
    from flambeau.log import open_log

    log = await open_log(url)
    try:
        config = GatewayConfig(
            data_dir=data, public_streams=tuple(public) if public else None,
            webhook_allow_networks=webhook_networks,
        )  # fmt: skip
        app = assembled_app(log, config, leases=True)
        sock = bind(host, port)
        actual = sock.getsockname()[1]
        server = GatewayServer(uvicorn_config(app, access_log=access_log, log_level="info"))
        run_file = data / RUN_FILE
        shown = shown_host(host)
        write_json(run_file, {"url": f"http://{shown}:{actual}", "pid": os.getpid()})
        typer.echo(f"flambeau gateway on http://{shown}:{actual} (log {_safe(url)})", err=True)
        heap.settle()
        try:
            await server.serve(sockets=[sock])
        finally:
            run_file.unlink(missing_ok=True)
    finally:
        await log.aclose()


def _safe(url: str) -> str:
    """The log URL without credentials, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def run(coro: Any) -> None:
    """Run ``coro`` on uvloop when available (the gateway's fast path), else asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        asyncio.run(coro)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)


def register(app: typer.Typer) -> None:
    """Add ``gateway`` to ``app``."""

    @app.command()
    def gateway(
        log: Annotated[
            str | None, typer.Option(help="Log URL (default: the data dir's SQLite log).")
        ] = None,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8000,
        data: DataOption = None,
        public: Annotated[
            list[str] | None,
            typer.Option(
                help="Stream pattern anyone may read (repeatable; default: streams "
                "registered public)."
            ),
        ] = None,
        access_log: Annotated[
            bool, typer.Option(help="Log every request (API keys are masked).")
        ] = False,
        webhook_allow_network: Annotated[
            list[str] | None,
            typer.Option(
                help="Internal network (CIDR) webhooks may send to, plain http allowed "
                "(repeatable; default: public https endpoints only)."
            ),
        ] = None,
    ) -> None:
        """Serve ingest, subscriptions and operations over HTTP and WebSocket."""
        from flambeau.gateway.webhook_targets import networks

        allow = tuple(webhook_allow_network or ())
        try:
            networks(allow)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--webhook-allow-network") from None
        directory = data_dir(data)
        url = log_url(log, directory)
        with contextlib.suppress(KeyboardInterrupt):
            run(serve(url, host, port, directory, public, access_log, allow))
