"""The query routes answer from views over the output streams; ``/metrics`` from the audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flambeau.events import Event, NewEvent
from flambeau.services.ops.schemas import SourceKind
from flambeau.services.results.codes import Shape
from flambeau.services.results.schemas import (
    AUDIT,
    HEALTH,
    MEDALS,
    REJECTED,
    SCHEDULE,
    UNITS,
    DocumentIgnored,
    EndAdjustment,
    IgnoredReason,
    MedalCount,
    RejectedDocument,
    ScheduleEntry,
    SourceDown,
    SourceUp,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus
from flambeau.services.results.views import metric_lines

from ._documents import SWM_FINAL
from .conftest import Gateway

T0 = datetime(2024, 7, 31, 18, 30, tzinfo=UTC)


async def append(gateway: Gateway, stream: str, *events: Event, key: str = "k") -> None:
    await gateway.log.append(stream, [NewEvent(e, key=key) for e in events])


def count(noc: str, gold: int = 0, silver: int = 0, bronze: int = 0) -> MedalCount:
    total = gold + silver + bronze
    return MedalCount(
        competition="OG2024", noc=noc, gold=gold, silver=silver, bronze=bronze, total=total
    )


async def test_the_medal_table_is_in_ioc_order_or_by_total(gateway: Gateway) -> None:
    await append(
        gateway,
        MEDALS,
        count("USA", gold=1, silver=3, bronze=3),
        count("FRA", gold=2),
        count("JPN", gold=2),
        count("GBR", silver=1),
        count("GBR"),  # its only medal moved after a protest: it leaves the table
        key="OG2024",
    )

    ioc = (await gateway.client.get("/v1/results/medals")).json()
    total = (await gateway.client.get("/v1/results/medals?order=total")).json()
    other = (await gateway.client.get("/v1/results/medals?competition=OG2028")).json()

    assert [(s["rank"], s["noc"]) for s in ioc["standings"]] == [
        (1, "FRA"),
        (1, "JPN"),
        (3, "USA"),
    ]
    assert [(s["rank"], s["noc"], s["total"]) for s in total["standings"]] == [
        (1, "USA", 7),
        (2, "FRA", 2),
        (2, "JPN", 2),
    ]
    assert other["standings"] == []


async def test_a_bad_sort_order_is_a_400(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/results/medals?order=alphabetical")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def result(version: int, status: ResultStatus) -> UnitResult:
    return UnitResult(
        competition="OG2024",
        unit=SWM_FINAL,
        discipline="SWM",
        version=version,
        status=status,
        shape=Shape.TIMED,
    )


async def test_a_unit_shows_its_schedule_and_latest_result(gateway: Gateway) -> None:
    running = UnitScheduleChanged(
        competition="OG2024",
        unit=SWM_FINAL,
        discipline="SWM",
        status=UnitStatus.RUNNING,
        venue="LDA",
    )
    await append(
        gateway,
        UNITS,
        running,
        result(2, ResultStatus.LIVE),
        result(4, ResultStatus.OFFICIAL),
        key=SWM_FINAL,
    )

    unit = (await gateway.client.get(f"/v1/results/units/{SWM_FINAL}")).json()

    assert unit["schedule"]["status"] == "running"
    assert (unit["results"]["result"]["version"], unit["results"]["result"]["status"]) == (
        4,
        "official",
    )


async def test_a_unit_shows_its_latest_estimated_end(gateway: Gateway) -> None:
    def estimated(minutes: int, *adjustments: EndAdjustment) -> UnitEndEstimated:
        return UnitEndEstimated(
            competition="OG2024", unit=SWM_FINAL, discipline="SWM",
            estimated_end=T0 + timedelta(minutes=minutes), adjustments=adjustments,
        )  # fmt: skip

    await append(
        gateway, UNITS, estimated(10), estimated(13, EndAdjustment.LATE_START), key=SWM_FINAL
    )

    unit = (await gateway.client.get(f"/v1/results/units/{SWM_FINAL}")).json()

    assert unit["estimated_end"]["estimated_end"] == "2024-07-31T18:43:00Z"
    assert unit["estimated_end"]["adjustments"] == ["late_start"]


async def test_unknown_and_malformed_unit_codes(gateway: Gateway) -> None:
    unknown = await gateway.client.get("/v1/results/units/ATHW100M--------------FNL-000100--")
    event_code = await gateway.client.get("/v1/results/units/ATHW100M--------------------------")

    assert unknown.status_code == 404
    assert event_code.status_code == 400
    assert event_code.json()["errors"][0]["field"] == "code"


def day_schedule(day: date, venue: str, discipline: str, *units: str) -> VenueDaySchedule:
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    return VenueDaySchedule(
        competition="OG2024",
        day=day,
        venue=venue,
        discipline=discipline,
        units=tuple(
            ScheduleEntry(unit=u, status=UnitStatus.SCHEDULED, start=start, venue=venue)
            for u in units
        ),
    )


async def test_the_schedule_is_selected_by_day_and_venue(gateway: Gateway) -> None:
    day1, day2 = date(2024, 7, 31), date(2024, 8, 1)
    swm1 = "SWMW100MFR------------FNL-000100--"
    swm2 = "SWMM200MBK------------FNL-000100--"
    wpo = "WPOWTEAM7-------------GPA-000100--"
    await append(
        gateway,
        SCHEDULE,
        day_schedule(day1, "LDA", "SWM", swm1),
        day_schedule(day1, "LDA", "WPO", wpo),
        day_schedule(day2, "LDA", "SWM", swm2),
        day_schedule(day1, "AQC", "WPO", wpo),
        day_schedule(day1, "AQC", "WPO"),  # water polo left the venue that day
    )

    lda = (await gateway.client.get("/v1/results/schedule?date=2024-07-31&venue=LDA")).json()
    day = (await gateway.client.get("/v1/results/schedule?date=2024-07-31")).json()
    everything = (await gateway.client.get("/v1/results/schedule")).json()
    bad = await gateway.client.get("/v1/results/schedule?date=31/07/2024")

    assert [(s["discipline"], [u["unit"] for u in s["units"]]) for s in lda["schedules"]] == [
        ("SWM", [swm1]),
        ("WPO", [wpo]),
    ]
    assert {s["venue"] for s in day["schedules"]} == {"LDA"}
    assert len(everything["schedules"]) == 3
    assert bad.status_code == 400


async def test_sources_and_ignored_documents_are_shown_and_published_as_metrics(
    gateway: Gateway,
) -> None:
    gateway.app.state.gateway.metrics.gauges.append(metric_lines(gateway.log))
    down = SourceDown(
        source="FBLXPARCOG2024",
        last_seen=T0,
        detected_at=T0 + timedelta(seconds=21),
        silence_ms=21000,
    )
    await append(gateway, HEALTH, SourceUp(source="SWMXSWIMOG2024", seen_at=T0))
    await append(gateway, HEALTH, SourceUp(source="FBLXPARCOG2024", seen_at=T0), down)
    # another kind of source on ops.health is for GET /v1/ops/sources, not the results one
    gate = SourceUp(source="STA/STA-G01", seen_at=T0, kind=SourceKind.GATE_COUNTER)
    await append(gateway, HEALTH, gate)
    stale = DocumentIgnored(
        processor="results.unit-state",
        reason=IgnoredReason.STALE,
        document="unit/x",
        document_type="DT_RESULT",
        version=3,
        current_version=4,
    )
    await append(gateway, AUDIT, stale, stale)
    rejected = RejectedDocument(
        adapter="odf", error="UnsafeXmlError", location="DOCTYPE", reason="no", received_at=T0
    )
    await append(gateway, REJECTED, rejected)
    key = await gateway.key("read:ops.health")

    sources = await gateway.client.get(
        "/v1/results/sources", headers={"Authorization": f"Bearer {key}"}
    )
    metrics = (await gateway.client.get("/metrics")).text

    assert [(s["source"], s["status"]) for s in sources.json()["sources"]] == [
        ("FBLXPARCOG2024", "down"),
        ("SWMXSWIMOG2024", "up"),
    ]
    assert sources.json()["ignored"] == [
        {"reason": "stale", "document_type": "DT_RESULT", "feed": "production", "count": 2}
    ]
    lines = set(metrics.splitlines())
    assert {
        'flambeau_results_ignored_documents_total{reason="stale",document_type="DT_RESULT",'
        'feed="production"} 2',
        'flambeau_results_rejected_documents_total{adapter="odf",error="UnsafeXmlError"} 1',
        'flambeau_results_source_up{source="FBLXPARCOG2024"} 0',
        'flambeau_results_source_up{source="SWMXSWIMOG2024"} 1',
        "# TYPE flambeau_results_ignored_documents_total counter",
    } <= lines
