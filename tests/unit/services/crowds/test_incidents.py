"""Incidents: reports merge, operators acknowledge and resolve, outages open and recover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.services.betting.harness import Desk

from flambeau.events import NewEvent
from flambeau.services.crowds.incidents import incidents, outages
from flambeau.services.crowds.schemas import (
    ACTIONS,
    INCIDENTS,
    OUTAGES,
    REPORTS,
    Incident,
    IncidentAction,
    IncidentChange,
    IncidentReport,
    IncidentStatus,
    IncidentType,
    OperatorAction,
    Reporter,
    Severity,
)
from flambeau.services.ops.processors import heartbeat_signs, liveness
from flambeau.services.ops.schemas import (
    HEALTH,
    HEARTBEATS,
    SIGNS,
    Heartbeat,
    KeepAlive,
    Reported,
    SourceDown,
    SourceKind,
    SourceUp,
)
from flambeau.testing import run

T0 = datetime(2024, 8, 4, 16, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def report(
    kind: IncidentType, zone: str, minutes: float, severity: Severity = Severity.MEDIUM
) -> tuple[str, NewEvent]:
    event = IncidentReport(
        venue="STA", zone=zone, kind=kind, severity=severity,
        reporter=Reporter.VIDEO_ANALYTICS, source="CAM-12",
    )  # fmt: skip
    return REPORTS, NewEvent(event, key="STA", time=at(minutes))


def action(incident: str, what: OperatorAction, minutes: float) -> tuple[str, NewEvent]:
    event = IncidentAction(venue="STA", incident=incident, action=what, operator="op-1")
    return ACTIONS, NewEvent(event, key="STA", time=at(minutes), id=f"{incident}/{what}")


def changes(result: object) -> list[tuple[str, IncidentStatus, IncidentChange, int]]:
    found: list[Incident] = result.events(INCIDENTS)  # type: ignore[attr-defined]
    return [(i.id, i.status, i.change, i.reports) for i in found]


def test_repeated_reports_merge_and_operators_move_the_lifecycle() -> None:
    result = run(
        incidents,
        [
            report(IncidentType.ABANDONED_OBJECT, "STA-CONCOURSE-E", 1),
            report(IncidentType.ABANDONED_OBJECT, "STA-CONCOURSE-E", 2, Severity.HIGH),
            report(IncidentType.ABANDONED_OBJECT, "STA-CONCOURSE-W", 2),  # another zone
            action("STA-00001", OperatorAction.ACKNOWLEDGE, 3),
            action("STA-00001", OperatorAction.ACKNOWLEDGE, 3.5),  # no longer open: nothing
            report(IncidentType.ABANDONED_OBJECT, "STA-CONCOURSE-E", 4),  # still merges
            action("STA-00001", OperatorAction.RESOLVE, 5),
            action("STA-00009", OperatorAction.RESOLVE, 5),  # unknown: nothing
            report(IncidentType.ABANDONED_OBJECT, "STA-CONCOURSE-E", 6),  # a new one
        ],
    )
    OPEN, ACK, DONE = IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED
    C = IncidentChange
    assert changes(result) == [
        ("STA-00001", OPEN, C.OPENED, 1),
        ("STA-00001", OPEN, C.MERGED, 2),
        ("STA-00002", OPEN, C.OPENED, 1),
        ("STA-00001", ACK, C.ACKNOWLEDGED, 2),
        ("STA-00001", ACK, C.MERGED, 3),
        ("STA-00001", DONE, C.RESOLVED, 3),
        ("STA-00003", OPEN, C.OPENED, 1),
    ]
    resolved = result.events(INCIDENTS)[5]
    assert (resolved.severity, resolved.operator) == (Severity.HIGH, "op-1")
    assert (resolved.opened_at, resolved.acknowledged_at, resolved.resolved_at) == (
        at(1), at(3), at(5)
    )  # fmt: skip


def health(event: object, minutes: float, id: str) -> NewEvent:
    return NewEvent(event, key="STA-PWR", time=at(minutes), id=id)  # type: ignore[arg-type]


def test_the_outage_relay_keeps_venue_systems_downs_and_ups_keyed_by_venue() -> None:
    down = SourceDown(source="STA-PWR", last_seen=at(0), detected_at=at(1), silence_ms=60_000,
                      kind=SourceKind.VENUE_POWER, venue="STA")  # fmt: skip
    gate = SourceDown(source="STA/G1", last_seen=at(0), detected_at=at(1), silence_ms=60_000,
                      kind=SourceKind.GATE_COUNTER, venue="STA")  # fmt: skip
    alive = KeepAlive(source="STA-PWR", seen_at=at(0), kind=SourceKind.VENUE_POWER, venue="STA")
    result = run(outages, [health(alive, 0, "k"), health(gate, 1, "g"), health(down, 1, "d")])
    assert [(r.key, r.causation_id, r.data) for r in result.records(OUTAGES)] == [
        ("STA", "d", down)
    ]
    assert HEALTH in outages.inputs


def test_a_blackout_opens_an_incident_and_recovery_resolves_it() -> None:
    down = SourceDown(
        source="STA-PWR", last_seen=at(0), detected_at=at(1), silence_ms=60_000,
        kind=SourceKind.VENUE_POWER, venue="STA",
    )  # fmt: skip
    up = SourceUp(source="STA-PWR", seen_at=at(9), down_since=at(1),
                  kind=SourceKind.VENUE_POWER, venue="STA")  # fmt: skip
    result = run(
        incidents,
        [
            (OUTAGES, NewEvent(down, key="STA", time=at(1), id="down")),
            (OUTAGES, NewEvent(down, key="STA", time=at(2), id="down-again")),
            (OUTAGES, NewEvent(up, key="STA", time=at(9), id="up")),
        ],
    )
    records = result.records(INCIDENTS)
    assert [(r.data.status, r.data.change, r.causation_id) for r in records] == [
        (IncidentStatus.OPEN, IncidentChange.OPENED, "down"),
        (IncidentStatus.RESOLVED, IncidentChange.RECOVERED, "up"),
    ]
    opened = records[0].data
    assert (opened.kind, opened.system, opened.zone, opened.severity) == (
        IncidentType.SYSTEM_OUTAGE, SourceKind.VENUE_POWER, "STA-PWR", Severity.HIGH
    )  # fmt: skip


def test_chain_a_stadium_blackout_opens_an_incident_and_its_recovery_resolves_it() -> None:
    desk = Desk([heartbeat_signs, liveness, outages, incidents])

    def beat(status: Reported, id: str, seconds: float) -> None:
        heartbeat = Heartbeat(source="STA-PWR", kind=SourceKind.VENUE_POWER, interval_ms=5_000,
                              venue="STA", status=status, detail="UPS tripped")  # fmt: skip
        desk.send(HEARTBEATS, heartbeat, key="STA-PWR", time=at(seconds / 60), event_id=id)
        desk.run()

    beat(Reported.OK, "hb-1", 0)
    beat(Reported.FAILED, "hb-failed", 5)
    beat(Reported.OK, "hb-back", 60)
    records = desk.records(INCIDENTS)
    assert [(r.data.status, r.data.change) for r in records] == [
        (IncidentStatus.OPEN, IncidentChange.OPENED),
        (IncidentStatus.RESOLVED, IncidentChange.RECOVERED),
    ]
    assert records[0].data.detail == "UPS tripped"
    for record, heartbeat in zip(records, ("hb-failed", "hb-back"), strict=True):
        chain = [record]
        for stream in (OUTAGES, HEALTH, SIGNS, HEARTBEATS):
            chain.append(next(r for r in desk.records(stream) if r.id == chain[-1].causation_id))
        assert [type(r.data).__name__ for r in chain][1:] == [
            "SourceDown" if heartbeat == "hb-failed" else "SourceUp",
        ] * 2 + ["Sign", "Heartbeat"]
        assert chain[-1].id == heartbeat
