"""The normalized events: registered streams, and the native JSON form producers POST."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from flambeau.events import default_registry
from flambeau.services.results.codes import Shape
from flambeau.services.results.schemas import (
    HEALTH,
    MEDALS,
    ODF,
    PUBLIC_STREAMS,
    RECORDS,
    SCHEDULE,
    TEST,
    UNITS,
    MedalCount,
    SourceDown,
    UnitResult,
    UnitScheduleChanged,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import ResultStatus

from ._strategies import unit_results

NATIVE = {
    "type": "unit_result",
    "competition": "OG2024",
    "unit": "GARWVT----------------FNL-000100--",
    "discipline": "GAR",
    "version": 4,
    "status": "live",
    "shape": "judged",
    "start": "2024-08-03T15:20:00+02:00",
    "competitors": [
        {
            "competitor": {"code": "3300101", "noc": "BRA", "name": "Rebeca Lima"},
            "rank": 1,
            "result": "14.966",
            "points": "14.966",
            "details": [{"code": "D_SCORE", "value": "5.6"}],
        }
    ],
}


def test_streams_are_registered_with_their_visibility() -> None:
    public = {spec.name for spec in default_registry if spec.public}
    private = {spec.name for spec in default_registry if not spec.public}

    assert public >= PUBLIC_STREAMS
    assert {ODF, HEALTH, TEST} <= private
    assert default_registry.spec(MEDALS).partitions == 1


def test_a_native_producer_posts_plain_json() -> None:
    decoded = default_registry.json_decoder(UNITS).decode(json.dumps(NATIVE))

    assert isinstance(decoded, UnitResult)
    assert decoded.shape is Shape.JUDGED
    assert decoded.status is ResultStatus.LIVE
    assert decoded.start == datetime(2024, 8, 3, 13, 20, tzinfo=UTC)
    assert decoded.competitors[0].points == Decimal("14.966")
    assert decoded.feed.value == "production"


def test_json_is_plain_and_decimals_stay_exact() -> None:
    decoded = default_registry.json_decoder(UNITS).decode(json.dumps(NATIVE))

    encoded = json.loads(msgspec.json.encode(decoded))

    assert encoded["type"] == "unit_result"
    assert encoded["competitors"][0]["points"] == "14.966"
    assert encoded["start"] == "2024-08-03T13:20:00Z"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit", "GARWVT", "unit"),
        ("unit", "GARWVT----------------------------", "unit level"),
        ("status", "final", "status"),
        ("start", "2024-08-03T15:20:00", "timezone"),
        ("version", -1, "version"),
    ],
)
def test_bad_native_events_are_refused_with_the_field(
    field: str, value: object, message: str
) -> None:
    bad = {**NATIVE, field: value}

    with pytest.raises(msgspec.ValidationError, match=message):
        default_registry.json_decoder(UNITS).decode(json.dumps(bad))


def test_a_native_result_takes_its_discipline_from_its_unit_code() -> None:
    # no schema can tie one field to another, so the unit code wins instead of a refusal
    result = default_registry.json_decoder(UNITS).decode(
        json.dumps({**NATIVE, "discipline": "DIV"})
    )
    assert result.discipline == NATIVE["unit"][:3]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_results())
def test_unit_results_survive_json_and_messagepack(result: UnitResult) -> None:
    as_json = default_registry.json_decoder(UNITS).decode(msgspec.json.encode(result))
    as_msgpack = default_registry.decoder(UNITS).decode(msgspec.msgpack.encode(result))

    assert as_json == result
    assert as_msgpack == result


def test_each_stream_accepts_its_own_events_only() -> None:
    schedule_change = UnitScheduleChanged(
        competition="OG2024",
        unit="SWMW100MFR------------FNL-000100--",
        discipline="SWM",
        status="running",  # type: ignore[arg-type]
    )
    default_registry.check(UNITS, schedule_change)
    default_registry.check(TEST, schedule_change)
    default_registry.check(MEDALS, MedalCount(competition="OG2024", noc="FRA"))
    with pytest.raises(Exception, match="does not accept"):
        default_registry.check(SCHEDULE, schedule_change)
    now = datetime(2024, 7, 31, tzinfo=UTC)
    down = SourceDown(source="S", last_seen=now, detected_at=now, silence_ms=0)
    default_registry.check(HEALTH, down)
    with pytest.raises(Exception, match="does not accept"):
        default_registry.check(RECORDS, down)
    assert VenueDaySchedule in default_registry.spec(TEST).types
