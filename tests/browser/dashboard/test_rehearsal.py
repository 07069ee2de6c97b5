"""The dashboard against the whole rehearsal: ``flambeau up`` with a compressed Games afternoon.

Nothing here posts an event: the simulator plays timing systems, odds feeds, payment
terminals and gate counters over HTTP, the processors derive medals, markets and crowds, and the
page shows what comes out, exactly as an operations room would see it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.dashboard.conftest import DESKTOP, PHONE, ROOT, save_screenshot

pytestmark = pytest.mark.browser

WAIT = 90_000  # ms: the simulator plays two Games minutes per second; some things take a while
# 15:00 on 4 August: football, basketball, volleyball, tennis and badminton under way, and
# medals (shooting, diving) within the first Games hour.
UP_ARGS = ("--speed", "120", "--start", "15:00", "--seed", "7")


@dataclass
class Rehearsal:
    url: str
    admin_key: str
    process: subprocess.Popen[bytes]
    output: Path


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    data = tmp_path / "data"
    env = {**os.environ, "FLAMBEAU_DATA": str(data)}
    with (tmp_path / "up.log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flambeau.cli.main", "up", "--port", "0", *UP_ARGS],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        run_file = data / "gateway.json"
        deadline = time.monotonic() + 90
        while not run_file.exists():
            log = (tmp_path / "up.log").read_text(errors="replace")[-3000:]
            assert process.poll() is None, f"flambeau up exited: {log}"
            assert time.monotonic() < deadline, f"flambeau up did not start: {log}"
            time.sleep(0.1)
        url = json.loads(run_file.read_text())["url"]
        yield Rehearsal(url, (data / "admin.key").read_text().strip(), process, tmp_path / "up.log")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def dashboard_path(url: str) -> str:
    """``/`` once the gateway mounts the dashboard there; its static copy until then."""
    page = httpx.get(url + "/", timeout=10)
    if page.status_code == 200 and 'id="connection"' in page.text:
        return "/"
    return "/static/dashboard/index.html"


def printed_dashboard_url(rehearsal: Rehearsal) -> str:
    """The dashboard address ``flambeau up`` printed, with its read-only key: what a newcomer
    opens, copying no key by hand."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(
            r"(http://\S+/#key=fbk_\S+)", rehearsal.output.read_text(errors="replace")
        )
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("flambeau up printed no dashboard address with a key")


SCORES_PER_UNIT = """
() => {
  const seen = {};
  for (const line of document.querySelectorAll("#ticker li")) {
    const text = line.querySelector(".text").textContent;
    if (!/\\d+\\u2013\\d+/.test(text)) continue;
    (seen[line.dataset.unit] ??= new Set()).add(text);
  }
  return Math.max(0, ...Object.values(seen).map((texts) => texts.size));
}
"""


SUSPENDED_THEN_ACTIVE = """
() => {
  const seen = (window.__suspendedMarkets ??= new Set());
  for (const row of document.querySelectorAll("#markets tr[data-market]")) {
    const market = row.closest("article").dataset.event + "/" + row.dataset.market;
    if (row.dataset.status === "suspended") seen.add(market);
    else if (row.dataset.status === "active" && seen.has(market)) return true;
  }
  return false;
}
"""


def test_the_dashboard_follows_the_rehearsal(browser: Any, rehearsal: Rehearsal) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    address = printed_dashboard_url(rehearsal)
    assert address.startswith(rehearsal.url + "/#key=")
    assert dashboard_path(rehearsal.url) == "/"
    try:
        page.goto(address)
        expect(page.locator("#connection")).to_have_text("Live", timeout=30_000)
        expect(page.locator("#key-state")).to_contain_text("Using key fbk_")

        # the medal table fills in from the medals the processors derive
        expect(page.locator("#medals tbody tr").first).to_be_visible(timeout=WAIT)

        # a live score appears, then changes: one unit's ticker lines show two scorelines
        page.wait_for_function(f"({SCORES_PER_UNIT})() >= 2", timeout=WAIT)

        # a market is suspended after a score change, then reopens (the panel shows the twelve
        # latest events, so one market may leave it meanwhile: any market seen both ways counts)
        expect(page.locator("#markets tr.m-suspended").first).to_be_visible(timeout=WAIT)
        page.wait_for_function(SUSPENDED_THEN_ACTIVE, timeout=WAIT)

        # the health panel shows the platform at work
        expect(page.locator("[data-stat=events-rate]")).not_to_have_text(
            re.compile(r"^(0|—)$"), timeout=WAIT
        )
        expect(page.locator("#stream-rates tbody tr[data-stream]").first).to_be_visible()
        expect(page.locator("#sources li.source").first).to_be_visible(timeout=WAIT)

        # payments (a read-only key's stream): card payments accepted at the venues
        page.wait_for_function(
            "/[1-9]/.test(document.querySelector('[data-stat=amount]')?.textContent ?? '')",
            timeout=WAIT,
        )

        desktop = save_screenshot(page, "dashboard-rehearsal-desktop.png")
        if os.environ.get("FLAMBEAU_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(desktop, ROOT / "docs" / "screenshot.png")
        page.set_viewport_size(PHONE)
        expect(page.locator("#medals tbody tr").first).to_be_visible()
        save_screenshot(page, "dashboard-rehearsal-phone.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert errors == []
    finally:
        context.close()
