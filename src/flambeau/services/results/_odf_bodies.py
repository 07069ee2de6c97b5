"""The bodies of the ODF documents the results service normalizes.

Each function reads one document type below ``<OdfBody>`` into its normalized value; the
header is already parsed and checked (:mod:`.odf`).
"""

from __future__ import annotations

import re
from decimal import Decimal

from flambeau.services.results._xml import INTEGER, Node
from flambeau.services.results.codes import (
    ORGANISATION_CODE,
    SHORT_CODE,
    Level,
    Shape,
    parse_rsc,
    parse_time_ms,
    shape_of_discipline,
)
from flambeau.services.results.errors import InvalidRscError, MissingElementError
from flambeau.services.results.periods import period_kind
from flambeau.services.results.schemas import (
    Athlete,
    Competitor,
    CompetitorKind,
    CompetitorResult,
    Detail,
    DocumentKind,
    DocumentType,
    MatchOutcome,
    MedalKind,
    Medallist,
    Medallists,
    MedalStanding,
    MedalStandings,
    OdfHeader,
    Period,
    RecordMark,
    ScheduleDocument,
    ScheduleEntry,
    Split,
    UnitResult,
)
from flambeau.services.results.statuses import UnitStatus

__all__ = ["medal_standings", "medallists", "schedule", "unit_result"]

_ORGANISATION = re.compile(ORGANISATION_CODE)
_CODE = re.compile(SHORT_CODE)
_DECIMAL = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$")
_MEDALS = {"ME_GOLD": MedalKind.GOLD, "ME_SILVER": MedalKind.SILVER, "ME_BRONZE": MedalKind.BRONZE}
_MEDAL_FLAGS = {"1": MedalKind.GOLD, "2": MedalKind.SILVER, "3": MedalKind.BRONZE}
_OUTCOMES = {"W": MatchOutcome.WIN, "L": MatchOutcome.LOSS, "T": MatchOutcome.TIE}
_KINDS = {"A": CompetitorKind.ATHLETE, "T": CompetitorKind.TEAM}
_SPLIT_CODES = frozenset({"INTERMEDIATE", "SPLIT"})


def unit_result(root: Node, header: OdfHeader) -> UnitResult:
    """A ``DT_RESULT`` or ``DT_CURRENT`` body."""
    competition = root.need_child("Competition")
    discipline = header.document_code[:3]
    start = end = current_period = None
    infos = competition.child("ExtendedInfos")
    if infos is not None:
        when = infos.child("UnitDateTime")
        if when is not None:
            start, end = when.moment("StartDate"), when.moment("EndDate")
        for info in infos.children("ExtendedInfo"):
            if info.get("Type") == "UI" and info.get("Code") == "PERIOD":
                current_period = info.get("Value")
    home = away = None
    periods: tuple[Period, ...] = ()
    block = competition.child("Periods")
    if block is not None:
        home, away = block.get("Home"), block.get("Away")
        periods = tuple(_period(node) for node in block.children("Period"))
    results = competition.children("Result")
    shape = shape_of_discipline(discipline)
    if shape is None:
        if block is not None:
            shape = Shape.HEAD_TO_HEAD
        elif any((node.get("ResultType") or "").endswith("TIME") for node in results):
            shape = Shape.TIMED
        else:
            shape = Shape.JUDGED
    assert header.result_status is not None  # mandatory for DT_RESULT, defaulted for DT_CURRENT
    return UnitResult(
        competition=header.competition,
        unit=header.document_code,
        discipline=discipline,
        version=header.version,
        status=header.result_status,
        shape=shape,
        document=(
            DocumentKind.RESULT
            if header.document_type is DocumentType.RESULT
            else DocumentKind.CURRENT
        ),
        subcode=header.document_subcode,
        subtype=header.document_subtype,
        feed=header.feed,
        source=header.source,
        start=start,
        end=end,
        current_period=current_period,
        home=home,
        away=away,
        periods=periods,
        competitors=tuple(_competitor_result(node, shape) for node in results),
    )


def _period(node: Node) -> Period:
    code = node.need("Code")
    return Period(
        code=code,
        kind=period_kind(code),
        home_score=node.integer("HomeScore"),
        away_score=node.integer("AwayScore"),
        home_period_score=node.integer("HomePeriodScore"),
        away_period_score=node.integer("AwayPeriodScore"),
    )


def _competitor_result(node: Node, shape: Shape) -> CompetitorResult:
    text = node.get("Result")
    result_type = node.get("ResultType")
    explicit = result_type is not None and not result_type.startswith("IRM")
    time_ms = score = points = None
    base = (result_type or "").removeprefix("IRM_") or None
    if base == "TIME" or (base is None and shape is Shape.TIMED):
        time_ms = parse_time_ms(text) if text else None
        if time_ms is None and text and explicit:
            raise node.invalid("Result", "expected a time such as 52.16 or 1:45.30")
    elif base in ("POINTS", "SCORE") or base is None:
        if shape is Shape.HEAD_TO_HEAD:
            score = int(text) if text and INTEGER.match(text) else None
        elif text and _DECIMAL.match(text):
            points = Decimal(text)
        elif text and explicit:
            raise node.invalid("Result", "expected points such as 14.866")
    splits: list[Split] = []
    details: list[Detail] = []
    extended = node.child("ExtendedResults")
    for item in [] if extended is None else extended.children("ExtendedResult"):
        code = item.need("Code")
        if item.get("Type") == "ER" and code in _SPLIT_CODES:
            value = item.get("Value")
            split_ms = parse_time_ms(value) if value else None
            if value and split_ms is None:
                raise item.invalid("Value", "expected a split time such as 25.12")
            at = item.need("Pos")
            splits.append(Split(at=at, time_ms=split_ms, rank=item.integer("Rank", minimum=1)))
        else:
            details.append(Detail(code=code, value=item.get("Value") or "", pos=item.get("Pos")))
    records: list[RecordMark] = []
    indicators = node.child("RecordIndicators")
    for mark in [] if indicators is None else indicators.children("RecordIndicator"):
        code = mark.get("Code") or mark.need("RecordType")
        if not _CODE.match(code):
            raise mark.invalid("Code", "not a record code such as WR or OR")
        records.append(RecordMark(code=code, equalled=mark.flag("Equalled")))
    return CompetitorResult(
        competitor=_competitor(node.need_child("Competitor")),
        rank=node.integer("Rank", minimum=1),
        rank_equal=node.flag("RankEqual"),
        result=text,
        time_ms=time_ms,
        score=score,
        points=points,
        irm=node.code("IRM", _CODE, "invalid result mark such as DNF"),
        outcome=node.choice("WLT", _OUTCOMES),
        sort_order=node.integer("SortOrder", minimum=1),
        start_order=node.integer("StartOrder", minimum=1),
        splits=tuple(splits),
        details=tuple(details),
        records=tuple(records),
    )


def _name(node: Node | None) -> str | None:
    if node is None:
        return None
    team = node.get("TeamName")
    if team is not None:
        return team
    parts = [part for part in (node.get("GivenName"), node.get("FamilyName")) if part]
    return " ".join(parts) or None


def _competitor(node: Node) -> Competitor:
    athletes: list[Athlete] = []
    composition = node.child("Composition")
    for member in [] if composition is None else composition.children("Athlete"):
        description = member.child("Description")
        athletes.append(
            Athlete(
                code=member.need("Code"),
                name=_name(description),
                noc=None
                if description is None
                else description.code("Organisation", _ORGANISATION, "organisation code"),
            )
        )
    return Competitor(
        code=node.need("Code"),
        kind=node.choice("Type", _KINDS) or CompetitorKind.ATHLETE,
        noc=node.code("Organisation", _ORGANISATION, "organisation code such as FRA"),
        name=_name(node.child("Description")),
        athletes=tuple(athletes),
    )


def schedule(root: Node, header: OdfHeader) -> ScheduleDocument:
    """A ``DT_SCHEDULE`` or ``DT_SCHEDULE_UPDATE`` body."""
    competition = root.need_child("Competition")
    discipline = header.document_code[:3]
    entries = []
    for node in competition.children("Unit"):
        code = node.need("Code")
        rsc = parse_rsc(code, element=node.path, attribute="Code", at_least=Level.EVENT)
        if rsc.discipline != discipline:
            raise InvalidRscError(
                f"a {discipline} schedule cannot hold a {rsc.discipline} unit",
                element=node.path,
                attribute="Code",
                value=code,
                part="discipline",
            )
        status_text = node.need("ScheduleStatus")
        if status_text not in UnitStatus.__members__:
            raise node.invalid(
                "ScheduleStatus", "expected one of " + ", ".join(UnitStatus.__members__)
            )
        names = node.children("ItemName")
        english = [name for name in names if name.get("Language") in (None, "ENG")]
        title = (english or names)[0].get("Value") if names else None
        entries.append(
            ScheduleEntry(
                unit=code,
                status=UnitStatus[status_text],
                start=node.moment("StartDate"),
                end=node.moment("EndDate"),
                venue=node.get("Venue"),
                location=node.get("Location"),
                title=title,
                medal=None if node.get("Medal") == "0" else node.choice("Medal", _MEDAL_FLAGS),
            )
        )
    return ScheduleDocument(
        competition=header.competition,
        discipline=discipline,
        version=header.version,
        full=header.document_type is DocumentType.SCHEDULE,
        generated_at=header.generated_at,
        feed=header.feed,
        units=tuple(entries),
    )


def medallists(root: Node, header: OdfHeader) -> Medallists:
    """A ``DT_MEDALLISTS`` body."""
    competition = root.need_child("Competition")
    medallists: list[Medallist] = []
    for node in competition.children("Medal"):
        medal = node.need_choice("Code", _MEDALS)
        unit = node.get("Unit")
        if unit is not None:
            parse_rsc(unit, element=node.path, attribute="Unit", at_least=Level.UNIT)
        competitors = node.children("Competitor")
        if not competitors:
            raise MissingElementError("a Medal needs a Competitor", element=node.path)
        medallists.extend(
            Medallist(medal=medal, competitor=_competitor(competitor), unit=unit)
            for competitor in competitors
        )
    assert header.result_status is not None  # mandatory for DT_MEDALLISTS
    return Medallists(
        competition=header.competition,
        event=parse_rsc(header.document_code, at_least=Level.EVENT).event_code,
        version=header.version,
        status=header.result_status,
        feed=header.feed,
        medallists=tuple(medallists),
    )


def medal_standings(root: Node, header: OdfHeader) -> MedalStandings:
    """A ``DT_MEDALS`` body."""
    table = root.need_child("Competition").need_child("MedalStandings").need_child("MedalsTable")
    standings = []
    for line in table.children("MedalLine"):
        line.need("Organisation")
        line.need("Rank")
        noc = line.code("Organisation", _ORGANISATION, "organisation code such as FRA")
        rank = line.integer("Rank", minimum=1)
        assert noc is not None  # present, or need() raised
        assert rank is not None
        numbers = [n for n in line.children("MedalNumber") if n.get("Type") in (None, "TOT")]
        if not numbers:
            raise MissingElementError("a MedalLine needs a MedalNumber", element=line.path)
        count = numbers[0]
        gold, silver, bronze = (count.integer(name) or 0 for name in ("Gold", "Silver", "Bronze"))
        total = count.integer("Total")
        standings.append(
            MedalStanding(
                rank=rank,
                noc=noc,
                gold=gold,
                silver=silver,
                bronze=bronze,
                total=gold + silver + bronze if total is None else total,
            )
        )
    return MedalStandings(
        competition=header.competition,
        version=header.version,
        feed=header.feed,
        standings=tuple(standings),
    )
