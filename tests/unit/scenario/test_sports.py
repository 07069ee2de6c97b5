"""The discipline data: shapes, periods, events and session blocks that fit together."""

from __future__ import annotations

import pytest

from flambeau.scenario.errors import UnknownCodeError
from flambeau.scenario.sports import DISCIPLINES, Scoring, Shape, discipline
from flambeau.services.results.codes import rsc


def test_codes_are_unique_odf_discipline_codes() -> None:
    codes = [spec.code for spec in DISCIPLINES]
    assert len(codes) == len(set(codes))
    assert {"SWM", "ATH", "FBL", "BKB", "TEN", "JUD", "GAR", "DIV", "ROW"} <= set(codes)


@pytest.mark.parametrize("spec", DISCIPLINES, ids=lambda s: s.code)
def test_each_discipline_is_consistent(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.events
    assert 1 <= spec.sessions_per_day <= len(spec.sessions)
    assert all(start < end for start, end in spec.sessions)
    assert 1.0 <= spec.live_delay_s <= 15.0
    for event in spec.events:
        rsc(spec.code, "M", event.code)  # a valid RSC event part
        assert set(event.genders) <= set("MWX")
        slot_s = spec.slot_minutes(event) * 60
        if spec.shape is Shape.RACE:
            # The slowest gender's winning time fits its slot.
            slowest = event.base_ms * max(1.0, event.women_factor) / 1000
            assert 0 < slowest < slot_s
            assert event.competitors >= 2
        if spec.shape is Shape.HEAD_TO_HEAD:
            assert spec.rules is not None
        if spec.shape is Shape.JUDGED:
            assert event.routines >= 1
            assert event.score_base > 0
    if spec.shape is Shape.HEAD_TO_HEAD:
        assert spec.rules is not None
        if spec.scoring is Scoring.SETS:
            assert spec.rules.sets_to_win >= 2
            assert spec.rules.atom_seconds > 0
        else:
            assert spec.periods
            assert spec.rules.rate > 0
    else:
        assert spec.rules is None
        assert spec.periods == ()


def test_football_has_two_halves_and_extra_time() -> None:
    football = discipline("FBL")
    assert [(p.code, p.minutes) for p in football.periods] == [("H1", 45), ("H2", 45)]
    assert football.rules is not None
    assert [(p.code, p.minutes) for p in football.rules.extra] == [("ET1", 15), ("ET2", 15)]
    assert football.rules.shootout
    assert football.draws


def test_basketball_plays_four_quarters_and_never_draws() -> None:
    basketball = discipline("BKB")
    assert [p.code for p in basketball.periods] == ["Q1", "Q2", "Q3", "Q4"]
    assert not basketball.draws


def test_tennis_plays_sets_with_a_tiebreak() -> None:
    tennis = discipline("TEN")
    assert tennis.scoring is Scoring.SETS
    assert tennis.rules is not None
    assert tennis.rules.tiebreak_at == 6


def test_unknown_discipline_and_event_are_named() -> None:
    with pytest.raises(UnknownCodeError, match="'XXX'"):
        discipline("XXX")
    with pytest.raises(UnknownCodeError, match="SWM has no event 'NOPE'"):
        discipline("SWM").event("NOPE")
