"""The dashboard's "Rentals" panel in headless Chromium, against a real gateway process.

Prices are appended to ``rentals.prices`` as ``rentals.pricing`` would write them: the panel
shows each area's price index, and it moves when a Games demand raises the area's prices; the
last moves name their cause.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard.conftest import Gateway, Watched, open_dashboard

pytestmark = pytest.mark.browser

WAIT = 20_000


def _price(n: int, cents: int, games: float, transit: float = 1.0) -> dict[str, Any]:
    factors = {"base_cents": 10_000, "season_dow": 1.0, "demand": cents / 10_000,
               "lead_time": 1.0, "last_minute": 1.0, "orphan": 1.0, "clamp": 1.0}  # fmt: skip
    parts = {"occupancy": 1.0, "pace": 1.0, "pressure": 1.0, "games": games, "transit": transit}
    data = {"type": "price", "listing": "L1", "host": "host-a", "area": "lyon",
            "kind": "flat", "night": "2024-08-03", "price_cents": cents,
            "factors": factors, "parts": parts}  # fmt: skip
    return {"id": f"price-{n}", "key": "lyon", "data": data}


def test_the_panel_shows_the_area_index_and_its_moves(watched: Watched, gateway: Gateway) -> None:
    gateway.post("rentals.prices", [_price(1, 10_000, 1.0)])
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    row = page.locator("#rental-areas tbody tr[data-area=lyon]")
    expect(row.locator("[data-cell=index]")).to_have_text("100.0", timeout=WAIT)
    expect(page.locator("#rentals-empty")).to_be_hidden()

    gateway.post("rentals.prices", [_price(2, 13_000, 1.4)])  # a final's fans reach Lyon
    expect(row.locator("[data-cell=index]")).to_have_text("130.0", timeout=WAIT)
    newest = page.locator("#rental-moves li").first
    expect(newest).to_contain_text("130")
    expect(newest.locator("[data-cell=cause]")).to_have_text("Games demand")

    gateway.post("rentals.prices", [_price(3, 9_000, 1.0, transit=0.85)])  # the RER B strike
    expect(row.locator("[data-cell=index]")).to_have_text("90.0", timeout=WAIT)
    expect(page.locator("#rental-moves li").first.locator("[data-cell=cause]")).to_have_text(
        "transit strike"
    )
    assert watched.errors == []
