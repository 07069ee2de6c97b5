"""Realistic ODF document sequences, shared by the reducer, processor and end-to-end tests.

Swimming: the women's 100 m freestyle final from its schedule and START_LIST to OFFICIAL and
its medallists. Football: the men's final, decided by a goal in extra time. Athletics: the
women's 100 m, whose bronze a protest re-assigns. Athletes are fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from flambeau.services.results.codes import Shape
from flambeau.services.results.odf import parse
from flambeau.services.results.odf_builder import medallists_xml, result_xml, schedule_xml
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorKind,
    CompetitorResult,
    DocumentKind,
    MedalKind,
    Medallist,
    Medallists,
    Period,
    PeriodKind,
    RecordMark,
    ScheduleDocument,
    Split,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus

FIXTURES = Path(__file__).parents[3] / "fixtures" / "odf"
SOURCE = "SWMXSWIMOG2024"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def local(hour: int, minute: int, second: int = 0) -> datetime:
    """31 July 2024, Paris summer time, as UTC."""
    return datetime(2024, 7, 31, hour - 2, minute, second, tzinfo=UTC)


# --- swimming: women's 100 m freestyle final, START_LIST to OFFICIAL -------------------------

SWM_FINAL = "SWMW100MFR------------FNL-000100--"
SWIMMERS = [  # code, NOC, name, lane
    ("1901077", "NED", "Fenna de Vries", 1),
    ("1900855", "CAN", "Jade Tremblay", 2),
    ("1900633", "HKG", "Wing Yan Cheung", 3),
    ("1900411", "SWE", "Elin Lindqvist", 4),
    ("1900522", "USA", "Tara Holm", 5),
    ("1900744", "AUS", "Maddie Reeve", 6),
    ("1900966", "CHN", "Yu Lin", 7),
    ("1901188", "FRA", "Chloé Marchand", 8),
]
FINAL_TIMES = {  # code -> (rank, time_ms, split at 50 m)
    "1900411": (1, 52160, 25210),
    "1900522": (2, 52290, 25300),
    "1900633": (3, 52330, 25410),
    "1900744": (4, 52450, 25350),
    "1900855": (4, 52450, 25500),
    "1900966": (6, 52800, 25610),
    "1901077": (7, 53010, 25700),
    "1901188": (8, 53100, 25800),
}


def swimmers_after(stage: str) -> tuple[CompetitorResult, ...]:
    lines = []
    for code, noc, name, lane in SWIMMERS:
        rank, time_ms, split = FINAL_TIMES[code]
        line = CompetitorResult(
            competitor=Competitor(code=code, noc=noc, name=name), start_order=lane
        )
        if stage in ("50m", "finish"):
            line = msgspec.structs.replace(line, splits=(Split(at="50", time_ms=split),))
        if stage == "finish":
            records = (RecordMark(code="OR"),) if rank == 1 else ()
            line = msgspec.structs.replace(line, rank=rank, time_ms=time_ms, records=records)
        lines.append(line)
    return tuple(lines)


def swim_result(version: int, status: ResultStatus, stage: str, **extra: object) -> str:
    result = UnitResult(
        competition="OG2024",
        unit=SWM_FINAL,
        discipline="SWM",
        version=version,
        status=status,
        shape=Shape.TIMED,
        source=SOURCE,
        start=local(20, 30),
        competitors=swimmers_after(stage),
        **extra,  # type: ignore[arg-type]
    )
    return result_xml(result, generated_at=local(20, 20 + version))


def swim_status(version: int, status: UnitStatus, *, end: datetime | None = None) -> str:
    schedule = parse(fixture("swm_schedule.xml")).body
    assert isinstance(schedule, ScheduleDocument)
    final = msgspec.structs.replace(schedule.units[0], status=status, end=end)
    update = msgspec.structs.replace(
        schedule, version=version, full=False, generated_at=local(20, 25, version), units=(final,)
    )
    return schedule_xml(update, source=SOURCE)


def swimming_final() -> list[str]:
    """The documents of the final, in the order the feed delivers them."""
    return [
        fixture("swm_schedule.xml"),
        swim_result(1, ResultStatus.START_LIST, "start"),
        swim_status(1, UnitStatus.GETTING_READY),
        swim_status(2, UnitStatus.RUNNING),
        swim_result(2, ResultStatus.LIVE, "50m"),
        swim_result(1, ResultStatus.LIVE, "50m", document=DocumentKind.CURRENT),
        swim_result(4, ResultStatus.UNOFFICIAL, "finish"),
        swim_result(3, ResultStatus.LIVE, "50m"),  # delivered late: stale
        swim_status(3, UnitStatus.FINISHED, end=local(20, 34, 10)),
        fixture("swm_w100mfr_fnl_official.xml"),  # version 7, OFFICIAL
        fixture("swm_w100mfr_medallists.xml"),
        fixture("medals_standings.xml"),
    ]


# --- football: men's gold medal match, a goal in extra time ----------------------------------

FBL_FINAL = "FBLMTEAM11------------FNL-000100--"
FRA = Competitor(code="FBLMTEAM11---FRA01", kind=CompetitorKind.TEAM, noc="FRA", name="France")
ESP = Competitor(code="FBLMTEAM11---ESP01", kind=CompetitorKind.TEAM, noc="ESP", name="Spain")


def match(version: int, status: ResultStatus, period: str | None, *periods: Period) -> str:
    home, away = (periods[-1].home_score, periods[-1].away_score) if periods else (None, None)
    result = UnitResult(
        competition="OG2024",
        unit=FBL_FINAL,
        discipline="FBL",
        version=version,
        status=status,
        shape=Shape.HEAD_TO_HEAD,
        source="FBLXPARCOG2024",
        start=datetime(2024, 8, 9, 16, tzinfo=UTC),
        current_period=period,
        home=FRA.code,
        away=ESP.code,
        periods=periods,
        competitors=(
            CompetitorResult(competitor=FRA, score=home, sort_order=1, start_order=1),
            CompetitorResult(competitor=ESP, score=away, sort_order=2, start_order=2),
        ),
    )
    return result_xml(
        result, generated_at=datetime(2024, 8, 9, 16, tzinfo=UTC) + timedelta(minutes=version)
    )


H1 = Period(code="H1", home_score=1, away_score=3, home_period_score=1, away_period_score=3)
H2 = Period(code="H2", home_score=3, away_score=3, home_period_score=2, away_period_score=0)
ET1 = Period(
    code="ET1",
    kind=PeriodKind.EXTRA_TIME,
    home_score=3,
    away_score=4,
    home_period_score=0,
    away_period_score=1,
)


def football_final() -> list[str]:
    return [
        match(1, ResultStatus.START_LIST, None),
        match(10, ResultStatus.LIVE, "H1", H1),
        match(20, ResultStatus.INTERMEDIATE, "H2", H1, H2),  # 3-3 after 90 minutes
        match(30, ResultStatus.LIVE, "ET1", H1, H2, ET1),  # Spain scores in extra time
        fixture("fbl_m_fnl_official.xml"),  # version 41, 3-5 after extra time
    ]


# --- athletics: a protest re-assigns the bronze ----------------------------------------------

ATH_FINAL = "ATHW100M--------------FNL-000100--"
ATH_EVENT = "ATHW100M--------------------------"
ROW_EVENT = "ROWMEIGHT-------------------------"
RUNNERS = {
    "LCA": Competitor(code="2100001", noc="LCA", name="Julia Alfred"),
    "USA": Competitor(code="2100002", noc="USA", name="Sha Richards"),
    "GBR": Competitor(code="2100003", noc="GBR", name="Dina Asher"),
    "CIV": Competitor(code="2100004", noc="CIV", name="Marie Ta Lou"),
}


def sprint(
    version: int, status: ResultStatus, order: list[str], disqualified: str | None = None
) -> str:
    lines = [
        CompetitorResult(competitor=RUNNERS[noc], rank=rank, time_ms=10720 + 10 * rank)
        for rank, noc in enumerate(order, 1)
    ]
    if disqualified:
        lines.append(CompetitorResult(competitor=RUNNERS[disqualified], irm="DSQ"))
    result = UnitResult(
        competition="OG2024",
        unit=ATH_FINAL,
        discipline="ATH",
        version=version,
        status=status,
        shape=Shape.TIMED,
        source="ATHXSTDFOG2024",
        competitors=tuple(lines),
    )
    return result_xml(result, generated_at=datetime(2024, 8, 3, 19, version, tzinfo=UTC))


def medallists(event: str, version: int, podium: list[Competitor], *, resent_after: int = 0) -> str:
    """An OFFICIAL medallists document; ``resent_after`` minutes later for a re-send."""
    doc = Medallists(
        competition="OG2024",
        event=event,
        version=version,
        status=ResultStatus.OFFICIAL,
        medallists=tuple(
            Medallist(medal=kind, competitor=who)
            for kind, who in zip(MedalKind, podium, strict=True)
        ),
    )
    return medallists_xml(
        doc,
        generated_at=datetime(2024, 8, 3, 20, version + resent_after, tzinfo=UTC),
        source="OVR",
    )


def crew(noc: str) -> Competitor:
    return Competitor(code=f"ROWMEIGHT---{noc}01", kind=CompetitorKind.TEAM, noc=noc, name=noc)
