"""The dashboard's "Next hour" panel in headless Chromium, against a real gateway process.

KPIs and a unit's estimated end are appended as their processors would write them; the panel
shows each venue's forecast against its last hour, and the recommendations with their cause;
its chart draws one venue's KPIs per minute against the forecast.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard.conftest import Gateway, Watched, open_dashboard

pytestmark = pytest.mark.browser

WAIT = 20_000
MINUTE0 = datetime(2024, 8, 4, 17, tzinfo=UTC)
FINAL = "FBLMTEAM11------------FNL-000100--"


def _kpi(minute: int, cents: int, venue: str = "STA", metric: str = "sales") -> dict[str, Any]:
    at = MINUTE0 + timedelta(minutes=minute)
    dimension = "drink" if metric == "sales" else "77000"
    data = {"type": "kpi", "venue": venue, "metric": metric, "dimension": dimension,
            "minute": at.isoformat(), "value": cents, "count": max(cents // 500, 1)}  # fmt: skip
    return {"id": f"kpi-{venue}-{metric}-{minute}", "key": f"{venue}\x1f{dimension}",
            "time": at.isoformat(), "data": data}  # fmt: skip


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


def test_the_chart_draws_each_minute_against_the_forecast(
    watched: Watched, gateway: Gateway
) -> None:
    sales = [_kpi(m, 10_000 + 1_000 * m) for m in range(10)]
    entries = [_kpi(m, 40, metric="entries") for m in range(8)]
    quiet = [_kpi(m, 2_000, venue="BCY") for m in range(4)]
    gateway.post("analytics.kpis", [*sales, *entries, *quiet])
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    chart = page.locator("#kpi-chart")
    expect(page.locator("#kpi-chart-title")).to_have_text("Per minute at STA", timeout=WAIT)
    # the busiest venue, one bar per KPI minute; the newest minute (still filling) included
    expect(chart.locator("rect.bar.sales")).to_have_count(10)
    expect(chart.locator("rect.bar.entries")).to_have_count(8)
    first = chart.locator("rect.bar.sales").first
    expect(first).to_have_attribute("data-minute", "2024-08-04T17:00:00.000Z")
    heights = [float(b.get_attribute("height") or 0) for b in chart.locator("rect.bar.sales").all()]
    assert heights == sorted(heights)  # sales grew minute by minute
    assert heights[0] < heights[-1]
    expect(chart.locator("path.forecast.sales")).to_have_attribute("d", re.compile(r"^M.*L"))
    expect(page.locator("#kpi-chart-desc")).to_contain_text("10 minutes of actual sales")

    page.locator("#forecasts button[data-venue=BCY]").click()
    expect(page.locator("#kpi-chart-title")).to_have_text("Per minute at BCY", timeout=WAIT)
    expect(chart.locator("rect.bar.sales")).to_have_count(4)
    expect(chart.locator("rect.bar.entries")).to_have_count(0)
    assert watched.errors == []
