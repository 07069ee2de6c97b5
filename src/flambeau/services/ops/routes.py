"""HTTP routes of the ops service: ``GET /v1/ops/sources``.

It needs ``read`` on ``ops.health`` (a private stream) and answers from :mod:`.views` after
letting the view catch up with the log for up to :data:`SYNC_S` seconds. Producers write
heartbeats with the generic ingest, ``POST /v1/streams/ops.heartbeats/events``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import QueryParameter

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    problem_specs,
    read_view,
)
from flambeau.services.ops.schemas import HEALTH, SourceKind
from flambeau.services.ops.views import SourceState, Status, sources_view

__all__ = ["SYNC_S", "SourcesReply", "routes"]

SYNC_S = 1.0
"""How long a query waits for its view to reach the log's end (it answers anyway after)."""


class SourcesReply(msgspec.Struct, frozen=True):
    """The sources matching the query, by id, and how many of them are down."""

    sources: list[SourceState]
    down: int


@get(
    "/v1/ops/sources",
    summary="Every source's liveness: results feeds, gate counters, terminals, encoders...",
    tags=["ops"],
    responses=problem_specs((400, "Bad parameter"), *AUTH_PROBLEMS, RATE_PROBLEM),
)
async def get_sources(
    request: Request[Any, Any, Any],
    kind: Annotated[
        SourceKind | None, QueryParameter(description="Only sources of this kind.")
    ] = None,
    status: Annotated[Status | None, QueryParameter(description="Only up or down sources.")] = None,
    venue: Annotated[
        str | None,
        QueryParameter(description="Only sources serving this venue.", pattern=r"^[A-Z0-9]{2,8}$"),
    ] = None,
) -> SourcesReply:
    """Each source's status, kind, venue, last sign of life and, when down, why."""
    _, fold = await read_view(request, HEALTH, sources_view, SYNC_S)
    sources = fold.select(kind=kind, status=status, venue=venue)
    return SourcesReply(sources=sources, down=sum(s.status is Status.DOWN for s in sources))


routes = [get_sources]
"""The ops routes, handed to the gateway by :mod:`flambeau.app`."""
