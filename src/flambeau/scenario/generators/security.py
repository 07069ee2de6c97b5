"""The security room's incidents: crowd surges, abandoned objects, blackouts, broadcast cuts.

Four incident kinds of the rehearsal script (see :mod:`.incidents`), each at a venue (the
busiest at that time when the script names none):

- ``crowd_surge``: the forecourt fills to about 2.2 people per m² (Fruin level F) over
  ``minutes`` (4 by default; :func:`.crowds.surge_people` reshapes the densities the crowd
  generator reports), and the forecourt camera's video analytics reports
  ``excessive_density`` a minute in;
- ``abandoned_object``: the video analytics reports an ``abandoned_object`` in ``zone`` (the
  venue's first gate by default);
- ``stadium_blackout``: the venue's power monitor (``<venue>-POWER``, ``venue_power``) reports
  ``failed`` for ``seconds`` (120 by default), then ``ok``;
- ``broadcast_outage``: the same for the venue's broadcast encoder (``<venue>-ENCODER``).

Reports go to ``crowds.reports`` and heartbeats to ``ops.heartbeats`` through the generic
ingest. A system heartbeats only once an outage concerns it: ``ok`` a minute before, ``failed``
at the outage, ``ok`` at the recovery and then every 30 minutes until two hours after the
venue's last session. It declares a 1-hour interval (the longest ``ops.heartbeats`` takes), so
liveness never declares it silent while the day plays at any speed of 1 or more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flambeau.scenario._random import rng_for
from flambeau.scenario.generators.crowds import Surge
from flambeau.scenario.payloads import Envelope
from flambeau.scenario.schedule import Schedule
from flambeau.scenario.sports import Shape
from flambeau.services.crowds.schemas import (
    REPORTS,
    IncidentReport,
    IncidentType,
    Reporter,
    Severity,
)
from flambeau.services.ops.schemas import HEARTBEATS, Heartbeat, Reported, SourceKind

__all__ = [
    "AbandonedObject",
    "BroadcastOutage",
    "CrowdSurge",
    "SecurityIncident",
    "StadiumBlackout",
    "Surge",
    "random_security",
    "security_envelopes",
]

HEARTBEAT_EVERY = timedelta(minutes=30)
HEARTBEAT_INTERVAL_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class CrowdSurge:
    """A crowd surge on a venue's forecourt. ``venue``: ``None`` picks the busiest venue."""

    venue: str | None = None
    minutes: int = 4


@dataclass(frozen=True, slots=True)
class AbandonedObject:
    """An object left in ``zone`` (default: the venue's first gate)."""

    venue: str | None = None
    zone: str | None = None


@dataclass(frozen=True, slots=True)
class _SystemFailure:
    """One of the venue's systems fails for ``seconds``: what the two outages share."""

    venue: str | None = None
    seconds: int = 120


@dataclass(frozen=True, slots=True)
class StadiumBlackout(_SystemFailure):
    """The venue's power fails for ``seconds``."""


@dataclass(frozen=True, slots=True)
class BroadcastOutage(_SystemFailure):
    """The venue's broadcast encoder fails for ``seconds``."""


SecurityIncident = CrowdSurge | AbandonedObject | StadiumBlackout | BroadcastOutage


def security_envelopes(
    entries: Sequence[tuple[datetime, SecurityIncident]], schedule: Schedule
) -> Iterator[Envelope]:
    """The reports and heartbeats of every security incident, in time order."""
    out: list[Envelope] = []
    for number, (at, incident) in enumerate(entries, start=1):
        venue = incident.venue
        assert venue is not None, "resolve the script first"
        match incident:
            case CrowdSurge():
                zone, camera = f"{venue}-FORECOURT", f"{venue}-CAM-FORECOURT"
                out.append(_report(number, at + timedelta(minutes=1), venue, zone, camera,
                                   IncidentType.EXCESSIVE_DENSITY, Severity.HIGH))  # fmt: skip
            case AbandonedObject(zone=zone):
                zone = zone or f"{venue}-G01"
                out.append(_report(number, at, venue, zone, f"{zone}-CAM",
                                   IncidentType.ABANDONED_OBJECT, Severity.MEDIUM))  # fmt: skip
            case StadiumBlackout(seconds=seconds):
                out += _outage(f"{venue}-POWER", SourceKind.VENUE_POWER, venue, at, seconds,
                               "power lost: UPS on battery", schedule)  # fmt: skip
            case BroadcastOutage(seconds=seconds):
                out += _outage(f"{venue}-ENCODER", SourceKind.BROADCAST_ENCODER, venue, at,
                               seconds, "encoder lost its video input", schedule)  # fmt: skip
    yield from sorted(out, key=lambda envelope: envelope.time)


def _report(
    number: int,
    at: datetime,
    venue: str,
    zone: str,
    camera: str,
    kind: IncidentType,
    severity: Severity,
) -> Envelope:
    report = IncidentReport(
        venue=venue, zone=zone, kind=kind, severity=severity,
        reporter=Reporter.VIDEO_ANALYTICS, source=camera, detail=f"rehearsal {kind.value}",
    )  # fmt: skip
    return Envelope(REPORTS, f"report-{venue}-{at:%Y%m%dT%H%M%S}-{number}", venue, at, report)


def _outage(
    source: str,
    kind: SourceKind,
    venue: str,
    at: datetime,
    seconds: int,
    detail: str,
    schedule: Schedule,
) -> list[Envelope]:
    """The system's heartbeats around one outage, and its keep-alive after it."""
    back = at + timedelta(seconds=seconds)
    last = max(s.end for s in schedule.sessions_at(venue)) + timedelta(hours=2)
    beats = [(at - timedelta(minutes=1), Reported.OK), (at, Reported.FAILED)]
    while back <= last:
        beats.append((back, Reported.OK))
        back += HEARTBEAT_EVERY
    return [
        Envelope(
            HEARTBEATS,
            f"hb-{source}-{when:%Y%m%dT%H%M%S}",
            source,
            when,
            Heartbeat(
                source=source,
                kind=kind,
                interval_ms=HEARTBEAT_INTERVAL_MS,
                venue=venue,
                status=status,
                detail=detail if status is Reported.FAILED else "",
            ),
        )
        for when, status in beats
    ]


def random_security(
    schedule: Schedule, seed: int, count: int = 1
) -> list[tuple[datetime, SecurityIncident]]:
    """``count`` incidents of each kind, deterministic for ``seed``.

    A surge as a session's crowd leaves (2 minutes after its end), an abandoned object during
    a session, a blackout and a broadcast outage during a match.
    """
    rng = rng_for(seed, "security")
    sessions = list(schedule.sessions)
    matches = [u for u in schedule.units if u.shape is Shape.HEAD_TO_HEAD] or list(schedule.units)
    out: list[tuple[datetime, SecurityIncident]] = []
    for session in rng.sample(sessions, min(count, len(sessions))):
        out.append((session.end + timedelta(minutes=2), CrowdSurge(session.venue)))
    for session in rng.sample(sessions, min(count, len(sessions))):
        at = session.start + (session.end - session.start) * rng.uniform(0.2, 0.8)
        out.append((at, AbandonedObject(session.venue)))
    for unit in rng.sample(matches, min(count, len(matches))):
        out.append(
            (unit.start + unit.duration * rng.uniform(0.2, 0.6), StadiumBlackout(unit.venue))
        )
    for unit in rng.sample(matches, min(count, len(matches))):
        out.append(
            (unit.start + unit.duration * rng.uniform(0.2, 0.6), BroadcastOutage(unit.venue, 90))
        )
    return out
