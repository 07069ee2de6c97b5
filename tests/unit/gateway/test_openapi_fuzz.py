"""Schemathesis, with every check on, against the whole application's OpenAPI document.

``flambeau up --no-sim`` serves every route :mod:`flambeau.app` assembles (results, payments,
betting, crowds, and whatever service is added next) and runs their processors, so the
document under test is the one a client generator reads, and routes that wait for a decision
get one. Every operation is exercised except the Server-Sent Events ones, which stream
forever when they succeed (``test_subscribe_sse.py`` covers them). The few checks switched
off for some operations are in ``schemathesis.toml``, each with its reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from flambeau.gateway.keys import ADMIN_KEY_FILE
from tests.integration.gateway.test_cli import FLAMBEAU, stop, wait_until_healthy

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 4
"""Generated cases per operation and phase: enough to cover each operation in about a minute."""
SSE = "^subscribeEvents"


class Platform(NamedTuple):
    url: str
    admin_key: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("fuzz")
    process = subprocess.Popen(
        [*FLAMBEAU, "up", "--no-sim", "--port", "0", "--data", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "FLAMBEAU_LOG": ""},  # the data directory's SQLite log
    )
    try:
        url = wait_until_healthy(process, data)
        yield Platform(url, (data / ADMIN_KEY_FILE).read_text().strip())
    finally:
        stop(process)


def test_each_stream_has_its_own_ingest_path_and_body(platform: Platform) -> None:
    document = httpx.get(f"{platform.url}/schema/openapi.json").json()
    paths = document["paths"]
    assert "/v1/streams/{stream}/events" not in paths
    stream = paths["/v1/streams/crowds.sensors/events"]
    body = stream["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/events.crowds.sensors"}
    assert "get" in stream
    for route in ("/v1/results/medals", "/v1/payments/transfers", "/v1/betting/bets"):
        assert route in paths  # the services' routes are in the document under test
    assert httpx.options(f"{platform.url}/v1/keys").headers["allow"] == "GET, OPTIONS, POST"


def test_schemathesis_with_every_check_reports_no_failure(
    platform: Platform, tmp_path: Path
) -> None:
    command = [
        *(str(SCHEMATHESIS), "--config-file", str(CONFIG), "run"),
        f"{platform.url}/schema/openapi.json",
        "--phases=examples,fuzzing,stateful",
        f"--max-examples={EXAMPLES}",
        f"--exclude-operation-id-regex={SSE}",
        "--workers=1",
        "--seed=20240726",  # the same cases on every run: a failure reproduces
        "--generation-database=none",
        "--request-timeout=10",
        "--no-color",
        "--output-truncate=false",
        f"--header=Authorization: Bearer {platform.admin_key}",
        f"--report-dir={tmp_path}",
    ]
    done = subprocess.run(  # in tmp_path: schemathesis keeps its cache in the directory it runs in
        command, capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-2_000:]
