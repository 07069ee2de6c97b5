"""The day's schedule: deterministic, no clashes, inside opening hours, at the right venues."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.scenario.errors import UnknownCodeError
from flambeau.scenario.schedule import DEFAULT_DAY, MedalKind, Schedule, build_schedule
from flambeau.scenario.sports import Shape, discipline
from flambeau.scenario.venues import venue
from flambeau.services.results.codes import Level, parse_rsc

_DAYS = st.dates(min_value=date(2024, 7, 24), max_value=date(2024, 8, 11))


@pytest.fixture(scope="module")
def busy() -> Schedule:
    return build_schedule()


def test_the_default_day_is_the_busy_fourth_of_august(busy: Schedule) -> None:
    assert busy.day == DEFAULT_DAY == date(2024, 8, 4)
    assert len(busy.venues) >= 20
    assert len(busy.units) >= 150
    assert {u.discipline for u in busy.units} >= {"ATH", "SWM", "TEN", "FBL", "BKB", "GAR"}


def test_same_seed_same_schedule_other_seed_other_schedule() -> None:
    assert build_schedule(seed=3) == build_schedule(seed=3)
    assert build_schedule(seed=3).units != build_schedule(seed=4).units


def _check_invariants(schedule: Schedule) -> None:
    codes = [u.code for u in schedule.units]
    assert len(codes) == len(set(codes))
    by_field = defaultdict(list)
    for unit in schedule.units:
        assert unit.start.utcoffset() == timedelta(0)
        parsed = [part.rstrip("-") for part in parse_rsc(unit.code, at_least=Level.UNIT)]
        assert tuple(parsed[:4]) == (
            unit.discipline, unit.gender, unit.event, unit.phase,
        )  # fmt: skip
        place = venue(unit.venue)
        assert place.hosts(unit.discipline, schedule.day)
        fop = next(f for f in place.fields if f.code == unit.field)
        assert unit.discipline in fop.disciplines
        opens, closes = place.opening_hours(schedule.day)
        assert opens <= unit.start
        assert unit.end <= closes
        by_field[(unit.venue, unit.field)].append(unit)
    for units in by_field.values():
        units.sort(key=lambda u: u.start)
        for before, after in itertools.pairwise(units):
            assert before.end <= after.start, f"{before.code} overlaps {after.code}"
    for session in schedule.sessions:
        assert session.units
        for code in session.units:
            unit = schedule.unit(code)
            assert (unit.venue, unit.field, unit.session) == (
                session.venue,
                session.field,
                session.code,
            )
            assert session.start <= unit.start
            assert unit.end <= session.end


def test_the_busy_day_is_sound(busy: Schedule) -> None:
    _check_invariants(busy)


@settings(max_examples=25, deadline=None)
@given(day=_DAYS, seed=st.integers(min_value=0, max_value=2**32))
def test_every_games_day_is_sound(day: date, seed: int) -> None:
    _check_invariants(build_schedule(day, seed))


def test_medal_units_close_the_day(busy: Schedule) -> None:
    finals = [u for u in busy.units if u.code == "ATHM100M--------------FNL-000100--"]
    assert finals
    assert finals[0].medal is MedalKind.ALL
    heats = [u for u in busy.units if u.discipline == "ATH" and u.phase == "HEAT"]
    assert max(h.start for h in heats) < finals[0].start
    # Tennis ends on the 4th: every event has its bronze and gold match, bronze first.
    tennis = [u for u in busy.units if u.discipline == "TEN"]
    golds = {(u.event, u.gender): u for u in tennis if u.medal is MedalKind.GOLD}
    bronzes = {(u.event, u.gender): u for u in tennis if u.medal is MedalKind.BRONZE}
    assert golds
    assert golds.keys() == bronzes.keys()
    assert all(bronzes[key].start < golds[key].start for key in golds)


def test_knockout_matches_cannot_end_level(busy: Schedule) -> None:
    football = [u for u in busy.units if u.discipline == "FBL"]
    assert football
    assert all(u.phase == "QFNL" and not u.draw_allowed for u in football)
    groups = [u for u in busy.units if u.phase.startswith("GP") and discipline(u.discipline).draws]
    assert groups
    assert all(u.draw_allowed for u in groups)


def test_units_have_the_shape_of_their_discipline(busy: Schedule) -> None:
    for unit in busy.units:
        shape = discipline(unit.discipline).shape
        assert unit.shape is shape
        if shape is Shape.HEAD_TO_HEAD:
            assert unit.competitors == 2


def test_a_quiet_day_has_no_units() -> None:
    assert build_schedule(date(2024, 9, 1)).units == ()


def test_an_unknown_unit_is_named(busy: Schedule) -> None:
    with pytest.raises(UnknownCodeError, match="no unit 'NOPE'"):
        busy.unit("NOPE")
