"""The ODF parser: real-looking documents parse; unsafe and bad ones are refused by name."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flambeau.services.results.codes import Shape
from flambeau.services.results.errors import (
    DocumentTooLargeError,
    InvalidAttributeError,
    InvalidRscError,
    InvalidVersionError,
    MalformedXmlError,
    MissingAttributeError,
    MissingElementError,
    OdfError,
    UnknownDocumentTypeError,
    UnsafeXmlError,
)
from flambeau.services.results.odf import parse
from flambeau.services.results.schemas import (
    CompetitorKind,
    DocumentType,
    Feed,
    KeepAlive,
    MatchOutcome,
    MedalKind,
    Medallists,
    MedalStandings,
    PeriodKind,
    ScheduleDocument,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus

FIXTURES = Path(__file__).parents[3] / "fixtures" / "odf"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


VALID = fixture("swm_w100mfr_fnl_official.xml").decode()


def header(**overrides: str | None) -> str:
    """A keep-alive ``<OdfBody>`` with some attributes replaced (``None`` removes one)."""
    attributes: dict[str, str | None] = {
        "CompetitionCode": "OG2024",
        "DocumentCode": "SWM-------------------------------",
        "DocumentType": "DT_KA",
        "Version": "1",
        "FeedFlag": "P",
        "Date": "2024-07-31",
        "Time": "203000000",
        "Source": "SWMXSWIMOG2024",
    }
    attributes.update(overrides)
    body = " ".join(f'{k}="{v}"' for k, v in attributes.items() if v is not None)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<OdfBody {body}/>'


def result_doc(result_line: str, *, code: str = "SWMW100MFR------------FNL-000100--") -> str:
    return (
        f'<OdfBody CompetitionCode="OG2024" DocumentCode="{code}" DocumentType="DT_RESULT" '
        'Version="3" ResultStatus="LIVE" FeedFlag="P" Date="2024-07-31" Time="203000000" '
        f'Source="S"><Competition>{result_line}</Competition></OdfBody>'
    )


# --- real-looking documents -------------------------------------------------------------


def test_swimming_final_official_results_parse_into_a_timed_unit() -> None:
    parsed = parse(fixture("swm_w100mfr_fnl_official.xml"))

    assert parsed.header.document_type is DocumentType.RESULT
    assert parsed.header.version == 7
    assert parsed.header.result_status is ResultStatus.OFFICIAL
    assert parsed.header.feed is Feed.PRODUCTION
    assert parsed.header.logical_date == date(2024, 7, 31)
    # 20:59:12.345 Paris summer time
    assert parsed.header.generated_at == datetime(2024, 7, 31, 18, 59, 12, 345000, tzinfo=UTC)
    unit = parsed.body
    assert isinstance(unit, UnitResult)
    assert unit.shape is Shape.TIMED
    assert unit.discipline == "SWM"
    assert unit.start == datetime(2024, 7, 31, 18, 30, tzinfo=UTC)
    assert unit.end == datetime(2024, 7, 31, 18, 34, 10, tzinfo=UTC)
    winner, *_, disqualified = unit.competitors
    assert (winner.rank, winner.result, winner.time_ms) == (1, "52.16", 52160)
    assert winner.competitor.name == "Elin Lindqvist"
    assert winner.competitor.noc == "SWE"
    assert winner.competitor.athletes[0].noc == "SWE"
    assert winner.splits[0].at == "50"
    assert winner.splits[0].time_ms == 25210
    assert [(r.code, r.equalled) for r in winner.records] == [("OR", False)]
    assert [c.rank for c in unit.competitors] == [1, 2, 3, 4, 4, 6, 7, None]
    assert [c.rank_equal for c in unit.competitors][3:5] == [True, True]
    assert (disqualified.irm, disqualified.rank, disqualified.time_ms) == ("DSQ", None, None)
    assert disqualified.competitor.name == "Chloé Marchand"


def test_football_final_keeps_periods_and_extra_time() -> None:
    unit = parse(fixture("fbl_m_fnl_official.xml")).body

    assert isinstance(unit, UnitResult)
    assert unit.shape is Shape.HEAD_TO_HEAD
    assert (unit.home, unit.away) == ("FBLMTEAM11---FRA01", "FBLMTEAM11---ESP01")
    assert unit.current_period == "ET2"
    assert [(p.code, p.kind) for p in unit.periods] == [
        ("H1", PeriodKind.REGULAR),
        ("H2", PeriodKind.REGULAR),
        ("ET1", PeriodKind.EXTRA_TIME),
        ("ET2", PeriodKind.EXTRA_TIME),
        ("TOT", PeriodKind.TOTAL),
    ]
    extra_time_goals = [
        p.away_period_score for p in unit.periods if p.kind is PeriodKind.EXTRA_TIME
    ]
    assert extra_time_goals == [1, 1]
    france, spain = unit.competitors
    assert (france.score, france.outcome) == (3, MatchOutcome.LOSS)
    assert (spain.score, spain.outcome, spain.rank) == (5, MatchOutcome.WIN, 1)
    assert spain.competitor.kind is CompetitorKind.TEAM
    assert spain.competitor.name == "Spain"


def test_diving_results_are_judged_points_with_details() -> None:
    unit = parse(fixture("div_w3mspringboard_fnl_official.xml")).body

    assert isinstance(unit, UnitResult)
    assert unit.shape is Shape.JUDGED
    first = unit.competitors[0]
    assert first.points == Decimal("354.75")
    assert (first.time_ms, first.score) == (None, None)
    assert [(d.code, d.pos, d.value) for d in first.details] == [
        ("DIVE_DD", "5", "3.4"),
        ("JUDGE", "J1", "9.0"),
        ("JUDGE", "J2", "8.5"),
    ]


def test_schedule_lists_units_with_english_titles_and_utc_times() -> None:
    parsed = parse(fixture("swm_schedule.xml"))

    doc = parsed.body
    assert isinstance(doc, ScheduleDocument)
    assert (doc.discipline, doc.full, doc.version) == ("SWM", True, 3)
    final = doc.units[0]
    assert final.status is UnitStatus.SCHEDULED
    assert final.title == "Women's 100m Freestyle Final"
    assert final.start == datetime(2024, 7, 31, 18, 30, tzinfo=UTC)
    assert (final.venue, final.location, final.medal) == ("LDA", "LDA-POOL", MedalKind.GOLD)
    assert doc.units[1].medal is None
    assert doc.units[2].end is None
    assert parsed.stream_key == "OG2024/SWM"


def test_schedule_update_is_not_a_full_schedule() -> None:
    xml = fixture("swm_schedule.xml").replace(b'"DT_SCHEDULE"', b'"DT_SCHEDULE_UPDATE"')

    doc = parse(xml).body

    assert isinstance(doc, ScheduleDocument)
    assert doc.full is False


def test_medallists_name_the_event_and_each_medal() -> None:
    parsed = parse(fixture("swm_w100mfr_medallists.xml"))

    doc = parsed.body
    assert isinstance(doc, Medallists)
    assert doc.event == "SWMW100MFR------------------------"
    assert doc.status is ResultStatus.OFFICIAL
    assert [(m.medal, m.competitor.noc) for m in doc.medallists] == [
        (MedalKind.GOLD, "SWE"),
        (MedalKind.SILVER, "USA"),
        (MedalKind.BRONZE, "HKG"),
    ]
    assert doc.medallists[0].unit == "SWMW100MFR------------FNL-000100--"
    assert parsed.stream_key == "OG2024"


def test_medal_standings_and_keep_alive() -> None:
    standings = parse(fixture("medals_standings.xml")).body
    keepalive = parse(fixture("keepalive.xml"))

    assert isinstance(standings, MedalStandings)
    assert [(s.rank, s.noc, s.gold, s.silver, s.bronze) for s in standings.standings] == [
        (1, "SWE", 1, 0, 0),
        (2, "USA", 0, 1, 0),
        (3, "HKG", 0, 0, 1),
    ]
    assert keepalive.body == KeepAlive(
        source="SWMXSWIMOG2024", seen_at=datetime(2024, 7, 31, 18, 30, tzinfo=UTC)
    )
    assert keepalive.stream_key == "OG2024/source/SWMXSWIMOG2024"


def test_known_types_without_a_normalized_form_are_kept_raw() -> None:
    xml = header(DocumentType="DT_PARTIC")

    parsed = parse(xml)

    assert parsed.body is None
    assert parsed.document().xml == xml
    assert parsed.document().header.document_type is DocumentType.PARTIC


def test_raw_document_keeps_the_exact_text_for_replay() -> None:
    data = fixture("swm_w100mfr_fnl_official.xml")

    document = parse(data).document()

    assert document.xml.encode() == data
    assert parse(document.xml) == parse(data)


def test_test_feed_flag_is_carried_to_the_body() -> None:
    xml = fixture("swm_w100mfr_fnl_official.xml").replace(b'FeedFlag="P"', b'FeedFlag="T"')

    unit = parse(xml).body

    assert isinstance(unit, UnitResult)
    assert unit.feed is Feed.TEST


def test_current_documents_default_to_live() -> None:
    xml = result_doc("").replace('DocumentType="DT_RESULT"', 'DocumentType="DT_CURRENT"')
    xml = xml.replace(' ResultStatus="LIVE"', "")

    unit = parse(xml).body

    assert isinstance(unit, UnitResult)
    assert unit.status is ResultStatus.LIVE


def test_unknown_discipline_takes_its_shape_from_the_content() -> None:
    code = "XYZM100M--------------FNL-000100--"
    timed = result_doc(
        '<Result Result="9.81" ResultType="TIME"><Competitor Code="1"/></Result>', code=code
    )
    judged = result_doc(
        '<Result Result="9.81" ResultType="POINTS"><Competitor Code="1"/></Result>', code=code
    )

    timed_unit, judged_unit = parse(timed).body, parse(judged).body

    assert isinstance(timed_unit, UnitResult)
    assert isinstance(judged_unit, UnitResult)
    assert (timed_unit.shape, timed_unit.competitors[0].time_ms) == (Shape.TIMED, 9810)
    assert (judged_unit.shape, judged_unit.competitors[0].points) == (Shape.JUDGED, Decimal("9.81"))


# --- unsafe XML ---------------------------------------------------------------------------


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        parse(fixture("billion_laughs.xml"))

    assert caught.value.construct == "DOCTYPE"


@pytest.mark.parametrize(
    "name", ["xxe_file.xml", "xxe_external_dtd.xml", "xxe_parameter_entity.xml"]
)
def test_external_entities_are_refused(name: str) -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        parse(fixture(name))

    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the error


def test_an_undeclared_entity_reference_is_malformed_not_resolved() -> None:
    xml = header(Source="&secret;")

    with pytest.raises(MalformedXmlError):
        parse(xml)


# --- bad input names the attribute ---------------------------------------------------------


def test_malformed_xml_reports_where() -> None:
    with pytest.raises(MalformedXmlError) as caught:
        parse('<OdfBody CompetitionCode="OG2024">\n  <Competition>\n</OdfBody>')

    assert caught.value.line == 3


def test_the_root_must_be_odfbody() -> None:
    with pytest.raises(MalformedXmlError) as caught:
        parse('<OdfMessage CompetitionCode="OG2024"/>')

    assert caught.value.element == "OdfMessage"


def test_documents_must_be_utf8() -> None:
    declared = header().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    with pytest.raises(MalformedXmlError) as caught:
        parse(declared)
    assert caught.value.attribute == "encoding"

    with pytest.raises(MalformedXmlError):
        parse(header(Source="SWM").encode().replace(b"SWM", b"SW\xe9"))


def test_documents_above_the_size_limit_are_refused_unparsed() -> None:
    with pytest.raises(DocumentTooLargeError):
        parse(header(), max_bytes=100)


def test_unknown_document_type_is_named() -> None:
    with pytest.raises(UnknownDocumentTypeError) as caught:
        parse(header(DocumentType="DT_NEWS_FLASH"))

    assert (caught.value.attribute, caught.value.value) == ("DocumentType", "DT_NEWS_FLASH")


@pytest.mark.parametrize(
    "attribute",
    [
        "CompetitionCode",
        "DocumentCode",
        "DocumentType",
        "Version",
        "FeedFlag",
        "Date",
        "Time",
        "Source",
    ],
)
def test_each_missing_mandatory_attribute_is_named(attribute: str) -> None:
    with pytest.raises(MissingAttributeError) as caught:
        parse(header(**{attribute: None}))

    assert caught.value.attribute == attribute
    assert caught.value.element == "OdfBody"


def test_an_empty_mandatory_attribute_counts_as_missing() -> None:
    with pytest.raises(MissingAttributeError) as caught:
        parse(header(Source=""))

    assert caught.value.attribute == "Source"


def test_result_documents_need_a_result_status() -> None:
    with pytest.raises(MissingAttributeError) as caught:
        parse(result_doc("").replace(' ResultStatus="LIVE"', ""))

    assert caught.value.attribute == "ResultStatus"


@pytest.mark.parametrize(
    ("code", "part"),
    [
        ("SWM", None),  # too short
        ("swmw100mfr------------fnl-000100--", None),  # lower case
        ("SWMW100MFR------------FNL-000100-!", None),  # bad character
        ("S1MW100MFR------------FNL-000100--", "discipline"),  # a digit in the first two
        ("1SMW100MFR------------FNL-000100--", "discipline"),
        ("SWM1100MFR------------FNL-000100--", "gender"),
        ("SWMW------------------FNL-000100--", "phase"),  # a phase under a blank event
        ("SWMW100MFR----------------000100--", "unit"),  # a unit under a blank phase
        ("SWMW100MFR------------FNL---------", None),  # a phase, where a unit is needed
    ],
)
def test_bad_rsc_names_the_attribute_and_part(code: str, part: str | None) -> None:
    with pytest.raises(InvalidRscError) as caught:
        parse(result_doc("", code=code))

    assert caught.value.attribute == "DocumentCode"
    assert caught.value.part == part


@pytest.mark.parametrize("version", ["1.5", "two", "-1", "0", "1e3", " 1"])
def test_version_must_be_a_positive_integer(version: str) -> None:
    with pytest.raises(InvalidVersionError) as caught:
        parse(header(Version=version))

    assert (caught.value.attribute, caught.value.value) == ("Version", version)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("FeedFlag", "X"),
        ("Date", "2024-02-30"),
        ("Date", "31/07/2024"),
        ("Time", "253000000"),
        ("Time", "8pm"),
        ("CompetitionCode", "OG 2024"),
        ("LogicalDate", "yesterday"),
    ],
)
def test_bad_header_values_are_named(attribute: str, value: str) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        parse(header(**{attribute: value}))

    assert (caught.value.attribute, caught.value.value) == (attribute, value)


@pytest.mark.parametrize(
    ("old", "new", "attribute"),
    [
        ('Date="2024-07-31" Time="205912345"', 'Date="0001-01-01" Time="000000000"', "Date"),
        (
            'StartDate="2024-07-31T20:30:00+02:00"',
            'StartDate="0001-01-01T00:00:00+14:00"',
            "StartDate",
        ),
        ('EndDate="2024-07-31T20:34:10+02:00"', 'EndDate="9999-12-31T23:59:59-14:00"', "EndDate"),
    ],
)
def test_times_beyond_the_calendar_are_refused_by_name(old: str, new: str, attribute: str) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        parse(VALID.replace(old, new))

    assert caught.value.attribute == attribute


def test_bad_result_status_is_named() -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        parse(result_doc("").replace('ResultStatus="LIVE"', 'ResultStatus="FINAL"'))

    assert caught.value.attribute == "ResultStatus"


@pytest.mark.parametrize(
    ("line", "exception", "element", "attribute"),
    [
        (
            '<Result Rank="1"><Competitor Code="1"/></Result>'
            '<Result Rank="first"><Competitor Code="2"/></Result>',
            InvalidAttributeError,
            "OdfBody/Competition/Result[2]",
            "Rank",
        ),
        (
            '<Result Rank="1"><Competitor Type="A"/></Result>',
            MissingAttributeError,
            "OdfBody/Competition/Result/Competitor",
            "Code",
        ),
        (
            '<Result Result="fast" ResultType="TIME"><Competitor Code="1"/></Result>',
            InvalidAttributeError,
            "OdfBody/Competition/Result",
            "Result",
        ),
        (
            '<Result IRM="did not finish"><Competitor Code="1"/></Result>',
            InvalidAttributeError,
            "OdfBody/Competition/Result",
            "IRM",
        ),
        (
            '<Result><Competitor Code="1" Organisation="france"/></Result>',
            InvalidAttributeError,
            "OdfBody/Competition/Result/Competitor",
            "Organisation",
        ),
        (
            '<Result><Competitor Code="1" Type="Z"/></Result>',
            InvalidAttributeError,
            "OdfBody/Competition/Result/Competitor",
            "Type",
        ),
        ("<Result/>", MissingElementError, "OdfBody/Competition/Result", None),
    ],
)
def test_bad_result_lines_name_element_and_attribute(
    line: str, exception: type[OdfError], element: str, attribute: str | None
) -> None:
    with pytest.raises(exception) as caught:
        parse(result_doc(line))

    assert (caught.value.element, caught.value.attribute) == (element, attribute)


def test_a_result_document_needs_a_competition() -> None:
    with pytest.raises(MissingElementError) as caught:
        parse(result_doc("").replace("<Competition></Competition>", ""))

    assert caught.value.element == "OdfBody"


def test_schedule_unit_of_another_discipline_is_a_bad_rsc() -> None:
    xml = fixture("swm_schedule.xml").replace(
        b"SWMM200MBK------------FNL-000100--", b"ATHM200M--------------FNL-000100--"
    )

    with pytest.raises(InvalidRscError) as caught:
        parse(xml)

    assert caught.value.element == "OdfBody/Competition/Unit[3]"
    assert (caught.value.attribute, caught.value.part) == ("Code", "discipline")


@pytest.mark.parametrize(
    ("old", "new", "attribute"),
    [
        (b'ScheduleStatus="SCHEDULED"', b'ScheduleStatus="SOON"', "ScheduleStatus"),
        (b'StartDate="2024-07-31T20:30:00+02:00"', b'StartDate="2024-07-31T20:30:00"', "StartDate"),
        (b'Medal="1"', b'Medal="gold"', "Medal"),
    ],
)
def test_bad_schedule_units_are_named(old: bytes, new: bytes, attribute: str) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        parse(fixture("swm_schedule.xml").replace(old, new, 1))

    assert caught.value.element == "OdfBody/Competition/Unit[1]"
    assert caught.value.attribute == attribute


def test_bad_medal_code_is_named() -> None:
    xml = fixture("swm_w100mfr_medallists.xml").replace(b"ME_BRONZE", b"ME_COPPER")

    with pytest.raises(InvalidAttributeError) as caught:
        parse(xml)

    assert (caught.value.element, caught.value.attribute) == (
        "OdfBody/Competition/Medal[3]",
        "Code",
    )


def test_medallists_for_a_whole_discipline_are_a_bad_rsc() -> None:
    xml = fixture("swm_w100mfr_medallists.xml").replace(
        b'DocumentCode="SWMW100MFR------------------------"',
        b'DocumentCode="SWM-------------------------------"',
    )

    with pytest.raises(InvalidRscError):
        parse(xml)


# --- the parser never fails in an unplanned way ------------------------------------------

ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_bytes_parse_or_raise_an_odf_error(data: bytes | str) -> None:
    with contextlib.suppress(OdfError):
        parse(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_attribute_value_parses_or_raises_an_odf_error(data: st.DataObject) -> None:
    matches = list(ATTRIBUTE.finditer(VALID))
    chosen = data.draw(st.sampled_from(matches))
    value = data.draw(
        st.sampled_from(
            ["", "0", "-1", "99999999999999999999", "0001-01-01", "0001-01-01T00:00:00+14:00"]
        )
        | st.text(alphabet=st.characters(codec="ascii", exclude_characters='"<&'), max_size=40)
    )
    xml = VALID[: chosen.start(2)] + value + VALID[chosen.end(2) :]
    with contextlib.suppress(OdfError):
        parse(xml)


# --- what the parser returns always decodes on every stream ------------------------------------


def test_a_value_over_a_normalized_limit_is_refused_with_its_path() -> None:
    long_name = b'FamilyName="' + b"H" * 300 + b'"'
    xml = fixture("swm_w100mfr_fnl_official.xml").replace(b'FamilyName="Holm"', long_name)

    with pytest.raises(InvalidAttributeError) as caught:
        parse(xml)

    assert caught.value.location == "UnitResult@competitors[1].competitor.name"


def test_a_header_value_over_its_limit_names_the_odf_attribute() -> None:
    xml = fixture("keepalive.xml").replace(
        b'Source="SWMXSWIMOG2024"', b'Source="' + b"S" * 300 + b'"'
    )

    with pytest.raises(InvalidAttributeError) as caught:
        parse(xml)

    assert caught.value.location == "OdfBody@Source"
