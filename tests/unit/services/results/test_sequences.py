"""Realistic ODF sequences, end to end: XML in, unit states, medal table and exact events out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flambeau.events import default_registry
from flambeau.services.results.codes import Shape
from flambeau.services.results.medals import discrepancies, standings
from flambeau.services.results.odf import parse
from flambeau.services.results.outcomes import Emit, Verdict
from flambeau.services.results.schemas import (
    HEALTH,
    MEDALS,
    RECORDS,
    SCHEDULE,
    TEST,
    UNITS,
    Feed,
    MatchOutcome,
    MedalCount,
    MedalKind,
    Medallist,
    MedalsAwarded,
    MedalStandings,
    PeriodKind,
    RecordFlagged,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.units import UnitView, fold_unit

from ._documents import (
    ATH_EVENT,
    ATH_FINAL,
    FBL_FINAL,
    ROW_EVENT,
    RUNNERS,
    SWM_FINAL,
    crew,
    fixture,
    football_final,
    local,
    medallists,
    sprint,
    swimming_final,
)
from ._pipeline import Pipeline, kinds


def unit_view(emits: list[Emit], unit: str) -> UnitView:
    view = None
    for emit in emits:
        if emit.stream in (UNITS, TEST) and emit.key == unit:
            view = fold_unit(view, emit.event)  # type: ignore[arg-type]
    assert view is not None
    return view


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
