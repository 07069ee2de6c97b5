"""Schedule per day and venue: full schedules reset, updates patch, every change is emitted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec

from flambeau.services.results.odf import parse
from flambeau.services.results.outcomes import Verdict
from flambeau.services.results.schedule import ScheduleState, apply_schedule, day_of
from flambeau.services.results.schemas import (
    SCHEDULE,
    TEST,
    UNITS,
    Feed,
    ScheduleDocument,
    ScheduleEntry,
    UnitScheduleChanged,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import UnitStatus

from ._pipeline import kinds

FIXTURES = Path(__file__).parents[3] / "fixtures" / "odf"
FINAL = "SWMW100MFR------------FNL-000100--"
SEMI = "SWMM200MBK------------SFNL000100--"
FINAL_200 = "SWMM200MBK------------FNL-000100--"


def full_schedule() -> ScheduleDocument:
    doc = parse((FIXTURES / "swm_schedule.xml").read_bytes()).body
    assert isinstance(doc, ScheduleDocument)
    return doc


def update(version: int, *entries: ScheduleEntry, at: datetime | None = None) -> ScheduleDocument:
    return ScheduleDocument(
        competition="OG2024",
        discipline="SWM",
        version=version,
        full=False,
        generated_at=at or datetime(2024, 7, 31, 18, tzinfo=UTC),
        units=entries,
    )


def entry(doc: ScheduleDocument, unit: str, **changes: object) -> ScheduleEntry:
    found = next(e for e in doc.units if e.unit == unit)
    return msgspec.structs.replace(found, **changes)


def test_a_full_schedule_emits_each_unit_then_each_venue_day() -> None:
    doc = full_schedule()

    step = apply_schedule(None, doc)

    assert kinds(list(step.emits)) == [  # units in code order
        (UNITS, FINAL_200, "unit_schedule"),
        (UNITS, SEMI, "unit_schedule"),
        (UNITS, FINAL, "unit_schedule"),
        (SCHEDULE, "2024-07-31/LDA", "venue_day_schedule"),
        (SCHEDULE, "2024-08-01/LDA", "venue_day_schedule"),
    ]
    first_day = step.emits[3].event
    assert isinstance(first_day, VenueDaySchedule)
    assert first_day.day == date(2024, 7, 31)
    assert [u.unit for u in first_day.units] == [FINAL, SEMI]  # start order
    final = step.emits[2].event
    assert isinstance(final, UnitScheduleChanged)
    assert (final.status, final.previous_status, final.title) == (
        UnitStatus.SCHEDULED,
        None,
        "Women's 100m Freestyle Final",
    )
    assert step.state.full_version == 3


def test_an_update_changes_one_unit_and_its_venue_day() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state

    step = apply_schedule(state, update(1, entry(doc, FINAL, status=UnitStatus.GETTING_READY)))

    assert kinds(list(step.emits)) == [
        (UNITS, FINAL, "unit_schedule"),
        (SCHEDULE, "2024-07-31/LDA", "venue_day_schedule"),
    ]
    change = step.emits[0].event
    assert isinstance(change, UnitScheduleChanged)
    assert (change.previous_status, change.status) == (
        UnitStatus.SCHEDULED,
        UnitStatus.GETTING_READY,
    )
    assert len(step.state.units) == 3


def test_moving_a_unit_updates_the_day_it_left_and_the_day_it_joined() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state
    moved = entry(doc, FINAL_200, start=datetime(2024, 7, 31, 19, 10, tzinfo=UTC), venue="ARE")

    step = apply_schedule(state, update(1, moved))

    days = {e.key: e.event for e in step.emits if e.stream == SCHEDULE}
    assert set(days) == {"2024-07-31/ARE", "2024-08-01/LDA"}
    left = days["2024-08-01/LDA"]
    assert isinstance(left, VenueDaySchedule)
    assert left.units == ()


def test_a_new_full_schedule_resets_and_unschedules_dropped_units() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state
    reset = msgspec.structs.replace(doc, version=4, units=doc.units[:2])

    step = apply_schedule(state, reset)

    assert kinds(list(step.emits)) == [
        (UNITS, FINAL_200, "unit_schedule"),
        (SCHEDULE, "2024-08-01/LDA", "venue_day_schedule"),
    ]
    dropped = step.emits[0].event
    assert isinstance(dropped, UnitScheduleChanged)
    assert (dropped.status, dropped.start) == (UnitStatus.UNSCHEDULED, None)
    assert set(step.state.units) == {FINAL, SEMI}


def test_repeating_what_is_known_emits_nothing() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state

    step = apply_schedule(state, msgspec.structs.replace(doc, version=9))

    assert (step.verdict, step.emits) == (Verdict.APPLIED, ())


def test_old_versions_and_updates_older_than_the_reset_are_stale() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state
    state = apply_schedule(state, update(5, entry(doc, FINAL, status=UnitStatus.RUNNING))).state

    old_full = apply_schedule(state, msgspec.structs.replace(doc, version=2))
    old_update = apply_schedule(
        old_full.state, update(5, entry(doc, FINAL, status=UnitStatus.DELAYED))
    )
    before_reset = apply_schedule(
        old_update.state,
        update(6, entry(doc, FINAL, status=UnitStatus.DELAYED), at=doc.generated_at - timedelta(1)),
    )

    assert [s.verdict for s in (old_full, old_update, before_reset)] == [Verdict.STALE] * 3
    assert before_reset.state.stale == 3
    assert before_reset.state.units[FINAL].status is UnitStatus.RUNNING


def test_days_are_games_local_days() -> None:
    late = ScheduleEntry(
        unit=FINAL,
        status=UnitStatus.SCHEDULED,
        start=datetime(2024, 7, 31, 22, 30, tzinfo=UTC),
        venue="LDA",
    )

    step = apply_schedule(None, update(1, late))

    assert day_of(datetime(2024, 7, 31, 22, 30, tzinfo=UTC)) == date(2024, 8, 1)
    assert [e.key for e in step.emits if e.stream == SCHEDULE] == ["2024-08-01/LDA"]


def test_a_finished_unit_running_again_is_applied_and_reported() -> None:
    doc = full_schedule()
    state = apply_schedule(None, doc).state
    state = apply_schedule(state, update(1, entry(doc, FINAL, status=UnitStatus.FINISHED))).state

    step = apply_schedule(state, update(2, entry(doc, FINAL, status=UnitStatus.RUNNING)))

    assert step.state.units[FINAL].status is UnitStatus.RUNNING
    assert step.irregular == (f"{FINAL}: illegal unit status move finished -> running",)


def test_test_feed_schedules_stay_off_public_streams() -> None:
    doc = msgspec.structs.replace(full_schedule(), feed=Feed.TEST)

    step = apply_schedule(ScheduleState(), doc)

    assert {e.stream for e in step.emits} == {TEST}
    assert len(step.emits) == 5
