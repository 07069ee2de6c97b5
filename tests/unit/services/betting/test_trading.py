"""The trading processor: markets from the schedule, stops, repricing, sources, alive, races."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from flambeau.events import NewEvent
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.messages import UNTIMED
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import (
    Alive,
    BetSettlement,
    BetStop,
    FixtureChange,
    FixtureChangeType,
    OddsChange,
    StopReason,
)
from flambeau.services.ops.schemas import Feed, KeepAlive, SourceDown, SourceKind
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorResult,
    UnitResult,
    UnitScheduleChanged,
)
from flambeau.testing import Advance, Item, run

from .feeds import (
    KICK_OFF,
    MATCH,
    RACE,
    Match,
    latest_odds,
    minute,
    new_desk,
    source,
)
from .harness import Desk


def last_stop(desk: Desk) -> BetStop:
    stops = [e for e in desk.events("betting.odds") if isinstance(e, BetStop)]
    return stops[-1]


def statuses(change: OddsChange) -> set[MarketStatus]:
    return {m.status for m in change.markets}


def test_a_start_list_opens_priced_markets_with_a_fixture_change() -> None:
    desk = new_desk(payments=False)
    Match(desk).open()
    feed = desk.events("betting.odds")
    assert isinstance(feed[0], FixtureChange)
    assert feed[0].change_type is FixtureChangeType.NEW
    assert feed[0].competitors == ("FRA", "ESP")
    opening = latest_odds(desk)
    assert statuses(opening) == {MarketStatus.ACTIVE}
    ids = {(m.id, m.specifiers) for m in opening.markets}
    assert {(1, ""), (11, ""), (8, "goalnr=1"), (18, "total=2.5")} <= ids
    assert len(opening.markets) >= 19


def test_a_goal_stops_every_market_first_then_reprices_and_reopens_them() -> None:
    desk = new_desk(payments=False)
    match = Match(desk)
    match.open()
    match.kick_off()
    before = latest_odds(desk)
    match.goal((1, 0), minute(20), reprice=False)
    feed = desk.events("betting.odds")
    stop = feed[-1]
    assert isinstance(stop, BetStop)
    assert stop.reason is StopReason.SCORE_CHANGE
    desk.advance()  # the reprice timer, due at once
    after = latest_odds(desk)
    assert after is not before
    assert after.betstop_reason is StopReason.SCORE_CHANGE
    assert after.event_status is not None
    assert after.event_status.home_score == 1
    priced = [m for m in after.markets if m.status is MarketStatus.ACTIVE]
    assert (8, "goalnr=2") in {(m.id, m.specifiers) for m in priced}
    retired = [m for m in after.markets if (m.id, m.specifiers) == (8, "goalnr=1")]
    assert retired
    assert retired[0].status is MarketStatus.DEACTIVATED
    home_before = next(o for m in before.markets if m.id == 1 for o in m.outcomes if o.id == "1")
    home_after = next(o for m in after.markets if m.id == 1 for o in m.outcomes if o.id == "1")
    assert home_after.probability is not None
    assert home_before.probability is not None
    assert home_after.probability > home_before.probability
    assert home_after.odds is not None
    assert home_before.odds is not None
    assert home_after.odds < home_before.odds


def test_the_stop_is_caused_by_the_goal_and_the_reprice_traces_back_to_it() -> None:
    desk = new_desk(payments=False)
    match = Match(desk)
    match.open()
    match.kick_off()
    match.goal((0, 1), minute(30))
    goal = desk.records("results.units")[-1]
    stop, change = desk.records("betting.odds")[-2:]
    assert isinstance(stop.data, BetStop)
    assert stop.causation_id == goal.id
    assert isinstance(change.data, OddsChange)
    assert change.causation_id == goal.id


def test_a_period_change_stops_the_markets_too() -> None:
    desk = new_desk(payments=False)
    match = Match(desk)
    match.open()
    match.kick_off()
    match.snapshot("live", minute(47), unit_status="running", period="H2")
    stop = desk.events("betting.odds")[-1]
    assert isinstance(stop, BetStop)
    assert stop.reason is StopReason.PERIOD_CHANGE


def test_a_source_down_stops_its_events_until_it_comes_back() -> None:
    desk = new_desk(payments=False)
    match = Match(desk)
    match.open()
    match.kick_off()
    source(desk, False, minute(10))
    assert last_stop(desk).reason is StopReason.PRODUCER_DOWN
    match.goal((1, 0), minute(11))  # repriced while down: shown, not reopened
    assert statuses(latest_odds(desk)) <= {MarketStatus.SUSPENDED, MarketStatus.DEACTIVATED}
    source(desk, True, minute(12))
    back = latest_odds(desk)
    assert MarketStatus.ACTIVE in statuses(back)


def test_only_results_feeds_reach_the_trading_partitions() -> None:
    """Another kind of source on ops.health (a gate counter) neither stops nor clocks markets."""
    at = KICK_OFF + timedelta(minutes=10)
    gate = {"kind": SourceKind.GATE_COUNTER, "venue": "STA"}
    health = [
        SourceDown(source="STA/G1", last_seen=at, detected_at=at, silence_ms=1, **gate),
        KeepAlive(source="STA/G2", seen_at=at, **gate),
        SourceDown(source="TIMING", last_seen=at, detected_at=at, silence_ms=1),
        KeepAlive(source="TIMING", seen_at=at, feed=Feed.TEST),
    ]
    out = run(betting_processors().health, [NewEvent(e, key=e.source) for e in health])

    signals = out.records("betting.signals")
    # a source-down is detected on Flambeau's clock: it carries no event time (UNTIMED)
    assert {(r.data.source, r.data.up, r.data.at, r.time) for r in signals} == {
        ("TIMING", False, at, UNTIMED)
    }
    assert sorted(r.partition for r in signals) == list(range(8))  # one copy per partition


def test_alive_goes_out_every_ten_seconds_of_processing_time() -> None:
    desk = new_desk(payments=False)
    for number in range(16):  # units in every partition, so the alive partition has input
        Match(desk, unit=f"FBLMTEAM11------------GPA-{number:06d}--").open()
    alive = [e for e in desk.events("betting.odds") if isinstance(e, Alive)]
    assert len(alive) == 1
    desk.advance(timedelta(seconds=10))
    desk.advance(timedelta(seconds=10))
    alive = [e for e in desk.events("betting.odds") if isinstance(e, Alive)]
    assert len(alive) == 3
    assert alive[2].timestamp - alive[1].timestamp == timedelta(seconds=10)


def race_snapshot(
    version: int, status: str, ranks: dict[str, int | None], unit: str = RACE
) -> UnitResult:
    judged = not unit.startswith("ATH")
    return UnitResult(
        competition="OG2024",
        unit=unit,
        discipline=unit[:3],
        version=version,
        status=status,  # type: ignore[arg-type]
        shape="judged" if judged else "timed",  # type: ignore[arg-type]
        start=KICK_OFF,
        end=KICK_OFF + timedelta(minutes=10),
        competitors=tuple(
            CompetitorResult(competitor=Competitor(code=code), rank=rank)
            for code, rank in ranks.items()
        ),
    )


def test_a_race_is_priced_before_the_start_stops_at_the_start_and_settles_dead_heats() -> None:
    desk = new_desk(payments=False)
    field = {f"R{i}": None for i in range(8)}
    desk.send("results.units", race_snapshot(1, "start_list", field), key=RACE, time=KICK_OFF)
    desk.advance()
    opening = latest_odds(desk, RACE)
    assert {(m.id, m.specifiers) for m in opening.markets} == {(90001, ""), (90002, "top=3")}
    winner = next(m for m in opening.markets if m.id == 90001)
    assert (
        sum(o.probability or 0 for o in winner.outcomes) == 1.0
        or abs(sum(o.probability or 0 for o in winner.outcomes) - 1.0) < 1e-9
    )
    desk.send("results.units", race_snapshot(2, "live", field), key=RACE, time=minute(1))
    desk.advance()
    stop = desk.events("betting.odds")[-1]
    assert isinstance(stop, BetStop)
    assert stop.reason is StopReason.EVENT_STATUS
    ranks: dict[str, int | None] = {"R0": 1, "R1": 1, "R2": 3, "R3": 4}
    ranks.update({f"R{i}": i + 1 for i in range(4, 8)})
    desk.send("results.units", race_snapshot(3, "official", ranks), key=RACE, time=minute(20))
    settlement = desk.events("betting.odds")[-1]
    assert isinstance(settlement, BetSettlement)
    win = next(m for m in settlement.markets if m.id == 90001)
    tied = {o.id: o for o in win.outcomes if o.result == 1}
    assert set(tied) == {"R0", "R1"}
    assert all(o.dead_heat_factor == 0.5 for o in tied.values())
    podium = next(m for m in settlement.markets if m.id == 90002)
    assert {o.id for o in podium.outcomes if o.result == 1} == {"R0", "R1", "R2"}


DIVE = "DIVW10MPF-------------FNL-000100--"


def test_a_judged_event_gets_outright_and_podium_markets_settled_from_its_ranking() -> None:
    desk = new_desk(payments=False)
    field = {f"D{i}": None for i in range(12)}
    desk.send("results.units", race_snapshot(1, "start_list", field, DIVE), key=DIVE, time=KICK_OFF)
    desk.advance()
    opening = latest_odds(desk, DIVE)
    assert {(m.id, m.specifiers) for m in opening.markets} == {(90001, ""), (90002, "top=3")}
    podium = next(m for m in opening.markets if m.id == 90002)
    assert sum(o.probability or 0 for o in podium.outcomes) == pytest.approx(3.0)
    ranks: dict[str, int | None] = {f"D{i}": i + 1 for i in range(12)}
    desk.send("results.units", race_snapshot(2, "official", ranks, DIVE), key=DIVE, time=minute(90))
    settlement = desk.events("betting.odds")[-1]
    assert isinstance(settlement, BetSettlement)
    won = {m.id: {o.id for o in m.outcomes if o.result == 1} for m in settlement.markets}
    assert won == {90001: {"D0"}, 90002: {"D0", "D1", "D2"}}


def test_markets_wait_for_a_full_start_list() -> None:
    desk = new_desk(payments=False)
    half = Match(desk, away="")
    half.away = "FRA"  # both sides the same code: no match yet
    half.snapshot("start_list", KICK_OFF - timedelta(hours=1))
    assert not desk.events("betting.odds")


def home_probability(change: OddsChange) -> float:
    market = next(m for m in change.markets if m.id == 1)
    outcome = next(o for o in market.outcomes if o.id == "1")
    assert outcome.probability is not None
    return outcome.probability


def test_a_lead_is_worth_more_as_the_clock_runs_down() -> None:
    desk = new_desk(BettingConfig(), payments=False)  # reprices every minute of play
    match = Match(desk)
    match.open()
    match.kick_off()
    match.goal((1, 0), minute(10))
    after_goal = home_probability(latest_odds(desk))
    changes = len([e for e in desk.events("betting.odds") if isinstance(e, OddsChange)])
    # Nothing happens on the pitch for an hour; the feed still speaks (a period change).
    match.snapshot("live", minute(70), unit_status="running", period="H2")
    desk.advance()
    later = home_probability(latest_odds(desk))
    assert later > after_goal
    drifted = [e for e in desk.events("betting.odds") if isinstance(e, OddsChange)]
    assert len(drifted) > changes + 1  # the minute drift repriced without any event


def trading_script() -> list[Item]:
    def unit(version: int, status: str, at: float, score: tuple[int, int] | None) -> Item:
        lines = tuple(
            CompetitorResult(competitor=Competitor(code=c), score=None if score is None else s)
            for c, s in zip(("FRA", "ESP"), score or (0, 0), strict=True)
        )
        result = UnitResult(
            competition="OG2024", unit=MATCH, discipline="FBL", version=version,
            status=status, shape="head_to_head", start=KICK_OFF,  # type: ignore[arg-type]
            end=KICK_OFF + timedelta(minutes=115), home="FRA", away="ESP", competitors=lines,
            unit_status="running" if status == "live" else None,  # type: ignore[arg-type]
        )  # fmt: skip
        return ("results.units", NewEvent(result, key=MATCH, time=minute(at)))

    return [
        unit(1, "start_list", -60, None),
        Advance(timedelta(0)),
        unit(2, "live", 0, (0, 0)),
        Advance(timedelta(0)),
        unit(3, "live", 20, (1, 0)),
        unit(4, "live", 21, (1, 1)),
        Advance(timedelta(0)),
        unit(5, "official", 115, (2, 1)),
        Advance(timedelta(seconds=30)),
    ]


def test_a_restarted_partition_emits_exactly_what_an_uninterrupted_one_does() -> None:
    trading = betting_processors(BettingConfig()).trading
    straight = run(trading, trading_script())
    restarted = run(trading, trading_script(), restart_every=1)
    assert restarted.events("betting.odds") == straight.events("betting.odds")
    assert [r.id for r in restarted.records("betting.odds")] == [
        r.id for r in straight.records("betting.odds")
    ]
    kinds = [type(e).__name__ for e in straight.events("betting.odds")]
    # Kick-off, 1-0, and the official 2-1; the 1-1 came while the markets were still stopped.
    assert kinds.count("BetStop") == 3
    assert kinds[-1] == "BetSettlement"
    assert kinds.count("OddsChange") > 20  # a drift reprice per minute of play, too


def test_the_schedule_gives_the_times_and_a_moved_start_is_announced() -> None:
    desk = new_desk(payments=False)
    scheduled = UnitScheduleChanged(
        competition="OG2024", unit=MATCH, discipline="FBL", status="scheduled",  # type: ignore[arg-type]
        start=KICK_OFF, end=KICK_OFF + timedelta(minutes=115), version=1,
    )  # fmt: skip
    desk.send("results.units", scheduled, key=MATCH, time=KICK_OFF - timedelta(days=1))
    start_list = UnitResult(
        competition="OG2024", unit=MATCH, discipline="FBL", version=1, status="start_list",  # type: ignore[arg-type]
        shape="head_to_head", home="FRA", away="ESP",  # type: ignore[arg-type]
        competitors=(CompetitorResult(competitor=Competitor(code="FRA")),
                     CompetitorResult(competitor=Competitor(code="ESP"))),
    )  # fmt: skip
    desk.send("results.units", start_list, key=MATCH, time=KICK_OFF - timedelta(hours=20))
    (created,) = [e for e in desk.events("betting.odds") if isinstance(e, FixtureChange)]
    assert created.start_time == KICK_OFF
    later = msgspec.structs.replace(scheduled, start=KICK_OFF + timedelta(hours=2), version=2)
    desk.send("results.units", later, key=MATCH, time=KICK_OFF - timedelta(hours=1))
    moved = [e for e in desk.events("betting.odds") if isinstance(e, FixtureChange)][-1]
    assert moved.change_type is FixtureChangeType.DATETIME
    assert moved.start_time == KICK_OFF + timedelta(hours=2)


def test_units_of_sports_without_markets_leave_no_state() -> None:
    result = run(
        betting_processors(BettingConfig()).trading,
        [("results.units", NewEvent(UnitScheduleChanged(
            competition="OG2024", unit="SHOM10MAR-------------FNL-000100--", discipline="SHO",
            status="scheduled", start=KICK_OFF,  # type: ignore[arg-type]
        ), key="SHOM10MAR-------------FNL-000100--", time=KICK_OFF))],
    )  # fmt: skip
    assert result.events("betting.odds") == []
    assert all(not state for state in result.state.values())
