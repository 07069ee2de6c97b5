"""Write ODF XML from normalized values: what a timing system would send.

The rehearsal simulator uses this to act as a results source, and tests use it to make ODF
sequences. What it writes, :func:`~flambeau.services.results.odf.parse` reads back to the same
values, with two conventions:

- a competitor's ``result`` text, when ``None``, is written from its typed value
  (``time_ms`` as ``52.16``, ``score`` as ``3``, ``points`` as written), so it parses back
  filled in;
- ``venue`` and ``unit_status`` of a :class:`UnitResult` have no place in an ODF result
  document and are not written (ODF carries them in the schedule).

Example::

    xml = result_xml(unit_result, generated_at=now, source="SWM-TIMING")
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from xml.etree import ElementTree as ET

from flambeau.services.results.codes import GAMES_TZ, format_time_ms
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorKind,
    CompetitorResult,
    DocumentKind,
    DocumentType,
    Feed,
    MedalKind,
    Medallists,
    MedalStandings,
    OdfHeader,
    ScheduleDocument,
    UnitResult,
)

__all__ = [
    "build",
    "keepalive_xml",
    "medallists_xml",
    "medals_xml",
    "result_xml",
    "schedule_xml",
]

_FEED_FLAGS = {Feed.PRODUCTION: "P", Feed.TEST: "T"}
_MEDAL_CODES = {
    MedalKind.GOLD: "ME_GOLD",
    MedalKind.SILVER: "ME_SILVER",
    MedalKind.BRONZE: "ME_BRONZE",
}
_MEDAL_FLAGS = {MedalKind.GOLD: "1", MedalKind.SILVER: "2", MedalKind.BRONZE: "3"}
_OUTCOMES = {"win": "W", "loss": "L", "tie": "T"}

Body = UnitResult | ScheduleDocument | Medallists | MedalStandings


def build(header: OdfHeader, body: Body | None = None, *, tz: tzinfo = GAMES_TZ) -> str:
    """The ODF XML of ``header`` and ``body`` (no body for keep-alives and raw-only types).

    Args:
        header: The ``<OdfBody>`` attributes; it must agree with ``body`` (the ``*_xml``
            helpers below derive it from the body).
        body: The content.
        tz: The zone to write ``Date``, ``Time`` and unit times in (the Games' local time).
    """
    local = header.generated_at.astimezone(tz)
    attributes = {
        "CompetitionCode": header.competition,
        "DocumentCode": header.document_code,
        "DocumentSubcode": header.document_subcode,
        "DocumentType": header.document_type.value,
        "DocumentSubtype": header.document_subtype,
        "Version": str(header.version),
        "ResultStatus": None if header.result_status is None else header.result_status.name,
        "FeedFlag": _FEED_FLAGS[header.feed],
        "Date": local.date().isoformat(),
        "Time": local.strftime("%H%M%S") + f"{local.microsecond // 1000:03d}",
        "LogicalDate": None if header.logical_date is None else header.logical_date.isoformat(),
        "Source": header.source,
    }
    root = ET.Element("OdfBody", _present(attributes))
    match body:
        case UnitResult():
            _unit_result(root, body, tz)
        case ScheduleDocument():
            _schedule(root, body, tz)
        case Medallists():
            _medallists(root, body)
        case MedalStandings():
            _standings(root, body)
        case None:
            pass
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def result_xml(
    result: UnitResult,
    *,
    generated_at: datetime,
    source: str | None = None,
    logical_date: date | None = None,
    tz: tzinfo = GAMES_TZ,
) -> str:
    """A ``DT_RESULT`` (or ``DT_CURRENT``) document for ``result``.

    ``source`` defaults to ``result.source``; one of them must be set.
    """
    chosen = source or result.source
    if not chosen:
        raise ValueError("an ODF document needs a Source: pass source=")
    header = OdfHeader(
        competition=result.competition,
        document_code=result.unit,
        document_type=(
            DocumentType.RESULT if result.document is DocumentKind.RESULT else DocumentType.CURRENT
        ),
        version=result.version,
        feed=result.feed,
        generated_at=generated_at,
        source=chosen,
        document_subtype=result.subtype,
        document_subcode=result.subcode,
        result_status=result.status,
        logical_date=logical_date,
    )
    return build(header, result, tz=tz)


def schedule_xml(
    doc: ScheduleDocument, *, source: str, logical_date: date | None = None, tz: tzinfo = GAMES_TZ
) -> str:
    """A ``DT_SCHEDULE`` (``doc.full``) or ``DT_SCHEDULE_UPDATE`` document for ``doc``."""
    header = OdfHeader(
        competition=doc.competition,
        document_code=doc.discipline.ljust(34, "-"),
        document_type=DocumentType.SCHEDULE if doc.full else DocumentType.SCHEDULE_UPDATE,
        version=doc.version,
        feed=doc.feed,
        generated_at=doc.generated_at,
        source=source,
        logical_date=logical_date,
    )
    return build(header, doc, tz=tz)


def medallists_xml(
    doc: Medallists,
    *,
    generated_at: datetime,
    source: str,
    logical_date: date | None = None,
    tz: tzinfo = GAMES_TZ,
) -> str:
    """A ``DT_MEDALLISTS`` document for ``doc``."""
    header = OdfHeader(
        competition=doc.competition,
        document_code=doc.event,
        document_type=DocumentType.MEDALLISTS,
        version=doc.version,
        feed=doc.feed,
        generated_at=generated_at,
        source=source,
        result_status=doc.status,
        logical_date=logical_date,
    )
    return build(header, doc, tz=tz)


def medals_xml(
    doc: MedalStandings,
    *,
    generated_at: datetime,
    source: str,
    document_code: str = "OLY" + "-" * 31,
    tz: tzinfo = GAMES_TZ,
) -> str:
    """A ``DT_MEDALS`` document for ``doc`` (a competition-wide table)."""
    header = OdfHeader(
        competition=doc.competition,
        document_code=document_code,
        document_type=DocumentType.MEDALS,
        version=doc.version,
        feed=doc.feed,
        generated_at=generated_at,
        source=source,
        result_status=None,
    )
    return build(header, doc, tz=tz)


def keepalive_xml(
    *,
    competition: str,
    discipline: str,
    source: str,
    seen_at: datetime,
    version: int = 1,
    feed: Feed = Feed.PRODUCTION,
    tz: tzinfo = GAMES_TZ,
) -> str:
    """A ``DT_KA`` keep-alive from ``source`` at ``seen_at``."""
    header = OdfHeader(
        competition=competition,
        document_code=discipline.ljust(34, "-"),
        document_type=DocumentType.KEEP_ALIVE,
        version=version,
        feed=feed,
        generated_at=seen_at,
        source=source,
    )
    return build(header, tz=tz)


def _present(attributes: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in attributes.items() if value is not None}


def _moment(value: datetime | None, tz: tzinfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def _unit_result(root: ET.Element, result: UnitResult, tz: tzinfo) -> None:
    competition = ET.SubElement(root, "Competition")
    if result.start or result.end or result.current_period:
        infos = ET.SubElement(competition, "ExtendedInfos")
        if result.start or result.end:
            when = {"StartDate": _moment(result.start, tz), "EndDate": _moment(result.end, tz)}
            ET.SubElement(infos, "UnitDateTime", _present(when))
        if result.current_period:
            info = {"Type": "UI", "Code": "PERIOD", "Value": result.current_period}
            ET.SubElement(infos, "ExtendedInfo", info)
    if result.periods or result.home or result.away:
        sides = _present({"Home": result.home, "Away": result.away})
        periods = ET.SubElement(competition, "Periods", sides)
        for period in result.periods:
            scores = {
                "Code": period.code,
                "HomeScore": _text(period.home_score),
                "AwayScore": _text(period.away_score),
                "HomePeriodScore": _text(period.home_period_score),
                "AwayPeriodScore": _text(period.away_period_score),
            }
            ET.SubElement(periods, "Period", _present(scores))
    for line in result.competitors:
        _result_line(competition, line)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _result_line(parent: ET.Element, line: CompetitorResult) -> None:
    if line.time_ms is not None:
        value, kind = format_time_ms(line.time_ms), "TIME"
    elif line.score is not None:
        value, kind = str(line.score), "POINTS"
    elif line.points is not None:
        value, kind = str(line.points), "POINTS"
    else:
        value, kind = None, None
    attributes = {
        "Rank": _text(line.rank),
        "RankEqual": "Y" if line.rank_equal else None,
        "Result": line.result if line.result is not None else value,
        "IRM": line.irm,
        "WLT": None if line.outcome is None else _OUTCOMES[line.outcome.value],
        "SortOrder": _text(line.sort_order),
        "StartOrder": _text(line.start_order),
        "ResultType": None if kind is None else ("IRM_" + kind if line.irm else kind),
    }
    node = ET.SubElement(parent, "Result", _present(attributes))
    if line.records:
        indicators = ET.SubElement(node, "RecordIndicators")
        for order, mark in enumerate(line.records, 1):
            marked = {
                "Order": str(order),
                "Code": mark.code,
                "RecordType": mark.code,
                "Equalled": "Y" if mark.equalled else "N",
            }
            ET.SubElement(indicators, "RecordIndicator", marked)
    if line.splits or line.details:
        extended = ET.SubElement(node, "ExtendedResults")
        for split in line.splits:
            at = {
                "Type": "ER",
                "Code": "INTERMEDIATE",
                "Pos": split.at,
                "Value": None if split.time_ms is None else format_time_ms(split.time_ms),
                "Rank": _text(split.rank),
            }
            ET.SubElement(extended, "ExtendedResult", _present(at))
        for detail in line.details:
            item = {"Type": "ER", "Code": detail.code, "Pos": detail.pos, "Value": detail.value}
            ET.SubElement(extended, "ExtendedResult", _present(item))
    _competitor(node, line.competitor)


def _description(given_and_family: str | None, organisation: str | None) -> dict[str, str]:
    given = family = None
    if given_and_family is not None:
        given, _, family = given_and_family.rpartition(" ")
    return _present(
        {"GivenName": given or None, "FamilyName": family, "Organisation": organisation}
    )


def _competitor(parent: ET.Element, competitor: Competitor) -> None:
    attributes = {
        "Code": competitor.code,
        "Type": "T" if competitor.kind is CompetitorKind.TEAM else "A",
        "Organisation": competitor.noc,
    }
    node = ET.SubElement(parent, "Competitor", _present(attributes))
    if competitor.name is not None:
        if competitor.kind is CompetitorKind.TEAM:
            ET.SubElement(node, "Description", {"TeamName": competitor.name})
        else:
            ET.SubElement(node, "Description", _description(competitor.name, None))
    if competitor.athletes:
        composition = ET.SubElement(node, "Composition")
        for order, athlete in enumerate(competitor.athletes, 1):
            member = ET.SubElement(
                composition, "Athlete", {"Code": athlete.code, "Order": str(order)}
            )
            if athlete.name is not None or athlete.noc is not None:
                ET.SubElement(member, "Description", _description(athlete.name, athlete.noc))


def _schedule(root: ET.Element, doc: ScheduleDocument, tz: tzinfo) -> None:
    competition = ET.SubElement(root, "Competition")
    for entry in doc.units:
        attributes = {
            "Code": entry.unit,
            "ScheduleStatus": entry.status.name,
            "StartDate": _moment(entry.start, tz),
            "EndDate": _moment(entry.end, tz),
            "Medal": None if entry.medal is None else _MEDAL_FLAGS[entry.medal],
            "Venue": entry.venue,
            "Location": entry.location,
        }
        unit = ET.SubElement(competition, "Unit", _present(attributes))
        if entry.title is not None:
            ET.SubElement(unit, "ItemName", {"Language": "ENG", "Value": entry.title})


def _medallists(root: ET.Element, doc: Medallists) -> None:
    competition = ET.SubElement(root, "Competition")
    for medallist in doc.medallists:
        attributes = _present({"Code": _MEDAL_CODES[medallist.medal], "Unit": medallist.unit})
        medal = ET.SubElement(competition, "Medal", attributes)
        _competitor(medal, medallist.competitor)


def _standings(root: ET.Element, doc: MedalStandings) -> None:
    table = ET.SubElement(
        ET.SubElement(ET.SubElement(root, "Competition"), "MedalStandings"), "MedalsTable"
    )
    for standing in doc.standings:
        line = ET.SubElement(
            table, "MedalLine", {"Rank": str(standing.rank), "Organisation": standing.noc}
        )
        counts = {
            "Type": "TOT",
            "Gold": str(standing.gold),
            "Silver": str(standing.silver),
            "Bronze": str(standing.bronze),
            "Total": str(standing.total),
        }
        ET.SubElement(line, "MedalNumber", counts)
