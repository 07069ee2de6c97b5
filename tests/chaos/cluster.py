"""The chaos tests' three-node JetStream cluster (``replicas=3``), and the NATS node faults
they inject beside the worker kills: a node killed with SIGKILL mid-work, the JetStream meta
leader first, then started again on its store before the next round."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.support.nats_server import NatsCluster, NatsServer

CLUSTERS: dict[str, NatsCluster] = {}
"""Log URL -> the cluster behind it, for the tests' fault injection."""


def cluster_url(tmp: Path, request: pytest.FixtureRequest) -> str:
    """A fresh three-node cluster in ``tmp``, stopped when the test ends; its R3 log URL."""
    cluster = NatsCluster(tmp)
    request.addfinalizer(cluster.stop)
    request.addfinalizer(lambda: CLUSTERS.pop(cluster.url, None))
    cluster.start()
    CLUSTERS[cluster.url] = cluster
    return cluster.url


class NodeFaults:
    """Kills NATS nodes of the cluster behind ``url`` (none for other URLs), one at a time."""

    def __init__(self, url: str, rng: random.Random) -> None:
        self.cluster = CLUSTERS.get(url)
        self.rng = rng
        self.down: NatsServer | None = None
        self.kills: list[str] = []

    def toggle(self) -> None:
        """Every other call kills a node, and the next one starts it again."""
        if self.down is None:
            self.strike()
        else:
            self.heal()

    def strike(self) -> None:
        """SIGKILL a node: the meta leader the first time and every other time after."""
        if self.cluster is None:
            return
        self.heal()
        self.cluster.wait_healthy()  # the node started last has caught up: quorum is safe
        if len(self.kills) % 2 == 0:
            node, role = self.cluster.meta_leader(), "meta leader"
        else:
            node, role = self.rng.choice(self.cluster.nodes), "node"
        node.stop(kill=True)
        self.down = node
        self.kills.append(f"{role} {node.store_dir.name}")

    def heal(self) -> None:
        """Start the killed node again (it catches up in the background)."""
        if self.cluster is None or self.down is None:
            return
        self.down.start()
        self.down = None
