"""``flambeau up`` as a user runs it: a subprocess that serves the gateway and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def wait_for_run_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"flambeau up exited early with {process.returncode}")
        if path.exists():
            return str(json.loads(path.read_text())["url"])
        time.sleep(0.1)
    raise AssertionError("flambeau up did not start serving")


def test_up_serves_healthz_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "FLAMBEAU_DATA": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "flambeau.cli.main", "up", "--no-sim", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = wait_for_run_file(tmp_path / "data" / "gateway.json", process)
        assert httpx.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
        key_file = tmp_path / "data" / "admin.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()
    text = output.decode()
    assert "stopped cleanly" in text
    assert key_file.read_text().strip() in text  # the admin key is shown once, at first start
    assert not (tmp_path / "data" / "gateway.json").exists()
