"""Query routes of the crowds service: ``GET /v1/crowds/venues`` and one venue.

Both read ``crowds.venues`` (public, so no key is needed unless the deployment makes it
private) and answer from :mod:`.views`, after the view has applied everything in the log at
the time of the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from flambeau.gateway.context import gateway_of
from flambeau.gateway.problems import Problem, ProblemError, ProblemKind
from flambeau.services.crowds.schemas import VENUES, FruinLevel
from flambeau.services.crowds.views import VenueSummary, venues_view

__all__ = ["routes"]

_SYNC_TIMEOUT_S = 2.0
_ORDER = list(FruinLevel)
_PROBLEMS = {
    status: ResponseSpec(Problem, description=text, media_type="application/problem+json")
    for status, text in (
        (401, "Missing or invalid API key (when the stream is not public)"),
        (403, "The key may not read crowds.venues"),
        (429, "Rate limit reached"),
    )
}


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
    gateway = gateway_of(request)
    gateway.authorize(request, "read", VENUES)
    view, model = venues_view(gateway.log)
    await view.sync(_SYNC_TIMEOUT_S)
    venues = sorted(model.venues.values(), key=lambda summary: summary.venue)
    if min_level is not None:
        floor = _ORDER.index(min_level)
        venues = [v for v in venues if _ORDER.index(v.level) >= floor]
    return venues


@get(
    "/v1/crowds/venues/{venue:str}",
    summary="One venue's occupancy and level of service",
    tags=["crowds"],
    responses={
        **_PROBLEMS,
        404: ResponseSpec(
            Problem, description="No reading for this venue", media_type="application/problem+json"
        ),
    },
)
async def get_venue(request: Request[Any, Any, Any], venue: FromPath[str]) -> VenueSummary:
    """The venue's latest crowd, or 404 when it has never reported an area reading."""
    gateway = gateway_of(request)
    gateway.authorize(request, "read", VENUES)
    view, model = venues_view(gateway.log)
    await view.sync(_SYNC_TIMEOUT_S)
    summary = model.venues.get(venue)
    if summary is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"venue {venue!r} has no crowd reading yet")
    return summary


routes = [list_venues, get_venue]
