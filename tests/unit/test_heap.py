"""Handing free heap memory back to the operating system."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from flambeau import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trim_gives_back_the_pages_freed_between_survivors() -> None:
    process = psutil.Process()
    burst = [bytes(1000) for _ in range(100_000)]  # about 100 MB in small blocks
    survivors = burst[::64]  # one block in 64 survives: the freed pages lie between them
    del burst
    before = process.memory_info().rss
    assert heap.trim()
    after = process.memory_info().rss
    assert before - after > 30 * 2**20, (before, after)
    del survivors  # alive until here: the measured pages were freed between live blocks


def test_settle_freezes_the_startup_heap_and_raises_the_thresholds() -> None:
    # in a child: freezing is for server processes, not for the test runner's own heap
    code = (
        "import gc; from flambeau import heap; heap.settle(); "
        "print(gc.get_freeze_count() > 1_000, gc.get_threshold() == heap.GC_THRESHOLDS)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]
