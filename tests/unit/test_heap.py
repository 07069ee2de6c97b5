"""Handing free heap memory back to the operating system."""

from __future__ import annotations

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
    assert len(survivors) == 1563
