"""Fixtures of the dashboard tests: a real gateway in its own process, pages watched.

The headless Chromium (``browser``) comes from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
KEY_STORAGE = "flambeau.dashboard.key"


@dataclass
class Gateway:
    """A gateway process over an SQLite log in ``data``; restartable on the same port."""

    data: Path
    port: int = 0
    url: str = ""
    admin_key: str = ""
    process: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        ready = self.data / "ready.json"
        ready.unlink(missing_ok=True)
        with (self.data / "gateway.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "tests.browser.dashboard.gateway_process"),
                    *("--data", str(self.data), "--port", str(self.port)),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.url = self._wait_until_ready(ready)
        except BaseException:
            self.kill()  # a gateway that did not come up must not outlive its test
            raise
        self.port = int(self.url.rsplit(":", 1)[1])
        self.admin_key = (self.data / "admin.key").read_text().strip()

    def _wait_until_ready(self, ready: Path) -> str:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"the gateway exited: {self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the gateway did not start: {self.output()}")
            time.sleep(0.05)
        return str(json.loads(ready.read_text())["url"])

    def output(self) -> str:
        path = self.data / "gateway.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        """``kill -9``: every connection drops at once, nothing is told to anyone."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def create_key(self, *scopes: str) -> str:
        response = httpx.post(
            f"{self.url}/v1/keys",
            json={"tenant": "ops-room", "scopes": list(scopes)},
            headers={"Authorization": f"Bearer {self.admin_key}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["key"])

    def post(self, stream: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST events; every one must be accepted.

        A producers' stream takes them through the generic ingest with a write key; a stream
        the platform writes (a processor's output, a route's stream) refuses that, so they go
        through the test gateway's stand-in for its writer (see ``gateway_process``).
        """
        if "write" not in self.keys:
            self.keys["write"] = self.create_key("write:*")
        admin = {"Authorization": f"Bearer {self.admin_key}"}
        described = httpx.get(f"{self.url}/v1/streams/{stream}", headers=admin, timeout=10)
        assert described.status_code == 200, described.text
        if described.json()["writer"] is None:
            path, key = f"/v1/streams/{stream}/events", self.keys["write"]
        else:
            path, key = f"/test/streams/{stream}/events", self.admin_key
        response = httpx.post(
            f"{self.url}{path}",
            json=events,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rejected"] == 0, body
        return list(body["results"])

    def read_key(self) -> str:
        """A read-only key, as an operations room would be given."""
        if "read" not in self.keys:
            self.keys["read"] = self.create_key("read:*", "tenants:*")
        return self.keys["read"]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    running = Gateway(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway for a whole module, for tests that only need its origin and its files."""
    running = Gateway(tmp_path_factory.mktemp("gateway"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Watched:
    """A page and what it did: console errors, and requests to anywhere but the gateway."""

    page: Any
    errors: list[str]
    foreign: list[str]


@pytest.fixture
def watched(browser: Any, gateway: Gateway) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    origins = (gateway.url, "ws" + gateway.url[len("http") :], "data:")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(origins) else foreign.append(r.url))
    page.on("websocket", lambda ws: None if ws.url.startswith(origins) else foreign.append(ws.url))
    try:
        yield Watched(page, errors, foreign)
    finally:
        context.close()


def open_dashboard(page: Any, gateway: Gateway, key: str | None = None) -> None:
    """Load ``/`` with ``key`` already saved (as after entering it once), and wait until live."""
    from playwright.sync_api import expect

    if key is not None:
        page.add_init_script(
            f"window.localStorage.setItem({json.dumps(KEY_STORAGE)}, {json.dumps(key)})"
        )
    page.goto(gateway.url + "/")
    expect(page.locator("#connection")).to_have_text("Live", timeout=20_000)


def save_screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
