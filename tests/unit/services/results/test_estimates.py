"""The estimated end of a unit: late start, delay, interruption, extra time, shoot-out, sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from flambeau.services.results.estimates import UnitClock, clock_state_key, observe_unit
from flambeau.services.results.outcomes import Verdict
from flambeau.services.results.periods import PERIOD_TABLE, lengths_of, period_kind
from flambeau.services.results.schemas import (
    UNITS,
    EndAdjustment,
    Period,
    PeriodKind,
    ResultStatus,
    Shape,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
    UnitStatus,
)

START = datetime(2024, 8, 9, 17, 0, tzinfo=UTC)
END = START + timedelta(minutes=115)
UNITS_BY_SPORT = {
    "FBL": "FBLMTEAM11------------FNL-000100--",
    "BKB": "BKBMTEAM5-------------FNL-000100--",
    "HBL": "HBLWTEAM7-------------SFNL000100--",
    "HOC": "HOCMTEAM11------------FNL-000100--",
    "RU7": "RU7MTEAM7-------------FNL-000100--",
    "WPO": "WPOMTEAM7-------------FNL-000100--",
    "TEN": "TENMSINGLES-----------FNL-000100--",
    "VVO": "VVOWTEAM6-------------FNL-000100--",
    "SWM": "SWMW100MFR------------FNL-000100--",
}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class Unit:
    """One unit's documents through the reducer, its state round-tripped through MessagePack."""

    def __init__(self, discipline: str = "FBL", *, end: datetime | None = END) -> None:
        self.code = UNITS_BY_SPORT[discipline]
        self.discipline = discipline
        self.end = end
        self.state: bytes | None = None
        self.version = 0
        self.emitted: list[UnitEndEstimated] = []

    def _apply(self, event: UnitResult | UnitScheduleChanged, at: datetime) -> Verdict:
        state = None if self.state is None else msgspec.msgpack.decode(self.state, type=UnitClock)
        step = observe_unit(state, event, at)
        self.state = msgspec.msgpack.encode(step.state)
        for emit in step.emits:
            assert (emit.stream, emit.key) == (UNITS, self.code)
            assert isinstance(emit.event, UnitEndEstimated)
            self.emitted.append(emit.event)
        return step.verdict

    def schedule(self, status: UnitStatus, at: datetime, **fields: Any) -> Verdict:
        self.version += 1
        times = {"start": START, "end": self.end} | fields
        change = UnitScheduleChanged(
            competition="OG2024", unit=self.code, discipline=self.discipline, status=status,
            version=self.version, **times,
        )  # fmt: skip
        return self._apply(change, at)

    def result(self, at: datetime, *periods: Period, **fields: Any) -> Verdict:
        self.version += 1
        given = {
            "status": ResultStatus.LIVE, "shape": Shape.HEAD_TO_HEAD, "start": START,
            "end": self.end, "periods": periods,
        } | fields  # fmt: skip
        snapshot = UnitResult(
            competition="OG2024", unit=self.code, discipline=self.discipline,
            version=self.version, **given,
        )  # fmt: skip
        return self._apply(snapshot, at)

    @property
    def estimate(self) -> UnitEndEstimated:
        return self.emitted[-1]


def sets(*scores: tuple[int, int]) -> tuple[Period, ...]:
    return tuple(
        Period(code=f"S{n}", home_period_score=home, away_period_score=away)
        for n, (home, away) in enumerate(scores, start=1)
    )


def test_a_unit_on_time_ends_at_its_schedule() -> None:
    unit = Unit()
    assert unit.schedule(UnitStatus.SCHEDULED, START - timedelta(days=1)) is Verdict.APPLIED
    assert unit.estimate.estimated_end == END
    assert unit.estimate.adjustments == ()
    assert unit.estimate.scheduled_end == END
    assert unit.schedule(UnitStatus.RUNNING, START) is Verdict.UNCHANGED  # started on time
    assert unit.estimate.started_at is None  # nothing emitted: the estimate did not move


def test_a_late_start_moves_the_end_by_as_much() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.SCHEDULED, START - minutes(60))
    unit.schedule(UnitStatus.RUNNING, START + minutes(12))
    assert unit.estimate.estimated_end == END + minutes(12)
    assert unit.estimate.started_at == START + minutes(12)
    assert unit.estimate.adjustments == (EndAdjustment.LATE_START,)


def test_a_delayed_unit_cannot_end_before_its_slot_counted_from_the_latest_document() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.SCHEDULED, START - minutes(60))
    unit.schedule(UnitStatus.DELAYED, START + minutes(5))
    assert unit.estimate.estimated_end == END + minutes(5)
    assert unit.estimate.adjustments == (EndAdjustment.DELAYED,)
    unit.result(START + minutes(25), status=ResultStatus.START_LIST)  # still not begun
    assert unit.estimate.estimated_end == END + minutes(25)
    unit.schedule(UnitStatus.RUNNING, START + minutes(30))
    assert unit.estimate.estimated_end == END + minutes(30)
    assert unit.estimate.adjustments == (EndAdjustment.LATE_START,)


def test_a_start_time_passing_without_play_is_a_delay_even_unannounced() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.GETTING_READY, START + minutes(8))
    assert unit.estimate.estimated_end == END + minutes(8)
    assert unit.estimate.adjustments == (EndAdjustment.DELAYED,)


def test_an_interruption_adds_its_length_while_it_lasts_and_after() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.RUNNING, START)
    unit.schedule(UnitStatus.INTERRUPTED, START + minutes(30))
    unit.result(START + minutes(40), Period(code="H1"))  # still interrupted, 10 min so far
    assert unit.estimate.estimated_end == END + minutes(10)
    assert unit.estimate.adjustments == (EndAdjustment.INTERRUPTED,)
    unit.schedule(UnitStatus.RUNNING, START + minutes(52))
    assert unit.estimate.estimated_end == END + minutes(22)
    unit.schedule(UnitStatus.INTERRUPTED, START + minutes(70))
    unit.schedule(UnitStatus.RUNNING, START + minutes(73))
    assert unit.estimate.estimated_end == END + minutes(25)


def test_extra_time_in_football_adds_the_break_and_both_periods_then_penalties() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.RUNNING, START)
    assert unit.result(START + minutes(50), Period(code="H1"), current_period="H2") is (
        Verdict.UNCHANGED
    )  # regular periods move nothing
    assert unit.estimate.estimated_end == END
    unit.result(START + minutes(112), Period(code="H1"), Period(code="H2"), current_period="ET1")
    assert unit.estimate.estimated_end == END + minutes(5 + 16 + 16)
    assert unit.estimate.adjustments == (EndAdjustment.EXTRA_TIME,)
    at = START + minutes(150)
    kinds = [Period(code=c) for c in ("H1", "H2", "ET1", "ET2")]
    assert unit.result(at, *kinds, current_period="ET2") is Verdict.UNCHANGED  # already counted
    unit.result(at, *kinds, Period(code="PSO", kind=PeriodKind.SHOOTOUT))
    assert unit.estimate.estimated_end == END + minutes(37 + 12)
    assert unit.estimate.adjustments == (EndAdjustment.EXTRA_TIME, EndAdjustment.SHOOTOUT)


@pytest.mark.parametrize(
    ("discipline", "periods", "added", "adjustments"),
    [
        ("BKB", ("Q1", "Q2", "Q3", "Q4", "OT1"), 14, (EndAdjustment.EXTRA_TIME,)),
        ("BKB", ("Q1", "Q2", "Q3", "Q4", "OT1", "OT2"), 28, (EndAdjustment.EXTRA_TIME,)),
        ("HBL", ("H1", "H2", "ET1"), 17, (EndAdjustment.EXTRA_TIME,)),
        ("HBL", ("H1", "H2", "ET1", "ET2", "ET3"), 34, (EndAdjustment.EXTRA_TIME,)),
        (
            "HBL",
            ("H1", "H2", "ET1", "ET2", "ET3", "ET4", "PSO"),
            42,
            (EndAdjustment.EXTRA_TIME, EndAdjustment.SHOOTOUT),
        ),
        ("RU7", ("H1", "H2", "ET1"), 7, (EndAdjustment.EXTRA_TIME,)),
        ("RU7", ("H1", "H2", "ET1", "ET2"), 14, (EndAdjustment.EXTRA_TIME,)),
        ("HOC", ("Q1", "Q2", "Q3", "Q4", "SO"), 10, (EndAdjustment.SHOOTOUT,)),
        ("WPO", ("Q1", "Q2", "Q3", "Q4", "PSO"), 8, (EndAdjustment.SHOOTOUT,)),
        ("VVO", ("S1", "S2", "S3", "S4"), 28, (EndAdjustment.ADDED_PERIOD,)),
        ("VVO", ("S1", "S2", "S3", "S4", "S5"), 46, (EndAdjustment.ADDED_PERIOD,)),
        ("TEN", ("S1", "S2", "S3"), 42, (EndAdjustment.ADDED_PERIOD,)),
    ],
)
def test_periods_beyond_regulation_add_their_length_from_the_table(
    discipline: str, periods: tuple[str, ...], added: int, adjustments: tuple[EndAdjustment, ...]
) -> None:
    unit = Unit(discipline)
    unit.schedule(UnitStatus.RUNNING, START)
    unit.result(START + minutes(90), *(Period(code=c, kind=period_kind(c)) for c in periods))
    assert unit.estimate.estimated_end == END + minutes(added)
    assert unit.estimate.adjustments == adjustments


def test_a_tennis_tie_break_adds_its_length_once_per_set() -> None:
    unit = Unit("TEN")
    unit.schedule(UnitStatus.RUNNING, START)
    assert unit.result(START + minutes(30), *sets((5, 5))) is Verdict.UNCHANGED
    unit.result(START + minutes(45), *sets((6, 6)))
    assert unit.estimate.estimated_end == END + minutes(10)
    assert unit.estimate.adjustments == (EndAdjustment.TIE_BREAK,)
    assert unit.result(START + minutes(55), *sets((7, 6), (0, 0))) is Verdict.UNCHANGED
    unit.result(START + minutes(100), *sets((7, 6), (6, 7), (1, 0)))
    assert unit.estimate.estimated_end == END + minutes(10 + 10 + 42)
    assert unit.estimate.adjustments == (EndAdjustment.ADDED_PERIOD, EndAdjustment.TIE_BREAK)


def test_a_timed_race_ends_at_its_schedule_moved_only_by_its_start() -> None:
    race = Unit("SWM", end=START + minutes(10))
    race.result(START - minutes(30), status=ResultStatus.START_LIST, shape=Shape.TIMED)
    assert race.estimate.estimated_end == START + minutes(10)
    race.schedule(UnitStatus.RUNNING, START + minutes(3))
    assert race.estimate.estimated_end == START + minutes(13)
    assert race.estimate.adjustments == (EndAdjustment.LATE_START,)
    assert race.result(START + minutes(5), Period(code="ET1"), shape=Shape.TIMED) is (
        Verdict.UNCHANGED
    )  # a race has no row in the table: no period moves it


def test_a_race_without_a_scheduled_end_has_no_estimate() -> None:
    race = Unit("SWM", end=None)
    assert race.schedule(UnitStatus.RUNNING, START) is Verdict.UNCHANGED
    assert race.emitted == []


def test_without_a_scheduled_end_a_match_lasts_its_regulation() -> None:
    unit = Unit("FBL", end=None)
    unit.schedule(UnitStatus.SCHEDULED, START - minutes(60))
    assert unit.estimate.estimated_end == START + minutes(48 + 15 + 48)
    row = lengths_of("FBL")
    assert row is not None
    assert row.regulation == minutes(111)


def test_a_finished_unit_ends_when_it_finished_and_a_cancelled_one_never() -> None:
    unit = Unit()
    unit.schedule(UnitStatus.RUNNING, START)
    unit.schedule(UnitStatus.FINISHED, START + minutes(108))
    assert unit.estimate.estimated_end == START + minutes(108)
    assert unit.estimate.adjustments == (EndAdjustment.FINISHED,)
    cancelled = Unit()
    assert cancelled.schedule(UnitStatus.CANCELLED, START - minutes(60)) is Verdict.UNCHANGED
    assert cancelled.emitted == []
    dropped = Unit()
    assert dropped.schedule(UnitStatus.UNSCHEDULED, START - minutes(60)) is Verdict.UNCHANGED
    postponed = Unit()
    postponed.schedule(UnitStatus.POSTPONED, START - minutes(60))
    assert postponed.emitted == []
    later = START + minutes(60)
    postponed.schedule(UnitStatus.RESCHEDULED, START - minutes(30), start=later, end=None)
    assert postponed.estimate.estimated_end == END + minutes(60)  # the slot keeps its length


def test_an_odf_result_without_unit_status_starts_and_ends_the_clock() -> None:
    unit = Unit()
    unit.result(START + minutes(4), Period(code="H1"), current_period="H1")
    assert unit.estimate.estimated_end == END + minutes(4)
    assert unit.estimate.adjustments == (EndAdjustment.LATE_START,)
    unit.result(START + minutes(118), status=ResultStatus.UNOFFICIAL)
    assert unit.estimate.estimated_end == START + minutes(118)
    assert unit.estimate.adjustments == (EndAdjustment.FINISHED,)


def test_the_state_key_is_per_unit_and_feed() -> None:
    change = UnitScheduleChanged(
        competition="OG2024", unit=UNITS_BY_SPORT["FBL"], discipline="FBL",
        status=UnitStatus.SCHEDULED,
    )  # fmt: skip
    assert clock_state_key(change) == f"clock/OG2024/production/{UNITS_BY_SPORT['FBL']}"


def test_every_row_of_the_table_is_consistent() -> None:
    codes = [code for row in PERIOD_TABLE for code in row.disciplines]
    assert len(codes) == len(set(codes))
    assert {row.sport for row in PERIOD_TABLE} == {
        "football", "basketball", "handball", "hockey", "rugby_sevens", "water_polo", "tennis",
        "volleyball", "beach_volleyball",
    }  # fmt: skip
    for row in PERIOD_TABLE:
        assert row.regular >= 1
        assert row.period > timedelta(0)
        assert row.sets == (row.max_sets > 0)
        assert row.regulation >= row.regular * row.period


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("H1", PeriodKind.REGULAR),
        ("S3", PeriodKind.REGULAR),
        ("ET2", PeriodKind.EXTRA_TIME),
        ("OT1", PeriodKind.EXTRA_TIME),
        ("PSO", PeriodKind.SHOOTOUT),
        ("SO", PeriodKind.SHOOTOUT),
        ("TOT", PeriodKind.TOTAL),
    ],
)
def test_period_codes_name_their_kind(code: str, kind: PeriodKind) -> None:
    assert period_kind(code) is kind
