"""The dashboard's "Next hour" panel in headless Chromium, against a real gateway process.

KPIs and a unit's estimated end are appended as their processors would write them; the panel
shows each venue's forecast against its last hour, and the recommendations with their cause.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard.conftest import Gateway, Watched, open_dashboard

pytestmark = pytest.mark.browser

WAIT = 20_000
MINUTE0 = datetime(2024, 8, 4, 17, tzinfo=UTC)
FINAL = "FBLMTEAM11------------FNL-000100--"


def _kpi(minute: int, cents: int) -> dict[str, Any]:
    at = MINUTE0 + timedelta(minutes=minute)
    data = {"type": "kpi", "venue": "STA", "metric": "sales", "dimension": "drink",
            "minute": at.isoformat(), "value": cents, "count": cents // 500}  # fmt: skip
    return {"id": f"kpi-{minute}", "key": "STA\x1fdrink", "time": at.isoformat(), "data": data}


def _end(minutes: int) -> dict[str, Any]:
    end = MINUTE0 + timedelta(minutes=minutes)
    data = {"type": "unit_end", "venue": "STA", "unit": FINAL, "estimated_end": end.isoformat()}
    return {"id": f"end-{minutes}", "key": "STA", "time": MINUTE0.isoformat(), "data": data}


def test_the_panel_shows_the_forecast_and_moves_with_extra_time(
    watched: Watched, gateway: Gateway
) -> None:
    gateway.post("analytics.kpis", [_kpi(m, 10_000) for m in range(10)])
    gateway.post("analytics.facts", [_end(30)])
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    row = page.locator("#forecasts tbody tr[data-venue=STA]")
    expect(row).to_be_visible(timeout=WAIT)
    expect(row.locator("[data-cell=last]")).to_contain_text("1,000")  # 10 minutes of 100 EUR
    expect(row.locator("[data-cell=end]")).to_contain_text("17:30")
    stands = page.locator("#actions li[data-kind=open_stands]")
    expect(stands).to_contain_text("17:30", timeout=WAIT)
    expect(page.locator("#forecasts-empty")).to_be_hidden()

    gateway.post("analytics.facts", [_end(65)])  # extra time: the surge leaves the hour
    expect(row.locator("[data-cell=end]")).to_contain_text("18:05", timeout=WAIT)
    expect(stands).to_contain_text("18:05", timeout=WAIT)
    assert watched.errors == []
