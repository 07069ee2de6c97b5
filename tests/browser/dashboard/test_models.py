"""The dashboard's models and helpers, run in Chromium as the page runs them.

Each test imports the page's own ES modules from the gateway and feeds them events, so the
logic behind what the panels show is checked without waiting on any rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.dashboard.conftest import Gateway

pytestmark = pytest.mark.browser

STATIC = "/static/dashboard/"
DASH = "\u2013"


@pytest.fixture
def page(browser: Any, module_gateway: Gateway) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(module_gateway.url + "/healthz")  # any page of the gateway's origin can import them
    try:
        yield opened
    finally:
        context.close()


def run(page: Any, body: str) -> Any:
    """Evaluate ``body`` (an async function body that may ``await load("x.js")``)."""
    return page.evaluate(
        "async (body) => {"
        f"  const load = (name) => import({STATIC!r} + name);"
        "  return await (new Function('load', `return (async () => { ${body} })()`))(load);"
        "}",
        body,
    )


def test_the_connection_moves_only_as_its_diagram_says(page: Any) -> None:
    legal = run(
        page,
        """
        const { State, transition } = await load("connection.js");
        const states = Object.values(State);
        const moves = [];
        for (const from of states) for (const to of states) {
          try { transition(from, to); moves.push(`${from}>${to}`); } catch (error) {}
        }
        return moves;
        """,
    )
    assert "live>reconnecting" in legal
    assert "reconnecting>connecting" in legal
    assert "connecting>live" in legal
    assert "idle>live" not in legal  # never live without connecting
    assert "reconnecting>live" not in legal  # a reconnect goes through connecting
    assert "unauthorized>live" not in legal
    message = run(
        page,
        """
        const { transition } = await load("connection.js");
        try { transition("idle", "live"); } catch (error) { return error.message; }
        """,
    )
    assert message == "the connection cannot go from idle to live"


def test_a_cursor_is_caught_up_when_every_partition_reaches_the_end(page: Any) -> None:
    results = run(
        page,
        """
        const { reached } = await load("connection.js");
        return [
          reached("ep/3.5.0", [3, 5, 0]),
          reached("ep/4.5.1", [3, 5, 0]),
          reached("ep/3.4.9", [3, 5, 0]),
          reached("ep/0", null),
        ];
        """,
    )
    assert results == [True, True, False, True]


def test_p99_comes_from_the_histogram_observed_between_two_scrapes(page: Any) -> None:
    results = run(
        page,
        """
        const { buckets, parseMetrics, quantileBetween } = await load("health.js");
        const scrape = (a, b, c, inf) => parseMetrics([
          '# TYPE flambeau_delivery_latency_seconds histogram',
          `flambeau_delivery_latency_seconds_bucket{transport="ws",le="0.001"} ${a}`,
          `flambeau_delivery_latency_seconds_bucket{transport="ws",le="0.01"} ${b}`,
          `flambeau_delivery_latency_seconds_bucket{transport="ws",le="0.1"} ${c}`,
          `flambeau_delivery_latency_seconds_bucket{transport="ws",le="+Inf"} ${inf}`,
          `flambeau_delivery_latency_seconds_bucket{transport="sse",le="0.001"} 0`,
          `flambeau_delivery_latency_seconds_bucket{transport="sse",le="0.01"} 0`,
          `flambeau_delivery_latency_seconds_bucket{transport="sse",le="0.1"} 0`,
          `flambeau_delivery_latency_seconds_bucket{transport="sse",le="+Inf"} 0`,
        ].join("\\n"));
        const name = "flambeau_delivery_latency_seconds";
        const before = buckets(scrape(1000, 1000, 1000, 1000), name);
        // 100 new deliveries: 90 under 1 ms, 8 under 10 ms, 2 under 100 ms
        const after = buckets(scrape(1090, 1098, 1100, 1100), name);
        return [
          quantileBetween(before, after, 0.5),
          quantileBetween(before, after, 0.99),
          quantileBetween(after, after, 0.99),
        ];
        """,
    )
    p50, p99, idle = results
    assert p50 == pytest.approx(0.001 * 50 / 90)
    assert p99 == pytest.approx(0.01 + 0.09 * (99 - 98) / 2)
    assert idle is None  # nothing delivered: no figure rather than a stale one


def test_metrics_text_is_parsed_with_labels_and_sums(page: Any) -> None:
    results = run(
        page,
        r"""
        const { parseMetrics, sum } = await load("health.js");
        const metrics = parseMetrics([
          '# HELP flambeau_subscribers Live subscriptions.',
          'flambeau_subscribers{stream="results.units",transport="ws"} 3',
          'flambeau_subscribers{stream="a \\"quoted\\" one",transport="sse"} 2',
          'flambeau_processor_lag{processor="medals",stream="results.units",partition="0"} 5',
          'flambeau_processor_lag{processor="medals",stream="results.units",partition="1"} 7',
          'flambeau_processor_lag{processor="ledger",stream="payments.requests",partition="0"} 0',
        ].join("\n"));
        return [
          sum(metrics, "flambeau_subscribers"),
          metrics.flambeau_subscribers[1].labels.stream,
          sum(metrics, "flambeau_processor_lag", "processor"),
        ];
        """,
    )
    assert results == [5, 'a "quoted" one', {"medals": 12, "ledger": 0}]


def test_an_older_snapshot_never_replaces_a_newer_one_and_no_event_shows_twice(page: Any) -> None:
    results = run(
        page,
        """
        const { ResultsModel } = await load("results.js");
        const model = new ResultsModel();
        const unit = "FBLMTEAM11------------FNL-000100--";
        const snapshot = (offset, version, home) => ({
          partition: 2, offset, id: `e${offset}`, time: "2024-08-09T16:00:00Z",
          data: { type: "unit_result", unit, discipline: "FBL", version, status: "live",
                  shape: "head_to_head", home: "FRA", away: "ESP",
                  competitors: [
                    { competitor: { code: "FRA", noc: "FRA", name: "France" }, score: home },
                    { competitor: { code: "ESP", noc: "ESP", name: "Spain" }, score: 0 }] },
        });
        model.applyUnits([snapshot(0, 1, 0), snapshot(1, 3, 2)]);
        model.applyUnits([snapshot(2, 2, 1)]);  // late, older version
        const added = model.applyUnits([snapshot(1, 3, 2)]);  // the same event again
        return [model.units.get(unit).result.version, model.ticker.length, added,
                model.ticker.map((entry) => entry.text)];
        """,
    )
    version, length, added, texts = results
    assert version == 3
    assert length == 3
    assert added == 0
    assert texts == [f"France {a}{DASH}{b} Spain" for a, b in ((0, 0), (2, 0), (1, 0))]


def test_the_medal_table_ranks_ties_together(page: Any) -> None:
    table = run(
        page,
        """
        const { ResultsModel } = await load("results.js");
        const model = new ResultsModel();
        const count = (noc, gold, silver, bronze) => ({ data: {
          type: "medal_count", noc, gold, silver, bronze, total: gold + silver + bronze } });
        model.applyMedals([count("USA", 2, 1, 0), count("FRA", 2, 1, 0), count("JPN", 2, 0, 5),
                           count("GBR", 0, 0, 0)], false);
        return model.medalTable().map((row) => [row.rank, row.noc, row.changedAt]);
        """,
    )
    assert table == [[1, "FRA", 0], [1, "USA", 0], [3, "JPN", 0]]  # no flash for a snapshot


def test_a_bet_stop_suspends_only_active_markets_it_names(page: Any) -> None:
    statuses = run(
        page,
        """
        const { BettingModel } = await load("betting.js");
        const model = new BettingModel();
        const market = (id, specifiers, status) => ({ id, specifiers, status,
          outcomes: [{ id: "1", odds: 2.0 }] });
        model.apply([{ data: { type: "odds_change", event_id: "m", markets: [
          market(1, "", "active"), market(18, "total=2.5", "active"),
          market(16, "hcp=1.5", "deactivated")] } }]);
        model.apply([{ data: { type: "bet_stop", event_id: "m",
                               markets: [{ id: 18, specifiers: "total=2.5" }] } }]);
        const named = Object.fromEntries([...model.event("m").markets.values()]
          .map((m) => [m.key, m.status]));
        model.apply([{ data: { type: "bet_stop", event_id: "m" } }]);
        const all = Object.fromEntries([...model.event("m").markets.values()]
          .map((m) => [m.key, m.status]));
        return [named, all];
        """,
    )
    named, everything = statuses
    assert named == {"1|": "active", "18|total=2.5": "suspended", "16|hcp=1.5": "deactivated"}
    assert everything == {
        "1|": "suspended",
        "18|total=2.5": "suspended",
        "16|hcp=1.5": "deactivated",
    }


def test_odds_movement_is_remembered_until_the_price_moves_again(page: Any) -> None:
    trends = run(
        page,
        """
        const { BettingModel } = await load("betting.js");
        const model = new BettingModel();
        const change = (odds) => ({ data: { type: "odds_change", event_id: "m", markets: [
          { id: 1, status: "active", outcomes: [{ id: "1", odds }] }] } });
        const trend = () => model.event("m").markets.get("1|").outcomes.get("1").trend;
        const seen = [];
        for (const odds of [2.0, 2.2, 2.2, 1.9]) {
          model.apply([change(odds)]);
          seen.push(trend());
        }
        return seen;
        """,
    )
    assert trends == [0, 1, 1, -1]


def test_payments_are_placed_at_their_venue_whichever_stream_arrives_first(page: Any) -> None:
    results = run(
        page,
        """
        const { PaymentsModel } = await load("payments.js");
        const model = new PaymentsModel();
        const request = (id, terminal) => ({ data: { type: "create_transfers",
          contexts: [{ transfer_id: id, terminal }] } });
        const decided = (id, amount) => ({ time: "2024-08-04T12:00:00Z", data: {
          type: "transfers_decided", results: ["ok"], transfers: [{ id, amount }] } });
        model.applyRequests([request("1", "POS-STA-0001")]);
        model.applyDecisions([decided("1", 450)], true);
        model.applyDecisions([decided("2", 900)], false);  // its request comes later
        const before = model.venues().map((row) => [row.venue, row.amount, row.count]);
        model.applyRequests([request("2", "TVM-PDP-03")]);
        const after = model.venues().map((row) => [row.venue, row.amount, row.count]);
        const rate = model.rates(Date.now() + 1000).ok;
        return [before, after, model.totals.amount, rate];
        """,
    )
    before, after, total, rate = results
    assert before == [["other", 900, 1], ["STA", 450, 1]]
    assert after == [["PDP", 900, 1], ["STA", 450, 1]]
    assert total == 1350  # integer cents, never a float sum
    assert rate == pytest.approx(1 / 5)  # only the live decision counts towards the rate


def test_unit_titles_name_the_discipline_event_and_phase(page: Any) -> None:
    titles = run(
        page,
        """
        const { unitTitle } = await load("results.js");
        return [
          unitTitle("SWMW100MFREE----------HEAT000300--"),
          unitTitle("FBLMTEAM11------------FNL-000100--"),
          unitTitle("BKBMTEAM5-------------GPA-000200--"),
        ];
        """,
    )
    assert titles == [
        "Swimming · Women's 100 m freestyle · Heat 3",
        "Football · Men's Football · Final",
        "Basketball · Men's Basketball · Group A #2",
    ]


def test_changes_and_cash_outs_are_counted_per_minute_of_their_decision(page: Any) -> None:
    seen = run(
        page,
        """
        const { TicketActivity } = await load("betting-activity.js");
        const activity = new TicketActivity();
        const decided = (type, time, reason) => ({ time, data: { type, reason } });
        activity.apply([
          decided("ticket_changed", "2024-08-04T18:48:10Z"),
          decided("cash_out_accepted", "2024-08-04T18:48:50Z"),
          decided("ticket_accepted", "2024-08-04T18:48:55Z"),
          decided("change_rejected", "2024-08-04T18:50:01Z", "cutoff_passed"),
          decided("cash_out_rejected", "2024-08-04T18:50:30Z", "cutoff_passed"),
          decided("cash_out_accepted", "2024-08-04T18:50:40Z"),
        ]);
        return { perMinute: activity.perMinute(), summary: activity.summary(),
                 empty: new TicketActivity().summary() };
        """,
    )
    latest, earlier = seen["perMinute"]
    assert (latest["changes"], latest["cashOuts"], latest["refused"], latest["cutoff"]) == (
        1,
        2,
        2,
        2,
    )
    assert (earlier["changes"], earlier["cashOuts"], earlier["accepted"]) == (1, 1, 2)
    assert seen["summary"] == (
        "1 changes/min · 2 cash-outs/min at 18:50 UTC, 2 refused (2 after the cut-off)"
    )
    assert seen["empty"] == "No changes or cash-outs yet."
