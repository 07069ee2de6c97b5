"""The Security panel's incident buttons and the zones on the map, in headless Chromium.

The gateway serves the real incident routes (``POST /v1/crowds/incidents/{id}/ack|resolve``);
incidents reach the page on ``crowds.incidents`` as the crowds processor would write them.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.dashboard import events as ev
from tests.browser.dashboard.conftest import Gateway, Watched, open_dashboard

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms: how long a visible change may take to show (no timing is asserted)


def actions_written(gateway: Gateway) -> int:
    """How many operator actions ``crowds.actions`` holds."""
    reply = httpx.get(
        f"{gateway.url}/v1/streams/crowds.actions",
        headers={"Authorization": f"Bearer {gateway.admin_key}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    info = reply.json()  # offsets per partition
    return sum(int(v) for v in info["end"].values()) - sum(int(v) for v in info["start"].values())


def test_a_reading_key_sees_the_incident_buttons_disabled_and_why(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    open_dashboard(page, gateway, gateway.read_key())
    gateway.post("crowds.incidents", [ev.incident(1, "abandoned_object")])
    row = page.locator("#incidents li[data-incident=STA-00001]")
    ack = row.get_by_role("button", name="Acknowledge STA-00001")
    expect(ack).to_be_disabled(timeout=WAIT)
    why = (
        "Acknowledging and resolving needs a key with write:crowds.actions (security "
        "operators); this key reads only."
    )
    expect(ack).to_have_attribute("title", why)
    expect(row.get_by_role("button", name="Resolve STA-00001")).to_be_disabled()
    expect(page.locator("#incident-actions")).to_contain_text("write:crowds.actions")
    assert actions_written(gateway) == 0
    assert not watched.errors, watched.errors


def test_an_operator_acknowledges_then_resolves_an_incident(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    operator = gateway.create_key("read:*", "write:crowds.actions")
    open_dashboard(page, gateway, operator)
    gateway.post("crowds.incidents", [ev.incident(1, "abandoned_object")])
    row = page.locator("#incidents li[data-incident=STA-00001]")
    ack = row.get_by_role("button", name="Acknowledge STA-00001")
    expect(ack).to_be_enabled(timeout=WAIT)
    ack.click()
    expect(page.locator("#incident-actions")).to_have_text("STA-00001: acknowledged.", timeout=WAIT)
    assert actions_written(gateway) == 1
    # the crowds processor's answer: the incident is acknowledged, only Resolve is left
    gateway.post("crowds.incidents", [ev.incident(1, "abandoned_object", status="acknowledged")])
    expect(row.locator(".status")).to_have_text("acknowledged", timeout=WAIT)
    expect(ack).to_have_count(0)
    row.get_by_role("button", name="Resolve STA-00001").click()
    expect(page.locator("#incident-actions")).to_have_text("STA-00001: resolved.", timeout=WAIT)
    assert actions_written(gateway) == 2
    gateway.post("crowds.incidents", [ev.incident(1, "abandoned_object", status="resolved")])
    expect(row).to_have_count(0, timeout=WAIT)
    assert not watched.errors, watched.errors


def test_each_zone_of_a_venue_shows_its_level_on_the_map(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    open_dashboard(page, gateway, gateway.read_key())
    gateway.post(
        "crowds.venues",
        [
            ev.venue_crowd("STA", "D", 41_000),
            ev.zone_crowd("STA", "STA-G01", "gate", "E", alert=True),
            ev.zone_crowd("STA", "STA-FORECOURT", "forecourt", "D"),
            ev.zone_crowd("STA", "STA-TRANSIT", "station", "B"),
        ],
    )
    squares = page.locator(".venue[data-venues~=STA] rect.zone")  # STA may share its marker
    expect(squares).to_have_count(3, timeout=WAIT)
    assert [squares.nth(i).get_attribute("data-zone") for i in range(3)] == [
        "STA-FORECOURT", "STA-G01", "STA-TRANSIT",
    ]  # fmt: skip
    expect(squares.nth(1)).to_have_class("zone lv-E alert")
    chips = page.locator("#venue-list [data-venue=STA] .zone-levels .lv")
    expect(chips).to_have_text(["FORECOURT D", "G01 E", "TRANSIT B"], timeout=WAIT)
    gateway.post("crowds.venues", [ev.zone_crowd("STA", "STA-G01", "gate", "B")])
    expect(squares.nth(1)).to_have_class("zone lv-B", timeout=WAIT)
    assert not watched.errors, watched.errors
