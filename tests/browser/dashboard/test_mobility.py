"""The dashboard's mobility panel in headless Chromium: a closure and a rerouted delivery on the
map, the late-risk list, and a transit line closed by a strike."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard import events as ev
from tests.browser.dashboard.conftest import Gateway, Watched, open_dashboard

pytestmark = pytest.mark.browser

WAIT = 20_000
PATH = [[48.76, 2.35], [48.80, 2.35], [48.85, 2.34], [48.91, 2.33]]


def routed(reason: str, path: list[list[float]], eta: str) -> dict[str, Any]:
    return {"type": "delivery_routed", "delivery_id": "meals-1", "tenant": "sodexo",
            "origin": "RUN", "destination": "VIL", "vehicle_class": "truck",
            "departure": "2024-08-01T06:00:00Z", "deadline": "2024-08-01T06:30:00Z", "eta": eta,
            "distance_m": 18000.0, "duration_s": 1500.0, "path": path, "reason": reason,
            "incident_id": "pont-1" if reason == "closure" else ""}  # fmt: skip


def test_closures_reroutes_late_deliveries_and_lines_show(
    watched: Watched, gateway: Gateway
) -> None:
    page = watched.page
    open_dashboard(page, gateway, gateway.read_key())
    gateway.post("mobility.roads", [ev.envelope({
        "type": "road_state", "incident_id": "pont-1", "kind": "closure", "state": "closed",
        "street": "Pont test", "edges": 4, "polyline": [[48.85, 2.335], [48.86, 2.345]]},
        "pont-1")])  # fmt: skip
    gateway.post("mobility.routes", [
        ev.envelope(routed("registered", PATH, "2024-08-01T06:25:00Z"), "meals-1"),
        ev.envelope(routed("closure", [*PATH[:2], [48.85, 2.30], PATH[3]],
                           "2024-08-01T06:41:00Z"), "meals-1"),
        ev.envelope({"type": "late_risk", "delivery_id": "meals-1", "tenant": "sodexo",
                     "cargo": "athletes' meals, Village", "eta": "2024-08-01T06:41:00Z",
                     "deadline": "2024-08-01T06:30:00Z", "late_by_s": 660.0,
                     "incident_id": "pont-1", "reason": "late", "best_departure": None},
                    "meals-1"),
    ])  # fmt: skip
    gateway.post("mobility.transit", [ev.envelope({
        "type": "line_status", "route_id": "RER-B", "state": "closed", "effect": "NO_SERVICE",
        "cause": "STRIKE", "alert_id": "strike-1", "header": "Grève"}, "RER-B")])  # fmt: skip
    expect(page.locator("[data-stat=closures]")).to_have_text("1", timeout=WAIT)
    expect(page.locator("[data-stat=rerouted]")).to_have_text("1", timeout=WAIT)
    expect(page.locator("#mobility-map [data-incident='pont-1']")).to_have_count(1)
    route = page.locator("#mobility-map polyline[data-delivery='meals-1']")
    expect(route).to_have_class("route late rerouted")
    late = page.locator("#late-deliveries [data-delivery='meals-1']")
    expect(late).to_contain_text("11 min late", timeout=WAIT)
    expect(late).to_contain_text("cause pont-1; no departure makes it")
    expect(page.locator("#transit-lines [data-line='RER-B']")).to_contain_text("closed")
    assert watched.errors == []
