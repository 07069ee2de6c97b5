"""A gateway for the dashboard tests, run as its own process so a test can kill it outright.

It serves the services' streams over an SQLite log in ``--data``, the dashboard at ``/`` (unless
the gateway already mounts it), and writes ``ready.json`` with its URL once it is listening.
The streams the platform derives refuse the generic ingest, and no processor runs here, so
``POST /test/streams/{stream}/events`` (admin key) stands in for their writers: it appends what
a processor or a service route would have. The real gateway has no such route::

    python -m tests.browser.dashboard.gateway_process --data DIR --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar import Request, post
from litestar.params import FromPath

import flambeau.services.betting.schemas
import flambeau.services.crowds.schemas
import flambeau.services.payments.schemas
import flambeau.services.results.schemas  # noqa: F401  (each import registers its streams)
from flambeau.events import default_registry
from flambeau.files import write_json
from flambeau.gateway import GatewayConfig, create_app
from flambeau.gateway.context import gateway_of
from flambeau.gateway.dashboard import dashboard_routes
from flambeau.gateway.ingest import IngestReply, Placement, codec_for, decode_events, split_body
from flambeau.gateway.keys import register_keys_stream
from flambeau.gateway.problems import ProblemError, ProblemKind
from flambeau.gateway.server import GatewayServer, bind, uvicorn_config
from flambeau.log import open_log

READY_FILE = "ready.json"


def load_assembly() -> ModuleType | None:
    """The assembly module (every service's streams, processors and routes), if it imports.

    The dashboard reads streams only, so a service whose processors fail to import (work in
    progress elsewhere) must not stop these tests; the gateway then runs without them.
    """
    try:
        return importlib.import_module("flambeau.app")
    except Exception as exc:
        sys.stderr.write(f"flambeau.app did not import ({exc!r}); serving streams only\n")
        return None


@post("/test/streams/{stream:str}/events", status_code=200)
async def write_as_its_writer(
    request: Request[Any, Any, Any], stream: FromPath[str]
) -> IngestReply:
    """Append events to ``stream`` as its writer would (tests only; admin key)."""
    gateway = gateway_of(request)
    gateway.access.require_admin(gateway.principal(request))
    body = await request.body()
    items = split_body(body, ndjson=False)
    codec = codec_for(gateway.log.registry, stream)
    events, errors = decode_events(codec, items, body if len(items) > 1 else None)
    if errors:
        raise ProblemError.of(ProblemKind.INVALID_EVENTS, f"{len(errors)} invalid", errors)
    placed = await gateway.log.append(stream, [event for _, event in events])
    results = [
        Placement(index, event.id or "", where.partition, where.offset, where.duplicate)
        for (index, event), where in zip(events, placed, strict=True)
    ]
    return IngestReply(len(placed), 0, 0, results, [])


async def serve(data: Path, port: int) -> None:
    # Every stream is registered before the log opens: the SQLite log only loads the streams
    # registered by then, and would try to create the others a second time after a restart.
    assembly = load_assembly()
    register_keys_stream(default_registry)
    log = await open_log(f"sqlite:///{data / 'log.db'}")
    try:
        routes: Sequence[Any] = (
            *(assembly.gateway_routes if assembly else ()),
            write_as_its_writer,
        )
        sources: Sequence[Any] = assembly.gateway_metrics(log) if assembly else ()
        app = create_app(log, GatewayConfig(data_dir=data), routers=routes, metrics_sources=sources)
        if not any(route.path == "/" for route in app.routes):
            for handler in dashboard_routes():
                app.register(handler)
        sock = bind("127.0.0.1", port)
        server = GatewayServer(uvicorn_config(app))
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        # uvicorn exposes only a flag, nothing to await
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        ready = {"url": f"http://127.0.0.1:{sock.getsockname()[1]}", "pid": os.getpid()}
        write_json(data / READY_FILE, ready)
        await task
    finally:
        await log.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.data, args.port))


if __name__ == "__main__":
    main()
