"""The crowds read models: venues, zones and alerts from ``crowds.venues``, forecasts from
``crowds.forecasts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.crowds.schemas import (
    FORECASTS,
    INCIDENTS,
    STAFFING,
    VENUES,
    CrowdAlert,
    EgressForecast,
    FruinLevel,
    Incident,
    StaffingPlan,
    VenueCrowd,
    ZoneCrowd,
)

__all__ = [
    "AlertSummary",
    "ForecastsView",
    "IncidentsView",
    "PlansView",
    "VenueSummary",
    "VenuesView",
    "forecasts_view",
    "incidents_view",
    "plans_view",
    "venues_view",
]

_T = TypeVar("_T")


class _Folds(Protocol):
    """A read model of this module: it folds each record of its stream into itself."""

    def fold(self, record: Record[Any]) -> None: ...


_Model = TypeVar("_Model", bound=_Folds)


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
        alert: Whether any of the venue's zones has its crowd alert raised.
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


class AlertSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A zone's crowd alert as ``GET /v1/crowds/alerts`` shows it.

    Attributes:
        venue: Venue code.
        zone: The zone.
        open: Whether it is raised now.
        level: The level that raised it, or, once cleared, the level that cleared it.
        people: People in the zone at that moment.
        flow: Its flow at that moment (persons per metre per minute).
        raised_at: When it was last raised.
        cleared_at: When it was cleared (``None`` while open).
    """

    venue: str
    zone: str
    open: bool
    level: FruinLevel
    people: int
    flow: float
    raised_at: datetime
    cleared_at: datetime | None = None


class VenuesView:
    """Each venue's latest :class:`VenueSummary`, its zones' latest state and their alerts."""

    def __init__(self) -> None:
        self.venues: dict[str, VenueSummary] = {}
        self.zones: dict[str, dict[str, ZoneCrowd]] = {}
        self.alerts: dict[tuple[str, str], AlertSummary] = {}

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
                    alert=self.alerted(crowd.venue),
                    measured_at=crowd.measured_at,
                )
            case ZoneCrowd() as zone:
                self.zones.setdefault(zone.venue, {})[zone.zone] = zone
            case CrowdAlert() as alert:
                self._alert(alert, record.time)

    def alerted(self, venue: str) -> bool:
        """Whether any zone of ``venue`` has its alert raised."""
        return any(a.open for (v, _), a in self.alerts.items() if v == venue)

    def _alert(self, alert: CrowdAlert, at: datetime) -> None:
        key = (alert.venue, alert.area)
        known = self.alerts.get(key)
        if alert.raised or known is None:
            self.alerts[key] = AlertSummary(
                venue=alert.venue,
                zone=alert.area,
                open=alert.raised,
                level=alert.level,
                people=alert.people,
                flow=alert.flow,
                raised_at=at,
                cleared_at=None if alert.raised else at,
            )
        else:
            self.alerts[key] = msgspec.structs.replace(
                known,
                open=False,
                level=alert.level,
                people=alert.people,
                flow=alert.flow,
                cleared_at=at,
            )
        summary = self.venues.get(alert.venue)
        if summary is not None:
            self.venues[alert.venue] = msgspec.structs.replace(
                summary, alert=self.alerted(alert.venue)
            )


class ForecastsView:
    """Each venue's latest :class:`EgressForecast`."""

    def __init__(self) -> None:
        self.forecasts: dict[str, EgressForecast] = {}

    def fold(self, record: Record[Any]) -> None:
        """Apply one ``crowds.forecasts`` record."""
        if isinstance(record.data, EgressForecast):
            self.forecasts[record.data.venue] = record.data


class PlansView:
    """Each venue's latest :class:`StaffingPlan`."""

    def __init__(self) -> None:
        self.plans: dict[str, StaffingPlan] = {}

    def fold(self, record: Record[Any]) -> None:
        """Apply one ``crowds.staffing`` record."""
        if isinstance(record.data, StaffingPlan):
            self.plans[record.data.venue] = record.data


class IncidentsView:
    """Every incident's latest state, by id."""

    def __init__(self) -> None:
        self.incidents: dict[str, Incident] = {}

    def fold(self, record: Record[Any]) -> None:
        """Apply one ``crowds.incidents`` record."""
        if isinstance(record.data, Incident):
            self.incidents[record.data.id] = record.data


def venues_view(log: Log) -> tuple[View, VenuesView]:
    """The running view of ``crowds.venues`` over ``log``, and the model it folds into."""
    return _running(log, VENUES, VenuesView)


def forecasts_view(log: Log) -> tuple[View, ForecastsView]:
    """The running view of ``crowds.forecasts`` over ``log``, and the model it folds into."""
    return _running(log, FORECASTS, ForecastsView)


def incidents_view(log: Log) -> tuple[View, IncidentsView]:
    """The running view of ``crowds.incidents`` over ``log``, and the model it folds into."""
    return _running(log, INCIDENTS, IncidentsView)


def plans_view(log: Log) -> tuple[View, PlansView]:
    """The running view of ``crowds.staffing`` over ``log``, and the model it folds into."""
    return _running(log, STAFFING, PlansView)


def _running(log: Log, stream: str, kind: type[_Model]) -> tuple[View, _Model]:
    """The view named after ``stream`` that folds it into a ``kind`` (built on first use)."""
    view = view_of(log, stream, [stream], lambda: kind().fold)
    return view, _owner(view, kind)


def _owner(view: View, kind: type[_T]) -> _T:
    owner = getattr(view.fold, "__self__", None)
    if not isinstance(owner, kind):  # pragma: no cover - the factory always binds one
        raise TypeError(f"the view {view.name!r} folds into something other than a {kind}")
    return owner
