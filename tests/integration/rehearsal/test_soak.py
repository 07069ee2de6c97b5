"""Soak: ``flambeau up`` with its defaults plays the Games at 600 times real time for 10 minutes
and neither the platform nor the simulator grows its memory after warming up.

(At 600 times real time a day offers about 12,000 events a second on average; where the
machine cannot take that, the simulator falls behind or sheds load, and memory must stay flat
all the same.)

Warm-up is five minutes: the longest window the platform fills by design is the log's
five-minute dedupe window (every event id of the last five minutes), and SQLite's page caches,
the log tails and the fan-out rings fill meanwhile. After it, resident memory may not grow by
more than 20%.

Marked ``slow``: ``make soak`` runs it (CI calls it after ``make test``), ``make test`` does
not. It prints the RSS series it judged (``make soak`` shows it: ``-rP``).
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from flambeau.log._core import DEFAULT_DEDUPE_WINDOW
from tests.integration.rehearsal.platform import start_up

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SOAK_S = 600.0
WARM_UP_S = DEFAULT_DEDUPE_WINDOW.total_seconds()
SAMPLE_EVERY_S = 5.0
TOLERANCE = 1.20


def rss_by_role(root: psutil.Process) -> dict[str, int]:
    """Resident memory of the platform process and of the simulator it started."""
    out = {"platform": root.memory_info().rss}
    for child in root.children(recursive=True):
        try:
            if "simulate" in child.cmdline():
                out["simulator"] = child.memory_info().rss
        except psutil.Error:
            continue
    return out


def test_memory_stays_flat_over_ten_minutes_at_600x(tmp_path: Path) -> None:
    up = start_up(tmp_path, ["--speed", "600", "--progress-every", "30"])
    samples: list[tuple[float, dict[str, int]]] = []
    try:
        root = psutil.Process(up.process.pid)
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < SOAK_S:
            assert up.process.poll() is None, up.log_tail()
            samples.append((elapsed, rss_by_role(root)))
            time.sleep(SAMPLE_EVERY_S)
        status = up.status()
    finally:
        code = up.stop()
    assert code == 0, up.log_tail()
    assert status.get("sent", 0) > 0, status
    grown = []
    for role in ("platform", "simulator"):
        warm = [rss[role] for at, rss in samples if at >= WARM_UP_S and role in rss]
        assert warm, f"no {role} sample after warm-up"
        baseline, peak = warm[0], max(warm)
        series = [round(r / 2**20) for r in warm[::6]]
        print(
            f"{role}: RSS after warm-up {series} MiB (every 30 s), peak/first {peak / baseline:.3f}"
        )
        if peak > baseline * TOLERANCE:
            grown.append(
                f"{role} RSS grew from {baseline / 2**20:.0f} MiB to {peak / 2**20:.0f} MiB "
                f"after warm-up: {series} (every 30 s)"
            )
    assert not grown, "; ".join(grown)
