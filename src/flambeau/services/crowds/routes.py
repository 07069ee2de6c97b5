"""Query routes of the crowds service.

- ``GET /v1/crowds/venues`` and ``/v1/crowds/venues/{venue}``: occupancy and level of service.
- ``GET /v1/crowds/venues/{venue}/zones``: each zone's state, level and alert.
- ``GET /v1/crowds/alerts?open=true``: zone alerts.
- ``GET /v1/crowds/forecasts?venue=``: egress forecasts.
- ``GET /v1/crowds/staffing?venue=``: staffing plans (``read:crowds.staffing``).
- ``GET /v1/crowds/incidents`` and ``POST /v1/crowds/incidents/{id}/ack|resolve``: see
  :mod:`.incident_routes`.

The first three read ``crowds.venues`` (public, so no key is needed unless the deployment makes
it private); forecasts read ``crowds.forecasts`` (private: ``read:crowds.forecasts``). Each
answers from :mod:`.views`, after the view has applied what is in the log, waiting up to
:data:`SYNC_S` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    ProblemError,
    ProblemKind,
    problem_specs,
    read_view,
)
from flambeau.services.crowds.incident_routes import VenueFilter, incident_routes
from flambeau.services.crowds.schemas import (
    FORECASTS,
    STAFFING,
    VENUES,
    EgressForecast,
    FruinLevel,
    StaffingPlan,
    ZoneCrowd,
)
from flambeau.services.crowds.views import (
    AlertSummary,
    VenueSummary,
    forecasts_view,
    plans_view,
    venues_view,
)

__all__ = ["SYNC_S", "routes"]

SYNC_S = 2.0
"""How long a query waits for its view to reach the log's end (it answers anyway after)."""
_T = TypeVar("_T")
_ORDER = list(FruinLevel)
_VENUE = r"^[A-Z0-9]{2,8}$"
_PROBLEMS = problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM)
_NOT_FOUND = problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM, (404, "No reading for this venue"))


@get(
    "/v1/crowds/venues",
    summary="Every venue's occupancy and level of service",
    tags=["crowds"],
    responses=_PROBLEMS,
)
async def list_venues(
    request: Request[Any, Any, Any],
    min_level: Annotated[
        FruinLevel | None,
        QueryParameter(description="Only venues at this level of service or worse."),
    ] = None,
) -> list[VenueSummary]:
    """Venues by code, each with occupancy, capacity, area level and alert."""
    _, model = await read_view(request, VENUES, venues_view, SYNC_S)
    venues = sorted(model.venues.values(), key=lambda summary: summary.venue)
    if min_level is not None:
        floor = _ORDER.index(min_level)
        venues = [v for v in venues if _ORDER.index(v.level) >= floor]
    return venues


@get(
    "/v1/crowds/venues/{venue:str}",
    summary="One venue's occupancy and level of service",
    tags=["crowds"],
    responses=_NOT_FOUND,
)
async def get_venue(request: Request[Any, Any, Any], venue: FromPath[str]) -> VenueSummary:
    """The venue's latest crowd, or 404 when it has never reported an area reading."""
    _, model = await read_view(request, VENUES, venues_view, SYNC_S)
    summary = model.venues.get(venue)
    if summary is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"venue {venue!r} has no crowd reading yet")
    return summary


@get(
    "/v1/crowds/venues/{venue:str}/zones",
    summary="Each zone of a venue: its state, level of service and alert",
    tags=["crowds"],
    responses=_NOT_FOUND,
)
async def get_zones(request: Request[Any, Any, Any], venue: FromPath[str]) -> list[ZoneCrowd]:
    """The venue's zones by id, or 404 when none has been measured or counted."""
    _, model = await read_view(request, VENUES, venues_view, SYNC_S)
    zones = model.zones.get(venue)
    if not zones:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"venue {venue!r} has no zone reading yet")
    return [zones[name] for name in sorted(zones)]


@get(
    "/v1/crowds/alerts",
    summary="Zone crowd alerts, open or all",
    tags=["crowds"],
    responses=_PROBLEMS,
)
async def list_alerts(
    request: Request[Any, Any, Any],
    is_open: Annotated[
        bool | None,
        QueryParameter(name="open", description="true: only raised alerts; false: only cleared."),
    ] = None,
    venue: Annotated[
        str | None, QueryParameter(description="Only this venue's alerts.", pattern=_VENUE)
    ] = None,
) -> list[AlertSummary]:
    """Each zone's latest alert, newest raised first."""
    _, model = await read_view(request, VENUES, venues_view, SYNC_S)
    alerts = [
        a
        for a in model.alerts.values()
        if (is_open is None or a.open is is_open) and (venue is None or a.venue == venue)
    ]
    return sorted(alerts, key=lambda a: (a.raised_at, a.venue, a.zone), reverse=True)


@get(
    "/v1/crowds/staffing",
    summary="Staffing plans: stewards and police per venue and 15-minute slot",
    tags=["crowds"],
    responses=_PROBLEMS,
)
async def list_staffing(
    request: Request[Any, Any, Any],
    venue: VenueFilter = None,
) -> list[StaffingPlan]:
    """Each venue's latest plan, by venue code, with its reasons and what last moved it."""
    _, model = await read_view(request, STAFFING, plans_view, SYNC_S)
    return _of_venue(model.plans, venue)


@get(
    "/v1/crowds/forecasts",
    summary="Egress forecasts: when each venue empties, station loads per 5 minutes",
    tags=["crowds"],
    responses=_PROBLEMS,
)
async def list_forecasts(
    request: Request[Any, Any, Any],
    venue: VenueFilter = None,
) -> list[EgressForecast]:
    """Each venue's latest egress forecast, by venue code."""
    _, model = await read_view(request, FORECASTS, forecasts_view, SYNC_S)
    return _of_venue(model.forecasts, venue)


def _of_venue(latest: Mapping[str, _T], venue: str | None) -> list[_T]:
    """Each venue's entry of ``latest`` by venue code, or only ``venue``'s when it is given."""
    return [latest[code] for code in sorted(latest) if venue is None or code == venue]


routes = [
    list_venues,
    get_venue,
    get_zones,
    list_alerts,
    list_forecasts,
    list_staffing,
    *incident_routes,
]
