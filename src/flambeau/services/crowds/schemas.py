"""Payloads of the crowds streams.

Streams (both keyed by venue code, 4 partitions, so one venue's readings keep their order and
meet in one processor partition):

- ``crowds.sensors`` (private): what the venue's counters report. :class:`VenueConfigured`
  (capacity and the monitored area, sent once when the venue opens), :class:`GateCount` (people
  through one gate in one counting period) and :class:`AreaDensity` (people in a monitored
  area, such as the forecourt in front of the security check).
- ``crowds.venues`` (public): what the crowds service derives. :class:`VenueCrowd` (occupancy
  and the area's Fruin level of service, one per area reading) and :class:`CrowdAlert` (raised
  when an area reaches level E, cleared when it is back to C or better).

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

from flambeau.events import Event, default_registry

__all__ = [
    "SENSORS",
    "VENUES",
    "AreaDensity",
    "CrowdAlert",
    "FruinLevel",
    "GateCount",
    "VenueConfigured",
    "VenueCrowd",
]

SENSORS = "crowds.sensors"
VENUES = "crowds.venues"

VenueCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,8}$", description="venue code, e.g. STA")
]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Surface = Annotated[int, msgspec.Meta(gt=0, le=10_000_000, description="square metres")]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class FruinLevel(StrEnum):
    """Fruin level of service for walkways, from free flow (A) to jammed (F)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class VenueConfigured(Event, frozen=True, kw_only=True, tag="venue_configured"):
    """A venue's seats and its monitored area; occupancy is reported against ``capacity``."""

    venue: VenueCode
    capacity: Count
    area: Label
    area_m2: Surface
    name: Annotated[str, msgspec.Meta(max_length=128)] = ""


class GateCount(Event, frozen=True, kw_only=True, tag="gate_count"):
    """People through one gate during one counting period (ending at the event time)."""

    venue: VenueCode
    gate: Label
    entered: Count = 0
    exited: Count = 0


class AreaDensity(Event, frozen=True, kw_only=True, tag="area_density"):
    """People in a monitored area at the event time."""

    venue: VenueCode
    area: Label
    people: Count
    area_m2: Surface


class VenueCrowd(Event, frozen=True, kw_only=True, tag="venue_crowd"):
    """A venue's crowd after an area reading.

    Attributes:
        venue: Venue code.
        occupancy: People inside: everyone counted in minus everyone counted out.
        capacity: Seats, from :class:`VenueConfigured` (0 when unknown).
        entered: People counted in since the first reading.
        exited: People counted out since the first reading.
        area: The monitored area.
        people: People in the area.
        area_m2: Its surface.
        level: Its Fruin walkway level of service.
        measured_at: When the area was measured.
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


class CrowdAlert(Event, frozen=True, kw_only=True, tag="crowd_alert"):
    """An area became too dense (``raised``), or is comfortable again (not ``raised``)."""

    venue: VenueCode
    area: Label
    level: FruinLevel
    people: Count
    area_m2: Surface
    raised: bool


default_registry.register(
    SENSORS,
    VenueConfigured | GateCount | AreaDensity,
    partitions=4,
    description="gate counts and area densities from venue sensors, keyed by venue",
)
default_registry.register(
    VENUES,
    VenueCrowd | CrowdAlert,
    partitions=4,
    public=True,
    description="venue occupancy, Fruin level of service and crowd alerts, keyed by venue",
)
