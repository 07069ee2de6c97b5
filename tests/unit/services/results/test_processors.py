"""The results processors over realistic ODF sequences, through ``flambeau.testing``.

Each input is appended as the adapters append it (``_feeds``), so ids, keys and partitions
are the real ones; the assertions name every event emitted, its key and the id of the ODF
document that caused it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.events import default_registry
from flambeau.processing import Processor
from flambeau.services.results.medals import EventMedals, MedalBook, standings, tally
from flambeau.services.results.odf import parse
from flambeau.services.results.processors import (
    PROCESSORS,
    liveness,
    medal_table,
    schedule_state,
    signs,
    unit_clock,
    unit_state,
)
from flambeau.services.results.schemas import (
    AUDIT,
    HEALTH,
    HEARD,
    MEDALS,
    RECORDS,
    SCHEDULE,
    TEST,
    UNITS,
    DocumentIgnored,
    EndAdjustment,
    Feed,
    IgnoredReason,
    MedalCount,
    MedalKind,
    Medallist,
    Medallists,
    MedalsAwarded,
    MedalTableMismatch,
    OdfDocument,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus
from flambeau.services.results.units import UnitDocState
from flambeau.testing import RunResult, run

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
    medallists,
    sprint,
    swimming_final,
)
from ._feeds import as_test_feed, native, odf, relayed, replace_event, trace

SWM_DOC = f"unit/OG2024/production/{SWM_FINAL}/result"


def run_all(items: list[Any]) -> dict[str, RunResult]:
    """Every results processor: the document processors over ``items``, liveness after them."""
    results = {p.name: run(p, items) for p in (unit_state, schedule_state, medal_table, signs)}
    heard = [(HEARD, relayed(r)) for r in results[signs.name].records(HEARD)]
    results[liveness.name] = run(liveness, heard)
    return results


def test_every_processor_reads_both_co_partitioned_inputs() -> None:
    for processor in PROCESSORS:
        assert processor.partitions(default_registry) in (4, 8)
    assert {p.inputs for p in (unit_state, schedule_state, medal_table)} == {
        ("results.odf", "results.native")
    }


def test_swimming_final_from_start_list_to_official() -> None:
    items = [odf(xml) for xml in swimming_final()]
    ids = [event.id for _, event in items]
    schedule, start, ready, running, live, current, unofficial, late, finished, official = ids[:10]

    units = run(unit_state, items)
    schedules = run(schedule_state, items)
    medals = run(medal_table, items)

    assert trace(units.records(UNITS)) == [
        ("unit_result", SWM_FINAL, cause) for cause in (start, live, current, unofficial, official)
    ]
    assert [(r.version, r.status) for r in units.events(UNITS)] == [
        (1, ResultStatus.START_LIST),
        (2, ResultStatus.LIVE),
        (1, ResultStatus.LIVE),  # DT_CURRENT: its own version sequence
        (4, ResultStatus.UNOFFICIAL),
        (7, ResultStatus.OFFICIAL),
    ]
    assert units.events(UNITS)[-1] == parse(fixture("swm_w100mfr_fnl_official.xml")).body
    assert trace(units.records(RECORDS)) == [("record_flagged", SWM_FINAL, unofficial)]
    assert units.events(AUDIT) == [
        DocumentIgnored(
            processor="results.unit-state",
            reason=IgnoredReason.STALE,
            document=SWM_DOC,
            document_type="DT_RESULT",
            version=3,
            current_version=4,
            source="SWMXSWIMOG2024",
        )
    ]
    assert units.records(AUDIT)[0].causation_id == late
    state = units.value(SWM_DOC, UnitDocState)
    assert state == UnitDocState(
        version=7, status=ResultStatus.OFFICIAL, records=(("1900411", "OR", False),), stale=1
    )

    day = ("venue_day_schedule", "2024-07-31/LDA")
    assert [(tag, key, cause) for tag, key, cause in trace(schedules.records(UNITS))] == [
        ("unit_schedule", "SWMM200MBK------------FNL-000100--", schedule),
        ("unit_schedule", "SWMM200MBK------------SFNL000100--", schedule),
        ("unit_schedule", SWM_FINAL, schedule),
        ("unit_schedule", SWM_FINAL, ready),
        ("unit_schedule", SWM_FINAL, running),
        ("unit_schedule", SWM_FINAL, finished),
    ]
    assert [r.status.value for r in schedules.events(UNITS)[3:]] == [
        "getting_ready",
        "running",
        "finished",
    ]
    assert trace(schedules.records(SCHEDULE)) == [
        (*day, schedule),
        ("venue_day_schedule", "2024-08-01/LDA", schedule),
        (*day, ready),
        (*day, running),
        (*day, finished),
    ]
    assert schedules.events(AUDIT) == []

    awarded = ids[10]
    assert trace(medals.records(MEDALS)) == [
        ("medals_awarded", "OG2024", awarded),
        *[("medal_count", "OG2024", awarded)] * 3,
    ]
    book = medals.value("medals/OG2024/production", MedalBook)
    assert book is not None
    assert [(s.rank, s.noc, s.gold, s.silver, s.bronze) for s in standings(book.table)] == [
        (1, "SWE", 1, 0, 0),
        (2, "USA", 0, 1, 0),
        (3, "HKG", 0, 0, 1),
    ]


def test_football_match_with_a_goal_in_extra_time() -> None:
    docs = football_final()
    items = [odf(xml) for xml in [*docs[:4], docs[2], docs[4]]]
    ids = [event.id for _, event in items]

    units = run(unit_state, items)

    assert trace(units.records(UNITS)) == [
        ("unit_result", FBL_FINAL, ids[i]) for i in (0, 1, 2, 3, 5)
    ]
    live, final = units.events(UNITS)[3], units.events(UNITS)[4]
    assert isinstance(live, UnitResult)
    assert (live.current_period, [c.score for c in live.competitors]) == ("ET1", [3, 4])
    assert (final.version, final.status) == (41, ResultStatus.OFFICIAL)
    assert [(p.code, p.home_score, p.away_score) for p in final.periods][-1] == ("TOT", 3, 5)
    # the 90-minute snapshot delivered again: acknowledged, ignored, counted, traced
    [ignored] = units.records(AUDIT)
    assert ignored.causation_id == ids[4]
    assert (ignored.data.reason, ignored.data.version, ignored.data.current_version) == (
        IgnoredReason.STALE,
        20,
        30,
    )


def protest_documents() -> list[str]:
    return [
        medallists(ROW_EVENT, 1, [crew("GBR"), crew("NED"), crew("USA")]),
        sprint(8, ResultStatus.OFFICIAL, ["LCA", "USA", "GBR", "CIV"]),
        medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]]),
        sprint(9, ResultStatus.PROTESTED, ["LCA", "USA", "GBR", "CIV"]),
        sprint(10, ResultStatus.OFFICIAL, ["LCA", "USA", "CIV"], disqualified="GBR"),
        medallists(ATH_EVENT, 2, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["CIV"]]),
        # the first version sent again later (an identical copy would be a log duplicate)
        medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]], resent_after=30),
    ]


def test_a_protest_reassigns_the_bronze_and_the_table_never_counts_it_twice() -> None:
    items = [odf(xml) for xml in protest_documents()]
    ids = [event.id for _, event in items]

    medals = run(medal_table, items)
    units = run(unit_state, items)

    moved = [r for r in medals.records(MEDALS) if r.causation_id == ids[5]]
    assert [r.data for r in moved] == [
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
    assert {r.causation_id for r in medals.records(MEDALS)} == {ids[0], ids[2], ids[5]}
    [replayed] = medals.records(AUDIT)
    assert replayed.causation_id == ids[6]
    assert (replayed.data.reason, replayed.data.document) == (
        IgnoredReason.STALE,
        f"medals/OG2024/production/{ATH_EVENT}",
    )
    book = medals.value("medals/OG2024/production", MedalBook)
    assert book is not None
    assert [(s.rank, s.noc, s.gold, s.silver, s.bronze) for s in standings(book.table)] == [
        (1, "GBR", 1, 0, 0),
        (1, "LCA", 1, 0, 0),
        (3, "USA", 0, 1, 1),
        (4, "NED", 0, 1, 0),
        (5, "CIV", 0, 0, 1),
    ]
    assert trace(units.records(UNITS)) == [("unit_result", ATH_FINAL, ids[i]) for i in (1, 3, 4)]
    assert units.events(AUDIT) == []  # OFFICIAL -> PROTESTED -> OFFICIAL is a legal path


def test_unofficial_medallists_are_acknowledged_and_counted_but_never_tallied() -> None:
    official = medallists(ATH_EVENT, 1, [RUNNERS["LCA"], RUNNERS["USA"], RUNNERS["GBR"]])
    unofficial = official.replace('ResultStatus="OFFICIAL"', 'ResultStatus="UNOFFICIAL"')

    medals = run(medal_table, [odf(unofficial)])

    assert medals.events(MEDALS) == []
    assert [(e.reason, e.document_type) for e in medals.events(AUDIT)] == [
        (IgnoredReason.UNOFFICIAL, "DT_MEDALLISTS")
    ]


def outputs_by_stream(results: dict[str, RunResult]) -> dict[str, list[tuple[str, str]]]:
    streams: dict[str, list[tuple[str, str]]] = {}
    for result in results.values():
        for stream, records in result.outputs.items():
            streams.setdefault(stream, []).extend(
                (type(r.data).__struct_config__.tag, r.key) for r in records
            )
    return streams


def test_test_feeds_never_reach_a_public_stream() -> None:
    documents = [*swimming_final(), *football_final(), *protest_documents()]
    documents.append(fixture("keepalive.xml"))

    production = outputs_by_stream(run_all([odf(xml) for xml in documents]))
    rehearsal = outputs_by_stream(run_all([odf(as_test_feed(xml)) for xml in documents]))

    public = {spec.name for spec in default_registry if spec.public}
    assert public & rehearsal.keys() == set()
    assert HEALTH not in rehearsal  # betting must not suspend markets over a rehearsal
    # the same facts, kept apart: one test event for each public or health event
    assert sorted(rehearsal[TEST]) == sorted(
        item for stream in (*public, HEALTH) for item in production.get(stream, [])
    )
    # what is no fact about the Games (audit, signs of life) keeps its own streams, marked test
    assert rehearsal.keys() - {TEST} == {AUDIT, "results.heard"}


def test_a_restarted_processor_emits_the_same_events() -> None:
    items = [odf(xml) for xml in [*swimming_final(), *protest_documents()]]

    for processor in (unit_state, schedule_state, medal_table):
        straight = run(processor, items)
        restarted = run(processor, items, batch_size=2, restart_every=1)
        assert _ids(restarted) == _ids(straight), processor.name


def _ids(result: RunResult) -> dict[str, list[str]]:
    return {stream: [r.id for r in records] for stream, records in result.outputs.items()}


def test_processors_are_registered_for_the_worker() -> None:
    from flambeau.processing import default_processors

    names = {p.name for p in default_processors}
    assert {p.name for p in PROCESSORS} <= names
    assert all(isinstance(default_processors.get(p.name), Processor) for p in PROCESSORS)


def medal_deliveries() -> list[str]:
    lca, usa, gbr, civ = (RUNNERS[noc] for noc in ("LCA", "USA", "GBR", "CIV"))
    unofficial = medallists(ATH_EVENT, 3, [civ, usa, lca]).replace(
        'ResultStatus="OFFICIAL"', 'ResultStatus="PROVISIONAL"'
    )
    return [
        medallists(ATH_EVENT, 1, [lca, usa, gbr]),
        medallists(ATH_EVENT, 2, [lca, usa, civ]),
        unofficial,
        medallists(ROW_EVENT, 1, [crew("GBR"), crew("NED"), crew("USA")]),
        medallists(ROW_EVENT, 2, [crew("NED"), crew("GBR"), crew("USA")]),
        fixture("swm_w100mfr_medallists.xml"),
    ]


DELIVERIES = medal_deliveries()
HIGHEST = (1, 4, 5)  # the highest OFFICIAL version of each event


@settings(max_examples=40, deadline=None)
@given(
    order=st.permutations(range(len(DELIVERIES))),
    resent=st.lists(st.integers(0, len(DELIVERIES) - 1), max_size=3),
    batch_size=st.integers(1, 4),
)
def test_any_delivery_order_through_the_processor_yields_the_highest_versions_table(
    order: list[int], resent: list[int], batch_size: int
) -> None:
    items = [odf(DELIVERIES[i]) for i in [*order, *resent]]

    medals = run(medal_table, items, batch_size=batch_size, restart_every=3)

    expected = {}
    for i in HIGHEST:
        doc = parse(DELIVERIES[i]).body
        assert isinstance(doc, Medallists)
        expected[doc.event] = EventMedals(version=doc.version, medallists=doc.medallists)
    book = medals.value("medals/OG2024/production", MedalBook)
    assert book is not None
    assert book.table == tally(expected)
    # the published counts agree with the table: the last count of each NOC is its tally
    published = {
        e.noc: (e.gold, e.silver, e.bronze)
        for e in medals.events(MEDALS)
        if isinstance(e, MedalCount)
    }
    assert {noc: counts for noc, counts in published.items() if any(counts)} == {
        noc: (t.gold, t.silver, t.bronze) for noc, t in book.table.items()
    }


def test_a_sources_own_medal_table_is_checked_never_copied() -> None:
    table = fixture("medals_standings.xml")
    wrong = table.replace('Version="88"', 'Version="89"').replace(
        'Gold="0" Silver="0" Bronze="1" Total="1"', 'Gold="0" Silver="0" Bronze="2" Total="2"'
    )
    items = [odf(xml) for xml in swimming_final()[10:]] + [odf(wrong)]  # medallists, table, wrong

    medals = run(medal_table, items)

    [mismatch] = medals.records(AUDIT)  # the first table agrees; the second does not
    assert mismatch.causation_id == items[2][1].id
    assert mismatch.data == MedalTableMismatch(
        competition="OG2024",
        version=89,
        differences=("HKG: derived 0/0/1, reported 0/0/2",),
        source="OVRXMEDALSOG2024",
    )
    assert [r.causation_id for r in medals.records(MEDALS)] == [items[0][1].id] * 4


def test_native_documents_share_the_version_sequence_of_their_odf_form() -> None:
    official = odf(fixture("swm_w100mfr_fnl_official.xml"))  # version 7
    body = parse(fixture("swm_w100mfr_fnl_official.xml")).body
    assert isinstance(body, UnitResult)
    older = native(msgspec.structs.replace(body, version=5))
    newer = native(msgspec.structs.replace(body, version=8, status=ResultStatus.PROTESTED))

    units = run(unit_state, [official, older, newer])

    assert trace(units.records(UNITS)) == [
        ("unit_result", SWM_FINAL, official[1].id),
        ("unit_result", SWM_FINAL, newer[1].id),
    ]
    assert [(e.reason, e.version, e.current_version) for e in units.events(AUDIT)] == [
        (IgnoredReason.STALE, 5, 7)
    ]


def test_native_test_feeds_stay_off_the_public_streams() -> None:
    body = parse(fixture("swm_w100mfr_fnl_official.xml")).body
    assert isinstance(body, UnitResult)

    units = run(unit_state, [native(msgspec.structs.replace(body, feed=Feed.TEST))])

    assert set(units.outputs) == {TEST}


def test_records_that_bypass_the_adapters_are_refused_not_applied() -> None:
    official = odf(fixture("swm_w100mfr_fnl_official.xml"))
    misrouted = replace_event(official, key="OG2024/elsewhere", id="forged-1")
    _, event = official
    assert isinstance(event.data, OdfDocument)
    forged_header = msgspec.structs.replace(event.data.header, version=99)
    inconsistent = replace_event(
        official, data=msgspec.structs.replace(event.data, header=forged_header), id="forged-2"
    )

    units = run(unit_state, [misrouted, inconsistent])

    assert units.events(UNITS) == []
    assert {(r.causation_id, r.data.reason) for r in units.records(AUDIT)} == {
        ("forged-1", IgnoredReason.MISROUTED),
        ("forged-2", IgnoredReason.INCONSISTENT),
    }


def test_the_unit_clock_moves_a_football_final_into_extra_time_on_the_documents_clock() -> None:
    units = run(unit_state, [odf(xml) for xml in football_final()])
    snapshots = units.records(UNITS)
    clock = run(unit_clock, [(UNITS, relayed(r)) for r in snapshots])
    estimates = clock.records(UNITS)
    kick_off = datetime(2024, 8, 9, 16, tzinfo=UTC)
    assert [(r.data.estimated_end, r.data.adjustments) for r in estimates] == [
        (kick_off + timedelta(minutes=1 + 111), (EndAdjustment.DELAYED,)),  # no end: regulation
        (kick_off + timedelta(minutes=10 + 111), (EndAdjustment.LATE_START,)),
        (
            kick_off + timedelta(minutes=10 + 111 + 37),
            (EndAdjustment.LATE_START, EndAdjustment.EXTRA_TIME),
        ),
        (datetime(2024, 8, 9, 19, 15, 2, tzinfo=UTC), (EndAdjustment.FINISHED,)),
    ]
    by_id = {r.id: r for r in snapshots}
    for estimate in estimates:
        cause = by_id[estimate.causation_id]
        assert (estimate.key, estimate.time) == (FBL_FINAL, cause.time)  # the document's time
    assert clock.records(UNITS)[0].time == kick_off + timedelta(minutes=1)
    again = run(unit_clock, [(UNITS, relayed(r)) for r in [*snapshots, *estimates]])
    assert len(again.records(UNITS)) == len(estimates)  # its own estimates are skipped
