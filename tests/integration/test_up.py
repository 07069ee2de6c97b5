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
        health = httpx.get(f"{url}/healthz", timeout=10).json()
        assert health["status"] == "ok"
        assert health["processing"]["ok"] is True
        names = {p["name"] for p in health["processing"]["processors"]}
        assert "payments.ledger" in names
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


def _run_up(data: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flambeau.cli.main", "up", "--no-sim", "--port", "0"],
        cwd=cwd,
        env={**os.environ, "FLAMBEAU_DATA": str(data)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output.decode()
    return output.decode()


def test_up_prints_a_dashboard_address_with_a_read_only_key_kept_for_the_next_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    texts, keys = [], []
    for _ in range(2):
        process = _run_up(data, tmp_path)
        try:
            url = wait_for_run_file(data / "gateway.json", process)
            key_file = data / "operator.key"
            assert key_file.stat().st_mode & 0o777 == 0o600
            key = key_file.read_text().strip()
            keys.append(key)
            admin = {"Authorization": f"Bearer {(data / 'admin.key').read_text().strip()}"}
            listed = httpx.get(f"{url}/v1/keys", headers=admin, timeout=10).json()
            operator = {"Authorization": f"Bearer {key}"}
            reads = {
                stream: httpx.get(f"{url}/v1/streams/{stream}", headers=operator, timeout=10)
                for stream in ("betting.odds", "payments.transfers", "payments.alerts",
                               "ops.health", "crowds.venues", "admin.keys")
            }  # fmt: skip
            write = httpx.post(
                f"{url}/v1/streams/crowds.sensors/events",
                json={"data": {"type": "gate_count"}},
                headers=operator,
                timeout=10,
            )
            manage = httpx.get(f"{url}/v1/keys", headers=operator, timeout=10)
        finally:
            if process.poll() is None:
                texts.append(_stop(process))
        operators = [k for k in listed if k["tenant"] == "operator" and not k["revoked_at"]]
        assert [k["scopes"] for k in operators] == [["read:*", "tenants:*"]]  # one, reused
        assert operators[0]["key_id"] == key.split("_")[1]
        assert {s: r.status_code for s, r in reads.items()} == {
            "betting.odds": 200,
            "payments.transfers": 200,
            "payments.alerts": 200,
            "ops.health": 200,
            "crowds.venues": 200,
            "admin.keys": 403,
        }
        assert write.status_code == 403  # no write scope, not even on a producers' stream
        assert manage.status_code == 403  # never admin
        assert f"{url}/#key={key}" in texts[-1]
    assert keys[0] == keys[1]
