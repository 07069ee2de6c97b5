"""The rehearsal as a results system: scenario updates as ODF documents.

A venue's results system is a *source* named by the venue code. It sends, through the
results service's ODF adapter:

- one ``DT_SCHEDULE`` per discipline when the day is played (:func:`schedule_documents`);
- a ``DT_RESULT`` per result update (:func:`unit_result`), a full snapshot with an ascending
  version, as ODF has it;
- a ``DT_MEDALLISTS`` of the event whenever a medal unit's result becomes official, or is
  corrected after a protest (:class:`MedallistsFeed`);
- ``DT_KA`` keep-alives (:func:`keepalive`).

Each document becomes an :class:`OdfMessage`: its XML, written by the results service's own
:mod:`~flambeau.services.results.odf_builder`, and a deterministic id, so a document sent again
after a restart is the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from flambeau.events import Event
from flambeau.scenario.generators.progressions import Progression
from flambeau.scenario.generators.results import Irm, Line, Medal, Outcome, ResultUpdate
from flambeau.scenario.schedule import MedalKind as ScheduleMedal
from flambeau.scenario.schedule import Schedule, Unit
from flambeau.scenario.sports import Shape, discipline
from flambeau.services.results.odf_builder import (
    keepalive_xml,
    medallists_xml,
    result_xml,
    schedule_xml,
)
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorKind,
    CompetitorResult,
    Detail,
    DocumentType,
    KeepAlive,
    MatchOutcome,
    MedalKind,
    Medallist,
    Medallists,
    Period,
    PeriodKind,
    ResultStatus,
    ScheduleDocument,
    ScheduleEntry,
    Split,
    UnitResult,
)

__all__ = [
    "COMPETITION",
    "MedallistsFeed",
    "OdfMessage",
    "event_code",
    "keepalive",
    "result_message",
    "schedule_documents",
    "unit_result",
]

COMPETITION = "OG2024"

# The results service's status and shape enums are not exported by its schemas module (its
# contract), so their values travel as strings and msgspec.convert checks them.
_SHAPE = {Shape.RACE: "timed", Shape.HEAD_TO_HEAD: "head_to_head", Shape.JUDGED: "judged"}
_OUTCOME = {Outcome.WIN: MatchOutcome.WIN, Outcome.LOSS: MatchOutcome.LOSS,
            Outcome.TIE: MatchOutcome.TIE}  # fmt: skip
_MEDAL = {Medal.GOLD: MedalKind.GOLD, Medal.SILVER: MedalKind.SILVER,
          Medal.BRONZE: MedalKind.BRONZE}  # fmt: skip
_SCHEDULE_MEDAL = {ScheduleMedal.ALL: MedalKind.GOLD, ScheduleMedal.GOLD: MedalKind.GOLD,
                   ScheduleMedal.BRONZE: MedalKind.BRONZE}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OdfMessage:
    """One ODF document as a results source sends it.

    Attributes:
        id: Deterministic message id (the idempotency id of the post).
        source: The sending source (a venue code).
        kind: The ODF document type.
        time: When the source produced it, UTC.
        xml: The document.
        code: Its document code (a unit or event RSC, a discipline or the source).
        native: The same document as the results service's native JSON form, for a gateway
            that serves no ODF adapter.
    """

    id: str
    source: str
    kind: DocumentType
    time: datetime
    xml: str
    code: str
    native: Event


def event_code(unit_code: str) -> str:
    """The event-level RSC of a unit: discipline, gender and event, phase and unit dashed."""
    return unit_code[:22].ljust(34, "-")


def _message_id(kind: DocumentType, code: str, version: int) -> str:
    digest = hashlib.blake2b(f"{kind.value}/{code}/{version}".encode(), digest_size=12)
    return f"odf-{digest.hexdigest()}"


def _competitor(unit: Unit, line: Line) -> Competitor:
    team = discipline(unit.discipline).event(unit.event).team
    who = line.competitor
    kind = CompetitorKind.TEAM if team else CompetitorKind.ATHLETE
    return Competitor(code=who.code, kind=kind, noc=who.noc, name=who.name)


def _line(unit: Unit, update: ResultUpdate, line: Line) -> CompetitorResult:
    spec = discipline(unit.discipline)
    who = _competitor(unit, line)
    irm = None if line.irm is None else line.irm.value
    result = line.result or None
    if spec.shape is Shape.RACE:
        labels = spec.event(unit.event).splits
        splits = tuple(
            Split(at=label, time_ms=ms) for label, ms in zip(labels, line.periods, strict=False)
        )
        # ODF carries the time as the text shown (the latest split during the race), which is
        # what the results service reads back: the typed time is that text's, not the photo
        # finish's thousandths.
        shown = None if line.value is None or line.irm is not None else _shown_ms(line.value)
        return CompetitorResult(
            competitor=who, rank=line.rank, result=result, irm=irm, start_order=line.order,
            time_ms=shown, splits=splits,
        )  # fmt: skip
    if spec.shape is Shape.HEAD_TO_HEAD:
        return CompetitorResult(
            competitor=who, rank=line.rank, result=result, irm=irm, start_order=line.order,
            score=line.value, outcome=None if line.outcome is None else _OUTCOME[line.outcome],
        )  # fmt: skip
    details = tuple(
        Detail(code="ROUTINE", pos=str(n), value=str(Decimal(score).scaleb(-3)))
        for n, score in enumerate(line.periods, start=1)
    )
    return CompetitorResult(
        competitor=who, rank=line.rank, result=result, irm=irm, start_order=line.order,
        points=None if line.value is None else Decimal(line.value).scaleb(-3), details=details,
    )  # fmt: skip


def _shown_ms(ms: int) -> int:
    """``ms`` rounded as the scenario displays it: hundredths, or seconds past an hour."""
    step = 1000 if ms >= 3_600_000 else 10
    return round(ms / step) * step  # as format_time rounds (half to even)


def _periods(update: ResultUpdate, lines: Mapping[int, Line], sets: bool) -> tuple[Period, ...]:
    home, away = lines.get(1), lines.get(2)
    if home is None or away is None:
        return ()
    out = []
    home_total = away_total = 0
    for index, code in enumerate(update.period_codes):
        home_part = home.periods[index] if index < len(home.periods) else 0
        away_part = away.periods[index] if index < len(away.periods) else 0
        upper = code.upper()
        shootout = upper.startswith("PSO")
        kind = (
            PeriodKind.SHOOTOUT
            if shootout
            else PeriodKind.EXTRA_TIME
            if upper.startswith(("ET", "OT", "GS"))
            else PeriodKind.REGULAR
        )
        if not (shootout or sets):
            home_total += home_part
            away_total += away_part
        running = not (shootout or sets)
        out.append(
            Period(
                code=code,
                kind=kind,
                home_score=home_total if running else None,
                away_score=away_total if running else None,
                home_period_score=home_part,
                away_period_score=away_part,
            )
        )
    return tuple(out)


def unit_result(update: ResultUpdate, unit: Unit) -> UnitResult:
    """The results service's form of ``update`` (what the ODF document will carry)."""
    spec = discipline(unit.discipline)
    by_order = {line.order: line for line in update.lines}
    head_to_head = spec.shape is Shape.HEAD_TO_HEAD
    sets = spec.rules is not None and spec.rules.sets_to_win > 0
    fields: dict[str, Any] = {
        "competition": COMPETITION,
        "unit": unit.code,
        "discipline": unit.discipline,
        "version": update.version,
        "status": update.status.value,
        "shape": _SHAPE[spec.shape],
        "source": unit.venue,
        "start": unit.start,
        "end": unit.end,
        "current_period": update.period,
        "home": by_order[1].competitor.code if head_to_head and 1 in by_order else None,
        "away": by_order[2].competitor.code if head_to_head and 2 in by_order else None,
        "periods": _periods(update, by_order, sets) if head_to_head else (),
        "competitors": tuple(_line(unit, update, line) for line in update.lines),
    }
    return msgspec.convert(fields, UnitResult)


def result_message(update: ResultUpdate, unit: Unit) -> OdfMessage:
    """The ``DT_RESULT`` message of ``update``."""
    result = unit_result(update, unit)
    xml = result_xml(result, generated_at=update.time, source=unit.venue)
    return OdfMessage(
        _message_id(DocumentType.RESULT, unit.code, update.version),
        unit.venue,
        DocumentType.RESULT,
        update.time,
        xml,
        unit.code,
        result,
    )


def keepalive(source: str, discipline_code: str, at: datetime) -> OdfMessage:
    """A ``DT_KA`` from ``source``; its version is the second it was sent."""
    version = int(at.timestamp())
    xml = keepalive_xml(
        competition=COMPETITION,
        discipline=discipline_code,
        source=source,
        seen_at=at,
        version=version,
    )
    return OdfMessage(
        _message_id(DocumentType.KEEP_ALIVE, source, version),
        source,
        DocumentType.KEEP_ALIVE,
        at,
        xml,
        source,
        KeepAlive(source=source, seen_at=at),
    )


def schedule_documents(schedule: Schedule, generated_at: datetime) -> list[OdfMessage]:
    """One full ``DT_SCHEDULE`` per discipline of the day, sent by its first venue.

    A discipline whose codes the results schemas refuse is left out (its unit results are
    refused too, and counted by the driver).
    """
    by_discipline: dict[str, list[Unit]] = {}
    for unit in schedule.units:
        by_discipline.setdefault(unit.discipline, []).append(unit)
    out = []
    version = schedule.day.toordinal()  # a later day's schedule is a later version
    for code, units in sorted(by_discipline.items()):
        spec = discipline(code)
        try:
            entries = _entries(spec.name, units)
        except msgspec.ValidationError:
            continue
        document = ScheduleDocument(
            competition=COMPETITION,
            discipline=code,
            version=version,
            full=True,
            generated_at=generated_at,
            units=entries,
        )
        source = units[0].venue
        xml = schedule_xml(document, source=source, logical_date=schedule.day)
        out.append(
            OdfMessage(
                _message_id(DocumentType.SCHEDULE, f"{code}/{schedule.day}", version),
                source,
                DocumentType.SCHEDULE,
                generated_at,
                xml,
                code,
                document,
            )
        )
    return out


def _entries(name: str, units: list[Unit]) -> tuple[ScheduleEntry, ...]:
    return tuple(
        msgspec.convert(
            {
                "unit": unit.code,
                "status": "scheduled",
                "start": unit.start,
                "end": unit.end,
                "venue": unit.venue,
                "location": unit.field,
                "title": f"{name} {discipline(unit.discipline).event(unit.event).name} "
                f"{unit.gender} {unit.phase}",
                "medal": None if unit.medal is None else _SCHEDULE_MEDAL[unit.medal],
            },
            ScheduleEntry,
        )
        for unit in units
    )


class MedallistsFeed:
    """The medallists of each event, as official results (and corrections) come in: what a
    venue's results system publishes as ``DT_MEDALLISTS``. (The results service's ``MedalBook``
    is the other side: it tallies those documents into the medal table.)

    An event's medals may be decided by several units (a bronze medal match, then the final).
    Its ``DT_MEDALLISTS`` lists every medal decided so far, ``partial`` until its last medal
    unit is official; the version is the sum of the decided units' result versions, so it
    grows with each unit decided and with each correction, and is the same on every replay.
    """

    def __init__(self, progressions: Iterable[Progression]) -> None:
        self._units: dict[str, list[Progression]] = {}
        for progression in progressions:
            if progression.unit.medal is not None:
                key = event_code(progression.unit.code)
                self._units.setdefault(key, []).append(progression)

    def message(self, update: ResultUpdate, unit: Unit) -> OdfMessage | None:
        """The ``DT_MEDALLISTS`` that ``update`` calls for, if it decides or moves medals."""
        if unit.medal is None or update.status is not ResultStatus.OFFICIAL:
            return None
        code = event_code(unit.code)
        medallists: list[Medallist] = []
        version = 0
        decided = 0
        units = self._units.get(code, [])
        for progression in units:
            standing = _standing(progression, update.time)
            if standing is None:
                continue
            decided += 1
            version += standing.version
            for line in standing.lines:
                if line.medal is not None and line.irm is not Irm.DSQ:
                    medallists.append(
                        Medallist(
                            medal=_MEDAL[line.medal],
                            competitor=_competitor(progression.unit, line),
                            unit=progression.unit.code,
                        )
                    )
        complete = decided == len(units)
        fields = {
            "competition": COMPETITION,
            "event": code,
            "version": version,
            "status": "official" if complete else "partial",
            "medallists": tuple(medallists),
        }
        document = msgspec.convert(fields, Medallists)
        xml = medallists_xml(document, generated_at=update.time, source=unit.venue)
        return OdfMessage(
            _message_id(DocumentType.MEDALLISTS, code, version),
            unit.venue,
            DocumentType.MEDALLISTS,
            update.time,
            xml,
            code,
            document,
        )


def _standing(progression: Progression, at: datetime) -> ResultUpdate | None:
    """The last official update of ``progression`` produced at or before ``at``."""
    found = None
    for update in progression.updates:
        if update.time > at:
            break
        if update.status is ResultStatus.OFFICIAL:
            found = update
    return found
