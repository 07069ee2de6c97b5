"""Spectators entering and leaving each venue, and the crowd density in front of it.

Each session sells 82-100% of its field's seats. Spectators arrive over the 90 minutes before
the start and the first 20 minutes of play, most of them about 25 minutes before the start
(a gamma-shaped curve); they leave over 45 minutes from 10 minutes before the end, most of them
5 minutes after it. Gates open at the venue's opening time, so an early session's arrivals are
squeezed into the minutes after opening.

A session's crowd leaves when its units actually end (``ends``: extra time, a late start or
a delay move the exits with the results), not at the scheduled end. A crowd surge (a script's
``crowd_surge``) fills the forecourt to :data:`SURGE_M2_PER_PERSON` for its minutes.

Gate counters report per minute; each venue-minute draws from its own generator, so a window
of the day holds exactly what the whole day holds in that window. The forecourt holds whoever
arrived in the last 8 minutes (queueing at the security check) and whoever left in the last 3;
its density gives a Fruin level of service for walkways (m² per person), judged by the crowds
service's published table (:mod:`flambeau.services.crowds.levels`)::

    A ≥ 3.3 > B ≥ 2.3 > C ≥ 1.4 > D ≥ 0.9 > E ≥ 0.5 > F
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flambeau.scenario._random import poisson, rng_for
from flambeau.scenario.generators.progressions import Progression
from flambeau.scenario.schedule import Schedule, Session
from flambeau.scenario.venues import venue
from flambeau.services.crowds.levels import fruin_level
from flambeau.services.crowds.schemas import FruinLevel
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "AreaDensity",
    "CrowdEvent",
    "GateCount",
    "Surge",
    "VenueFlow",
    "attendance",
    "crowd_events",
    "expected_flows",
    "gate_ids",
    "session_ends",
    "surge_people",
]

_MINUTE = timedelta(minutes=1)
_ARRIVE_BEFORE = 90
_ARRIVE_AFTER = 20
_LEAVE_BEFORE = 10
_LEAVE_AFTER = 35
_QUEUE_MINUTES = 8
_EGRESS_MINUTES = 3
_PEOPLE_PER_GATE = 4_000
_FORECOURT_M2_PER_SEAT = 0.12
SURGE_M2_PER_PERSON = 0.45
"""The forecourt's space per person at the height of a surge (Fruin walkway level F)."""
_PLAYED = (ResultStatus.UNOFFICIAL, ResultStatus.OFFICIAL)


@dataclass(frozen=True, slots=True)
class GateCount:
    """What one gate counter saw in one minute.

    Attributes:
        time: The end of the counted minute (when the counter reports), UTC.
        venue: Venue code.
        gate: Gate id, ``<venue>-G<nn>``.
        entered: People who came in during the minute.
        exited: People who went out.
    """

    time: datetime
    venue: str
    gate: str
    entered: int
    exited: int


@dataclass(frozen=True, slots=True)
class AreaDensity:
    """The crowd in a venue area at the end of a minute.

    Attributes:
        time: UTC.
        venue: Venue code.
        area: Area id, ``<venue>-FORECOURT``.
        people: People in the area.
        area_m2: Its walkable surface.
        level: Fruin walkway level of service.
    """

    time: datetime
    venue: str
    area: str
    people: int
    area_m2: int
    level: FruinLevel

    @property
    def m2_per_person(self) -> float:
        """Square metres per person (infinite when the area is empty)."""
        return math.inf if self.people == 0 else self.area_m2 / self.people


CrowdEvent = GateCount | AreaDensity


@dataclass(frozen=True, slots=True)
class Surge:
    """A surge window on a venue's forecourt."""

    venue: str
    start: datetime
    end: datetime


def surge_people(surges: Sequence[Surge], venue: str, reported: datetime, area_m2: int) -> int:
    """The people a surge puts on ``venue``'s forecourt at the minute ending ``reported``.

    0 outside every surge; the first minute of a surge brings 60% of its height.
    """
    for surge in surges:
        if surge.venue == venue and surge.start < reported <= surge.end:
            height = area_m2 / SURGE_M2_PER_PERSON
            ramp = 0.6 if reported - surge.start <= _MINUTE else 1.0
            return round(height * ramp)
    return 0


def session_ends(
    schedule: Schedule, progressions: Mapping[str, Progression]
) -> dict[str, datetime]:
    """When play actually ended in each session: its last unit's first unofficial (or official)
    result, from the day's progressions; sessions without one are left out."""
    ends: dict[str, datetime] = {}
    for session in schedule.sessions:
        times = [
            next((u.time for u in progression.updates if u.status in _PLAYED), None)
            for code in session.units
            if (progression := progressions.get(code)) is not None
        ]
        played = [t for t in times if t is not None]
        if played:
            ends[session.code] = max(played)
    return ends


@dataclass(frozen=True)
class VenueFlow:
    """Expected spectators per minute at one venue over the day (means, not draws).

    Attributes:
        venue: Venue code.
        start: The first minute (gates opening), UTC.
        arrivals: Expected arrivals in each minute.
        exits: Expected departures in each minute.
    """

    venue: str
    start: datetime
    arrivals: tuple[float, ...]
    exits: tuple[float, ...]

    def index(self, at: datetime) -> int:
        """The minute index of ``at`` (may fall outside the arrays)."""
        return int((at - self.start) // _MINUTE)

    def occupancy(self) -> list[float]:
        """Expected spectators inside the venue at the end of each minute."""
        inside = 0.0
        out = []
        for came, went in zip(self.arrivals, self.exits, strict=True):
            inside = max(0.0, inside + came - went)
            out.append(inside)
        return out


def attendance(session: Session, seed: int) -> int:
    """Spectators of ``session``: 82-100% of its seats, deterministic for ``seed``."""
    return round(session.capacity * rng_for(seed, "attendance", session.code).uniform(0.82, 1.0))


def _curve(weights: list[float], first: int, lo: int, hi: int) -> dict[int, float]:
    """Spread a unit mass over minutes ``first + i``, keeping only minutes in ``[lo, hi)``."""
    kept = {first + i: w for i, w in enumerate(weights) if lo <= first + i < hi}
    total = sum(kept.values())
    if total == 0.0:
        # The whole window is outside opening hours: everyone comes in the first minute.
        return {max(lo, min(hi - 1, first)): 1.0}
    return {minute: w / total for minute, w in kept.items()}


_ARRIVAL = [x * x * math.exp(-x / 32.5) for x in range(_ARRIVE_BEFORE + _ARRIVE_AFTER)]
_EXIT = [x * math.exp(-x / 15.0) for x in range(_LEAVE_BEFORE + _LEAVE_AFTER)]


def expected_flows(
    schedule: Schedule, seed: int, ends: Mapping[str, datetime] | None = None
) -> dict[str, VenueFlow]:
    """Expected arrivals and departures per minute at each venue with a session.

    ``ends``: when each session's play actually ended (:func:`session_ends`), by session code;
    the scheduled end otherwise.
    """
    actual = ends or {}
    flows: dict[str, VenueFlow] = {}
    for code in schedule.venues:
        place = venue(code)
        opens, closes = place.opening_hours(schedule.day)
        sessions = schedule.sessions_at(code)
        first = opens  # nobody gets in before the gates open
        last_end = max(actual.get(s.code, s.end) for s in sessions)
        last = max(closes, last_end) + (_LEAVE_AFTER + 1) * _MINUTE
        size = int((last - first) // _MINUTE)
        arrivals = [0.0] * size
        exits = [0.0] * size
        for session in sessions:
            people = attendance(session, seed)
            start = int((session.start - first) // _MINUTE)
            end = int((actual.get(session.code, session.end) - first) // _MINUTE)
            for minute, share in _curve(_ARRIVAL, start - _ARRIVE_BEFORE, 0, size).items():
                arrivals[minute] += people * share
            for minute, share in _curve(_EXIT, end - _LEAVE_BEFORE, 0, size).items():
                exits[minute] += people * share
        flows[code] = VenueFlow(code, first, tuple(arrivals), tuple(exits))
    return flows


def gate_ids(venue_code: str, rate_multiplier: float = 1.0) -> list[str]:
    """The gate counters reporting at ``venue_code``: one per 4,000 seats, scaled."""
    gates = max(1, round(venue(venue_code).capacity / _PEOPLE_PER_GATE * rate_multiplier))
    return [f"{venue_code}-G{n:02d}" for n in range(1, gates + 1)]


def crowd_events(
    schedule: Schedule,
    seed: int,
    *,
    rate_multiplier: float = 1.0,
    start: datetime | None = None,
    end: datetime | None = None,
    ends: Mapping[str, datetime] | None = None,
    surges: Sequence[Surge] = (),
) -> Iterator[CrowdEvent]:
    """Gate counts and forecourt densities, minute by minute, in time order.

    Args:
        schedule: The day.
        seed: The run's seed.
        rate_multiplier: Scales the number of reporting gate counters (and so the number of
            events); the number of spectators stays the same.
        start: Skip minutes ending before this time.
        end: Stop at minutes ending after this time.
        ends: When each session's play actually ended, by session code (see
            :func:`expected_flows`).
        surges: Crowd surges on the forecourts.
    """
    flows = expected_flows(schedule, seed, ends)
    states = []
    for code, flow in sorted(flows.items()):
        gates = gate_ids(code, rate_multiplier)
        rng = rng_for(seed, "gates", code)
        weights = [rng.uniform(0.5, 1.5) for _ in gates]
        total = sum(weights)
        shares = [w / total for w in weights]
        area = max(800, round(venue(code).capacity * _FORECOURT_M2_PER_SEAT))
        states.append(_GateState(flow, gates, shares, area, seed, surges))
    first = min(flow.start for flow in flows.values())
    last = max(flow.start + len(flow.arrivals) * _MINUTE for flow in flows.values())
    minute = first
    if start is not None:
        # Each minute draws from its own generator; only the forecourt's memory of the last
        # few minutes has to be replayed before the window opens.
        warmup = (max(_QUEUE_MINUTES, _EGRESS_MINUTES) + 1) * _MINUTE
        minute = max(first, first + ((start - warmup - first) // _MINUTE) * _MINUTE)
    while minute < last:
        reported = minute + _MINUTE
        if end is not None and reported > end:
            return
        for state in states:
            events = state.step(minute)
            if start is None or reported >= start:
                yield from events
        minute = reported


@dataclass
class _GateState:
    flow: VenueFlow
    gates: list[str]
    shares: list[float]
    area_m2: int
    seed: int
    surges: Sequence[Surge] = ()
    recent_in: tuple[int, ...] = ()
    recent_out: tuple[int, ...] = ()

    def step(self, minute: datetime) -> list[CrowdEvent]:
        index = self.flow.index(minute)
        if not 0 <= index < len(self.flow.arrivals):
            return []
        rng = rng_for(self.seed, "crowd", self.flow.venue, index)
        came, went = self.flow.arrivals[index], self.flow.exits[index]
        reported = minute + _MINUTE
        out: list[CrowdEvent] = []
        entered_total = exited_total = 0
        for gate, share in zip(self.gates, self.shares, strict=True):
            entered = poisson(rng, came * share)
            exited = poisson(rng, went * share)
            entered_total += entered
            exited_total += exited
            if entered or exited:
                out.append(GateCount(reported, self.flow.venue, gate, entered, exited))
        self.recent_in = (*self.recent_in[-(_QUEUE_MINUTES - 1) :], entered_total)
        self.recent_out = (*self.recent_out[-(_EGRESS_MINUTES - 1) :], exited_total)
        people = sum(self.recent_in) + sum(self.recent_out)
        people = max(people, surge_people(self.surges, self.flow.venue, reported, self.area_m2))
        level = fruin_level(people, self.area_m2)
        area = f"{self.flow.venue}-FORECOURT"
        out.append(AreaDensity(reported, self.flow.venue, area, people, self.area_m2, level))
        return out
