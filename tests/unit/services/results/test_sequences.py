"""Realistic ODF sequences, end to end: XML in, unit states, medal table and exact events out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from flambeau.events import default_registry
from flambeau.services.results.codes import Shape
from flambeau.services.results.medals import discrepancies, standings
from flambeau.services.results.odf import parse
from flambeau.services.results.odf_builder import medallists_xml, result_xml, schedule_xml
from flambeau.services.results.outcomes import Emit, Verdict
from flambeau.services.results.schemas import (
    HEALTH,
    MEDALS,
    RECORDS,
    SCHEDULE,
    TEST,
    UNITS,
    Competitor,
    CompetitorKind,
    CompetitorResult,
    DocumentKind,
    Feed,
    MatchOutcome,
    MedalCount,
    MedalKind,
    Medallist,
    Medallists,
    MedalsAwarded,
    MedalStandings,
    Period,
    PeriodKind,
    RecordFlagged,
    RecordMark,
    ScheduleDocument,
    Split,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.units import UnitView, fold_unit

from ._pipeline import Pipeline, kinds

FIXTURES = Path(__file__).parents[3] / "fixtures" / "odf"
SOURCE = "SWMXSWIMOG2024"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def local(hour: int, minute: int, second: int = 0) -> datetime:
    """31 July 2024, Paris summer time, as UTC."""
    return datetime(2024, 7, 31, hour - 2, minute, second, tzinfo=UTC)


def unit_view(emits: list[Emit], unit: str) -> UnitView:
    view = None
    for emit in emits:
        if emit.stream in (UNITS, TEST) and emit.key == unit:
            view = fold_unit(view, emit.event)  # type: ignore[arg-type]
    assert view is not None
    return view


# --- swimming: women's 100 m freestyle final, START_LIST to OFFICIAL -------------------------

SWM_FINAL = "SWMW100MFR------------FNL-000100--"
SWIMMERS = [  # code, NOC, name, lane
    ("1901077", "NED", "Fenna de Vries", 1),
    ("1900855", "CAN", "Jade Tremblay", 2),
    ("1900633", "HKG", "Wing Yan Cheung", 3),
    ("1900411", "SWE", "Elin Lindqvist", 4),
    ("1900522", "USA", "Tara Holm", 5),
    ("1900744", "AUS", "Maddie Reeve", 6),
    ("1900966", "CHN", "Yu Lin", 7),
    ("1901188", "FRA", "Chloé Marchand", 8),
]
FINAL_TIMES = {  # code -> (rank, time_ms, split at 50 m)
    "1900411": (1, 52160, 25210),
    "1900522": (2, 52290, 25300),
    "1900633": (3, 52330, 25410),
    "1900744": (4, 52450, 25350),
    "1900855": (4, 52450, 25500),
    "1900966": (6, 52800, 25610),
    "1901077": (7, 53010, 25700),
    "1901188": (8, 53100, 25800),
}


def swimmers_after(stage: str) -> tuple[CompetitorResult, ...]:
    lines = []
    for code, noc, name, lane in SWIMMERS:
        rank, time_ms, split = FINAL_TIMES[code]
        line = CompetitorResult(
            competitor=Competitor(code=code, noc=noc, name=name), start_order=lane
        )
        if stage in ("50m", "finish"):
            line = msgspec.structs.replace(line, splits=(Split(at="50", time_ms=split),))
        if stage == "finish":
            records = (RecordMark(code="OR"),) if rank == 1 else ()
            line = msgspec.structs.replace(line, rank=rank, time_ms=time_ms, records=records)
        lines.append(line)
    return tuple(lines)


def swim_result(version: int, status: ResultStatus, stage: str, **extra: object) -> str:
    result = UnitResult(
        competition="OG2024",
        unit=SWM_FINAL,
        discipline="SWM",
        version=version,
        status=status,
        shape=Shape.TIMED,
        source=SOURCE,
        start=local(20, 30),
        competitors=swimmers_after(stage),
        **extra,  # type: ignore[arg-type]
    )
    return result_xml(result, generated_at=local(20, 20 + version))


def swim_status(version: int, status: UnitStatus, *, end: datetime | None = None) -> str:
    schedule = parse(fixture("swm_schedule.xml")).body
    assert isinstance(schedule, ScheduleDocument)
    final = msgspec.structs.replace(schedule.units[0], status=status, end=end)
    update = msgspec.structs.replace(
        schedule, version=version, full=False, generated_at=local(20, 25, version), units=(final,)
    )
    return schedule_xml(update, source=SOURCE)


def swimming_final() -> list[str]:
    """The documents of the final, in the order the feed delivers them."""
    return [
        fixture("swm_schedule.xml"),
        swim_result(1, ResultStatus.START_LIST, "start"),
        swim_status(1, UnitStatus.GETTING_READY),
        swim_status(2, UnitStatus.RUNNING),
        swim_result(2, ResultStatus.LIVE, "50m"),
        swim_result(1, ResultStatus.LIVE, "50m", document=DocumentKind.CURRENT),
        swim_result(4, ResultStatus.UNOFFICIAL, "finish"),
        swim_result(3, ResultStatus.LIVE, "50m"),  # delivered late: stale
        swim_status(3, UnitStatus.FINISHED, end=local(20, 34, 10)),
        fixture("swm_w100mfr_fnl_official.xml"),  # version 7, OFFICIAL
        fixture("swm_w100mfr_medallists.xml"),
        fixture("medals_standings.xml"),
    ]


def test_swimming_final_from_start_list_to_official() -> None:
    pipeline = Pipeline()

    per_document = [kinds(pipeline.feed(xml)) for xml in swimming_final()]

    final, day = (
        (UNITS, SWM_FINAL, "unit_result"),
        (SCHEDULE, "2024-07-31/LDA", "venue_day_schedule"),
    )
    status_change = [(UNITS, SWM_FINAL, "unit_schedule"), day]
    medal_count = (MEDALS, "OG2024", "medal_count")
    assert per_document == [
        [
            (UNITS, "SWMM200MBK------------FNL-000100--", "unit_schedule"),
            (UNITS, "SWMM200MBK------------SFNL000100--", "unit_schedule"),
            (UNITS, SWM_FINAL, "unit_schedule"),
            day,
            (SCHEDULE, "2024-08-01/LDA", "venue_day_schedule"),
        ],
        [final],  # START_LIST
        status_change,  # GETTING_READY
        status_change,  # RUNNING
        [final],  # LIVE, 50 m splits
        [final],  # DT_CURRENT
        [final, (RECORDS, SWM_FINAL, "record_flagged")],  # UNOFFICIAL, Olympic record
        [],  # version 3 after version 4: acknowledged and ignored
        status_change,  # FINISHED
        [final],  # OFFICIAL: the record is already flagged
        [(MEDALS, "OG2024", "medals_awarded"), medal_count, medal_count, medal_count],
        [],  # DT_MEDALS: the table is derived, not copied
    ]
    assert pipeline.verdicts.count(Verdict.STALE) == 1
    assert pipeline.irregular == []

    view = unit_view(pipeline.emitted, SWM_FINAL)
    assert view.schedule is not None
    assert view.schedule.status is UnitStatus.FINISHED
    assert view.schedule.end == local(20, 34, 10)
    official = view.results["result"]
    assert official == parse(fixture("swm_w100mfr_fnl_official.xml")).body
    assert (official.version, official.status) == (7, ResultStatus.OFFICIAL)
    winner = official.competitors[0]
    assert (winner.competitor.noc, winner.rank, winner.time_ms) == ("SWE", 1, 52160)
    assert view.results["current"].version == 1

    record = next(e.event for e in pipeline.emitted if e.stream == RECORDS)
    assert isinstance(record, RecordFlagged)
    assert (record.record, record.competitor.noc, record.time_ms, record.status) == (
        "OR",
        "SWE",
        52160,
        ResultStatus.UNOFFICIAL,
    )

    book = pipeline.medal_book()
    assert [(s.rank, s.noc, s.gold, s.silver, s.bronze) for s in standings(book.table)] == [
        (1, "SWE", 1, 0, 0),
        (2, "USA", 0, 1, 0),
        (3, "HKG", 0, 0, 1),
    ]
    reported = pipeline.raw[-1].body
    assert isinstance(reported, MedalStandings)
    assert discrepancies(book.table, reported) == []


def test_test_feed_documents_never_produce_public_events() -> None:
    production, rehearsal = Pipeline(), Pipeline()
    documents = [*swimming_final(), *football_final(), fixture("keepalive.xml")]

    for xml in documents:
        production.feed(xml)
        rehearsal.feed(xml.replace('FeedFlag="P"', 'FeedFlag="T"'))
    for pipeline in (production, rehearsal):
        pipeline.tick(datetime(2024, 8, 1, tzinfo=UTC))

    assert [e for e in rehearsal.emitted if default_registry.spec(e.stream).public] == []
    assert {e.stream for e in rehearsal.emitted} == {TEST}
    # The same facts, kept apart: one test event for each event production publishes.
    assert [(key, tag) for _, key, tag in kinds(rehearsal.emitted)] == [
        (key, tag) for _, key, tag in kinds(production.emitted)
    ]
    assert rehearsal.medal_book().table == {}
    assert rehearsal.medal_book(feed=Feed.TEST).table == production.medal_book().table


# --- football: men's gold medal match, a goal in extra time ----------------------------------

FBL_FINAL = "FBLMTEAM11------------FNL-000100--"
FRA = Competitor(code="FBLMTEAM11---FRA01", kind=CompetitorKind.TEAM, noc="FRA", name="France")
ESP = Competitor(code="FBLMTEAM11---ESP01", kind=CompetitorKind.TEAM, noc="ESP", name="Spain")


def match(version: int, status: ResultStatus, period: str | None, *periods: Period) -> str:
    home, away = (periods[-1].home_score, periods[-1].away_score) if periods else (None, None)
    result = UnitResult(
        competition="OG2024",
        unit=FBL_FINAL,
        discipline="FBL",
        version=version,
        status=status,
        shape=Shape.HEAD_TO_HEAD,
        source="FBLXPARCOG2024",
        start=datetime(2024, 8, 9, 16, tzinfo=UTC),
        current_period=period,
        home=FRA.code,
        away=ESP.code,
        periods=periods,
        competitors=(
            CompetitorResult(competitor=FRA, score=home, sort_order=1, start_order=1),
            CompetitorResult(competitor=ESP, score=away, sort_order=2, start_order=2),
        ),
    )
    return result_xml(
        result, generated_at=datetime(2024, 8, 9, 16, tzinfo=UTC) + timedelta(minutes=version)
    )


H1 = Period(code="H1", home_score=1, away_score=3, home_period_score=1, away_period_score=3)
H2 = Period(code="H2", home_score=3, away_score=3, home_period_score=2, away_period_score=0)
ET1 = Period(
    code="ET1",
    kind=PeriodKind.EXTRA_TIME,
    home_score=3,
    away_score=4,
    home_period_score=0,
    away_period_score=1,
)


def football_final() -> list[str]:
    return [
        match(1, ResultStatus.START_LIST, None),
        match(10, ResultStatus.LIVE, "H1", H1),
        match(20, ResultStatus.INTERMEDIATE, "H2", H1, H2),  # 3-3 after 90 minutes
        match(30, ResultStatus.LIVE, "ET1", H1, H2, ET1),  # Spain scores in extra time
        fixture("fbl_m_fnl_official.xml"),  # version 41, 3-5 after extra time
    ]


def test_football_match_with_a_goal_in_extra_time() -> None:
    pipeline = Pipeline()
    docs = football_final()

    for xml in docs[:4]:
        pipeline.feed(xml)
    live = unit_view(pipeline.emitted, FBL_FINAL).results["result"]
    assert live.current_period == "ET1"
    assert [c.score for c in live.competitors] == [3, 4]
    extra = [p for p in live.periods if p.kind is PeriodKind.EXTRA_TIME]
    assert [(p.code, p.away_period_score) for p in extra] == [("ET1", 1)]

    pipeline.feed(docs[2])  # the 90-minute snapshot again: stale, the score does not go back
    pipeline.feed(docs[4])

    assert kinds(pipeline.emitted) == [(UNITS, FBL_FINAL, "unit_result")] * 5
    assert pipeline.verdicts == [Verdict.APPLIED] * 4 + [Verdict.STALE, Verdict.APPLIED]
    final = unit_view(pipeline.emitted, FBL_FINAL).results["result"]
    assert (final.version, final.status, final.shape) == (
        41,
        ResultStatus.OFFICIAL,
        Shape.HEAD_TO_HEAD,
    )
    total = next(p for p in final.periods if p.kind is PeriodKind.TOTAL)
    assert (total.home_score, total.away_score) == (3, 5)
    assert (
        sum(p.away_period_score or 0 for p in final.periods if p.kind is PeriodKind.EXTRA_TIME) == 2
    )
    assert {c.competitor.noc: c.outcome for c in final.competitors} == {
        "FRA": MatchOutcome.LOSS,
        "ESP": MatchOutcome.WIN,
    }


# --- athletics: a protest re-assigns the bronze ----------------------------------------------

ATH_FINAL = "ATHW100M--------------FNL-000100--"
ATH_EVENT = "ATHW100M--------------------------"
ROW_EVENT = "ROWMEIGHT-------------------------"
RUNNERS = {
    "LCA": Competitor(code="2100001", noc="LCA", name="Julia Alfred"),
    "USA": Competitor(code="2100002", noc="USA", name="Sha Richards"),
    "GBR": Competitor(code="2100003", noc="GBR", name="Dina Asher"),
    "CIV": Competitor(code="2100004", noc="CIV", name="Marie Ta Lou"),
}


def sprint(
    version: int, status: ResultStatus, order: list[str], disqualified: str | None = None
) -> str:
    lines = [
        CompetitorResult(competitor=RUNNERS[noc], rank=rank, time_ms=10720 + 10 * rank)
        for rank, noc in enumerate(order, 1)
    ]
    if disqualified:
        lines.append(CompetitorResult(competitor=RUNNERS[disqualified], irm="DSQ"))
    result = UnitResult(
        competition="OG2024",
        unit=ATH_FINAL,
        discipline="ATH",
        version=version,
        status=status,
        shape=Shape.TIMED,
        source="ATHXSTDFOG2024",
        competitors=tuple(lines),
    )
    return result_xml(result, generated_at=datetime(2024, 8, 3, 19, version, tzinfo=UTC))


def medallists(event: str, version: int, podium: list[Competitor]) -> str:
    doc = Medallists(
        competition="OG2024",
        event=event,
        version=version,
        status=ResultStatus.OFFICIAL,
        medallists=tuple(
            Medallist(medal=kind, competitor=who)
            for kind, who in zip(MedalKind, podium, strict=True)
        ),
    )
    return medallists_xml(
        doc, generated_at=datetime(2024, 8, 3, 20, version, tzinfo=UTC), source="OVR"
    )


def crew(noc: str) -> Competitor:
    return Competitor(code=f"ROWMEIGHT---{noc}01", kind=CompetitorKind.TEAM, noc=noc, name=noc)


def test_a_protest_reassigns_the_bronze_and_the_table_never_counts_it_twice() -> None:
    pipeline = Pipeline()
    pipeline.feed(medallists(ROW_EVENT, 1, [crew("GBR"), crew("NED"), crew("USA")]))
    pipeline.feed(sprint(8, ResultStatus.OFFICIAL, ["LCA", "USA", "GBR", "CIV"]))
    pipeline.feed(medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]]))

    before = [(s.noc, s.gold, s.silver, s.bronze) for s in standings(pipeline.medal_book().table)]
    assert before == [
        ("GBR", 1, 0, 1),
        ("LCA", 1, 0, 0),
        ("USA", 0, 1, 1),
        ("NED", 0, 1, 0),
    ]

    protested = pipeline.feed(sprint(9, ResultStatus.PROTESTED, ["LCA", "USA", "GBR", "CIV"]))
    corrected = pipeline.feed(
        sprint(10, ResultStatus.OFFICIAL, ["LCA", "USA", "CIV"], disqualified="GBR")
    )
    moved = pipeline.feed(
        medallists(ATH_EVENT, 2, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["CIV"]])
    )
    replayed = pipeline.feed(
        medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]])
    )

    assert kinds(protested) == kinds(corrected) == [(UNITS, ATH_FINAL, "unit_result")]
    assert pipeline.irregular == []  # OFFICIAL -> PROTESTED -> OFFICIAL is a legal path
    assert [e.event for e in moved] == [
        MedalsAwarded(
            competition="OG2024",
            event=ATH_EVENT,
            version=2,
            medallists=(
                Medallist(medal=MedalKind.GOLD, competitor=RUNNERS["LCA"]),
                Medallist(medal=MedalKind.SILVER, competitor=RUNNERS["USA"]),
                Medallist(medal=MedalKind.BRONZE, competitor=RUNNERS["CIV"]),
            ),
            withdrawn=(Medallist(medal=MedalKind.BRONZE, competitor=RUNNERS["GBR"]),),
        ),
        MedalCount(competition="OG2024", noc="CIV", bronze=1, total=1),
        MedalCount(competition="OG2024", noc="GBR", gold=1, total=1),
    ]
    assert replayed == []
    after = [
        (s.rank, s.noc, s.gold, s.silver, s.bronze) for s in standings(pipeline.medal_book().table)
    ]
    assert after == [
        (1, "GBR", 1, 0, 0),
        (1, "LCA", 1, 0, 0),
        (3, "USA", 0, 1, 1),
        (4, "NED", 0, 1, 0),
        (5, "CIV", 0, 0, 1),
    ]
    assert sum(s.gold + s.silver + s.bronze for s in standings(pipeline.medal_book().table)) == 6
    final = unit_view(pipeline.emitted, ATH_FINAL).results["result"]
    assert [(c.competitor.noc, c.rank, c.irm) for c in final.competitors] == [
        ("LCA", 1, None),
        ("USA", 2, None),
        ("CIV", 3, None),
        ("GBR", None, "DSQ"),
    ]


# --- keep-alives through the pipeline ---------------------------------------------------------


def test_a_silent_source_goes_down_and_comes_back_once() -> None:
    pipeline = Pipeline(silence=timedelta(seconds=20))
    keepalive = fixture("keepalive.xml")  # 20:30:00 Paris time

    first = pipeline.feed(keepalive)
    ticks = [pipeline.tick(local(20, 30, s)) for s in (10, 25, 40)]
    back = pipeline.feed(keepalive.replace('Time="203000000"', 'Time="203100000"'))

    assert [tag for _, _, tag in kinds(first)] == ["keep_alive", "source_up"]
    assert [kinds(t) for t in ticks] == [[], [(HEALTH, "SWMXSWIMOG2024", "source_down")], []]
    assert [tag for _, _, tag in kinds(back)] == ["keep_alive", "source_up"]
