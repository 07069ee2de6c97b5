"""The browser the tests drive: Debian's Chromium, else Playwright's own; CI must have one.

Without a Chromium that launches the browser tests skip, except under ``CI=true`` (which
``.ci/run`` sets), where they fail: a broken browser in CI must not hide the dashboard tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

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


def no_browser(message: str) -> NoReturn:
    """Skip, or fail under ``CI=true``: CI must run the browser tests, not skip them."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs Chromium for the browser tests: {message}")
    pytest.skip(f"no Chromium for the browser tests: {message}")


def _playwright_chromium(playwright: Any) -> str | None:
    try:
        path = str(playwright.chromium.executable_path)
    except Exception:  # Playwright without its browsers downloaded
        return None
    return path if path and Path(path).exists() else None


@pytest.fixture(scope="module")  # a sync Playwright must not outlive its module's tests
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        no_browser(f"Playwright is not installed ({exc})")
    with sync_playwright() as playwright:
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        executable = executable or _playwright_chromium(playwright)
        if executable is None:
            no_browser("install Debian's chromium (apt-get install chromium)")
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # Playwright's Error: the binary would not start
            no_browser(f"{executable} did not launch: {exc}")
        yield launched
        launched.close()
