"""The rehearsal day as one time-ordered stream of scenario actions.

:class:`Timeline` builds the schedule, resolves the incidents (the script's and, unless turned
off, a seeded random draw), plays every unit's progression, and merges the generators::

    results ─┐  (held back while their source is silent)
    alive ───┤  (one keep-alive per results source every 10 s, none while silent)
    crowds ──┼──▶ heapq.merge by games time ──▶ ScenarioAction(at, offset, kind, payload)
    payments ┤  (with the scripted fraud bursts)
    bets ────┤  (with the changes and cash-outs their bettors try, see ticket_moves)
    notes ───┤  (one per incident, for the report)
    deliveries ┤ (suppliers' meal deliveries, registered 45 min before they leave)
    mobility ──┤  (the strike, the jam and the closure on the Village's approach)
    rentals ───┘  (listings, bookings, searches, the qualifiers' fans; see generators.rentals)

``speed`` compresses time: an action at games time ``at`` is due ``(at - start) / speed``
wall seconds after the start (60 plays a Games hour in a minute). ``rate_multiplier`` scales
the number of payments, bets and gate counters, not the sport. Everything is deterministic for
a seed; nothing here does I/O, and nothing is generated before it is iterated.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flambeau.scenario.errors import ScenarioError
from flambeau.scenario.generators.bettors import BetPlacement, bets, popularity
from flambeau.scenario.generators.crowds import AreaDensity, GateCount, crowd_events, session_ends
from flambeau.scenario.generators.deliveries import (
    Delivery,
    MobilityIncident,
    deliveries,
    mobility_incidents,
)
from flambeau.scenario.generators.incidents import (
    Incidents,
    ScriptEntry,
    random_incidents,
    resolve,
)
from flambeau.scenario.generators.progressions import Progression, day_progressions
from flambeau.scenario.generators.purchases import DEFAULT_FRAUD_SHARE, Purchase, purchases
from flambeau.scenario.generators.rentals import RentalAction, rental_actions
from flambeau.scenario.generators.results import ResultUpdate
from flambeau.scenario.generators.rush import RUSH_BETS_PER_MINUTE, RUSH_DISCIPLINE, rush_units
from flambeau.scenario.generators.security import security_envelopes
from flambeau.scenario.generators.ticket_moves import TicketMove, with_moves
from flambeau.scenario.payloads import Envelope
from flambeau.scenario.schedule import DEFAULT_DAY, Schedule, build_schedule
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "ActionKind",
    "IncidentNote",
    "KeepAlive",
    "ScenarioAction",
    "ScenarioConfig",
    "Timeline",
]


class ActionKind(StrEnum):
    """What a scenario action carries."""

    RESULT = "result"
    KEEP_ALIVE = "keep_alive"
    GATE_COUNT = "gate_count"
    AREA_DENSITY = "area_density"
    PURCHASE = "purchase"
    BET = "bet"
    TICKET_MOVE = "ticket_move"
    INCIDENT = "incident"
    DELIVERY = "delivery"
    MOBILITY = "mobility"
    SECURITY = "security"
    RENTAL = "rental"


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """A results source saying it is alive (ODF ``DT_KA``)."""

    time: datetime
    source: str


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """An incident taking effect, for logs and the rehearsal's report (not sent anywhere)."""

    time: datetime
    entry: ScriptEntry

    @property
    def description(self) -> str:
        """One line describing the incident."""
        return self.entry.describe()


Payload = (
    ResultUpdate
    | KeepAlive
    | GateCount
    | AreaDensity
    | Purchase
    | BetPlacement
    | IncidentNote
    | Delivery
    | MobilityIncident
    | Envelope
    | RentalAction
)


@dataclass(frozen=True, slots=True)
class ScenarioAction:
    """One thing the driver should do.

    Attributes:
        at: Games time at which it happens (for a held-back result, when it is delivered;
            the payload keeps the time it was produced).
        offset: Wall seconds after the scenario's start when it is due, at the chosen speed.
        kind: What the payload is.
        source: The producer: a venue code for results, keep-alives and crowds, a terminal for
            payments, a jurisdiction for bets, ``incident`` for notes, the venue system or venue
            for a security incident's heartbeats and reports (ready ``Envelope`` values).
        payload: The value to send.
    """

    at: datetime
    offset: float
    kind: ActionKind
    source: str
    payload: Payload


@dataclass(frozen=True)
class ScenarioConfig:
    """How to play the day.

    Attributes:
        day: The local competition day.
        seed: The seed of every generator.
        speed: Games seconds per wall second (60: a Games hour per minute).
        rate_multiplier: Scales payments, bets and gate counters.
        fraud_share: Share of payments that are card testing.
        script: Scripted incidents.
        random_incidents: Add one incident of each kind drawn from the seed.
        start: Skip what happens before this time (default: the first thing of the day).
        end: Stop at this time (default: when everything has happened).
        keep_alive_seconds: Interval of each results source's keep-alive.
    """

    day: date = DEFAULT_DAY
    seed: int = 0
    speed: float = 60.0
    rate_multiplier: float = 1.0
    fraud_share: float = DEFAULT_FRAUD_SHARE
    script: tuple[ScriptEntry, ...] = ()
    random_incidents: bool = True
    start: datetime | None = None
    end: datetime | None = None
    keep_alive_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        if self.rate_multiplier < 0:
            raise ValueError(f"rate_multiplier must be >= 0, got {self.rate_multiplier}")
        if self.keep_alive_seconds <= 0:
            raise ValueError(f"keep_alive_seconds must be positive, got {self.keep_alive_seconds}")


@dataclass
class Timeline:
    """The whole rehearsal day, ready to iterate as :class:`ScenarioAction` values.

    Raises:
        ScenarioError: nothing is scheduled on the configured day.

    Attributes:
        config: The configuration.
        schedule: The day's schedule.
        incidents: The resolved incidents.
        progressions: Every unit's result progression, by unit code (with incidents applied).
        start: The games time of offset 0.
        rush: The codes of the matches scripted cut-off rushes added to the schedule.
    """

    config: ScenarioConfig = field(default_factory=ScenarioConfig)
    schedule: Schedule = field(init=False)
    incidents: Incidents = field(init=False)
    progressions: dict[str, Progression] = field(init=False)
    start: datetime = field(init=False)
    rush: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        self.schedule = build_schedule(cfg.day, cfg.seed)
        if not self.schedule.units:
            raise ScenarioError(f"no competition is scheduled on {cfg.day.isoformat()}")
        script = list(cfg.script)
        if cfg.random_incidents:
            script += random_incidents(self.schedule, cfg.seed)
        self.incidents = resolve(script, self.schedule)
        rush = tuple(
            unit
            for at, wanted in self.incidents.rushes
            for unit in rush_units(at, wanted.events, wanted.venue or "", cfg.seed)
        )
        self.rush = frozenset(u.code for u in rush)
        if rush:
            units = sorted((*self.schedule.units, *rush), key=lambda u: (u.start, u.code))
            self.schedule = replace(self.schedule, units=tuple(units))
        self.progressions = day_progressions(
            self.schedule,
            cfg.seed,
            extra_time=self.incidents.extra_time,
            protests=self.incidents.protests,
        )
        first_update = min(p.updates[0].time for p in self.progressions.values())
        first_session = min(s.start for s in self.schedule.sessions) - timedelta(hours=2)
        self.start = cfg.start or min(first_update, first_session)

    def offset(self, at: datetime) -> float:
        """Wall seconds after the start at which games time ``at`` is due."""
        return (at - self.start).total_seconds() / self.config.speed

    def __iter__(self) -> Iterator[ScenarioAction]:
        cfg = self.config
        start, end = self.start, cfg.end
        streams: list[Iterator[ScenarioAction]] = [
            self._results(),
            self._keep_alives(),
            (self._action(e.time, _crowd_kind(e), e.venue, e)
             for e in crowd_events(self.schedule, cfg.seed, rate_multiplier=cfg.rate_multiplier,
                                   start=start, end=end,
                                   ends=session_ends(self.schedule, self.progressions),
                                   surges=self.incidents.surges)),
            (self._action(e.time, ActionKind.SECURITY, e.key, e)
             for e in security_envelopes(self.incidents.security, self.schedule)),
            (self._action(p.time, ActionKind.PURCHASE, p.terminal, p)
             for p in purchases(self.schedule, cfg.seed, rate_multiplier=cfg.rate_multiplier,
                                fraud_share=cfg.fraud_share, bursts=self.incidents.bursts,
                                start=start, end=end)),
            (self._bet_action(b) for b in with_moves(self._bets(), cfg.seed, self._ends())),
            (self._action(e.at, ActionKind.INCIDENT, "incident", IncidentNote(e.at, e))
             for e in self.incidents.entries),
            (self._action(d.time, ActionKind.DELIVERY, d.body["origin"], d)
             for d in deliveries(self.schedule, start=start, end=end)),
            (self._action(m.time, ActionKind.MOBILITY, m.kind, m)
             for m in mobility_incidents(self.schedule.day, start=start, end=end)),
            (self._action(r.time, ActionKind.RENTAL, r.kind, r)
             for r in rental_actions(self.schedule, self.progressions.values(), cfg.seed,
                                     opening=start, rate_multiplier=cfg.rate_multiplier)),
        ]  # fmt: skip
        for action in heapq.merge(*streams, key=lambda a: a.at):
            if action.at < start:
                continue
            if end is not None and action.at >= end:
                return
            yield action

    def _bets(self) -> Iterator[BetPlacement]:
        """The day's bets; a cut-off rush's matches at their own low rate (see :mod:`.rush`)."""
        cfg = self.config
        start, end = self.start, cfg.end
        day = [p for code, p in self.progressions.items() if code not in self.rush]
        streams = [bets(day, cfg.seed, rate_multiplier=cfg.rate_multiplier, start=start, end=end)]
        if self.rush:
            scale = RUSH_BETS_PER_MINUTE / popularity(RUSH_DISCIPLINE)
            rushed = [self.progressions[code] for code in sorted(self.rush)]
            multiplier = cfg.rate_multiplier * scale
            streams.append(bets(rushed, cfg.seed, rate_multiplier=multiplier, start=start, end=end))
        return heapq.merge(*streams, key=lambda b: (b.time, b.id))

    def _ends(self) -> dict[str, datetime]:
        """When play ends, by unit, for the units bettors bet on."""
        return {code: p.finished_at for code, p in self.progressions.items()
                if any(u.status is ResultStatus.UNOFFICIAL for u in p.updates)}  # fmt: skip

    def _bet_action(self, item: BetPlacement | TicketMove) -> ScenarioAction:
        if isinstance(item, TicketMove):
            return self._action(item.time, ActionKind.TICKET_MOVE, item.bet.jurisdiction, item)
        return self._action(item.time, ActionKind.BET, item.jurisdiction, item)

    def _action(self, at: datetime, kind: ActionKind, source: str, payload: Any) -> ScenarioAction:
        return ScenarioAction(at, self.offset(at), kind, source, payload)

    def _delivery(self, source: str, at: datetime) -> datetime:
        """When a result produced at ``at`` reaches us: the end of a silence covering it."""
        for silence in self.incidents.silences:
            if silence.covers(source, at):
                return silence.end
        return at

    def _results(self) -> Iterator[ScenarioAction]:
        per_venue: dict[str, list[ResultUpdate]] = {}
        for progression in self.progressions.values():
            per_venue.setdefault(progression.unit.venue, []).extend(progression.updates)
        streams = [
            self._venue_results(venue, sorted(updates, key=lambda u: u.time))
            for venue, updates in sorted(per_venue.items())
        ]
        return heapq.merge(*streams, key=lambda a: a.at)

    def _venue_results(self, venue: str, updates: list[ResultUpdate]) -> Iterator[ScenarioAction]:
        for update in updates:
            yield self._action(self._delivery(venue, update.time), ActionKind.RESULT, venue, update)

    def _keep_alives(self) -> Iterator[ScenarioAction]:
        step = timedelta(seconds=self.config.keep_alive_seconds)
        streams = []
        for venue in self.schedule.venues:
            updates = [
                u for p in self.progressions.values() if p.unit.venue == venue for u in p.updates
            ]
            first = min(u.time for u in updates) - timedelta(minutes=5)
            last = max(u.time for u in updates) + timedelta(minutes=5)
            streams.append(self._venue_alives(venue, first, last, step))
        return heapq.merge(*streams, key=lambda a: a.at)

    def _venue_alives(
        self, venue: str, first: datetime, last: datetime, step: timedelta
    ) -> Iterator[ScenarioAction]:
        at = first
        if self.start > first:  # jump to the first tick in the window, on the same grid
            at = first + step * -((first - self.start) // step)
        while at <= last:
            if not any(s.covers(venue, at) for s in self.incidents.silences):
                yield self._action(at, ActionKind.KEEP_ALIVE, venue, KeepAlive(at, venue))
            at += step


def _crowd_kind(event: GateCount | AreaDensity) -> ActionKind:
    return ActionKind.GATE_COUNT if isinstance(event, GateCount) else ActionKind.AREA_DENSITY
