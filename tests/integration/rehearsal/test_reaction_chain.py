"""The reaction chain, seen from a subscriber: ``flambeau up`` plays an evening of the Games and
every reaction the issue asks for happens, each traceable to the ODF message that caused it.

The window (Saturday 10 August 2024, seed 3) runs from half time of the men's football bronze
medal match at the Parc des Princes to its official result: goals early in the second half, a
results source that goes silent during play (scripted), then the result. On the way, the men's
3000 m steeplechase final at the Stade de France is protested just after its official result
(scripted): its winner is disqualified, the medals move, and its settled markets are rolled
back. (A match protest that only flips the outcome leaves the score, on which the football
markets settle, as it was.) The simulator runs at 90 times real time with a quarter of the
default load, and the platform declares a source down after 3 s of silence
(``FLAMBEAU_RESULTS_SILENCE_S``) so the silence fits the compressed day.

The security room's chains play at the Parc des Princes too: the bronze match is forced to
extra time (its estimated end, the venue's egress forecast and its staffing plan move), the
stadium's power fails for two minutes late in the second half, once the silent results source
is long back (an outage incident, the match's markets suspended, then reopened on recovery),
and a crowd surge fills the forecourt (a zone alert from the density sensor; the camera's
report opens an incident that moves the staffing plan).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest

from flambeau.scenario.generators.incidents import parse_script
from flambeau.scenario.stats import PARIS
from flambeau.scenario.timeline import ScenarioConfig, Timeline
from tests.integration.rehearsal.platform import Recorder, Seen, Up, eventually, start_up

pytestmark = pytest.mark.timeout(420)

DAY = date(2024, 8, 10)
SEED = 3
MATCH = "FBLMTEAM11------------FNL-000200--"
EVENT = "FBLMTEAM11------------------------"
VENUE = "PDP"
RACE = "ATHM3000MSC-----------FNL-000100--"
RACE_EVENT = "ATHM3000MSC-----------------------"
START = "20:08"
SPEED = 90
SCRIPT = f"""
[[incident]]
at = "20:30"
kind = "source_silence"
source = "{VENUE}"
seconds = 8

[[incident]]
at = "21:02"
kind = "protest"
unit = "{RACE}"

[[incident]]
at = "20:08"
kind = "extra_time"
unit = "{MATCH}"

[[incident]]
at = "20:50"
kind = "stadium_blackout"
venue = "{VENUE}"
seconds = 120

[[incident]]
at = "20:46"
kind = "crowd_surge"
venue = "{VENUE}"
minutes = 3
"""
RECORDED = (
    "results.odf",
    "results.units",
    "results.medals",
    "results.heard",
    "ops.health",
    "betting.odds",
    "betting.signals",
    "betting.bets",
    "betting.legs",
    "betting.replies",
    "betting.decisions",
    "payments.requests",
    "payments.transfers",
)
SECURITY = (
    "results.odf",
    "results.units",
    "betting.odds",
    "betting.signals",
    "ops.heartbeats",
    "ops.signs",
    "ops.health",
    "crowds.sensors",
    "crowds.venues",
    "crowds.units",
    "crowds.forecasts",
    "crowds.reports",
    "crowds.outages",
    "crowds.incidents",
    "crowds.situation",
    "crowds.staffing",
)


def window_end() -> str:
    """Two minutes after both the match's result and the race's corrected result, Paris time."""
    script = parse_script(SCRIPT, day=DAY)
    timeline = Timeline(ScenarioConfig(day=DAY, seed=SEED, script=script, random_incidents=False))
    corrected = timeline.progressions[RACE].updates[-1]
    assert corrected.action.value == "correction"
    last = max(corrected.time, timeline.progressions[MATCH].official.time)
    return f"{(last + timedelta(minutes=2)).astimezone(PARIS):%H:%M:%S}"


def odf_origin(recorder: Recorder, seen: Seen) -> Seen | None:
    """The ODF message at the root of ``seen``'s causation chain, if it is one."""
    root = recorder.chain(seen)[-1]
    return root if root.stream == "results.odf" else None


def after(first: Seen, then: Seen) -> bool:
    """``then`` follows ``first`` in their (shared) partition."""
    return (then.stream, then.partition) == (first.stream, first.partition) and (
        then.offset > first.offset
    )


@pytest.fixture(scope="module")
def evening(tmp_path_factory: pytest.TempPathFactory) -> tuple[Up, Path]:
    tmp = tmp_path_factory.mktemp("rehearsal")
    (tmp / "incidents.toml").write_text(SCRIPT)
    args = [
        "--day", DAY.isoformat(), "--seed", str(SEED), "--start", START,
        "--end", window_end(), "--speed", str(SPEED), "--rate-multiplier", "0.25",
        "--no-random-incidents", "--incidents", str(tmp / "incidents.toml"),
        "--progress-every", "5",
    ]  # fmt: skip
    up = start_up(tmp, args, env={"FLAMBEAU_RESULTS_SILENCE_S": "3"})
    yield up, tmp
    assert up.stop() == 0, up.log_tail()


async def test_each_reaction_of_the_evening_is_seen_and_traced_to_its_odf_message(
    evening: tuple[Up, Path],
) -> None:
    up, _ = evening
    ws = up.url.replace("http", "ws", 1) + "/v1/ws"
    recorder = Recorder(ws, up.admin_key, RECORDED)
    stop = asyncio.Event()
    following = asyncio.create_task(recorder.run(stop))
    try:
        await eventually(lambda: up.status().get("state") == "finished", "the rehearsal", 300, up)

        def odds(kind: str, event: str = MATCH) -> list[Seen]:
            return recorder.of("betting.odds", kind, event_id=event)

        # A goal in the feed stops betting on the match, then the match is repriced.
        goals = [
            s
            for s in recorder.of("results.units", "unit_result", unit=MATCH)
            if s.data.get("status") == "live"
            and any(c.get("score") for c in s.data.get("competitors", ()))
        ]
        await eventually(lambda: bool(odds("bet_stop")), "a bet_stop on the match", 30, up)
        stop_on_score = [
            s for s in odds("bet_stop")
            if (cause := recorder.by_id.get(s.causation_id or "")) is not None
            and cause.stream == "results.units"
        ]  # fmt: skip
        assert stop_on_score, f"no bet_stop caused by a unit result ({len(goals)} live scores)"
        first_stop = stop_on_score[0]
        assert odf_origin(recorder, first_stop) is not None
        assert any(after(first_stop, change) for change in odds("odds_change"))

        # The silent source suspends the match's markets, and its return reopens them.
        await eventually(
            lambda: bool(recorder.of("ops.health", "source_up", source=VENUE)), "source up", 30, up
        )
        down = recorder.of("ops.health", "source_down", source=VENUE)
        assert down, "the silent results source was never declared down"
        producer_stops = [s for s in odds("bet_stop") if s.data.get("reason") == "producer_down"]
        assert producer_stops, "no market was suspended while the source was down"
        assert any(after(producer_stops[0], change) for change in odds("odds_change"))

        # The official result moves the medal table, settles bets and pays the winners.
        await eventually(
            lambda: bool(recorder.of("results.medals", "medals_awarded", event=EVENT)),
            "the bronze medal in the medal table",
            30,
            up,
        )
        awarded = recorder.of("results.medals", "medals_awarded", event=EVENT)
        assert odf_origin(recorder, awarded[0]) is not None
        assert recorder.of("results.medals", "medal_count")
        await eventually(lambda: bool(odds("bet_settlement")), "the settlement", 30, up)
        assert odf_origin(recorder, odds("bet_settlement")[0]) is not None
        await eventually(
            lambda: bool(recorder.of("betting.decisions", "ticket_settled")), "settled bets", 30
        )
        payouts = [
            s
            for s in recorder.of("payments.requests", "create_transfers")
            if any(t.get("code") == 11 for t in s.data.get("transfers", ()))
        ]
        assert payouts, "no bet payout reached the ledger"
        await eventually(
            lambda: any(
                d.causation_id == payouts[0].id
                for d in recorder.of("payments.transfers", "transfers_decided")
            ),
            "the ledger's decision on a payout",
            30,
        )

        # The protest rolls the race's settlement back, and its medals move.
        await eventually(
            lambda: bool(odds("rollback_bet_settlement", RACE)), "the rollback", 30, up
        )
        rollback = odds("rollback_bet_settlement", RACE)[0]
        assert odf_origin(recorder, rollback) is not None
        assert any(after(rollback, again) for again in odds("bet_settlement", RACE))
        await eventually(
            lambda: any(
                m.data.get("withdrawn")
                for m in recorder.of("results.medals", "medals_awarded", event=RACE_EVENT)
            ),
            "the disqualified winner's medal withdrawn",
            30,
        )

        # Every reaction above traces back to the ODF message that caused it (the stop of the
        # stadium blackout traces to its heartbeat: see the security room's test).
        results_stops = [s for s in odds("bet_stop") if s.data.get("reason") != "venue_outage"]
        derived = [
            *results_stops, *odds("odds_change"), *odds("bet_settlement"),
            *odds("bet_settlement", RACE), *odds("rollback_bet_settlement", RACE),
            *recorder.of("results.medals"),
            *recorder.of("betting.decisions", "ticket_settled"),
            *recorder.of("betting.decisions", "ticket_settlement_rolled_back"),
        ]  # fmt: skip
        untraced = [
            (s.stream, s.type, [c.stream for c in recorder.chain(s)])
            for s in derived
            if s.type != "odds_change" and odf_origin(recorder, s) is None
        ]
        assert not untraced, untraced[:5]
    finally:
        stop.set()
        await following


CLOSURE = "closure-vil-east-evening"
"""The rehearsal's evening closure on the Village's eastern approach (20:20 to 21:20)."""


async def test_the_evening_closure_reroutes_deliveries_traced_to_the_cifs_message(
    evening: tuple[Up, Path],
) -> None:
    """Closure → rerouted delivery → new ETA, each route traced back to the CIFS message."""
    up, _ = evening
    ws = up.url.replace("http", "ws", 1) + "/v1/ws"
    streams = ("mobility.incidents", "mobility.deliveries", "mobility.routes")
    recorder = Recorder(ws, up.admin_key, streams)
    stop = asyncio.Event()
    following = asyncio.create_task(recorder.run(stop))

    def rerouted() -> list[Seen]:
        routes = recorder.of("mobility.routes", "delivery_routed", incident_id=CLOSURE)
        return [s for s in routes if s.data.get("reason") == "closure"]

    try:
        await eventually(lambda: up.status().get("state") == "finished", "the rehearsal", 300, up)
        await eventually(lambda: bool(rerouted()), f"a delivery rerouted by {CLOSURE}", 30, up)
        closures = recorder.of("mobility.incidents", "road_incident", incident_id=CLOSURE)
        assert closures, f"the CIFS closure {CLOSURE} was not ingested"
        for route in rerouted():
            *_, root = recorder.chain(route)
            assert root.id in {c.id for c in closures}, [s.stream for s in recorder.chain(route)]
            assert root.id.startswith(f"cifs:{CLOSURE}:")
            delivery = route.data["delivery_id"]
            [first] = recorder.of(
                "mobility.routes", "delivery_routed", delivery_id=delivery, reason="registered"
            )
            assert after(first, route)
            assert route.data["path"] != first.data["path"]
            assert route.data["duration_s"] >= first.data["duration_s"]
            assert route.data["eta"]
            assert route.data["reachable"]
            [request] = recorder.of("mobility.deliveries", delivery_id=delivery)
            assert first.causation_id == request.id
        assert {s.data["delivery_id"] for s in rerouted()} >= {"RUN-VIL-2100"}
    finally:
        stop.set()
        await following


def streams_of(recorder: Recorder, seen: Seen) -> list[str]:
    """The streams of ``seen``'s causation chain, from ``seen`` back to its root."""
    return [cause.stream for cause in recorder.chain(seen)]


async def test_the_security_room_reacts_and_each_reaction_traces_to_its_source(
    evening: tuple[Up, Path],
) -> None:
    up, _ = evening
    recorder = Recorder(up.url.replace("http", "ws", 1) + "/v1/ws", up.admin_key, SECURITY)
    stop = asyncio.Event()
    following = asyncio.create_task(recorder.run(stop))
    try:
        await eventually(lambda: up.status().get("state") == "finished", "the rehearsal", 300, up)

        # Extra time -> estimated end -> egress forecast -> staffing plan, back to ODF.
        def extra_time_plans() -> list[Seen]:
            return [
                plan
                for plan in recorder.of("crowds.staffing", "staffing_plan", venue=VENUE)
                if any(
                    "extra_time" in cause.data.get("adjustments", ())
                    for cause in recorder.chain(plan)
                )
            ]

        await eventually(lambda: bool(extra_time_plans()), "a plan moved by extra time", 30, up)
        plan = extra_time_plans()[0]
        chain = recorder.chain(plan)
        assert [cause.stream for cause in chain][:5] == [
            "crowds.staffing", "crowds.situation", "crowds.forecasts", "crowds.units",
            "results.units",
        ]  # fmt: skip
        assert (chain[4].type, chain[4].data["unit"]) == ("unit_end_estimated", MATCH)

        # Stadium blackout -> incident -> the match's markets suspended -> recovered, reopened.
        await eventually(
            lambda: bool(recorder.of("crowds.incidents", "incident", change="recovered")),
            "the blackout's incident recovered",
            30,
            up,
        )
        outages = [
            i
            for i in recorder.of("crowds.incidents", "incident", venue=VENUE)
            if i.data["kind"] == "system_outage"
        ]  # ("kind" is of()'s event type, not a data field)
        opened, recovered = (
            next(i for i in outages if i.data["change"] == change)
            for change in ("opened", "recovered")
        )
        assert (opened.data["venue"], opened.data["source"]) == (VENUE, f"{VENUE}-POWER")
        for incident, status in ((opened, "failed"), (recovered, "ok")):
            root = recorder.chain(incident)[-1]
            assert streams_of(recorder, incident) == [
                "crowds.incidents", "crowds.outages", "ops.health", "ops.signs", "ops.heartbeats",
            ]  # fmt: skip
            assert root.data["status"] == status
        venue_stops = [
            s
            for s in recorder.of("betting.odds", "bet_stop", event_id=MATCH)
            if s.data.get("reason") == "venue_outage"
        ]
        assert venue_stops, "the blackout did not suspend the match's markets"
        assert opened in recorder.chain(venue_stops[0])
        reopened = [
            change
            for change in recorder.of("betting.odds", "odds_change", event_id=MATCH)
            if recovered in recorder.chain(change)
        ]
        assert reopened, "no odds change of the match followed the recovery"
        assert any(m.get("status") == "active" for m in reopened[0].data["markets"])

        # Crowd surge -> the forecourt's zone alert (from its density sensor), and the camera's
        # report -> incident -> staffing plan.
        forecourt = f"{VENUE}-FORECOURT"

        def raised() -> list[Seen]:
            return recorder.of("crowds.venues", "crowd_alert", area=forecourt, raised=True)

        await eventually(lambda: bool(raised()), "the surge's alert on the forecourt", 60, up)
        alerts = raised()
        assert streams_of(recorder, alerts[-1])[-1] == "crowds.sensors"
        await eventually(
            lambda: any(
                "crowds.reports" in streams_of(recorder, p)
                for p in recorder.of("crowds.staffing", "staffing_plan", venue=VENUE)
            ),
            "a plan moved by the surge's incident",
            30,
            up,
        )
        surge_plan = next(
            p
            for p in recorder.of("crowds.staffing", "staffing_plan", venue=VENUE)
            if "crowds.reports" in streams_of(recorder, p)
        )
        incident = recorder.chain(surge_plan)[2]
        assert (incident.stream, incident.data["kind"]) == ("crowds.incidents", "excessive_density")
    finally:
        stop.set()
        await following
