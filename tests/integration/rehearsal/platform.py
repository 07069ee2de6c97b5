"""``flambeau up`` with its rehearsal, as a user runs it, and a subscriber that records
everything the platform publishes (for tracing reactions from the outside)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets


@dataclass
class Up:
    """A running ``flambeau up`` subprocess (gateway, processors and simulator)."""

    process: subprocess.Popen[bytes]
    data: Path
    output: Path
    url: str = ""

    @property
    def admin_key(self) -> str:
        return (self.data / "admin.key").read_text().strip()

    def status(self) -> dict[str, Any]:
        """The simulator's status file (empty until it writes one)."""
        try:
            return dict(json.loads((self.data / "simulator.json").read_text()))
        except (OSError, ValueError):
            return {}

    def log_tail(self, lines: int = 40) -> str:
        text = self.output.read_text(errors="replace").splitlines()
        return "\n".join(line for line in text if "flambeau.worker" not in line)[-6000:] or (
            "\n".join(text[-lines:])
        )

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)


def start_up(
    tmp: Path, args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> Up:
    """Start ``flambeau up --port 0`` with simulator options ``args``; wait until it serves."""
    data = tmp / "data"
    output = tmp / "up.out"
    environment = {**os.environ, "FLAMBEAU_DATA": str(data), **(env or {})}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "flambeau.cli.main", "up", "--port", "0", *args],
            cwd=tmp,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    up = Up(process, data, output)
    deadline = time.monotonic() + timeout
    run_file = data / "gateway.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"flambeau up exited early:\n{up.log_tail()}")
        if run_file.exists():
            with contextlib.suppress(ValueError):
                up.url = str(json.loads(run_file.read_text())["url"])
                return up
        time.sleep(0.1)
    up.stop()
    raise AssertionError(f"flambeau up did not serve within {timeout} s:\n{up.log_tail()}")


@dataclass(frozen=True)
class Seen:
    """One event as a subscriber received it."""

    stream: str
    partition: int
    offset: int
    id: str
    key: str
    causation_id: str | None
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))


@dataclass
class Recorder:
    """Follows streams over one WebSocket from the beginning and keeps every event."""

    url: str
    key: str
    streams: Sequence[str]
    by_id: dict[str, Seen] = field(default_factory=dict)
    order: list[Seen] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        positions = dict.fromkeys(self.streams, "earliest")
        while not stop.is_set():
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.key}"},
                    max_size=None,
                    open_timeout=10,
                ) as socket:
                    for stream, start in positions.items():
                        await socket.send(
                            json.dumps(
                                {"op": "subscribe", "sub": stream, "stream": stream, "from": start}
                            )
                        )
                    while not stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            raw = await asyncio.wait_for(socket.recv(), 0.5)
                            self._take(json.loads(raw), positions)
            except (OSError, websockets.WebSocketException):
                await asyncio.sleep(0.5)

    def _take(self, message: dict[str, Any], positions: dict[str, str]) -> None:
        op = message.get("op")
        if op == "error":
            raise AssertionError(f"subscription refused: {message}")
        if op in ("subscribed", "events") and message.get("position"):
            positions[message["sub"]] = message["position"]
        for event in message.get("events", ()):
            seen = Seen(
                event["stream"],
                event["partition"],
                event["offset"],
                event["id"],
                event["key"],
                event["causation_id"],
                event["data"],
            )
            self.by_id[seen.id] = seen
            self.order.append(seen)

    def of(self, stream: str, kind: str | None = None, **fields: Any) -> list[Seen]:
        """Events of ``stream`` (of type ``kind``, with these data fields), in arrival order."""
        return [
            seen
            for seen in self.order
            if seen.stream == stream
            and (kind is None or seen.type == kind)
            and all(seen.data.get(name) == value for name, value in fields.items())
        ]

    def chain(self, seen: Seen) -> list[Seen]:
        """``seen`` and its causes, following ``causation_id`` as far as it is known."""
        out = [seen]
        while out[-1].causation_id is not None and out[-1].causation_id in self.by_id:
            cause = self.by_id[out[-1].causation_id]
            if cause in out:
                break
            out.append(cause)
        return out


async def eventually(
    check: Callable[[], bool], what: str, timeout: float, up: Up | None = None
) -> None:
    """Wait until ``check()`` holds; fail naming ``what`` (with the platform's output)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = "" if up is None else f"\n{up.log_tail()}\nstatus: {up.status()}"
            raise AssertionError(f"timed out waiting for {what}{tail}")
        if up is not None and up.process.poll() is not None:
            raise AssertionError(f"flambeau up exited while waiting for {what}:\n{up.log_tail()}")
        await asyncio.sleep(0.25)


def stream_names(up: Up) -> list[str]:
    """Every stream the admin key may read."""
    reply = httpx.get(
        f"{up.url}/v1/streams",
        headers={"Authorization": f"Bearer {up.admin_key}"},
        timeout=10,
    )
    reply.raise_for_status()
    return [str(entry["name"]) for entry in reply.json()]
