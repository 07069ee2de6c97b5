"""Hypothesis strategies for normalized results values in their canonical form.

Canonical: what the ODF builder writes, the parser reads back identically: result texts match
their typed values, period kinds match their codes, names have single inner spaces, times are
whole milliseconds in the summer of the Games (Paris local time has no ambiguous hour then).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from flambeau.services.results.codes import Shape, format_time_ms, shape_of_discipline
from flambeau.services.results.schemas import (
    Athlete,
    Competitor,
    CompetitorKind,
    CompetitorResult,
    Detail,
    DocumentKind,
    Feed,
    MatchOutcome,
    MedalKind,
    Medallist,
    Medallists,
    MedalStanding,
    MedalStandings,
    Period,
    PeriodKind,
    RecordMark,
    ScheduleDocument,
    ScheduleEntry,
    Split,
    UnitResult,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus

DISCIPLINES = {
    Shape.TIMED: ["SWM", "ATH", "ROW"],
    Shape.HEAD_TO_HEAD: ["FBL", "BKB", "TEN", "JUD"],
    Shape.JUDGED: ["GAR", "DIV"],
}
NOCS = ["FRA", "USA", "AUS", "JAM", "GBR", "CIV", "CHN", "JPN", "KOR", "BRA", "ESP", "SWE"]
PERIOD_KINDS = {
    "H1": PeriodKind.REGULAR,
    "H2": PeriodKind.REGULAR,
    "Q1": PeriodKind.REGULAR,
    "S1": PeriodKind.REGULAR,
    "ET1": PeriodKind.EXTRA_TIME,
    "ET2": PeriodKind.EXTRA_TIME,
    "GS": PeriodKind.EXTRA_TIME,
    "PSO": PeriodKind.SHOOTOUT,
    "TOT": PeriodKind.TOTAL,
}
GAMES_START = datetime(2024, 7, 24, tzinfo=UTC)

nocs = st.sampled_from(NOCS)
codes = st.from_regex(r"[0-9]{1,8}", fullmatch=True)
short_codes = st.from_regex(r"[A-Z][A-Z0-9]{0,7}", fullmatch=True)
names = st.lists(st.from_regex(r"[A-Z][a-z'\-]{0,9}", fullmatch=True), min_size=1, max_size=3).map(
    " ".join
)
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Co")),
    min_size=1,
    max_size=30,
)
# Whole milliseconds across the Games fortnight and a little more.
moments = st.integers(0, 60 * 24 * 3600 * 1000).map(
    lambda ms: GAMES_START + timedelta(milliseconds=ms)
)
versions = st.integers(1, 10**6)
feeds = st.sampled_from(Feed)


def event_code(discipline: str, gender: str, event: str) -> str:
    return (discipline + gender + event.ljust(18, "-")).ljust(34, "-")


@st.composite
def unit_codes(draw: st.DrawFn, discipline: str) -> str:
    gender = draw(st.sampled_from("MWX"))
    event = draw(st.from_regex(r"[A-Z0-9]{1,18}", fullmatch=True))
    phase = draw(st.sampled_from(["FNL-", "SFNL", "QFNL", "HEAT", "GP1A"]))
    unit = draw(st.from_regex(r"[0-9]{6}", fullmatch=True)) + "--"
    return event_code(discipline, gender, event)[:22] + phase + unit


athletes = st.builds(Athlete, code=codes, name=st.none() | names, noc=st.none() | nocs)


@st.composite
def competitors(draw: st.DrawFn) -> Competitor:
    kind = draw(st.sampled_from(CompetitorKind))
    return Competitor(
        code=draw(codes),
        kind=kind,
        noc=draw(st.none() | nocs),
        name=draw(st.none() | (texts if kind is CompetitorKind.TEAM else names)),
        athletes=tuple(draw(st.lists(athletes, max_size=3))),
    )


@st.composite
def competitor_results(draw: st.DrawFn, shape: Shape) -> CompetitorResult:
    time_ms = score = points = None
    result = None
    irm = draw(st.none() | st.sampled_from(["DNF", "DNS", "DSQ", "DQB", "LAP"]))
    has_value = draw(st.booleans())
    if has_value and shape is Shape.TIMED:
        time_ms = draw(st.integers(0, 10 * 3600 * 1000))
        result = format_time_ms(time_ms)
    elif has_value and shape is Shape.HEAD_TO_HEAD:
        score = draw(st.integers(0, 200))
        result = str(score)
    elif has_value:
        points = Decimal(draw(st.integers(0, 10**6))) / 1000
        result = str(points)
    splits = ()
    if shape is Shape.TIMED:
        splits = tuple(
            draw(
                st.lists(
                    st.builds(
                        Split,
                        at=st.sampled_from(["50", "100", "150", "1000m"]),
                        time_ms=st.none() | st.integers(0, 10**7),
                        rank=st.none() | st.integers(1, 80),
                    ),
                    max_size=3,
                )
            )
        )
    details = st.builds(
        Detail,
        code=st.sampled_from(["JUDGE", "DIVE_DD", "D_SCORE", "PEN"]),
        value=st.sampled_from(["", "9.5", "3.4", "-0.3"]),
        pos=st.none() | st.sampled_from(["J1", "J2", "5"]),
    )
    records = st.builds(
        RecordMark, code=st.sampled_from(["WR", "OR", "ER", "NR"]), equalled=st.booleans()
    )
    return CompetitorResult(
        competitor=draw(competitors()),
        rank=draw(st.none() | st.integers(1, 100)),
        rank_equal=draw(st.booleans()),
        result=result,
        time_ms=time_ms,
        score=score,
        points=points,
        irm=irm,
        outcome=draw(st.none() | st.sampled_from(MatchOutcome))
        if shape is Shape.HEAD_TO_HEAD
        else None,
        sort_order=draw(st.none() | st.integers(1, 100)),
        start_order=draw(st.none() | st.integers(1, 100)),
        splits=splits,
        details=tuple(draw(st.lists(details, max_size=2))),
        records=tuple(draw(st.lists(records, max_size=2))),
    )


@st.composite
def unit_results(draw: st.DrawFn, feed: Feed | None = None) -> UnitResult:
    shape = draw(st.sampled_from(Shape))
    discipline = draw(st.sampled_from(DISCIPLINES[shape]))
    assert shape_of_discipline(discipline) is shape
    periods: tuple[Period, ...] = ()
    home = away = None
    if shape is Shape.HEAD_TO_HEAD:
        home, away = draw(st.none() | codes), draw(st.none() | codes)
        period_codes = draw(st.lists(st.sampled_from(list(PERIOD_KINDS)), max_size=5))
        periods = tuple(
            Period(
                code=code,
                kind=PERIOD_KINDS[code],
                home_score=draw(st.none() | st.integers(0, 99)),
                away_score=draw(st.none() | st.integers(0, 99)),
                home_period_score=draw(st.none() | st.integers(0, 99)),
                away_period_score=draw(st.none() | st.integers(0, 99)),
            )
            for code in period_codes
        )
    start = draw(st.none() | moments)
    return UnitResult(
        competition=draw(st.sampled_from(["OG2024", "PG2024", "SYOG-2026"])),
        unit=draw(unit_codes(discipline)),
        discipline=discipline,
        version=draw(versions),
        status=draw(st.sampled_from(ResultStatus)),
        shape=shape,
        document=draw(st.sampled_from(DocumentKind)),
        subcode=draw(st.none() | short_codes),
        subtype=draw(st.none() | short_codes),
        feed=draw(feeds) if feed is None else feed,
        source=draw(st.from_regex(r"[A-Z]{3}[A-Z0-9]{1,12}", fullmatch=True)),
        start=start,
        end=draw(st.none() | moments),
        current_period=draw(st.none() | st.sampled_from(list(PERIOD_KINDS))),
        home=home,
        away=away,
        periods=periods,
        competitors=tuple(draw(st.lists(competitor_results(shape), max_size=4))),
    )


@st.composite
def schedule_documents(draw: st.DrawFn, feed: Feed | None = None) -> ScheduleDocument:
    discipline = draw(st.sampled_from([d for ds in DISCIPLINES.values() for d in ds]))
    entries = st.builds(
        ScheduleEntry,
        unit=unit_codes(discipline),
        status=st.sampled_from(UnitStatus),
        start=st.none() | moments,
        end=st.none() | moments,
        venue=st.none() | st.sampled_from(["LDA", "PDP", "STF", "ARE"]),
        location=st.none() | texts,
        title=st.none() | texts,
        medal=st.none() | st.sampled_from(MedalKind),
    )
    return ScheduleDocument(
        competition="OG2024",
        discipline=discipline,
        version=draw(versions),
        full=draw(st.booleans()),
        generated_at=draw(moments),
        feed=draw(feeds) if feed is None else feed,
        units=tuple(draw(st.lists(entries, max_size=5))),
    )


@st.composite
def medallists_documents(draw: st.DrawFn, feed: Feed | None = None) -> Medallists:
    discipline = draw(st.sampled_from(["SWM", "ATH", "JUD"]))
    event = event_code(discipline, draw(st.sampled_from("MW")), draw(short_codes))
    unit = event[:22] + "FNL-000100--"
    lines = st.builds(
        Medallist,
        medal=st.sampled_from(MedalKind),
        competitor=competitors(),
        unit=st.none() | st.just(unit),
    )
    return Medallists(
        competition="OG2024",
        event=event,
        version=draw(versions),
        status=draw(st.sampled_from(ResultStatus)),
        feed=draw(feeds) if feed is None else feed,
        medallists=tuple(draw(st.lists(lines, max_size=4))),
    )


standings_documents = st.builds(
    MedalStandings,
    competition=st.just("OG2024"),
    version=versions,
    feed=feeds,
    standings=st.lists(
        st.builds(
            MedalStanding,
            rank=st.integers(1, 200),
            noc=nocs,
            gold=st.integers(0, 50),
            silver=st.integers(0, 50),
            bronze=st.integers(0, 50),
            total=st.integers(0, 150),
        ),
        max_size=5,
    ).map(tuple),
)
