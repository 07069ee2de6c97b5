"""RSC parsing, competition shapes and ODF result times."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.services.results.codes import (
    Level,
    Shape,
    format_time_ms,
    parse_rsc,
    parse_time_ms,
    rsc,
    rsc_pattern,
    shape_of_discipline,
)
from flambeau.services.results.errors import InvalidRscError


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("SWM-------------------------------", Level.DISCIPLINE),
        ("SWMW100MFR------------------------", Level.EVENT),
        ("SWMW100MFR------------FNL---------", Level.PHASE),
        ("SWMW100MFR------------FNL-000100--", Level.UNIT),
        ("JUDXTEAM6-------------QFNL00010002", Level.UNIT),
        ("JUDM-60KG-------------------------", Level.EVENT),
        ("CKTMT20---------------VICTMEDAL---", Level.UNIT),
    ],
)
def test_levels(code: str, level: Level) -> None:
    rsc = parse_rsc(code)

    assert rsc.level is level
    assert rsc.code == code


def test_parts_and_event_code() -> None:
    rsc = parse_rsc("SWMW100MFR------------FNL-000100--")

    assert (rsc.discipline, rsc.gender, rsc.phase, rsc.unit) == ("SWM", "W", "FNL-", "000100--")
    assert rsc.event_code == "SWMW100MFR------------------------"


def test_a_coarser_code_than_required_is_refused() -> None:
    with pytest.raises(InvalidRscError, match="unit level"):
        parse_rsc("SWMW100MFR------------------------", at_least=Level.UNIT)


def test_errors_say_where_the_code_came_from() -> None:
    with pytest.raises(InvalidRscError) as caught:
        parse_rsc("SWM", element="OdfBody/Competition/Unit[2]", attribute="Code")

    assert (caught.value.element, caught.value.attribute, caught.value.value) == (
        "OdfBody/Competition/Unit[2]",
        "Code",
        "SWM",
    )


def test_shapes_of_disciplines() -> None:
    assert shape_of_discipline("SWM") is Shape.TIMED
    assert shape_of_discipline("FBL") is Shape.HEAD_TO_HEAD
    assert shape_of_discipline("JUD") is Shape.HEAD_TO_HEAD
    assert shape_of_discipline("GAR") is Shape.JUDGED
    assert shape_of_discipline("XYZ") is None


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("9.82", 9820),
        ("52.16", 52160),
        ("1:45.30", 105300),
        ("2:05:31.4", 7531400),
        ("10.0245", None),
        ("+0.45", 450),
        ("DNF", None),
        ("", None),
        ("1:75.00", None),
        ("1:60:00.00", None),
        ("75.00", 75000),
    ],
)
def test_parse_time(text: str, ms: int | None) -> None:
    assert parse_time_ms(text) == ms


@given(st.integers(0, 100 * 3600 * 1000))
def test_format_then_parse_is_identity(ms: int) -> None:
    assert parse_time_ms(format_time_ms(ms)) == ms


def test_format_uses_hundredths_when_exact() -> None:
    assert [format_time_ms(ms) for ms in (52160, 52165, 105300, 3725040)] == [
        "52.16",
        "52.165",
        "1:45.30",
        "1:02:05.04",
    ]


# 34 characters from the RSC alphabet, with runs of dashes so every level and mistake shows up
_rsc_like = st.lists(
    st.sampled_from(["-", "-", "-", "A", "M", "W", "0", "1", ".", "S"]), min_size=34, max_size=34
).map("".join)


@given(code=_rsc_like, level=st.sampled_from(list(Level)))
def test_rsc_pattern_accepts_exactly_what_parse_rsc_accepts(code: str, level: Level) -> None:
    import re

    try:
        parse_rsc(code, at_least=level)
    except InvalidRscError:
        accepted = False
    else:
        accepted = True
    assert bool(re.match(rsc_pattern(level), code)) is accepted


@given(data=st.data(), level=st.sampled_from(list(Level)))
def test_codes_drawn_from_the_pattern_parse(data: st.DataObject, level: Level) -> None:
    code = data.draw(st.from_regex(rsc_pattern(level), fullmatch=True))
    assert parse_rsc(code, at_least=level).code == code


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _LETTERS + "0123456789"


def test_a_built_unit_code_has_the_odf_shape() -> None:
    code = rsc("ATH", "M", "100M", "FNL", "000100")
    assert code == "ATHM100M--------------FNL-000100--"
    assert parse_rsc(code).level is Level.UNIT


@given(
    discipline=st.text(_LETTERS, min_size=2, max_size=2).flatmap(
        lambda two: st.sampled_from(_ALNUM).map(lambda last: two + last)
    ),
    gender=st.sampled_from("MWXO"),
    event=st.text(_ALNUM, min_size=1, max_size=18),
    phase=st.text(_ALNUM, min_size=1, max_size=4),
    unit=st.text(_ALNUM, min_size=1, max_size=8),
)
def test_parse_undoes_build(
    discipline: str, gender: str, event: str, phase: str, unit: str
) -> None:
    code = rsc(discipline, gender, event, phase, unit)
    parsed = parse_rsc(code, at_least=Level.UNIT)
    assert [part.rstrip("-") for part in parsed] == [discipline, gender, event, phase, unit]
    assert parsed.code == code


@pytest.mark.parametrize(
    ("parts", "part"),
    [
        (("ATHX", "M", "100M"), "discipline"),
        (("ATH", "M", "A" * 19), "event"),
        (("ATH", "M", "100m"), None),  # lower case: the whole code's characters
        (("AT", "M", "100M"), "discipline"),
        (("A1H", "M", "100M"), "discipline"),
        (("ATH", "M", "", "FNL"), "phase"),  # a phase below a blank event
    ],
)
def test_a_bad_part_is_refused_by_name(parts: tuple[str, ...], part: str | None) -> None:
    with pytest.raises(InvalidRscError) as refused:
        rsc(*parts)
    assert refused.value.part == part
