"""Schemathesis, with every check on, against the whole application's OpenAPI document.

The gateway serves every route :mod:`flambeau.app` assembles (results, payments, betting,
crowds, and whatever service is added next), so the document under test is the one a client
generator reads. Every operation is exercised except the Server-Sent Events ones, which
stream forever when they succeed (``test_subscribe_sse.py`` covers them).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flambeau.events import Registry, default_registry
from flambeau.gateway.keys import register_keys_stream
from flambeau.log import Log
from flambeau.processing import Worker, default_processors
from tests.unit.gateway.served import ThreadedGateway

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = 4
"""Generated cases per operation in the fuzzing phase (the coverage phase adds its own)."""
SSE = "^subscribeEvents"


def full_registry() -> Registry:
    register_keys_stream(default_registry)
    return default_registry


async def processors(log: Log) -> None:
    """Every service's processors, so that the routes waiting for a decision get one."""
    await Worker(log, default_processors, spill_dir=None).run()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway]:
    import flambeau.app as assembly  # registers every service's streams

    data: Path = tmp_path_factory.mktemp("fuzz")
    running = ThreadedGateway(
        "memory://", data, full_registry, routers=assembly.gateway_routes, beside=processors
    ).start()
    yield running
    running.stop()


def test_each_stream_has_its_own_ingest_path_and_body(gateway: ThreadedGateway) -> None:
    document = httpx.get(f"{gateway.base}/schema/openapi.json").json()
    paths = document["paths"]
    assert "/v1/streams/{stream}/events" not in paths
    body = paths["/v1/streams/crowds.sensors/events"]["post"]["requestBody"]["content"]
    one = body["application/json"]["schema"]["oneOf"][0]
    assert one == {"$ref": "#/components/schemas/events.crowds.sensors"}
    assert "get" in paths["/v1/streams/crowds.sensors/events"]
    for route in ("/v1/results/medals", "/v1/payments/transfers", "/v1/betting/bets"):
        assert route in paths  # the services' routes are in the document under test
    allow = httpx.options(f"{gateway.base}/v1/keys").headers["allow"]
    assert allow == "GET, OPTIONS, POST"


def test_schemathesis_with_every_check_reports_no_failure(
    gateway: ThreadedGateway, tmp_path: Path
) -> None:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{gateway.base}/schema/openapi.json",
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={EXAMPLES}",
        f"--exclude-operation-id-regex={SSE}",
        "--workers=1",
        "--seed=20240726",  # the same cases on every run: a failure reproduces
        "--generation-database=none",
        "--no-color",
        "--output-truncate=false",
        f"--header=Authorization: Bearer {gateway.admin_key}",
        f"--report-dir={tmp_path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=280, check=False)
    (tmp_path / "schemathesis.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-2_000:]
