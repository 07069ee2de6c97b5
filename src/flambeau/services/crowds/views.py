"""The crowds read model: each venue's latest crowd and alert, folded from ``crowds.venues``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.crowds.schemas import VENUES, CrowdAlert, FruinLevel, VenueCrowd

__all__ = ["VenueSummary", "VenuesView", "venues_view"]


class VenueSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A venue as ``GET /v1/crowds/venues`` shows it.

    Attributes:
        venue: Venue code.
        occupancy: People inside.
        capacity: Seats (0 when the venue never reported it).
        area: The monitored area.
        people: People in the area at the last reading.
        area_m2: Its surface.
        level: Its Fruin level of service.
        alert: Whether its crowd alert is raised.
        measured_at: When the area was last measured.
    """

    venue: str
    occupancy: int
    capacity: int
    area: str
    people: int
    area_m2: int
    level: FruinLevel
    alert: bool
    measured_at: datetime


class VenuesView:
    """Each venue's latest :class:`VenueSummary`, by venue code."""

    def __init__(self) -> None:
        self.venues: dict[str, VenueSummary] = {}
        self.alerts: dict[str, bool] = {}

    def fold(self, record: Record[Any]) -> None:
        """Apply one ``crowds.venues`` record."""
        match record.data:
            case VenueCrowd() as crowd:
                self.venues[crowd.venue] = VenueSummary(
                    venue=crowd.venue,
                    occupancy=crowd.occupancy,
                    capacity=crowd.capacity,
                    area=crowd.area,
                    people=crowd.people,
                    area_m2=crowd.area_m2,
                    level=crowd.level,
                    alert=self.alerts.get(crowd.venue, False),
                    measured_at=crowd.measured_at,
                )
            case CrowdAlert() as alert:
                self.alerts[alert.venue] = alert.raised
                known = self.venues.get(alert.venue)
                if known is not None:
                    self.venues[alert.venue] = msgspec.structs.replace(known, alert=alert.raised)


def venues_view(log: Log) -> tuple[View, VenuesView]:
    """The running view of ``crowds.venues`` over ``log``, and the model it folds into."""

    def factory() -> Any:
        return VenuesView().fold

    view = view_of(log, "crowds.venues", [VENUES], factory)
    fold = view.fold
    owner = getattr(fold, "__self__", None)
    if not isinstance(owner, VenuesView):  # pragma: no cover - the factory always binds one
        raise TypeError("the crowds view folds into something other than a VenuesView")
    return view, owner
