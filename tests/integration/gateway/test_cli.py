"""``flambeau gateway`` and ``flambeau keys`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from flambeau.gateway.keys import ADMIN_KEY_FILE

FLAMBEAU = [sys.executable, "-m", "flambeau.cli.main"]


def run_cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLAMBEAU, *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "FLAMBEAU_LOG": ""},
    )


def start_gateway(data: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """``flambeau gateway`` on ``port`` (0 picks one) over ``data``, once it answers."""
    process = subprocess.Popen(
        [*FLAMBEAU, "gateway", "--port", str(port), "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FLAMBEAU_LOG": ""},  # the data directory's SQLite log
    )
    try:
        return process, wait_until_healthy(process, data)
    except BaseException:
        process.kill()  # a gateway that did not come up must not outlive the test
        process.communicate(timeout=30)
        raise


def wait_until_healthy(process: subprocess.Popen[str], data: Path) -> str:
    run_file = data / "gateway.json"
    deadline = time.monotonic() + 30
    while not run_file.exists():
        assert process.poll() is None, "the gateway exited before it was up"
        assert time.monotonic() < deadline, "no gateway.json after 30 s"
        time.sleep(0.05)
    url = str(json.loads(run_file.read_text())["url"])
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the gateway did not answer /healthz within 30 s"
        time.sleep(0.05)


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_gateway_prints_the_admin_key_once_and_keys_cli_goes_through_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, url = start_gateway(data)
    try:
        admin = (data / ADMIN_KEY_FILE).read_text().strip()
        assert (data / ADMIN_KEY_FILE).stat().st_mode & 0o777 == 0o600
        created = run_cli(
            "keys", "create", "--tenant", "media", "--scope", "read:results.*", data=data
        )
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()  # the key alone on stdout, for $(...) and redirection
        assert key.startswith("fbk_")
        assert "tenant=media" in created.stderr
        listed = run_cli("keys", "list", data=data)
        assert "tenant=media" in listed.stdout
        assert httpx.get(
            f"{url}/v1/streams/results.units", headers={"Authorization": f"Bearer {key}"}
        ).status_code in (200, 404)
        key_id = key.split("_")[1]
        revoked = run_cli("keys", "revoke", key_id, data=data)
        assert revoked.returncode == 0, revoked.stderr
        refused = httpx.get(f"{url}/v1/streams", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 401
        assert (
            httpx.get(f"{url}/v1/keys", headers={"Authorization": f"Bearer {admin}"}).status_code
            == 200
        )
    finally:
        code, out, err = stop(process)
    assert code == 0, err
    assert out.count(admin) == 1
    assert admin not in err
    assert not (data / "gateway.json").exists()

    again, _ = start_gateway(data)
    code, out, _ = stop(again)
    assert code == 0
    assert "fbk_" not in out  # shown once, at first start only


def test_keys_cli_writes_the_log_when_no_gateway_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run_cli("keys", "create", "--tenant", "ops", "--scope", "write:ops.*", data=data)
    assert created.returncode == 0, created.stderr
    listed = run_cli("keys", "list", data=data)
    assert "tenant=ops" in listed.stdout
    bad = run_cli("keys", "create", "--tenant", "ops", "--scope", "delete:*", data=data)
    assert bad.returncode != 0
    assert "scope" in bad.stderr


def test_gateway_refuses_a_webhook_allow_network_that_is_no_network(tmp_path: Path) -> None:
    result = run_cli("gateway", "--webhook-allow-network", "intranet", data=tmp_path)
    assert result.returncode == 2
    assert "'intranet' is no network" in " ".join(result.stderr.split())
    assert not (tmp_path / "gateway.json").exists()
