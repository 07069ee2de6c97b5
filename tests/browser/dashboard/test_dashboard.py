"""The operations dashboard in headless Chromium, against a real gateway process.

Events are POSTed over HTTP: to producers' streams through the generic ingest with a write
key, as producers send them, and to the streams the platform derives through the test gateway's
stand-in for their writers (``Gateway.post``). The page reads with a read-only key, as an
operations room would, or with the one ``flambeau up`` prints in the dashboard's address.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from flambeau.cli.up import dashboard_url
from tests.browser.dashboard import events as ev
from tests.browser.dashboard.conftest import (
    KEY_STORAGE,
    PHONE,
    Gateway,
    Watched,
    open_dashboard,
    save_screenshot,
)

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms: how long a visible change may take to show (no timing is asserted)
DASH = "\u2013"  # the en dash the page writes between scores and between teams
FRANCE = ("FRA", "France")
SPAIN = ("ESP", "Spain")


def ticker_ids(page: Any) -> list[str]:
    return list(page.locator("#ticker li").evaluate_all("els => els.map(e => e.dataset.eventId)"))


def test_the_page_loads_only_from_the_gateway_under_its_csp(
    watched: Watched, gateway: Gateway
) -> None:
    response = httpx.get(gateway.url + "/", timeout=10)
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    expect(page.locator("#key-state")).to_contain_text("Using key fbk_")
    for landmark in ("banner", "main", "contentinfo"):
        expect(page.get_by_role(landmark)).to_have_count(1)
    assert watched.foreign == []
    assert watched.errors == []


def test_the_medal_table_fills_in_and_flashes_only_what_changes(
    watched: Watched, gateway: Gateway
) -> None:
    gateway.post("results.medals", [ev.medal_count("GBR", 1, 0, 2)])
    open_dashboard(watched.page, gateway)  # medals are public: no key needed
    page = watched.page
    gbr = page.locator("#medals tbody tr[data-noc=GBR]")
    expect(gbr).to_contain_text("Great Britain")
    expect(gbr).not_to_have_class("flash")  # the table as it stood is not news

    gateway.post("results.medals", [ev.medal_count("USA", 2, 1, 0), ev.medal_count("FRA", 0, 1, 1)])
    expect(page.locator("#medals tbody tr")).to_have_count(3, timeout=WAIT)
    expect(page.locator("#medals-empty")).to_be_hidden()
    gateway.post("results.medals", [ev.medal_count("FRA", 3, 1, 1)])
    first = page.locator("#medals tbody tr").first
    expect(first).to_have_attribute("data-noc", "FRA", timeout=WAIT)
    expect(first).to_have_class("flash")
    expect(first.locator("td").nth(1)).to_have_text("3")
    expect(first.locator("td.total")).to_have_text("5")
    ranks = page.locator("#medals tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.noc, r.cells[0].textContent])"
    )
    assert ranks == [["FRA", "1"], ["USA", "2"], ["GBR", "3"]]


def test_a_live_score_appears_and_then_changes(watched: Watched, gateway: Gateway) -> None:
    open_dashboard(watched.page, gateway)
    page = watched.page
    unit = ev.FOOTBALL_FINAL
    gateway.post("results.units", [ev.match_result(unit, 1, (*FRANCE, 0), (*SPAIN, 0))])
    home = page.locator("#unit [data-side=home]")
    away = page.locator("#unit [data-side=away]")
    expect(home).to_have_text("0", timeout=WAIT)
    expect(away).to_have_text("0")
    expect(page.locator("#unit h3")).to_have_text("Football · Men's Football · Final")
    expect(page.locator("#venue-list")).to_contain_text("Parc des Princes")

    gateway.post("results.units", [ev.match_result(unit, 2, (*FRANCE, 1), (*SPAIN, 0))])
    expect(home).to_have_text("1", timeout=WAIT)
    expect(away).to_have_text("0")
    expect(page.locator("#ticker li").first).to_contain_text(f"France 1{DASH}0 Spain")
    expect(page.locator("#ticker li")).to_have_count(2)


def test_a_market_is_suspended_after_a_goal_and_reopens(watched: Watched, gateway: Gateway) -> None:
    match = "sr:match:101"
    gateway.post(
        "betting.odds",
        [
            ev.fixture_change(match, "football", ["France", "Spain"]),
            ev.odds_change(match, {"1": 2.1, "2": 3.2, "3": 3.4}),
        ],
    )
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    market = page.locator(f"article[data-event='{match}'] tr[data-market='1|']")
    expect(market).to_have_attribute("data-status", "active", timeout=WAIT)
    expect(page.locator(f"article[data-event='{match}'] h3")).to_contain_text(
        f"France {DASH} Spain"
    )

    gateway.post(
        "results.units", [ev.match_result(ev.FOOTBALL_FINAL, 3, (*FRANCE, 1), (*SPAIN, 0))]
    )
    gateway.post("betting.odds", [ev.bet_stop(match)])
    expect(market).to_have_attribute("data-status", "suspended", timeout=WAIT)
    expect(market.locator(".status")).to_have_text("Suspended")
    expect(market.locator(".status")).to_be_visible()
    expect(page.locator(f"article[data-event='{match}'] h3")).to_contain_text("Bet stop")

    gateway.post(
        "betting.odds", [ev.odds_change(match, {"1": 1.45, "2": 4.5, "3": 7.0}, score=(1, 0))]
    )
    expect(market).to_have_attribute("data-status", "active", timeout=WAIT)
    expect(market.locator("[data-outcome='1']")).to_have_class(re.compile(r"\bdown\b"))
    expect(market.locator("[data-outcome='3']")).to_have_class(re.compile(r"\bup\b"))
    expect(market.locator("[data-outcome='1'] b")).to_have_text("1.45")

    # Changes and cash-outs per minute, from betting.decisions.
    decided = [
        ev.ticket_changed("t-1", "ch-1"),
        ev.cash_out_rejected("t-2", "co-1", "cutoff_passed"),
    ]
    gateway.post("betting.decisions", [{**d, "time": decided[0]["time"]} for d in decided])
    activity = page.locator("#ticket-activity")
    expect(activity).to_contain_text("1 changes/min · 1 cash-outs/min", timeout=WAIT)
    expect(activity).to_contain_text("1 refused (1 after the cut-off)")


def test_a_venue_stays_in_alert_while_any_of_its_zones_is(
    watched: Watched, gateway: Gateway
) -> None:
    open_dashboard(watched.page, gateway)
    row = watched.page.locator("#venue-list [data-venue=STA]")
    gateway.post(
        "crowds.venues",
        [
            ev.venue_crowd("STA", "C", 41_000),
            ev.crowd_alert("STA", "STA-G01", raised=True),
            ev.crowd_alert("STA", "STA-FORECOURT", raised=True),
        ],
    )
    expect(row).to_contain_text("Crowd alert", timeout=WAIT)
    # the forecourt clears; the gate is still crowded
    gateway.post("crowds.venues", [ev.crowd_alert("STA", "STA-FORECOURT", raised=False),
                                   ev.venue_crowd("STA", "C", 41_500)])  # fmt: skip
    expect(row).to_contain_text("41,500", timeout=WAIT)
    expect(row).to_contain_text("Crowd alert")
    gateway.post("crowds.venues", [ev.crowd_alert("STA", "STA-G01", raised=False),
                                   ev.venue_crowd("STA", "C", 42_000)])  # fmt: skip
    expect(row).to_contain_text("42,000", timeout=WAIT)
    expect(row).not_to_contain_text("Crowd alert")


def test_open_incidents_and_the_staffing_plan_show_to_a_reading_key(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    open_dashboard(page, gateway, gateway.create_key("read:*"))
    gateway.post("crowds.incidents", [ev.incident(1, "abandoned_object"), ev.incident(2, "fire")])
    gateway.post("crowds.staffing", [ev.staffing_plan(120, 18, "forecast: egress from 18:32Z")])
    incidents = page.locator("#incidents li")
    expect(incidents).to_have_count(2, timeout=WAIT)
    expect(incidents.first).to_contain_text("fire")
    row = page.locator("#staffing [data-venue=STA]")
    expect(row).to_contain_text("120", timeout=WAIT)
    expect(row).to_contain_text("18")
    gateway.post("crowds.incidents", [ev.incident(2, "fire", status="resolved")])
    gateway.post("crowds.staffing", [ev.staffing_plan(128, 20, "incident STA-00001 merged")])
    expect(incidents).to_have_count(1, timeout=WAIT)
    expect(incidents.first).to_contain_text("abandoned object")
    expect(row).to_contain_text("incident STA-00001 merged", timeout=WAIT)


def test_the_health_panel_shows_nonzero_rates(watched: Watched, gateway: Gateway) -> None:
    open_dashboard(watched.page, gateway, gateway.read_key())
    page = watched.page
    gateway.post("ops.health", [ev.keep_alive("timing-SWM"), ev.source_down("timing-ATH")])
    rate = page.locator("[data-stat=events-rate]")
    deadline = time.monotonic() + 60
    version = 0
    # Keep a trickle going until two polls of /v1/streams have seen it move.
    while rate.text_content() in ("0", "—", None) and time.monotonic() < deadline:
        version += 1
        gateway.post("results.units", [ev.race_result(ev.SWIM_FINAL, version, [])])
        time.sleep(0.2)
    assert rate.text_content() not in ("0", "—", None)
    row = page.locator("#stream-rates tr[data-stream='results.units'] .num")
    assert float(row.text_content() or "0") > 0
    expect(page.locator("[data-stat=subscribers]")).not_to_have_text(re.compile(r"^(0|—)$"))
    expect(page.locator("#sources [data-source='timing-ATH']")).to_contain_text("Down")
    expect(page.locator("#sources [data-source='timing-SWM']")).to_contain_text("Up")


def unit_events(first: int, count: int, prefix: str) -> list[dict[str, Any]]:
    """``count`` result snapshots spread over five units (so over several partitions)."""
    out = []
    for n in range(first, first + count):
        unit = ev.rsc("BKB", "M", "TEAM5", "GPA", f"{n % 5 + 1:04d}00")
        home, away = ("USA", "United States", n), ("SRB", "Serbia", n // 2)
        out.append(ev.match_result(unit, n, home, away, venue="LIL", event_id=f"{prefix}-{n}"))
    return out


def append_while_the_gateway_is_down(data: Path, envelopes: list[dict[str, Any]]) -> None:
    """Write to the log directly, as the gateway's other writers would while it is away."""

    async def append() -> None:
        import flambeau.services.results.schemas  # noqa: F401  (registers results.units)
        from flambeau.events import NewEvent, default_registry
        from flambeau.log import open_log

        decoder = default_registry.json_decoder("results.units")
        log = await open_log(f"sqlite:///{data / 'log.db'}")
        try:
            await log.append(
                "results.units",
                [
                    NewEvent(decoder.decode(json.dumps(e["data"])), key=e["key"], id=e["id"])
                    for e in envelopes
                ],
            )
        finally:
            await log.aclose()

    # its own thread: Playwright's sync API owns this one's event loop
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(append())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not errors, errors


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_after_the_connection_dies_it_reconnects_and_misses_no_ticker_entry(
    watched: Watched, gateway: Gateway, how: str
) -> None:
    open_dashboard(watched.page, gateway)
    page = watched.page
    before = unit_events(1, 12, "before")
    gateway.post("results.units", before)
    expect(page.locator("#ticker li")).to_have_count(12, timeout=WAIT)

    # kill -9 drops the socket with no word; a graceful stop sends `closing` with positions
    if how == "kill":
        gateway.kill()
    else:
        gateway.stop()
    expect(page.locator("#connection")).to_contain_text("Reconnecting", timeout=WAIT)
    while_down = unit_events(13, 12, "down")
    append_while_the_gateway_is_down(gateway.data, while_down)
    gateway.start()  # same port, same data directory
    expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)
    after = unit_events(25, 12, "after")
    gateway.post("results.units", after)

    expect(page.locator("#ticker li")).to_have_count(36, timeout=WAIT)
    shown = ticker_ids(page)
    assert sorted(shown) == sorted(e["id"] for e in before + while_down + after)
    keys = page.locator("#ticker li").evaluate_all("els => els.map(e => e.dataset.key)")
    assert len(set(keys)) == 36  # no event shown twice
    expect(page.locator("#notice")).to_be_hidden()  # resumed, not restarted with a gap


def test_a_new_log_is_announced_and_shown_from_scratch(
    watched: Watched, gateway: Gateway, tmp_path: Path
) -> None:
    open_dashboard(watched.page, gateway)
    page = watched.page
    old = unit_events(1, 6, "old")
    gateway.post("results.units", old)
    expect(page.locator("#ticker li")).to_have_count(6, timeout=WAIT)

    gateway.stop()
    # another log (another epoch) behind the same address: the old cursors mean nothing there
    replacement = Gateway(tmp_path / "replacement", port=gateway.port)
    replacement.start()
    try:
        expect(page.locator("#notice")).to_contain_text(
            "results.units could not resume", timeout=WAIT
        )
        expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)
        new = unit_events(1, 4, "new")
        replacement.post("results.units", new)
        expect(page.locator("#ticker li")).to_have_count(4, timeout=WAIT)
        assert sorted(ticker_ids(page)) == sorted(e["id"] for e in new)
    finally:
        replacement.stop()


def test_a_read_only_key_entered_once_is_kept(watched: Watched, gateway: Gateway) -> None:
    match = "sr:match:7"
    gateway.post(
        "betting.odds",
        [
            ev.fixture_change(match, "basketball", ["USA", "Serbia"]),
            ev.odds_change(match, {"1": 1.3, "2": 15.0, "3": 3.6}),
        ],
    )
    open_dashboard(watched.page, gateway)
    page = watched.page
    expect(page.locator("#markets-empty")).to_have_text("Enter an API key to read betting.odds.")

    page.fill("#key-input", "fbk_000000000000_not-a-key")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-state")).to_have_text("The gateway refused this key.")

    key = gateway.read_key()
    page.get_by_label("Read-only API key").fill(key)
    page.click("#key-form button[type=submit]")
    expect(page.locator(f"article[data-event='{match}']")).to_be_visible(timeout=WAIT)
    key_id = key.split("_")[1]
    expect(page.locator("#key-state")).to_have_text(f"Using key fbk_{key_id}")
    assert key not in (page.locator("body").text_content() or "")  # the secret is never shown

    page.reload()
    expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)
    expect(page.locator("#key-state")).to_have_text(f"Using key fbk_{key_id}")
    expect(page.locator(f"article[data-event='{match}']")).to_be_visible(timeout=WAIT)


def test_the_key_in_the_printed_address_is_kept_and_leaves_the_address(
    watched: Watched, gateway: Gateway
) -> None:
    match = "sr:match:8"
    gateway.post(
        "betting.odds",
        [
            ev.fixture_change(match, "basketball", ["France", "Canada"]),
            ev.odds_change(match, {"1": 1.5, "2": 9.0, "3": 2.6}),
        ],
    )
    key = gateway.read_key()
    page = watched.page
    page.goto(dashboard_url(gateway.url, key))  # the address flambeau up prints
    expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT)
    key_id = key.split("_")[1]
    expect(page.locator("#key-state")).to_have_text(f"Using key fbk_{key_id}")
    expect(page.locator(f"article[data-event='{match}']")).to_be_visible(timeout=WAIT)
    assert page.evaluate("location.hash") == ""
    assert key not in page.url  # not left in the address bar, nor in its history entry
    assert page.evaluate(f"localStorage.getItem({json.dumps(KEY_STORAGE)})") == key

    page.reload()
    expect(page.locator("#key-state")).to_have_text(f"Using key fbk_{key_id}")
    expect(page.locator(f"article[data-event='{match}']")).to_be_visible(timeout=WAIT)


def populate(gateway: Gateway) -> None:
    """A bit of everything, so every panel has something to show."""
    gateway.post(
        "results.medals",
        [
            ev.medal_count("USA", 4, 3, 2),
            ev.medal_count("CHN", 4, 2, 1),
            ev.medal_count("FRA", 3, 4, 5),
            ev.medal_count("AUS", 2, 1, 1),
            ev.medal_count("JPN", 2, 0, 3),
            ev.medal_count("GBR", 1, 3, 2),
        ],
    )
    swimmers = [
        ("1", "AUS", "Mollie O'Callaghan", 1),
        ("2", "USA", "Torri Huske", 2),
        ("3", "CHN", "Zhang Yufei", 3),
        ("4", "FRA", "Marie Wattel", 4),
    ]
    gateway.post("results.units", [ev.race_result(ev.SWIM_FINAL, 1, swimmers)])
    gateway.post("results.units", unit_events(1, 3, "basket"))
    gateway.post(
        "betting.odds",
        [
            ev.fixture_change("sr:match:1", "football", ["France", "Spain"]),
            ev.odds_change(
                "sr:match:1", {"1": 2.1, "2": 3.2, "3": 3.4}, total={"13": 1.9, "12": 1.95}
            ),
            ev.fixture_change("sr:match:2", "basketball", ["United States", "Serbia"]),
            ev.odds_change("sr:match:2", {"1": 1.3, "2": 15.0, "3": 3.6}),
            ev.alive(),
        ],
    )
    gateway.post(
        "results.units", [ev.match_result(ev.FOOTBALL_FINAL, 1, (*FRANCE, 0), (*SPAIN, 0))]
    )
    gateway.post(
        "crowds.venues",
        [
            venue_crowd("PDP", 41_200, 48_000, "C"),
            venue_crowd("DEF", 14_100, 15_000, "B"),
            venue_crowd("STA", 70_500, 77_000, "E"),
        ],
    )
    gateway.post(
        "ops.health",
        [ev.keep_alive("timing-FBL"), ev.keep_alive("timing-SWM"), ev.source_down("timing-ATH")],
    )


def venue_crowd(venue: str, occupancy: int, capacity: int, level: str) -> dict[str, Any]:
    data = {
        "type": "venue_crowd",
        "venue": venue,
        "occupancy": occupancy,
        "capacity": capacity,
        "area": f"{venue}-FORECOURT",
        "people": 3_000,
        "area_m2": 4_000,
        "level": level,
        "measured_at": ev.now(),
    }
    return ev.envelope(data, venue)


def trickle(gateway: Gateway, rounds: int) -> None:
    """Payments, odds and scores for a few seconds, so rates and the chart have data."""
    terminals = ["POS-STA-0007", "POS-PDP-0012", "POS-DEF-0003", "TVM-STA-02", "POS-BCY-0020"]
    for n in range(rounds):
        payments = [
            (f"{n}{i:02d}", 450 + 150 * ((n + i) % 9), terminals[(n + i) % 5]) for i in range(6)
        ]
        gateway.post("payments.requests", [ev.purchase_request(f"req-{n}", payments)])
        gateway.post("payments.transfers", [ev.purchase_decided(f"req-{n}", payments)])
        if n % 4 == 0:
            gateway.post("results.units", unit_events(10 + n, 1, f"t{n}"))
            price = 1.3 + (n % 5) / 10
            gateway.post(
                "betting.odds", [ev.odds_change("sr:match:2", {"1": price, "2": 15.0, "3": 3.6})]
            )
        if n == rounds // 2:
            gateway.post("payments.alerts", [ev.fraud_alert(f"{n}00", "POS-BCY-0020")])
            gateway.post(
                "results.units", [ev.match_result(ev.FOOTBALL_FINAL, 2, (*FRANCE, 1), (*SPAIN, 0))]
            )
            gateway.post("betting.odds", [ev.bet_stop("sr:match:1")])
            gateway.post("results.medals", [ev.medal_count("FRA", 5, 4, 5)])
        time.sleep(0.25)


def test_screenshots_at_desktop_and_phone_width(watched: Watched, gateway: Gateway) -> None:
    populate(gateway)
    page = watched.page
    open_dashboard(page, gateway, gateway.read_key())
    trickle(gateway, 40)
    expect(page.locator("#amounts tbody tr[data-venue='STA']")).to_be_visible(timeout=WAIT)
    expect(page.locator("#alerts li")).to_have_count(1)
    expect(page.locator("#venue-list")).to_contain_text("Stade de France")
    expect(page.locator("#venue-list .lv-E")).to_have_count(1)
    expect(page.locator("tr.m-suspended")).to_have_count(2)
    expect(page.locator("#chart path.line.eps")).to_have_attribute(
        "d", re.compile("L"), timeout=WAIT
    )
    save_screenshot(page, "dashboard-desktop.png")

    page.set_viewport_size(PHONE)
    expect(page.locator("#medals tbody tr").first).to_be_visible()
    # nothing but the map (which scrolls inside its own region) may widen the page
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(page, "dashboard-phone.png")
    unlabelled = page.locator("input, button").evaluate_all(
        "els => els.filter(e => !(e.labels && e.labels.length) && !e.textContent.trim()"
        " && !e.getAttribute('aria-label')).length"
    )
    assert unlabelled == 0
    assert watched.foreign == []
    assert watched.errors == []
