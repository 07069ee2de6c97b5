"""The ODF builder writes what the parser reads back to the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flambeau.services.results.codes import Shape
from flambeau.services.results.odf import parse
from flambeau.services.results.odf_builder import (
    keepalive_xml,
    medallists_xml,
    medals_xml,
    result_xml,
    schedule_xml,
)
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorResult,
    DocumentType,
    Feed,
    KeepAlive,
    Medallists,
    MedalStandings,
    ScheduleDocument,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus

from ._strategies import (
    medallists_documents,
    moments,
    schedule_documents,
    standings_documents,
    unit_results,
)

# no deadline: a loaded machine is no bug (timings belong in benchmarks)
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(unit_results(), moments, st.none() | st.dates(date(2024, 7, 1), date(2024, 9, 30)))
def test_unit_results_round_trip(result: UnitResult, at: datetime, logical: date | None) -> None:
    parsed = parse(result_xml(result, generated_at=at, logical_date=logical))

    assert parsed.body == result
    assert parsed.header.generated_at == at
    assert parsed.header.logical_date == logical
    assert parsed.header.document_type in (DocumentType.RESULT, DocumentType.CURRENT)
    assert parsed.header.version == result.version


@SLOW
@given(schedule_documents())
def test_schedules_round_trip(doc: ScheduleDocument) -> None:
    parsed = parse(schedule_xml(doc, source="SWMXSWIMOG2024"))

    assert parsed.body == doc
    expected = DocumentType.SCHEDULE if doc.full else DocumentType.SCHEDULE_UPDATE
    assert parsed.header.document_type is expected


@SLOW
@given(medallists_documents(), moments)
def test_medallists_round_trip(doc: Medallists, at: datetime) -> None:
    assert parse(medallists_xml(doc, generated_at=at, source="OVR")).body == doc


@SLOW
@given(standings_documents, moments)
def test_medal_standings_round_trip(doc: MedalStandings, at: datetime) -> None:
    assert parse(medals_xml(doc, generated_at=at, source="OVR")).body == doc


@given(moments, st.sampled_from(Feed))
def test_keepalives_round_trip(at: datetime, feed: Feed) -> None:
    xml = keepalive_xml(
        competition="OG2024", discipline="SWM", source="SWMX", seen_at=at, feed=feed
    )

    assert parse(xml).body == KeepAlive(source="SWMX", seen_at=at, feed=feed)


def test_header_time_is_written_in_games_local_time() -> None:
    xml = keepalive_xml(
        competition="OG2024",
        discipline="SWM",
        source="SWMX",
        seen_at=datetime(2024, 7, 31, 22, 5, 1, 250000, tzinfo=UTC),
    )

    # Midnight has passed in Paris: the header says 1 August, 00:05:01.250.
    assert 'Date="2024-08-01"' in xml
    assert 'Time="000501250"' in xml


def test_result_text_is_written_from_the_typed_value_when_absent() -> None:
    result = parse(
        result_xml(
            UnitResult(
                competition="OG2024",
                unit="SWMW100MFR------------FNL-000100--",
                discipline="SWM",
                version=1,
                status=ResultStatus.LIVE,
                shape=Shape.TIMED,
                source="S",
                competitors=(
                    CompetitorResult(competitor=Competitor(code="1"), time_ms=105300),
                    CompetitorResult(competitor=Competitor(code="2"), time_ms=3_725_040),
                ),
            ),
            generated_at=datetime(2024, 7, 31, tzinfo=UTC),
        )
    ).body

    assert isinstance(result, UnitResult)
    assert [c.result for c in result.competitors] == ["1:45.30", "1:02:05.04"]


def test_a_document_without_a_source_cannot_be_built() -> None:
    result = UnitResult(
        competition="OG2024",
        unit="SWMW100MFR------------FNL-000100--",
        discipline="SWM",
        version=1,
        status=ResultStatus.LIVE,
        shape=Shape.TIMED,
    )

    with pytest.raises(ValueError, match="Source"):
        result_xml(result, generated_at=datetime(2024, 7, 31, tzinfo=UTC))
