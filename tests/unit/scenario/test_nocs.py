"""NOC strengths: fixed numbers that favour the strong nations, never random."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from flambeau.scenario.errors import UnknownCodeError
from flambeau.scenario.nocs import NOCS, SPECIALTIES, noc, pick_field, strength
from flambeau.scenario.sports import DISCIPLINES, discipline


def test_codes_are_unique_ioc_codes() -> None:
    codes = [entry.code for entry in NOCS]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 3 and code.isupper() for code in codes)
    assert noc("FRA").name == "France"


def test_specialties_name_known_nocs_and_disciplines() -> None:
    known = {entry.code for entry in NOCS}
    for code, table in SPECIALTIES.items():
        discipline(code)
        assert set(table) <= known, f"{code}: {set(table) - known}"


def test_strengths_are_bounded_and_fixed() -> None:
    for spec in DISCIPLINES:
        for entry in NOCS:
            value = strength(entry.code, spec.code)
            assert 0.0 <= value <= 100.0
            assert value == strength(entry.code, spec.code)


def test_specialists_outrank_generalists() -> None:
    assert strength("USA", "BKB") > strength("FRA", "BKB") > strength("JPN", "BKB")
    assert strength("CHN", "DIV") > strength("FRA", "DIV")
    # Without a listed specialty a nation stays under the listed elite of the discipline.
    assert strength("EOR", "SWM") < min(SPECIALTIES["SWM"].values())


def test_a_field_is_distinct_and_favours_strong_nations() -> None:
    rng = random.Random(7)
    seen: Counter[str] = Counter()
    for _ in range(300):
        field = pick_field("BKB", 8, rng)
        assert len(field) == len(set(field)) == 8
        seen.update(field)
    assert seen["USA"] > seen["CYP"]
    assert seen["USA"] > 150


def test_a_field_cannot_exceed_the_nocs() -> None:
    with pytest.raises(ValueError, match="cannot pick"):
        pick_field("ATH", len(NOCS) + 1, random.Random(0))


def test_an_unknown_noc_is_named() -> None:
    with pytest.raises(UnknownCodeError, match="'ZZZ'"):
        strength("ZZZ", "ATH")
