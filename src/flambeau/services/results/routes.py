"""HTTP routes of the results service: the adapters (see :mod:`.adapters`) and the queries.

Queries need ``read`` on the stream they answer from; public streams need no key unless the
gateway's ``public_streams`` says otherwise:

- ``GET /v1/results/medals``: the medal table, IOC order (or ``?order=total``);
- ``GET /v1/results/units/{code}``: a unit's schedule entry and latest result documents;
- ``GET /v1/results/schedule?date=...&venue=...``: each discipline's units there that day;
- ``GET /v1/results/sources``: source liveness and ignored-document counts (``ops.health``).

Each answers from a view (:mod:`.views`) after letting it catch up with the log for up to
:data:`SYNC_S` seconds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get
from litestar.params import PathParameter, QueryParameter

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    ProblemError,
    ProblemKind,
    caught_up,
    gateway_of,
    problem_specs,
    read_view,
)
from flambeau.services.results.adapters import post_documents, post_odf
from flambeau.services.results.codes import Level, parse_rsc, rsc_pattern
from flambeau.services.results.errors import InvalidRscError
from flambeau.services.results.schemas import (
    HEALTH,
    MEDALS,
    SCHEDULE,
    UNITS,
    MedalStanding,
    VenueDaySchedule,
)
from flambeau.services.results.units import UnitView
from flambeau.services.results.views import (
    SourceState,
    medals_view,
    metric_lines,
    operations_view,
    schedule_view,
    units_view,
)

__all__ = [
    "DEFAULT_COMPETITION",
    "SYNC_S",
    "IgnoredCount",
    "MedalTable",
    "ScheduleReply",
    "SourcesReply",
    "gauges",
    "routes",
]

DEFAULT_COMPETITION = "OG2024"
SYNC_S = 1.0
"""How long a query waits for its view to reach the log's end (it answers anyway after)."""


class MedalTable(msgspec.Struct, frozen=True):
    """A competition's medal table, derived from OFFICIAL medallists only."""

    competition: str
    order: str
    events: int
    standings: list[MedalStanding]


class ScheduleReply(msgspec.Struct, frozen=True):
    """Each discipline's units at each venue and day asked for, in start order."""

    date: date | None
    venue: str | None
    schedules: list[VenueDaySchedule]


class IgnoredCount(msgspec.Struct, frozen=True):
    """How many documents were acknowledged and ignored for one reason."""

    reason: str
    document_type: str
    feed: str
    count: int


class SourcesReply(msgspec.Struct, frozen=True):
    """Every production source's liveness, and the ignored-document counts."""

    sources: list[SourceState]
    ignored: list[IgnoredCount]


Competition = Annotated[
    str,
    QueryParameter(description="ODF competition code", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"),
]


@get(
    "/v1/results/medals",
    summary="The medal table",
    tags=["results"],
    responses=problem_specs((400, "Bad parameter"), *AUTH_PROBLEMS, RATE_PROBLEM),
)
async def get_medals(
    request: Request[Any, Any, Any],
    competition: Competition = DEFAULT_COMPETITION,
    order: Annotated[
        Literal["ioc", "total"],
        QueryParameter(description="ioc: gold, then silver, then bronze; total: all medals first"),
    ] = "ioc",
) -> MedalTable:
    """Each NOC's medals, from OFFICIAL medallists only, ranked the IOC way by default."""
    _, fold = await read_view(request, MEDALS, medals_view, SYNC_S)
    return MedalTable(
        competition=competition,
        order=order,
        events=len(fold.events.get(competition, ())),
        standings=fold.standings(competition, order),
    )


# documented with parse_rsc's own pattern; the handler checks it, naming the faulty part
_UnitPath = Annotated[
    str, PathParameter(schema_extra={"pattern": rsc_pattern(Level.UNIT)}, description="a unit RSC")
]


@get(
    "/v1/results/units/{code:str}",
    summary="One unit: schedule and latest results",
    tags=["results"],
    responses=problem_specs(
        (400, "Not a unit code"), *AUTH_PROBLEMS, (404, "Unknown unit"), RATE_PROBLEM
    ),
)
async def get_unit(request: Request[Any, Any, Any], code: _UnitPath) -> UnitView:
    """The unit's schedule entry, latest documents (``result``, ``current``) and estimated end."""
    gateway = gateway_of(request)
    gateway.authorize(request, "read", UNITS)
    try:
        parse_rsc(code, element="path", attribute="code", at_least=Level.UNIT)
    except InvalidRscError as error:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST, str(error), [FieldError(error.reason, "code")]
        ) from None
    fold = await caught_up(gateway.log, units_view, SYNC_S)
    unit = fold.units.get(code)
    if unit is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"no schedule or result of unit {code!r}")
    return unit


@get(
    "/v1/results/schedule",
    summary="The schedule per day and venue",
    tags=["results"],
    responses=problem_specs((400, "Bad parameter"), *AUTH_PROBLEMS, RATE_PROBLEM),
)
async def get_schedule(
    request: Request[Any, Any, Any],
    date_: Annotated[
        date | None, QueryParameter(name="date", description="Games local day, YYYY-MM-DD")
    ] = None,
    venue: Annotated[
        str | None, QueryParameter(description="ODF venue code, e.g. LDA", max_length=256)
    ] = None,
) -> ScheduleReply:
    """Every discipline's units on ``date`` at ``venue`` (either may be left out)."""
    _, fold = await read_view(request, SCHEDULE, schedule_view, SYNC_S)
    return ScheduleReply(date=date_, venue=venue, schedules=fold.select(date_, venue))


@get(
    "/v1/results/sources",
    summary="Results sources' liveness and ignored documents",
    tags=["results"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def get_sources(request: Request[Any, Any, Any]) -> SourcesReply:
    """Each source's status (up or down) and counts of acknowledged-but-ignored documents."""
    _, fold = await read_view(request, HEALTH, operations_view, SYNC_S)
    return SourcesReply(
        sources=sorted(fold.sources.values(), key=lambda s: s.source),
        ignored=[
            IgnoredCount(reason, document_type, feed, count)
            for (reason, document_type, feed), count in sorted(fold.ignored.items())
        ],
    )


gauges = [metric_lines]
"""Gauge factories for ``/metrics`` (ignored, irregular and rejected documents, source status),
each taking the log; :func:`flambeau.app.gateway_gauges` collects them."""


routes = [post_odf, post_documents, get_medals, get_unit, get_schedule, get_sources]
"""The results routes, handed to the gateway by :mod:`flambeau.app`."""
