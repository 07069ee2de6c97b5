"""The browser the tests drive: Debian's Chromium, else Playwright's own; CI must have one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _playwright_chromium(playwright: Any) -> str | None:
    try:
        path = str(playwright.chromium.executable_path)
    except Exception:  # Playwright without its browsers downloaded
        return None
    return path if path and Path(path).exists() else None


@pytest.fixture(scope="module")  # a sync Playwright must not outlive its module's tests
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        executable = executable or _playwright_chromium(playwright)
        if executable is None:
            message = "no Chromium: install Debian's chromium (apt-get install chromium)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)  # CI must run the browser tests, not skip them
            pytest.skip(message)
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
