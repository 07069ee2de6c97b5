"""Worker subprocesses for the chaos tests: start one with its stderr in a file, wait for it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def start(command: Sequence[str], stderr: Path) -> subprocess.Popen[bytes]:
    """Run ``command`` from the repository root, its stderr written to ``stderr``."""
    with stderr.open("wb") as err:
        return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)


def wait_ready(proc: subprocess.Popen[bytes], stderr: Path) -> None:
    """Wait until the worker says ``ready`` on stderr (at most 120 s)."""
    deadline = time.monotonic() + 120
    while b"ready" not in stderr.read_bytes():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early:\n{stderr.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("worker never became ready")
        time.sleep(0.02)
