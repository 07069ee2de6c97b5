"""Payloads of the crowds streams.

Streams (all keyed by venue code, 4 partitions, so one venue's readings keep their order and
meet in one processor partition):

- ``crowds.sensors`` (private): what the venue's counters report. :class:`VenueConfigured`
  (capacity and the monitored area, sent once when the venue opens), :class:`ZoneConfigured`
  (one zone of the venue: a gate, concourse, stand, forecourt or nearby station, with its kind,
  surface, exit width and capacity), :class:`GateCount` (people through one gate in one
  counting period) and :class:`AreaDensity` (people in a zone).
- ``crowds.venues`` (public): what the crowds service derives. :class:`VenueCrowd` (occupancy
  and the area's Fruin level of service, one per area reading), :class:`ZoneCrowd` (one zone's
  state and level of service) and :class:`CrowdAlert` (raised when a zone reaches level E,
  cleared when it is back to C or better; each zone has its own).
- ``crowds.units`` (private, internal): :class:`VenueUnitEnd`, each unit's estimated end from
  ``results.units``, re-keyed by the unit's venue (written by ``crowds.unit-venues``).
- ``crowds.forecasts`` (private): :class:`EgressForecast`, when each venue empties and the
  load on its stations per 5 minutes (written by ``crowds.occupancy``).
- ``crowds.reports`` (private, producer-writable): :class:`IncidentReport`, an incident seen by
  a video-analytics system or a steward.
- ``crowds.actions`` (private): :class:`IncidentAction`, an operator acknowledging or resolving
  an incident (written by ``POST /v1/crowds/incidents/{id}/ack|resolve`` only).
- ``crowds.outages`` (private, internal): ``source_down`` and ``source_up`` of the venue systems
  (:data:`VENUE_SYSTEMS`) from ``ops.health``, re-keyed by venue (relay ``crowds.outages``).
- ``crowds.incidents`` (private): :class:`Incident`, each incident after every change.
- ``crowds.situation`` (private, internal, 1 partition): every forecast and incident, copied
  into one partition (relay ``crowds.situation``) so staffing sees all venues together.
- ``crowds.features`` (private): :class:`ZoneFeatures`, each zone's features per 10 seconds,
  the input of models (written by ``crowds.occupancy``).
- ``crowds.anomalies`` (private): :class:`CrowdAnomaly`, what the online detector flags.
- ``crowds.staffing`` (private): :class:`StaffingPlan`, stewards and police per venue and
  15-minute slot, whenever an input moves it.

Counts are people; surfaces are whole square metres. The level is computed by the service from
``people`` and ``area_m2``, never taken from the sensor. A producer posts, for example::

    {"key": "STA", "time": "2024-08-04T17:31:00Z",
     "data": {"type": "gate_count", "venue": "STA", "gate": "STA-G03", "entered": 112,
              "exited": 4}}
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.ops.schemas import SourceDown, SourceKind, SourceUp

__all__ = [
    "ACTIONS",
    "FORECASTS",
    "INCIDENTS",
    "OUTAGES",
    "REPORTS",
    "SENSORS",
    "SITUATION",
    "STAFFING",
    "UNITS",
    "VENUES",
    "VENUE_SYSTEMS",
    "AreaDensity",
    "CrowdAlert",
    "EgressForecast",
    "FruinLevel",
    "GateCount",
    "Incident",
    "IncidentAction",
    "IncidentChange",
    "IncidentReport",
    "IncidentStatus",
    "IncidentType",
    "OperatorAction",
    "Reporter",
    "Severity",
    "StaffSlot",
    "StaffingPlan",
    "StationLoad",
    "VenueConfigured",
    "VenueCrowd",
    "VenueUnitEnd",
    "ZoneConfigured",
    "ZoneCrowd",
    "ZoneFeatures",
    "ZoneKind",
    "ZoneRole",
]

SENSORS = "crowds.sensors"
VENUES = "crowds.venues"
UNITS = "crowds.units"
FORECASTS = "crowds.forecasts"
REPORTS = "crowds.reports"
ACTIONS = "crowds.actions"
OUTAGES = "crowds.outages"
INCIDENTS = "crowds.incidents"
SITUATION = "crowds.situation"
FEATURES = "crowds.features"
ANOMALIES = "crowds.anomalies"
STAFFING = "crowds.staffing"
INCIDENT_ROUTES = (
    "POST /v1/crowds/incidents/{incident_id}/ack",
    "POST /v1/crowds/incidents/{incident_id}/resolve",
)
VENUE_SYSTEMS = frozenset(
    {
        SourceKind.BROADCAST_ENCODER,
        SourceKind.VENUE_POWER,
        SourceKind.VENUE_NETWORK,
        SourceKind.SCOREBOARD,
        SourceKind.PUBLIC_ADDRESS,
        SourceKind.STADIUM_SYSTEM,
    }
)
"""The kinds of source whose outage is a venue incident."""

VenueCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,8}$", description="venue code, e.g. STA")
]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Surface = Annotated[int, msgspec.Meta(gt=0, le=10_000_000, description="square metres")]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Width = Annotated[float, msgspec.Meta(ge=0, le=10_000, description="metres")]
Seconds = Annotated[int, msgspec.Meta(ge=1, le=3_600, description="seconds")]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]
Flow = Annotated[float, msgspec.Meta(ge=0, description="persons per metre per minute")]


class FruinLevel(StrEnum):
    """Fruin level of service for walkways, from free flow (A) to jammed (F)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class ZoneKind(StrEnum):
    """Which of Fruin's tables a zone is judged by."""

    WALKWAY = "walkway"
    STAIR = "stair"
    QUEUE = "queue"


class ZoneRole(StrEnum):
    """What a zone is for the venue."""

    GATE = "gate"
    """An entrance and exit: its exit width counts towards the venue's egress."""
    CONCOURSE = "concourse"
    STAND = "stand"
    FORECOURT = "forecourt"
    STATION = "station"
    """A nearby transit station: it receives a ``share`` of the venue's leaving crowd."""


class ZoneConfigured(Event, frozen=True, kw_only=True, tag="zone_configured"):
    """One zone of a venue: what it is, its surface, exit width and capacity.

    Attributes:
        venue: Venue code.
        zone: Zone id, unique in the venue (a gate zone's id is the gate's id).
        role: What the zone is for the venue.
        kind: Walkway, stair or queue: the Fruin table that judges it.
        area_m2: Its surface.
        exit_width_m: The clear width of its exits (for a gate: the width people pass through).
        capacity: How many people it holds safely (0 when not set).
        share: For a station: the fraction of the venue's leaving crowd heading there.
    """

    venue: VenueCode
    zone: Label
    role: ZoneRole
    kind: ZoneKind = ZoneKind.WALKWAY
    area_m2: Surface
    exit_width_m: Width = 0.0
    capacity: Count = 0
    share: Share = 0.0


class VenueConfigured(Event, frozen=True, kw_only=True, tag="venue_configured"):
    """A venue's seats and its monitored area; occupancy is reported against ``capacity``."""

    venue: VenueCode
    capacity: Count
    area: Label
    area_m2: Surface
    name: Annotated[str, msgspec.Meta(max_length=128)] = ""


class GateCount(Event, frozen=True, kw_only=True, tag="gate_count"):
    """People through one gate during one counting period (ending at the event time).

    A gate that is also a configured zone (same id) gets its flow, in persons per metre of
    exit width per minute, from its counts. A count is identified by its gate and period end:
    a late count for an earlier period is counted once, a repeated one never again.
    """

    venue: VenueCode
    gate: Label
    entered: Count = 0
    exited: Count = 0
    period_s: Seconds = 60


class AreaDensity(Event, frozen=True, kw_only=True, tag="area_density"):
    """People in a monitored area at the event time."""

    venue: VenueCode
    area: Label
    people: Count
    area_m2: Surface


class VenueCrowd(Event, frozen=True, kw_only=True, tag="venue_crowd"):
    """A venue's crowd after a reading of its monitored area: occupancy (everyone counted in
    minus everyone counted out since the first reading), ``capacity`` (seats, 0 when unknown),
    and the area's people, surface and level of service, measured at ``measured_at``.
    """

    venue: VenueCode
    occupancy: Count
    capacity: Count = 0
    entered: Count = 0
    exited: Count = 0
    area: Label
    people: Count
    area_m2: Surface
    level: FruinLevel
    measured_at: Moment


class ZoneCrowd(Event, frozen=True, kw_only=True, tag="zone_crowd"):
    """One zone's state after a density reading or a gate count.

    Attributes:
        venue: Venue code.
        zone: Zone id.
        role: What the zone is.
        kind: Which Fruin table judges it.
        people: People in the zone at the last density reading (0 when none).
        area_m2: Its surface.
        density: People per square metre.
        flow: Persons per metre of exit width per minute in the last counting period (gates).
        level: Its level of service: the worse of the space and the flow levels.
        alert: Whether its crowd alert is raised.
        measured_at: When the zone was last measured or counted.
    """

    venue: VenueCode
    zone: Label
    role: ZoneRole
    kind: ZoneKind
    people: Count
    area_m2: Surface
    density: Annotated[float, msgspec.Meta(ge=0)]
    flow: Flow = 0.0
    level: FruinLevel
    alert: bool = False
    measured_at: Moment


class CrowdAlert(Event, frozen=True, kw_only=True, tag="crowd_alert"):
    """A zone became too crowded (``raised``), or is comfortable again (not ``raised``).

    ``area`` is the zone's id; ``flow`` the zone's flow when it moved the level.
    """

    venue: VenueCode
    area: Label
    level: FruinLevel
    people: Count
    area_m2: Surface
    raised: bool
    flow: Flow = 0.0


class VenueUnitEnd(Event, frozen=True, kw_only=True, tag="venue_unit_end"):
    """A unit at ``venue`` is now expected to end at ``estimated_end`` (from results.units)."""

    venue: VenueCode
    unit: Label
    estimated_end: Moment
    finished: bool = False
    adjustments: tuple[str, ...] = ()


class StationLoad(msgspec.Struct, frozen=True, kw_only=True):
    """People reaching a station from one venue in one 5-minute slot starting at ``slot``."""

    station: str
    slot: datetime
    people: int


class EgressForecast(Event, frozen=True, kw_only=True, tag="egress_forecast"):
    """When a venue empties, by the Green Guide egress time, and the load on its stations.

    Attributes:
        venue: Venue code.
        unit: The unit whose end starts the egress (the session's last).
        egress_start: When the crowd starts leaving: that unit's estimated end.
        occupancy: People inside when forecast.
        exit_width_m: Total exit width of the venue's gate zones.
        egress_s: Occupancy ÷ (exit width * flow rate), in seconds (0 without exit width).
        empties_at: ``egress_start`` plus the egress time.
        limit_s: The egress limit (8 minutes by default).
        over_limit: Whether ``egress_s`` exceeds it.
        stations: Each station's load per 5-minute slot; ``peaks`` its largest.
        peaks: Each station's peak 5-minute load.
    """

    venue: VenueCode
    unit: Label
    egress_start: Moment
    occupancy: Count
    exit_width_m: Width
    egress_s: Count
    empties_at: Moment
    limit_s: Count
    over_limit: bool
    stations: tuple[StationLoad, ...] = ()
    peaks: dict[str, int] = {}


class IncidentType(StrEnum):
    """The eight situations of the Paris 2024 video analytics, and a venue system's outage."""

    ABANDONED_OBJECT = "abandoned_object"
    WEAPON = "weapon"
    PERSON_ON_GROUND = "person_on_ground"
    FIRE = "fire"
    CROWD_MOVEMENT = "crowd_movement"
    EXCESSIVE_DENSITY = "excessive_density"
    WRONG_WAY = "wrong_way"
    INTRUSION = "intrusion"
    SYSTEM_OUTAGE = "system_outage"
    """A venue system (power, network, broadcast, scoreboard, PA) is down: from ops.health."""


class Severity(StrEnum):
    """How serious an incident is, in increasing order."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Reporter(StrEnum):
    """Who reports an incident."""

    VIDEO_ANALYTICS = "video_analytics"
    STEWARD = "steward"


class IncidentStatus(StrEnum):
    """An incident's lifecycle: open, then acknowledged by an operator, then resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class OperatorAction(StrEnum):
    """What an operator does to an incident."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class IncidentChange(StrEnum):
    """What changed an incident (``recovered``: the venue system came back)."""

    OPENED = "opened"
    MERGED = "merged"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    RECOVERED = "recovered"


class IncidentReport(Event, frozen=True, kw_only=True, tag="incident_report"):
    """An incident seen by a video-analytics system or a steward.

    A report of the same kind in the same zone as an incident still open merges into it.
    """

    venue: VenueCode
    zone: Label
    kind: IncidentType
    severity: Severity = Severity.MEDIUM
    reporter: Reporter
    source: Label
    detail: Annotated[str, msgspec.Meta(max_length=512)] = ""


class IncidentAction(Event, frozen=True, kw_only=True, tag="incident_action"):
    """An operator acknowledged or resolved an incident (over HTTP)."""

    venue: VenueCode
    incident: Label
    action: OperatorAction
    operator: Label
    note: Annotated[str, msgspec.Meta(max_length=512)] = ""


class Incident(Event, frozen=True, kw_only=True, tag="incident"):
    """An incident after a change.

    Attributes:
        id: ``<venue>-<number>``, numbered per venue in the order incidents open.
        venue: Venue code.
        zone: The zone (for an outage: the source's id).
        kind: What happened.
        severity: The highest severity reported.
        status: Open, acknowledged or resolved.
        change: What changed it this time.
        reports: How many reports merged into it.
        source: Who reported it first (camera, steward, or the down system's source id).
        system: For an outage, the kind of system down.
        detail: The first report's detail, or the outage's.
        opened_at: When it opened.
        acknowledged_at: When an operator acknowledged it.
        resolved_at: When it was resolved.
        operator: The operator of the last action.
    """

    id: Label
    venue: VenueCode
    zone: Ref
    kind: IncidentType
    severity: Severity
    status: IncidentStatus
    change: IncidentChange
    reports: Count = 1
    source: Ref
    system: SourceKind | None = None
    detail: Annotated[str, msgspec.Meta(max_length=512)] = ""
    opened_at: Moment
    acknowledged_at: Moment | None = None
    resolved_at: Moment | None = None
    operator: str = ""


class ZoneFeatures(Event, frozen=True, kw_only=True, tag="zone_features"):
    """One zone's features over one 10-second window, for models (see docs/crowds.md).

    Attributes:
        venue: Venue code.
        zone: Zone id.
        role: What the zone is.
        window_end: The end of the window (windows are aligned on the clock).
        people: People at the window's last density reading.
        density: People per square metre then.
        flow: The zone's flow, persons per metre per minute (gates).
        counted: People counted through the zone's gate in the window.
        trend: Density change per minute since the previous window with a reading.
        minutes_to_end: Minutes from the window's end to the venue's session end
            (``estimated_end``; negative once it is past), ``None`` when unknown.
    """

    venue: VenueCode
    zone: Label
    role: ZoneRole
    window_end: Moment
    people: Count
    density: Annotated[float, msgspec.Meta(ge=0)]
    flow: Flow = 0.0
    counted: Count = 0
    trend: float = 0.0
    minutes_to_end: float | None = None


class CrowdAnomaly(Event, frozen=True, kw_only=True, tag="crowd_anomaly"):
    """The online detector found a zone's density moving unlike anything it has seen there."""

    venue: VenueCode
    zone: Label
    window_end: Moment
    score: float
    density: float
    trend: float


class StaffSlot(msgspec.Struct, frozen=True, kw_only=True):
    """Who is needed in one 15-minute slot starting at ``slot``."""

    slot: datetime
    stewards: int
    supervisors: int
    police: int


class StaffingPlan(Event, frozen=True, kw_only=True, tag="staffing_plan"):
    """Stewards and police for one venue per 15-minute slot of its egress, and why.

    Attributes:
        venue: Venue code.
        unit: The unit whose end starts the egress.
        slots: The plan, slot by slot, from 15 minutes before the egress until it ends.
        reasons: Every contribution to the plan, in words (load, finals, incidents, stations
            shared with other venues, neighbours' incidents).
        cause: What moved the plan this time (a forecast, an incident, another venue).
    """

    venue: VenueCode
    unit: Label
    slots: tuple[StaffSlot, ...]
    reasons: tuple[str, ...] = ()
    cause: Annotated[str, msgspec.Meta(max_length=512)]


default_registry.register(
    SENSORS,
    VenueConfigured | ZoneConfigured | GateCount | AreaDensity,
    partitions=4,
    description="gate counts and area densities from venue sensors, keyed by venue",
)
default_registry.register(
    VENUES,
    VenueCrowd | ZoneCrowd | CrowdAlert,
    partitions=4,
    public=True,
    description="venue occupancy, zone levels of service and crowd alerts, keyed by venue",
)
default_registry.register(
    UNITS,
    VenueUnitEnd,
    partitions=4,
    description="Internal: each unit's estimated end, re-keyed by its venue",
)
default_registry.register(
    FORECASTS,
    EgressForecast,
    partitions=4,
    description="egress forecasts: when each venue empties, station loads per 5 minutes",
)
default_registry.register(
    REPORTS,
    IncidentReport,
    partitions=4,
    description="incident reports from video analytics and stewards, keyed by venue",
)
default_registry.register(
    ACTIONS,
    IncidentAction,
    partitions=4,
    description="operators acknowledging and resolving incidents, keyed by venue",
    writer=Writer.route(*INCIDENT_ROUTES),
)
default_registry.register(
    OUTAGES,
    SourceDown | SourceUp,
    partitions=4,
    description="Internal: venue systems going down and up, from ops.health, keyed by venue",
)
default_registry.register(
    INCIDENTS,
    Incident,
    partitions=4,
    description="security incidents (reports, outages) and their lifecycle, keyed by venue",
)
default_registry.register(
    SITUATION,
    EgressForecast | Incident,
    partitions=1,
    description="Internal: every venue's forecasts and incidents in one partition, for staffing",
)
default_registry.register(
    STAFFING,
    StaffingPlan,
    partitions=4,
    description="stewards and police per venue and 15-minute slot, keyed by venue",
)
default_registry.register(
    FEATURES,
    ZoneFeatures,
    partitions=4,
    description="each zone's features per 10-second window (for models), keyed by venue",
)
default_registry.register(
    ANOMALIES,
    CrowdAnomaly,
    partitions=4,
    description="crowd anomalies found by the online detector, keyed by venue",
)
