"""A deterministic schedule of units for one Games day.

For each venue active on the day, each field of play gets session blocks from its disciplines'
templates; each session is then filled with units from a queue per discipline (shared by every
venue of that discipline, so four football stadiums share the day's four quarter-finals):

    day, seed ──▶ fields' session blocks ──▶ per-discipline unit queues ──▶ units in sessions

The day's phase follows the discipline's place in its Games window: group matches early,
quarter-finals, semi-finals, and the medal matches on its last day. Races run heats, then
semi-finals and a final; judged events a qualification, then a final. A session that is the
last of its field's day takes the late units (semi-finals, finals) first, so medals are won in
the evening. The seed changes which blocks a field uses (when a discipline plays fewer blocks
than it has templates, such as one football kick-off a day per stadium) and the order of the
events; the same seed always gives the same schedule. The result is plausible, not the official
timetable: per-discipline windows are approximate and sessions are filled greedily.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from flambeau.scenario._random import rng_for
from flambeau.scenario.errors import UnknownCodeError
from flambeau.scenario.sports import Discipline, EventSpec, Shape, discipline
from flambeau.scenario.venues import VENUES, FieldOfPlay, Venue, VenueSport
from flambeau.services.results.codes import rsc

__all__ = ["DEFAULT_DAY", "MedalKind", "Schedule", "Session", "Unit", "build_schedule"]

DEFAULT_DAY = date(2024, 8, 4)
"""Sunday 4 August 2024: the last day of swimming, the men's tennis and golf finals, the 100 m."""


class MedalKind(StrEnum):
    """Which medals a unit awards."""

    ALL = "all"
    """A final: gold, silver and bronze by rank."""
    GOLD = "gold"
    """A gold medal match: the winner takes gold, the loser silver."""
    BRONZE = "bronze"
    """A bronze medal match: the winner takes bronze."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One scheduled unit: a race, a match, a final.

    Attributes:
        code: The 34-character ODF RSC.
        discipline: ODF discipline code.
        gender: ``M``, ``W`` or ``X``.
        event: The RSC event code.
        phase: The RSC phase code (``HEAT``, ``GPA``, ``QFNL``, ``SFNL``, ``FNL``...).
        venue: Venue code.
        field: Field-of-play code within the venue.
        session: The session code.
        start: Scheduled start, UTC.
        duration: Expected duration (extra time may make the real one longer).
        competitors: Lanes, field size, or 2 for a match.
        medal: The medals this unit awards, or ``None``.
        draw_allowed: A head-to-head unit whose level score stands (a group match in a sport
            with draws); otherwise a level score goes to extra periods or a shoot-out.
    """

    code: str
    discipline: str
    gender: str
    event: str
    phase: str
    venue: str
    field: str
    session: str
    start: datetime
    duration: timedelta
    competitors: int
    medal: MedalKind | None = None
    draw_allowed: bool = False

    @property
    def end(self) -> datetime:
        """Expected end, UTC."""
        return self.start + self.duration

    @property
    def shape(self) -> Shape:
        """The discipline's competition shape."""
        return discipline(self.discipline).shape


@dataclass(frozen=True, slots=True)
class Session:
    """A ticketed block on one field of play.

    Attributes:
        code: ``<venue>-<field>-S<n>``.
        venue: Venue code.
        field: Field-of-play code.
        discipline: The discipline played in this session.
        start: UTC.
        end: UTC.
        capacity: Seats sold for the session.
        units: The codes of its units, in order.
    """

    code: str
    venue: str
    field: str
    discipline: str
    start: datetime
    end: datetime
    capacity: int
    units: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    """One day's sessions and units.

    Attributes:
        day: The local competition day.
        seed: The seed it was built from.
        sessions: Every session, by start time.
        units: Every unit, by start time.
    """

    day: date
    seed: int
    sessions: tuple[Session, ...]
    units: tuple[Unit, ...]

    def unit(self, code: str) -> Unit:
        """The unit ``code``.

        Raises:
            UnknownCodeError: no unit of that code is scheduled on the day.
        """
        for unit in self.units:
            if unit.code == code:
                return unit
        raise UnknownCodeError(f"no unit {code!r} on {self.day.isoformat()}")

    def units_at(self, venue: str) -> tuple[Unit, ...]:
        """The units at ``venue``, by start time."""
        return tuple(unit for unit in self.units if unit.venue == venue)

    def sessions_at(self, venue: str) -> tuple[Session, ...]:
        """The sessions at ``venue``, by start time."""
        return tuple(session for session in self.sessions if session.venue == venue)

    @property
    def venues(self) -> tuple[str, ...]:
        """The codes of the venues with at least one session, sorted."""
        return tuple(sorted({session.venue for session in self.sessions}))


@dataclass(frozen=True, slots=True)
class _Item:
    """A unit waiting in its discipline's queue for a session."""

    event: EventSpec
    gender: str
    phase: str
    late: bool
    medal: MedalKind | None = None
    draw_allowed: bool = False
    competitors: int = 2


@dataclass(slots=True)
class _Block:
    venue: Venue
    fop: FieldOfPlay
    sport: VenueSport
    start: datetime
    end: datetime
    last: bool = False


def build_schedule(day: date = DEFAULT_DAY, seed: int = 0) -> Schedule:
    """Build the schedule of ``day``, deterministic for ``seed``.

    Args:
        day: The local competition day.
        seed: Any integer; the same seed gives the same schedule.

    Returns:
        The day's sessions and units, each sorted by start time.
    """
    blocks = _blocks(day, seed)
    queues: dict[tuple[str, tuple[str, ...]], deque[_Item]] = {}
    counters: dict[tuple[str, str, str, str], int] = defaultdict(int)
    sessions: list[Session] = []
    units: list[Unit] = []
    per_field: dict[tuple[str, str], int] = defaultdict(int)
    for block in blocks:
        spec = discipline(block.sport.discipline)
        key = (spec.code, block.sport.events)
        if key not in queues:
            queues[key] = deque(_queue(spec, block.sport, day, rng_for(seed, "queue", *key)))
        picked = _fill(spec, block, queues[key])
        if not picked:
            continue
        field_key = (block.venue.code, block.fop.code)
        per_field[field_key] += 1
        code = f"{block.venue.code}-{block.fop.code}-S{per_field[field_key]}"
        at = block.start
        codes: list[str] = []
        for item in picked:
            unit = _unit(spec, item, block, code, at, counters)
            units.append(unit)
            codes.append(unit.code)
            at = unit.end + timedelta(minutes=spec.changeover_minutes)
        sessions.append(
            Session(code, block.venue.code, block.fop.code, spec.code, block.start, block.end,
                    block.fop.capacity, tuple(codes))
        )  # fmt: skip
    sessions.sort(key=lambda s: (s.start, s.code))
    units.sort(key=lambda u: (u.start, u.venue, u.field))
    return Schedule(day, seed, tuple(sessions), tuple(units))


def _blocks(day: date, seed: int) -> list[_Block]:
    """Session blocks of every field on ``day``, by start time (then venue, field)."""
    blocks: list[_Block] = []
    for venue in VENUES:
        for fop in venue.fields:
            planned: list[_Block] = []
            for sport in venue.active_sports(day):
                if sport.discipline not in fop.disciplines:
                    continue
                spec = discipline(sport.discipline)
                rng = rng_for(seed, "blocks", venue.code, fop.code, spec.code)
                templates = sorted(rng.sample(spec.sessions, spec.sessions_per_day))
                for start, end in templates:
                    block = _Block(
                        venue, fop, sport, venue.local(day, start), venue.local(day, end)
                    )
                    if all(block.end <= p.start or block.start >= p.end for p in planned):
                        planned.append(block)
            planned.sort(key=lambda b: b.start)
            if planned:
                planned[-1].last = len(planned) > 1
            blocks.extend(planned)
    blocks.sort(key=lambda b: (b.start, b.venue.code, b.fop.code))
    return blocks


def _window(code: str) -> tuple[date, date]:
    sports = [s for v in VENUES for s in v.sports if s.discipline == code]
    return min(s.first_day for s in sports), max(s.last_day for s in sports)


def _queue(spec: Discipline, sport: VenueSport, day: date, rng: random.Random) -> list[_Item]:
    """The units ``spec`` wants to play on ``day`` at venues holding ``sport``'s events."""
    events = [e for e in spec.events if not sport.events or e.code in sport.events]
    combos = [(event, gender) for event in events for gender in event.genders]
    rng.shuffle(combos)
    early: list[_Item] = []
    late: list[_Item] = []
    if spec.shape is Shape.HEAD_TO_HEAD:
        first, last = _window(spec.code)
        progress = (day - first).days / max(1, (last - first).days)
        if day >= last:
            late += [_Item(e, g, "FNL", True, MedalKind.BRONZE) for e, g in combos]
            late += [_Item(e, g, "FNL", True, MedalKind.GOLD) for e, g in combos]
        elif progress < 0.55:
            early += [
                _Item(e, g, f"GP{'ABCD'[n % 4]}", False, None, spec.draws)
                for n in range(12)
                for e, g in combos
            ]
        else:
            phase, count = ("QFNL", 4) if progress < 0.75 else ("SFNL", 2)
            late += [_Item(e, g, phase, True) for _ in range(count) for e, g in combos]
    elif spec.shape is Shape.RACE:
        for event, gender in combos:
            size = event.competitors
            long_race = spec.slot_minutes(event) >= 60
            if not long_race:
                heats = 3 if size <= 8 else 2
                early += [_Item(event, gender, "HEAT", False, competitors=size)] * heats
                if size <= 8:
                    late += [_Item(event, gender, "SFNL", True, competitors=size)] * 2
            late.append(_Item(event, gender, "FNL", True, MedalKind.ALL, competitors=size))
    else:
        for event, gender in combos:
            size = event.competitors
            if size > 2:
                early += [_Item(event, gender, "QUAL", False, competitors=size)] * 2
            late.append(_Item(event, gender, "FNL", True, MedalKind.ALL, competitors=size))
    # Late units go to the back of the queue: earlier sessions only reach them when no
    # preliminary is left to play.
    return early + sorted(
        late, key=lambda item: (item.phase != "SFNL", item.medal is MedalKind.GOLD)
    )


def _fill(spec: Discipline, block: _Block, queue: deque[_Item]) -> list[_Item]:
    """Take the units that fit in ``block`` from ``queue``, late units first in a last block."""
    budget = block.end - block.start
    gap = timedelta(minutes=spec.changeover_minutes)
    taken: list[_Item] = []
    used = timedelta(0)
    order = list(queue)
    if block.last:
        order.sort(key=lambda item: not item.late)  # stable: keeps the queue's order within
    for item in order:
        slot = timedelta(minutes=spec.slot_minutes(item.event))
        need = slot + (gap if taken else timedelta(0))
        if used + need > budget:
            if spec.shape is Shape.HEAD_TO_HEAD:
                break  # keep matches in bracket order rather than skipping ahead
            continue
        taken.append(item)
        used += need
    for item in taken:
        queue.remove(item)
    # Within the session preliminaries come first, and a gold medal match closes it.
    taken.sort(key=lambda item: (item.late, item.phase != "SFNL", item.medal is MedalKind.GOLD))
    return taken


def _unit(
    spec: Discipline,
    item: _Item,
    block: _Block,
    session: str,
    at: datetime,
    counters: dict[tuple[str, str, str, str], int],
) -> Unit:
    key = (spec.code, item.gender, item.event.code, item.phase)
    counters[key] += 1
    number = counters[key]
    if item.medal is MedalKind.BRONZE:
        number = 2
    elif item.medal is MedalKind.GOLD:
        number = 1
    code = rsc(spec.code, item.gender, item.event.code, item.phase, f"{number * 100:06d}")
    return Unit(
        code=code,
        discipline=spec.code,
        gender=item.gender,
        event=item.event.code,
        phase=item.phase,
        venue=block.venue.code,
        field=block.fop.code,
        session=session,
        start=at,
        duration=timedelta(minutes=spec.slot_minutes(item.event)),
        competitors=item.competitors,
        medal=item.medal,
        draw_allowed=item.draw_allowed,
    )
