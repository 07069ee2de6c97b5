"""ODF result system codes: built to 34 characters and parsed back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.scenario.codes import RSC_LENGTH, Rsc, parse_rsc, rsc
from flambeau.scenario.errors import UnknownCodeError

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _LETTERS + "0123456789"


def test_a_unit_code_has_the_odf_shape() -> None:
    code = rsc("ATH", "M", "100M", "FNL", "000100")
    assert code == "ATHM100M--------------FNL-000100--"
    assert len(code) == RSC_LENGTH


@given(
    discipline=st.text(_LETTERS, min_size=2, max_size=2).flatmap(
        lambda two: st.sampled_from(_ALNUM).map(lambda last: two + last)
    ),
    gender=st.sampled_from("MWXO"),
    event=st.text(_ALNUM, max_size=18),
    phase=st.text(_ALNUM, max_size=4),
    unit=st.text(_ALNUM, max_size=8),
)
def test_parse_undoes_build(
    discipline: str, gender: str, event: str, phase: str, unit: str
) -> None:
    code = rsc(discipline, gender, event, phase, unit)
    assert len(code) == RSC_LENGTH
    assert parse_rsc(code) == Rsc(discipline, gender, event, phase, unit)
    assert str(parse_rsc(code)) == code


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("ATHX", "M", "100M"), "discipline"),
        (("ATH", "M", "A" * 19), "event"),
        (("ATH", "M", "100m"), "event"),
        (("ATH", "Q", "100M"), "gender"),
        (("AT", "M", "100M"), "two letters then a letter or digit"),
        (("A1H", "M", "100M"), "two letters then a letter or digit"),
    ],
)
def test_bad_parts_are_refused_by_name(parts: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rsc(*parts)


@pytest.mark.parametrize("code", ["", "ATHM100M", "athm100m--------------fnl-000100--", "x" * 34])
def test_a_malformed_code_does_not_parse(code: str) -> None:
    with pytest.raises(UnknownCodeError, match="RSC"):
        parse_rsc(code)
