"""A venue system's outage suspends the markets of that venue's events until it recovers.

The real path: a stadium's power heartbeat reports a failure (``ops.heartbeats``), ops'
liveness says the source is down (``ops.health``), the crowds service opens an outage incident
(``crowds.incidents``), betting's relay copies it to its trading partitions and the markets of
the events at that venue stop; the recovery heartbeat closes the incident and reopens them.
Every processor runs as the worker runs it, wired by its streams (:class:`.harness.Desk`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flambeau.events import Record
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.messages import SIGNALS_STREAM, UNTIMED, VenueSignal
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import BetStop, OddsChange, StopReason
from flambeau.services.betting.venue_outages import venue_signal
from flambeau.services.crowds.incidents import incidents, outages
from flambeau.services.crowds.schemas import (
    INCIDENTS,
    Incident,
    IncidentChange,
    IncidentStatus,
    IncidentType,
    Severity,
)
from flambeau.services.ops.processors import heartbeat_signs, liveness
from flambeau.services.ops.schemas import HEARTBEATS, Heartbeat, Reported, SourceKind
from flambeau.services.results.schemas import UnitScheduleChanged

from .feeds import KICK_OFF, MATCH, OTHER_MATCH, STILL, Match, latest_odds, minute
from .harness import Desk


def scheduled(desk: Desk, unit: str, venue: str) -> None:
    """The unit's schedule, naming its venue, before its start list."""
    schedule = UnitScheduleChanged(
        competition="OG2024", unit=unit, discipline=unit[:3],
        status="scheduled", start=KICK_OFF, end=KICK_OFF + timedelta(hours=2), venue=venue,  # type: ignore[arg-type]
    )  # fmt: skip
    desk.send("results.units", schedule, key=unit, time=KICK_OFF - timedelta(days=1))


class Venues:
    """The ops, crowds and betting processors on one desk; two matches at two venues."""

    def __init__(self) -> None:
        built = betting_processors(STILL)
        self.desk = Desk([heartbeat_signs, liveness, outages, incidents, *built])
        self.beats = 0
        scheduled(self.desk, MATCH, "STA")
        scheduled(self.desk, OTHER_MATCH, "PDP")
        self.here = Match(self.desk)
        self.there = Match(self.desk, unit=OTHER_MATCH, home="USA", away="JPN")
        for match in (self.here, self.there):
            match.open()
            match.kick_off()

    def beat(self, source: str, status: Reported, kind: SourceKind = SourceKind.VENUE_POWER) -> str:
        """A heartbeat of a system of the Stade de France; returns its event id."""
        self.beats += 1
        event_id = f"hb-{self.beats}"
        heartbeat = Heartbeat(source=source, kind=kind, interval_ms=5_000, venue="STA",
                              status=status, detail="UPS tripped")  # fmt: skip
        self.desk.send(HEARTBEATS, heartbeat, key=source, event_id=event_id)
        self.desk.advance(timedelta(seconds=1))  # the reprice timer, due at once
        return event_id

    def statuses(self, unit: str) -> set[MarketStatus]:
        return {m.status for m in latest_odds(self.desk, unit).markets}

    def stops(self, unit: str) -> list[Record[Any]]:
        return [
            r
            for r in self.desk.records("betting.odds")
            if isinstance(r.data, BetStop) and r.data.event_id == unit
        ]

    def chain(self, record: Record[Any]) -> list[Record[Any]]:
        """``record`` and its causes, back to the first, across every stream of the desk."""
        by_id = {r.id: r for records in self.desk.order.values() for r in records}
        found = [record]
        while found[-1].causation_id is not None:
            found.append(by_id[found[-1].causation_id])
        return found


def test_chain_a_stadium_blackout_suspends_its_venue_markets_until_recovery() -> None:
    venues = Venues()
    assert venues.statuses(MATCH) == {MarketStatus.ACTIVE}
    venues.beat("STA-PWR", Reported.OK)
    blackout = venues.beat("STA-PWR", Reported.FAILED)

    stop = venues.stops(MATCH)[-1]
    assert stop.data.reason is StopReason.VENUE_OUTAGE
    chain = venues.chain(stop)
    assert [r.stream for r in chain] == [
        "betting.odds", SIGNALS_STREAM, INCIDENTS, "crowds.outages", "ops.health", "ops.signs",
        HEARTBEATS,
    ]  # fmt: skip
    assert chain[-1].id == blackout
    assert chain[1].time == UNTIMED  # the copy never moves the trading partitions' clock
    assert chain[2].data.change is IncidentChange.OPENED
    assert venues.stops(OTHER_MATCH)[-1].data.reason is not StopReason.VENUE_OUTAGE
    assert MarketStatus.ACTIVE in venues.statuses(OTHER_MATCH)  # another venue trades on

    venues.here.goal((1, 0), minute(20))  # repriced while the venue is dark: still suspended
    assert venues.statuses(MATCH) <= {MarketStatus.SUSPENDED, MarketStatus.DEACTIVATED}

    recovery = venues.beat("STA-PWR", Reported.OK)
    reopened = [
        r
        for r in venues.desk.records("betting.odds")
        if isinstance(r.data, OddsChange) and r.data.event_id == MATCH
    ][-1]
    assert MarketStatus.ACTIVE in venues.statuses(MATCH)
    back = venues.chain(reopened)
    assert back[2].data.change is IncidentChange.RECOVERED
    assert back[-1].id == recovery


def test_the_venue_reopens_only_when_its_last_system_is_back() -> None:
    venues = Venues()
    venues.beat("STA-PWR", Reported.FAILED)
    venues.beat("STA-TV", Reported.FAILED, SourceKind.BROADCAST_ENCODER)
    assert len([s for s in venues.stops(MATCH) if s.data.reason is StopReason.VENUE_OUTAGE]) == 1
    venues.beat("STA-PWR", Reported.OK)
    venues.here.goal((1, 0), minute(20))  # repriced: the broadcast is still down
    assert venues.statuses(MATCH) <= {MarketStatus.SUSPENDED, MarketStatus.DEACTIVATED}
    venues.beat("STA-TV", Reported.OK, SourceKind.BROADCAST_ENCODER)
    assert MarketStatus.ACTIVE in venues.statuses(MATCH)


def test_only_outages_opening_and_resolving_reach_the_trading_partitions() -> None:
    S, C, OUTAGE = IncidentStatus, IncidentChange, IncidentType.SYSTEM_OUTAGE

    def record(
        kind: IncidentType, status: IncidentStatus, change: IncidentChange, **fields: Any
    ) -> Record[Any]:
        incident = Incident(
            id="STA-00001", venue="STA", zone="STA-PWR", severity=Severity.HIGH,
            source="STA-PWR", opened_at=KICK_OFF, kind=kind, status=status, change=change,
            **fields,
        )  # fmt: skip
        return Record("i", INCIDENTS, "STA", 0, 0, KICK_OFF, KICK_OFF, None, incident)

    down = record(OUTAGE, S.OPEN, C.OPENED)
    acked = record(OUTAGE, S.ACKNOWLEDGED, C.ACKNOWLEDGED)
    resolved = record(OUTAGE, S.RESOLVED, C.RESOLVED, resolved_at=KICK_OFF + timedelta(minutes=3))
    weapon = record(IncidentType.WEAPON, S.OPEN, C.OPENED)
    assert venue_signal(down) == VenueSignal(venue="STA", incident="STA-00001", up=False,
                                             at=KICK_OFF)  # fmt: skip
    assert venue_signal(acked) is None
    assert venue_signal(weapon) is None
    assert venue_signal(resolved) == VenueSignal(
        venue="STA", incident="STA-00001", up=True, at=KICK_OFF + timedelta(minutes=3)
    )
