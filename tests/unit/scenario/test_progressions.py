"""Result progressions: ODF life cycle, ranking by time, monotonic scores, incidents."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flambeau.scenario.errors import IllegalStatusTransitionError
from flambeau.scenario.generators.progressions import (
    Progression,
    can_go_to_extra_time,
    day_progressions,
    progression,
)
from flambeau.scenario.generators.results import (
    Action,
    Irm,
    Line,
    Medal,
    Outcome,
    format_time,
    transition,
)
from flambeau.scenario.schedule import MedalKind, Schedule, Unit, build_schedule
from flambeau.scenario.sports import Scoring, Shape, discipline
from flambeau.services.results.schemas import ResultStatus

SEEDS = st.integers(min_value=0, max_value=2**32)


@pytest.fixture(scope="module")
def day() -> Schedule:
    return build_schedule()


@pytest.fixture(scope="module")
def played(day: Schedule) -> dict[str, Progression]:
    return day_progressions(day, seed=11)


def _first(day: Schedule, **match: object) -> Unit:
    return next(u for u in day.units if all(getattr(u, k) == v for k, v in match.items()))


def _check_life_cycle(p: Progression) -> None:
    updates = p.updates
    assert updates[0].status is ResultStatus.START_LIST
    assert [u.version for u in updates] == list(range(1, len(updates) + 1))
    assert all(a.time <= b.time for a, b in itertools.pairwise(updates))
    assert updates[-1].status is ResultStatus.OFFICIAL
    assert updates[-1] is p.official
    status = None
    for update in updates:
        status = transition(status, update.status)  # raises on an illegal move
        assert update.unit == p.unit.code
        assert update.time.utcoffset() == timedelta(0)


def test_every_unit_of_the_day_follows_the_odf_life_cycle(played: dict[str, Progression]) -> None:
    assert played
    for p in played.values():
        _check_life_cycle(p)
        assert p.started_at < p.finished_at <= p.official.time


def test_same_seed_same_updates_other_seed_other_updates(day: Schedule) -> None:
    unit = _first(day, discipline="FBL")
    assert progression(unit, 5) == progression(unit, 5)
    assert progression(unit, 5).updates != progression(unit, 6).updates


def test_race_results_are_ranked_by_time(played: dict[str, Progression]) -> None:
    races = [p for p in played.values() if p.unit.shape is Shape.RACE]
    assert races
    for p in races:
        finish = next(u for u in p.updates if u.status is ResultStatus.UNOFFICIAL)
        timed = [line for line in finish.lines if line.irm is None]
        assert [line.rank for line in timed] == sorted(line.rank or 0 for line in timed)
        assert all(a.value <= b.value for a, b in itertools.pairwise(timed))  # type: ignore[operator]
        for a, b in itertools.pairwise(timed):
            assert (a.rank == b.rank) == (a.value == b.value)
        assert all(line.result == format_time(line.value) for line in timed)  # type: ignore[arg-type]
        assert all(line.rank is None for line in finish.lines if line.irm is Irm.DNF)


def test_race_splits_come_in_course_order(day: Schedule) -> None:
    unit = next(
        u
        for u in day.units
        if u.shape is Shape.RACE and len(discipline(u.discipline).event(u.event).splits) >= 2
    )
    p = progression(unit, 2)
    splits = [u for u in p.updates if u.action is Action.SPLIT]
    assert [u.period for u in splits] == list(discipline(unit.discipline).event(unit.event).splits)
    assert all(u.status is ResultStatus.INTERMEDIATE for u in splits)
    final = p.official
    for line in final.lines:
        assert list(line.periods) == sorted(line.periods)
        if line.value is not None:  # DNF lines have no final time
            assert all(split < line.value for split in line.periods)


def test_a_final_awards_gold_silver_bronze_by_rank(played: dict[str, Progression]) -> None:
    finals = [p for p in played.values() if p.unit.medal is MedalKind.ALL]
    assert finals
    by_rank = {1: Medal.GOLD, 2: Medal.SILVER, 3: Medal.BRONZE}
    for p in finals:
        assert p.medallists()[Medal.GOLD]
        for line in p.official.lines:
            assert line.medal is (by_rank.get(line.rank) if line.rank else None)
        # Medals appear only once the result is official.
        assert all(not u.medallists() for u in p.updates[:-1])


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, index=st.integers(min_value=0, max_value=10_000))
def test_match_scores_never_go_down(day: Schedule, seed: int, index: int) -> None:
    matches = [u for u in day.units if u.shape is Shape.HEAD_TO_HEAD]
    unit = matches[index % len(matches)]
    p = progression(unit, seed)
    _check_life_cycle(p)
    for a, b in itertools.pairwise(p.updates):
        for side in range(2):
            before = next(l for l in a.lines if l.order == side + 1)  # noqa: E741
            after = next(l for l in b.lines if l.order == side + 1)  # noqa: E741
            assert (after.value or 0) >= (before.value or 0)
            assert len(after.periods) >= len(before.periods)
            assert all(
                y >= x
                for x, y in zip(before.periods, after.periods[: len(before.periods)], strict=True)
            )
    outcomes = {line.outcome for line in p.official.lines}
    if unit.draw_allowed:
        assert outcomes in ({Outcome.WIN, Outcome.LOSS}, {Outcome.TIE})
    else:
        assert outcomes == {Outcome.WIN, Outcome.LOSS}
        winner = next(l for l in p.official.lines if l.outcome is Outcome.WIN)  # noqa: E741
        assert winner.rank == 1


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, index=st.integers(min_value=0, max_value=10_000))
def test_races_and_judged_units_rank_what_they_measure(
    day: Schedule, seed: int, index: int
) -> None:
    others = [u for u in day.units if u.shape is not Shape.HEAD_TO_HEAD]
    unit = others[index % len(others)]
    p = progression(unit, seed)
    _check_life_cycle(p)
    lower_first = (
        unit.shape is Shape.RACE or discipline(unit.discipline).event(unit.event).lower_is_better
    )
    for update in p.updates:
        ranked = [line for line in update.lines if line.rank is not None]
        values = [line.value or 0 for line in ranked]
        assert values == sorted(values, reverse=not lower_first)
        assert [line.rank for line in ranked] == sorted(line.rank or 0 for line in ranked)
        assert all(line.rank is None for line in update.lines[len(ranked) :])
    assert {line.competitor for line in p.official.lines} == set(p.competitors)


def test_a_score_update_names_the_scorer_and_the_points(day: Schedule) -> None:
    unit = _first(day, discipline="BKB")
    p = progression(unit, 1)
    scores = [u for u in p.updates if u.action is Action.SCORE]
    assert scores
    codes = {c.code for c in p.competitors}
    assert all(u.scorer in codes and u.points in (1, 2, 3) for u in scores)
    final = {line.competitor.code: line.value for line in p.official.lines}
    for code in codes:
        assert final[code] == sum(u.points for u in scores if u.scorer == code)


def test_a_set_match_is_won_by_taking_enough_sets(day: Schedule) -> None:
    unit = _first(day, discipline="TEN")
    rules = discipline("TEN").rules
    assert rules is not None
    for seed in range(5):
        p = progression(unit, seed)
        winner = next(l for l in p.official.lines if l.outcome is Outcome.WIN)  # noqa: E741
        loser = next(l for l in p.official.lines if l.outcome is Outcome.LOSS)  # noqa: E741
        assert winner.value == rules.sets_to_win
        assert (loser.value or 0) < rules.sets_to_win
        for games_w, games_l in zip(winner.periods, loser.periods, strict=True):
            assert max(games_w, games_l) in (6, 7)


def test_judged_results_are_ranked_by_total(played: dict[str, Progression]) -> None:
    judged = [p for p in played.values() if p.unit.shape is Shape.JUDGED]
    assert judged
    for p in judged:
        spec = discipline(p.unit.discipline).event(p.unit.event)
        lines = p.official.lines
        assert all(line.value == sum(line.periods) for line in lines)
        values = [line.value or 0 for line in lines]
        assert values == sorted(values, reverse=not spec.lower_is_better)
        routines = [u for u in p.updates if u.action is Action.ROUTINE]
        assert len(routines) == spec.routines * p.unit.competitors


def test_extra_time_shifts_the_end_of_a_match(day: Schedule) -> None:
    unit = _first(day, discipline="FBL")
    assert can_go_to_extra_time(unit)
    for seed in range(3):
        normal = progression(unit, seed)
        extra = progression(unit, seed, extra_time=True)
        periods = extra.official.period_codes
        assert "ET1" in periods
        assert "ET1" not in normal.official.period_codes or normal.official.period_codes == periods
        assert extra.finished_at >= unit.start + timedelta(minutes=5 + 90 + 15 + 30)
        assert extra.finished_at > unit.end
        assert extra.finished_at > normal.finished_at or "ET1" in normal.official.period_codes


def test_extra_time_is_ignored_where_a_draw_stands(day: Schedule) -> None:
    unit = next(u for u in day.units if u.draw_allowed)
    assert not can_go_to_extra_time(unit)
    assert progression(unit, 4, extra_time=True) == progression(unit, 4)


def test_a_protest_moves_the_gold_with_a_higher_version(day: Schedule) -> None:
    unit = _first(day, code="ATHM100M--------------FNL-000100--")
    before = progression(unit, 9)
    after = progression(unit, 9, protest_at=unit.end)
    assert after.updates[: len(before.updates)] == before.updates
    protested, corrected = after.updates[-2:]
    assert protested.status is ResultStatus.PROTESTED
    assert corrected.status is ResultStatus.OFFICIAL
    assert corrected.action is Action.CORRECTION
    assert corrected.version > protested.version > before.official.version
    old_gold = before.medallists()[Medal.GOLD][0]
    stripped = next(l for l in corrected.lines if l.competitor.code == old_gold)  # noqa: E741
    assert stripped.irm is Irm.DSQ
    assert stripped.medal is None
    assert stripped.rank is None
    # Everyone else moves up: the best remaining time takes gold.
    rest = sorted((l for l in before.official.lines if l.competitor.code != old_gold), key=_time)  # noqa: E741
    best = {l.competitor.code for l in rest if l.value == rest[0].value}  # noqa: E741
    assert set(after.medallists()[Medal.GOLD]) == best
    assert old_gold not in {c for codes in after.medallists().values() for c in codes}


def _time(line: Line) -> float:
    return float("inf") if line.value is None else float(line.value)


def test_a_protest_in_a_gold_medal_match_hands_gold_to_the_loser(day: Schedule) -> None:
    unit = next(u for u in day.units if u.medal is MedalKind.GOLD)
    before = progression(unit, 3)
    after = progression(unit, 3, protest_at=unit.start)  # filed early: waits for the official
    assert after.updates[-2].time > before.official.time
    assert after.medallists()[Medal.GOLD] == before.medallists()[Medal.SILVER]


def test_illegal_status_moves_are_refused() -> None:
    with pytest.raises(IllegalStatusTransitionError, match="official to live"):
        transition(ResultStatus.OFFICIAL, ResultStatus.LIVE)
    with pytest.raises(IllegalStatusTransitionError, match="nothing to official"):
        transition(None, ResultStatus.OFFICIAL)


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(9_810, "9.81"), (103_270, "1:43.27"), (7_663_000, "2:07:43"), (59_999, "1:00.00")],
)
def test_times_display_like_odf(ms: int, shown: str) -> None:
    assert format_time(ms) == shown


def test_goal_sports_score_goals_not_baskets(played: dict[str, Progression]) -> None:
    football = [p for p in played.values() if p.unit.discipline == "FBL"]
    assert football
    for p in football:
        assert discipline("FBL").scoring is Scoring.GOALS
        assert all((line.value or 0) < 12 for line in p.official.lines)
