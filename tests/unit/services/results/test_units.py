"""Unit results: highest version wins, records are flagged once, the view folds the stream."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.results.codes import Shape
from flambeau.services.results.outcomes import Verdict
from flambeau.services.results.schemas import (
    RECORDS,
    TEST,
    UNITS,
    Competitor,
    CompetitorResult,
    DocumentKind,
    Feed,
    RecordFlagged,
    RecordMark,
    RecordWithdrawn,
    UnitResult,
    UnitScheduleChanged,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.units import (
    UnitDocState,
    apply_result,
    fold_unit,
    result_state_key,
)

UNIT = "ATHW100M--------------FNL-000100--"


def line(code: str, rank: int, ms: int, *records: str) -> CompetitorResult:
    return CompetitorResult(
        competitor=Competitor(code=code, noc="JAM"),
        rank=rank,
        result=None,
        time_ms=ms,
        records=tuple(RecordMark(code=r) for r in records),
    )


def snapshot(
    version: int,
    status: ResultStatus = ResultStatus.LIVE,
    *lines: CompetitorResult,
    document: DocumentKind = DocumentKind.RESULT,
    feed: Feed = Feed.PRODUCTION,
) -> UnitResult:
    return UnitResult(
        competition="OG2024",
        unit=UNIT,
        discipline="ATH",
        version=version,
        status=status,
        shape=Shape.TIMED,
        document=document,
        feed=feed,
        competitors=lines,
    )


def test_first_version_is_applied_and_emitted_by_unit_key() -> None:
    doc = snapshot(1, ResultStatus.START_LIST)

    step = apply_result(None, doc)

    assert step.verdict is Verdict.APPLIED
    assert [(e.stream, e.key, e.event) for e in step.emits] == [(UNITS, UNIT, doc)]
    assert step.state == UnitDocState(version=1, status=ResultStatus.START_LIST)


def test_older_or_equal_versions_are_acknowledged_ignored_and_counted() -> None:
    state = apply_result(None, snapshot(5)).state

    equal = apply_result(state, snapshot(5))
    older = apply_result(equal.state, snapshot(3, ResultStatus.START_LIST))

    assert (equal.verdict, older.verdict) == (Verdict.STALE, Verdict.STALE)
    assert equal.emits == older.emits == ()
    assert older.state.stale == 2
    assert (older.state.version, older.state.status) == (5, ResultStatus.LIVE)


def test_a_newer_version_replaces_the_older() -> None:
    state = apply_result(None, snapshot(5)).state

    step = apply_result(state, snapshot(6, ResultStatus.OFFICIAL))

    assert step.verdict is Verdict.APPLIED
    assert step.state.version == 6
    assert step.irregular == ()


def test_a_status_going_backwards_is_applied_but_reported() -> None:
    state = apply_result(None, snapshot(5, ResultStatus.OFFICIAL)).state

    step = apply_result(state, snapshot(6, ResultStatus.LIVE))

    assert step.verdict is Verdict.APPLIED
    assert step.state.status is ResultStatus.LIVE
    assert step.irregular == ("illegal result status move official -> live",)


def test_records_are_flagged_once_and_withdrawn_when_a_correction_drops_them() -> None:
    first = apply_result(None, snapshot(1, ResultStatus.LIVE, line("1", 1, 10610, "OR")))
    again = apply_result(first.state, snapshot(2, ResultStatus.OFFICIAL, line("1", 1, 10610, "OR")))
    dropped = apply_result(again.state, snapshot(3, ResultStatus.OFFICIAL, line("1", 1, 10650)))

    flagged = [e.event for e in first.emits if e.stream == RECORDS]
    assert flagged == [
        RecordFlagged(
            competition="OG2024",
            unit=UNIT,
            discipline="ATH",
            record="OR",
            competitor=Competitor(code="1", noc="JAM"),
            time_ms=10610,
            status=ResultStatus.LIVE,
            version=1,
        )
    ]
    assert [e.stream for e in again.emits] == [UNITS]
    assert [e.event for e in dropped.emits if e.stream == RECORDS] == [
        RecordWithdrawn(competition="OG2024", unit=UNIT, record="OR", competitor="1", version=3)
    ]


def test_current_documents_do_not_flag_records() -> None:
    step = apply_result(
        None,
        snapshot(1, ResultStatus.LIVE, line("1", 1, 10610, "WR"), document=DocumentKind.CURRENT),
    )

    assert [e.stream for e in step.emits] == [UNITS]


def test_test_feeds_go_to_the_test_stream_only() -> None:
    step = apply_result(
        None, snapshot(1, ResultStatus.LIVE, line("1", 1, 10610, "WR"), feed=Feed.TEST)
    )

    assert [e.stream for e in step.emits] == [TEST, TEST]


def test_each_document_has_its_own_version_sequence() -> None:
    keys = {
        result_state_key(snapshot(1)),
        result_state_key(snapshot(1, document=DocumentKind.CURRENT)),
        result_state_key(snapshot(1, feed=Feed.TEST)),
        result_state_key(msgspec.structs.replace(snapshot(1), subcode="VT")),
    }

    assert len(keys) == 4


@given(st.lists(st.integers(1, 20), min_size=1, max_size=30))
def test_only_versions_above_every_earlier_one_are_emitted(versions: list[int]) -> None:
    state = None
    emitted: list[int] = []
    for version in versions:
        step = apply_result(state, snapshot(version))
        state = step.state
        emitted.extend(e.event.version for e in step.emits)  # type: ignore[attr-defined]

    assert state is not None
    assert state.version == max(versions)
    assert emitted == sorted(set(emitted))
    assert state.stale == len(versions) - len(emitted)
    assert emitted[-1] == max(versions)


def test_the_view_folds_schedule_and_latest_results() -> None:
    schedule = UnitScheduleChanged(
        competition="OG2024", unit=UNIT, discipline="ATH", status=UnitStatus.RUNNING, version=4
    )
    live, official = snapshot(5), snapshot(7, ResultStatus.OFFICIAL)
    current = snapshot(2, document=DocumentKind.CURRENT)

    view = None
    for event in (schedule, official, live, current):
        view = fold_unit(view, event)

    assert view is not None
    assert view.schedule == schedule
    assert view.results == {"result": official, "current": current}
