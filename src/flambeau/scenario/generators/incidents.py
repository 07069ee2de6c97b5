"""Incidents: scripted or drawn at random, each one meant to move the downstream services.

Nine kinds:

- ``extra_time``: a match ends level after regulation and plays extra time (or a shoot-out),
  so it ends later than scheduled and its markets stay open longer.
- ``protest``: a protest after a medal unit's official result; a corrected official result
  with a higher version disqualifies the winner and moves the medals.
- ``source_silence``: a venue's results system goes quiet (30 s by default): no keep-alive,
  and its result updates are held back and delivered when it comes back.
- ``fraud_burst``: a card-testing burst on one payment terminal.
- ``cutoff_rush``: hundreds of extra matches, all live and within 10 minutes of their betting
  cut-off at the incident's time, with their bettors' burst of changes and cash-outs
  (:mod:`.rush`); scripted only, never drawn at random.
- ``crowd_surge``, ``abandoned_object``, ``stadium_blackout``, ``broadcast_outage``: the
  security room's incidents at a venue (see :mod:`.security`).

A script is a list of ``(time, incident)`` entries, written in TOML or JSON::

    [[incident]]
    at = "18:40"              # Paris time on the day, or ISO 8601 with an offset
    kind = "source_silence"
    source = "STA"            # optional: the busiest venue at that time otherwise
    seconds = 30

A target left out is chosen when the script is resolved against the day's schedule; the
random picker always names its targets.
"""

from __future__ import annotations

import json
import random
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from flambeau.scenario._random import rng_for
from flambeau.scenario.errors import IncidentTargetError, InvalidScriptError, UnknownCodeError
from flambeau.scenario.generators._matches import can_go_to_extra_time
from flambeau.scenario.generators.purchases import (
    CardTestingBurst,
    pos_terminals,
    ticket_machines,
)
from flambeau.scenario.generators.rush import MAX_RUSH_EVENTS, RUSH_EVENTS
from flambeau.scenario.generators.security import (
    AbandonedObject,
    BroadcastOutage,
    CrowdSurge,
    SecurityIncident,
    StadiumBlackout,
    Surge,
    random_security,
)
from flambeau.scenario.schedule import DEFAULT_DAY, Schedule, Unit
from flambeau.scenario.sports import Shape, discipline

__all__ = [
    "CutoffRush",
    "ExtraTime",
    "FraudBurst",
    "Incident",
    "IncidentKind",
    "Incidents",
    "Protest",
    "ScriptEntry",
    "Silence",
    "SourceSilence",
    "kind_of",
    "parse_script",
    "random_incidents",
    "resolve",
]

_PARIS = timezone(timedelta(hours=2))  # CEST held for the whole Games
_EXTRA_TIME_WEIGHT = {"FBL": 40.0, "HBL": 8.0, "BKB": 8.0, "HOC": 6.0, "WPO": 6.0, "JUD": 1.0,
                      "FEN": 1.0, "BOX": 1.0, "WRE": 1.0, "TKW": 1.0}  # fmt: skip


class IncidentKind(StrEnum):
    """The kinds of incident, as written in a script's ``kind`` field."""

    EXTRA_TIME = "extra_time"
    PROTEST = "protest"
    SOURCE_SILENCE = "source_silence"
    FRAUD_BURST = "fraud_burst"
    CUTOFF_RUSH = "cutoff_rush"
    CROWD_SURGE = "crowd_surge"
    ABANDONED_OBJECT = "abandoned_object"
    STADIUM_BLACKOUT = "stadium_blackout"
    BROADCAST_OUTAGE = "broadcast_outage"


@dataclass(frozen=True, slots=True)
class ExtraTime:
    """A match goes to extra time. ``unit`` is its RSC; ``None`` picks the match live then."""

    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Protest:
    """A protest re-assigns a unit's medals. ``unit``: ``None`` picks the last medal unit."""

    unit: str | None = None


@dataclass(frozen=True, slots=True)
class SourceSilence:
    """A venue's results source goes silent. ``source``: a venue code, or the busiest venue."""

    source: str | None = None
    seconds: int = 30


@dataclass(frozen=True, slots=True)
class FraudBurst:
    """A card-testing burst. ``venue``/``terminal``: ``None`` picks the busiest venue."""

    venue: str | None = None
    terminal: str | None = None
    cards: int = 40


@dataclass(frozen=True, slots=True)
class CutoffRush:
    """``events`` matches near their cut-off at once (:mod:`.rush`). ``venue``: the busiest."""

    events: int = RUSH_EVENTS
    venue: str | None = None


Incident = ExtraTime | Protest | SourceSilence | FraudBurst | CutoffRush | SecurityIncident

_KINDS: dict[IncidentKind, type[Incident]] = {
    IncidentKind.EXTRA_TIME: ExtraTime,
    IncidentKind.PROTEST: Protest,
    IncidentKind.SOURCE_SILENCE: SourceSilence,
    IncidentKind.FRAUD_BURST: FraudBurst,
    IncidentKind.CUTOFF_RUSH: CutoffRush,
    IncidentKind.CROWD_SURGE: CrowdSurge,
    IncidentKind.ABANDONED_OBJECT: AbandonedObject,
    IncidentKind.STADIUM_BLACKOUT: StadiumBlackout,
    IncidentKind.BROADCAST_OUTAGE: BroadcastOutage,
}


def kind_of(incident: Incident) -> IncidentKind:
    """The script ``kind`` of ``incident``."""
    return next(kind for kind, cls in _KINDS.items() if isinstance(incident, cls))


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    """One incident at one time (UTC)."""

    at: datetime
    incident: Incident

    def describe(self) -> str:
        """One line for logs and the rehearsal's report."""
        target = ", ".join(
            f"{f.name}={getattr(self.incident, f.name)}"
            for f in fields(self.incident)
            if getattr(self.incident, f.name) is not None
        )
        return f"{self.at.isoformat()} {kind_of(self.incident).value}({target})"


@dataclass(frozen=True, slots=True)
class Silence:
    """A window during which ``source`` says nothing."""

    source: str
    start: datetime
    end: datetime

    def covers(self, source: str, at: datetime) -> bool:
        """Whether ``source`` is silent at ``at``."""
        return source == self.source and self.start <= at < self.end


@dataclass(frozen=True)
class Incidents:
    """A script resolved against a schedule: what each generator must do.

    Attributes:
        entries: The entries with every target named, by time.
        extra_time: Codes of the units forced to extra time.
        protests: Unit code to the time its protest is filed.
        silences: Silent windows per source.
        bursts: Scripted card-testing bursts.
        rushes: Scripted cut-off rushes, with their time.
        security: The security incidents (venue named), with their times.
        surges: The crowd surges' windows on the forecourts.
    """

    entries: tuple[ScriptEntry, ...] = ()
    extra_time: frozenset[str] = frozenset()
    protests: Mapping[str, datetime] | None = None
    silences: tuple[Silence, ...] = ()
    bursts: tuple[CardTestingBurst, ...] = ()
    rushes: tuple[tuple[datetime, CutoffRush], ...] = ()
    security: tuple[tuple[datetime, SecurityIncident], ...] = ()
    surges: tuple[Surge, ...] = ()


def parse_script(
    text: str, *, day: date = DEFAULT_DAY, fmt: str = "toml"
) -> tuple[ScriptEntry, ...]:
    """Parse an incident script written in TOML (``[[incident]]`` tables) or JSON.

    JSON is either a list of entries or ``{"incident": [...]}``. Each entry has ``at`` (a Paris
    time ``HH:MM[:SS]`` on ``day``, or an ISO 8601 datetime with an offset), ``kind`` and the
    kind's optional fields.

    Raises:
        InvalidScriptError: bad syntax, an unknown kind or field, a bad time or value; the
            message names the entry.
    """
    try:
        if fmt == "toml":
            raw: Any = tomllib.loads(text)
        elif fmt == "json":
            raw = json.loads(text)
        else:
            raise InvalidScriptError(f"unknown script format {fmt!r}; use 'toml' or 'json'")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidScriptError(f"incident script is not valid {fmt.upper()}: {exc}") from exc
    items = raw.get("incident", []) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise InvalidScriptError("incident script must hold a list of incidents")
    entries = [_entry(item, number, day) for number, item in enumerate(items, start=1)]
    return tuple(sorted(entries, key=lambda entry: entry.at))


def _entry(item: object, number: int, day: date) -> ScriptEntry:
    where = f"incident #{number}"
    if not isinstance(item, dict):
        raise InvalidScriptError(f"{where} must be a table of fields")
    values = dict(item)
    try:
        kind = IncidentKind(values.pop("kind"))
    except KeyError:
        raise InvalidScriptError(f"{where} has no 'kind'") from None
    except ValueError:
        known = ", ".join(k.value for k in IncidentKind)
        raise InvalidScriptError(
            f"{where} has unknown kind {item['kind']!r}; known: {known}"
        ) from None
    if "at" not in values:
        raise InvalidScriptError(f"{where} ({kind.value}) has no 'at' time")
    at = _time(values.pop("at"), day, where)
    cls = _KINDS[kind]
    allowed = {f.name: f.type for f in fields(cls)}
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidScriptError(
            f"{where} ({kind.value}) has unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
    for name, value in values.items():
        wanted = int if name in ("seconds", "cards", "events", "minutes") else str
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise InvalidScriptError(
                f"{where} ({kind.value}) field {name!r} must be {wanted.__name__}, got {value!r}"
            )
        if isinstance(value, int) and value <= 0:
            raise InvalidScriptError(f"{where} ({kind.value}) field {name!r} must be positive")
    return ScriptEntry(at, cls(**values))


def _time(value: object, day: date, where: str) -> datetime:
    if isinstance(value, datetime):  # TOML has native datetimes
        parsed = value
    elif isinstance(value, time):
        parsed = datetime.combine(day, value, tzinfo=_PARIS)
    elif isinstance(value, str):
        try:
            if "T" in value or " " in value:
                parsed = datetime.fromisoformat(value)
            else:
                parsed = datetime.combine(day, time.fromisoformat(value), tzinfo=_PARIS)
        except ValueError:
            raise InvalidScriptError(f"{where} has a bad time {value!r}") from None
    else:
        raise InvalidScriptError(f"{where} has a bad time {value!r}")
    if parsed.utcoffset() is None:
        raise InvalidScriptError(f"{where} time {value!r} needs an offset (or use HH:MM)")
    return parsed.astimezone(UTC)


def resolve(script: Iterable[ScriptEntry], schedule: Schedule) -> Incidents:
    """Name every target of ``script`` against ``schedule`` and group the effects.

    Raises:
        IncidentTargetError: a named target does not exist on the day or cannot take the
            incident, or no target fits an unnamed one.
    """
    entries: list[ScriptEntry] = []
    for entry in sorted(script, key=lambda e: e.at):
        entries.append(ScriptEntry(entry.at, _target(entry, schedule)))
    extra: set[str] = set()
    protests: dict[str, datetime] = {}
    silences: list[Silence] = []
    bursts: list[CardTestingBurst] = []
    rushes: list[tuple[datetime, CutoffRush]] = []
    security: list[tuple[datetime, SecurityIncident]] = []
    for entry in entries:
        match entry.incident:
            case ExtraTime(unit=str(unit)):
                extra.add(unit)
            case Protest(unit=str(unit)):
                protests.setdefault(unit, entry.at)
            case SourceSilence(source=str(source), seconds=seconds):
                silences.append(Silence(source, entry.at, entry.at + timedelta(seconds=seconds)))
            case FraudBurst(venue=str(venue), terminal=terminal, cards=cards):
                bursts.append(CardTestingBurst(entry.at, venue, terminal, cards))
            case CutoffRush():
                rushes.append((entry.at, entry.incident))
            case CrowdSurge() | AbandonedObject() | StadiumBlackout() | BroadcastOutage():
                security.append((entry.at, entry.incident))
    surges = tuple(
        Surge(str(i.venue), at, at + timedelta(minutes=i.minutes))
        for at, i in security
        if isinstance(i, CrowdSurge)
    )
    return Incidents(
        tuple(entries), frozenset(extra), protests, tuple(silences), tuple(bursts),
        tuple(rushes), tuple(security), surges,
    )  # fmt: skip


def _target(entry: ScriptEntry, schedule: Schedule) -> Incident:
    at, incident = entry.at, entry.incident
    match incident:
        case ExtraTime(unit=None):
            eligible = [u for u in schedule.units if can_go_to_extra_time(u)]
            return ExtraTime(_around(eligible, at, "a match that can go to extra time").code)
        case ExtraTime(unit=str(code)):
            if not can_go_to_extra_time(_unit(schedule, code)):
                raise IncidentTargetError(f"unit {code} cannot go to extra time")
            return incident
        case Protest(unit=None):
            medals = [u for u in schedule.units if u.medal is not None]
            done = [u for u in medals if u.end <= at]
            if done:
                return Protest(max(done, key=lambda u: u.end).code)
            return Protest(_around(medals, at, "a medal unit").code)
        case Protest(unit=str(code)):
            if _unit(schedule, code).medal is None:
                raise IncidentTargetError(f"unit {code} awards no medal to protest")
            return incident
        case SourceSilence(source=None):
            return SourceSilence(_busiest(schedule, at), incident.seconds)
        case SourceSilence(source=str(code)):
            if code not in schedule.venues:
                raise IncidentTargetError(f"source {code!r} is not a venue with units on the day")
            return incident
        case FraudBurst(venue=None):
            return FraudBurst(
                _busiest(schedule, at, by_crowd=True), incident.terminal, incident.cards
            )
        case FraudBurst(venue=str(code), terminal=terminal):
            if code not in schedule.venues:
                raise IncidentTargetError(f"venue {code!r} has no session on the day")
            if terminal is not None and terminal not in pos_terminals(code) + ticket_machines(code):
                raise IncidentTargetError(f"terminal {terminal!r} is not at venue {code}")
            return incident
        case CutoffRush(events=events) if events > MAX_RUSH_EVENTS:
            raise IncidentTargetError(f"a cut-off rush has at most {MAX_RUSH_EVENTS} events")
        case CutoffRush(venue=None):
            return CutoffRush(incident.events, _busiest(schedule, at))
        case CutoffRush(venue=str(code)):
            if code not in schedule.venues:
                raise IncidentTargetError(f"venue {code!r} has no session on the day")
            return incident
        case CrowdSurge() | AbandonedObject() | StadiumBlackout() | BroadcastOutage():
            return _security_target(incident, schedule, at)
    raise IncidentTargetError(f"cannot resolve {incident!r}")  # pragma: no cover


def _security_target(
    incident: SecurityIncident, schedule: Schedule, at: datetime
) -> SecurityIncident:
    if incident.venue is None:
        return replace(incident, venue=_busiest(schedule, at, by_crowd=True))
    if incident.venue not in schedule.venues:
        raise IncidentTargetError(f"venue {incident.venue!r} has no session on the day")
    return incident


def _unit(schedule: Schedule, code: str) -> Unit:
    try:
        return schedule.unit(code)
    except UnknownCodeError as exc:
        raise IncidentTargetError(str(exc)) from None


def _around(units: Sequence[Unit], at: datetime, what: str) -> Unit:
    """The unit running at ``at``, else the next one to start."""
    for unit in units:
        if unit.start <= at < unit.end:
            return unit
    later = [unit for unit in units if unit.start >= at]
    if not later:
        raise IncidentTargetError(f"no {what} is running or still to come at {at.isoformat()}")
    return min(later, key=lambda unit: unit.start)


def _busiest(schedule: Schedule, at: datetime, *, by_crowd: bool = False) -> str:
    """The venue with the most units live at ``at`` (or, ``by_crowd``, the most seats)."""
    score: dict[str, float] = {}
    for session in schedule.sessions:
        if session.start - timedelta(hours=1) <= at < session.end + timedelta(minutes=30):
            score[session.venue] = score.get(session.venue, 0) + (
                session.capacity if by_crowd else 0
            )
    if not by_crowd:
        for unit in schedule.units:
            if unit.start <= at < unit.end:
                score[unit.venue] = score.get(unit.venue, 0) + 1
    if not score:
        upcoming = [s for s in schedule.sessions if s.start >= at] or list(schedule.sessions)
        if not upcoming:
            raise IncidentTargetError("the schedule has no session")
        return min(upcoming, key=lambda s: s.start).venue
    return max(sorted(score), key=lambda code: score[code])


def random_incidents(
    schedule: Schedule,
    seed: int,
    *,
    extra_time: int = 1,
    protests: int = 1,
    silences: int = 1,
    fraud_bursts: int = 1,
    security: int = 1,
) -> tuple[ScriptEntry, ...]:
    """Draw incidents for the day, every target named, deterministic for ``seed``.

    Args:
        schedule: The day.
        seed: The run's seed.
        extra_time: Matches forced to extra time (at their start); matches with extra
            periods are preferred over those that go straight to a shoot-out.
        protests: Medal units protested, 5 to 20 minutes after their scheduled end.
        silences: 30-second silences of a venue's results source, during one of its matches.
        fraud_bursts: Card-testing bursts at a venue in the 40 minutes before a session.
        security: Incidents of each security kind (:func:`.security.random_security`).

    Fewer incidents come back when the day has too few fitting units.
    """
    rng = rng_for(seed, "incidents")
    out: list[ScriptEntry] = []
    eligible = [u for u in schedule.units if can_go_to_extra_time(u)]
    # Real extra periods rather than a straight shoot-out (hockey, water polo), when the day
    # has any; football's extra time is the one the rehearsal most wants to show.
    eligible = [u for u in eligible if _has_extra_periods(u)] or eligible
    weights = [_EXTRA_TIME_WEIGHT.get(u.discipline, 2.0) for u in eligible]
    for unit in _weighted_sample(rng, eligible, weights, extra_time):
        out.append(ScriptEntry(unit.start, ExtraTime(unit.code)))
    medals = [u for u in schedule.units if u.medal is not None]
    for unit in rng.sample(medals, min(protests, len(medals))):
        out.append(
            ScriptEntry(unit.end + timedelta(minutes=rng.uniform(5, 20)), Protest(unit.code))
        )
    matches = [u for u in schedule.units if u.shape is Shape.HEAD_TO_HEAD]
    for unit in rng.sample(matches, min(silences, len(matches))):
        at = unit.start + unit.duration * rng.uniform(0.2, 0.6)
        out.append(ScriptEntry(at, SourceSilence(unit.venue)))
    sessions = list(schedule.sessions)
    for session in rng.sample(sessions, min(fraud_bursts, len(sessions))):
        at = session.start - timedelta(minutes=rng.uniform(0, 40))
        out.append(ScriptEntry(at, FraudBurst(session.venue, None, rng.randint(20, 60))))
    out += [ScriptEntry(at, drawn) for at, drawn in random_security(schedule, seed, security)]
    return tuple(sorted(out, key=lambda entry: entry.at))


def _weighted_sample(
    rng: random.Random, items: list[Unit], weights: list[float], count: int
) -> list[Unit]:
    """Up to ``count`` distinct items, each draw weighted."""
    pool, chances = list(items), list(weights)
    chosen: list[Unit] = []
    while pool and len(chosen) < count:
        index = rng.choices(range(len(pool)), weights=chances)[0]
        chosen.append(pool.pop(index))
        chances.pop(index)
    return chosen


def _has_extra_periods(unit: Unit) -> bool:
    rules = discipline(unit.discipline).rules
    return rules is not None and bool(rules.extra)
