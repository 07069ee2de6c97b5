"""Query routes of the analytics service.

- ``POST /v1/analytics/sql``: one read-only ``SELECT`` over the buffers of the recent past
  (:mod:`.buffers`), run by :mod:`.sql`. Every stream the query names must be readable by the
  caller's key. The reply is JSON (``columns`` and ``rows``) or, with
  ``Accept: application/vnd.apache.arrow.stream``, an Arrow IPC stream.
- ``GET /v1/analytics/kpis``: the latest value of every KPI minute of the recent past, for the
  dashboard.
- ``GET /v1/analytics/forecast``: each venue's next-hour forecast and recommended actions
  (:mod:`.forecast`, :mod:`.planning`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
import pyarrow as pa
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Problem,
    ProblemError,
    ProblemKind,
    caught_up,
    gateway_of,
    problem_specs,
    read_view,
)
from flambeau.services.analytics.buffers import QUERYABLE, recent_buffers
from flambeau.services.analytics.planning import VenuePlan, plans
from flambeau.services.analytics.schemas import FACTS, KPIS
from flambeau.services.analytics.sql import (
    Limits,
    QueryRefusedError,
    QueryTimeoutError,
    RowLimitError,
    check_statement,
    run_query,
    tables_of,
)
from flambeau.services.crowds.schemas import VENUES

__all__ = ["routes"]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
MAX_ROWS = 10_000
TIMEOUT_S = 5.0
_SYNC_TIMEOUT_S = 2.0
_MAX_BODY_BYTES = 64 * 1024
_json = msgspec.json.Encoder(decimal_format="number")


class SqlBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A query: one SELECT naming its streams as quoted tables, e.g. ``"analytics.kpis"``."""

    sql: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    max_rows: Annotated[int, msgspec.Meta(ge=1, le=MAX_ROWS)] = 1_000
    timeout_ms: Annotated[int, msgspec.Meta(ge=1, le=int(TIMEOUT_S * 1000))] = 2_000


class SqlReply(msgspec.Struct, frozen=True, kw_only=True):
    """A JSON answer: column names and types, then one array per row."""

    columns: list[str]
    types: list[str]
    rows: list[list[Any]]


def _refused(detail: str, slug: str, title: str, status: int) -> ProblemError:
    problem = Problem(
        type=f"urn:flambeau:problem:{slug}",
        title=title,
        status=status,
        detail=detail,
        errors=[FieldError(message=detail, field="sql")],
    )
    return ProblemError(problem)


@post(
    "/v1/analytics/sql",
    status_code=200,
    request_max_body_size=_MAX_BODY_BYTES,
    summary="Run a read-only SQL query over the last hour of analytics streams",
    tags=["analytics"],
    responses={
        200: ResponseSpec(SqlReply, description="The rows (or an Arrow IPC stream)"),
        **problem_specs(
            (400, "Not one SELECT, or a refused statement (ATTACH, COPY, INSTALL, files, writes)"),
            *AUTH_PROBLEMS,
            (404, "The query names a stream that cannot be queried"),
            (422, "The query ran past its time limit or returns too many rows"),
            RATE_PROBLEM,
        ),
    },
)
async def query(request: Request[Any, Any, Any], data: JSONBody[SqlBody]) -> Response[bytes]:
    """One SELECT over ``"analytics.facts"``, ``"analytics.kpis"``, ``"crowds.venues"``,
    ``"payments.alerts"`` (the last hour of each, at least)."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "read", KPIS)
    try:
        check_statement(data.sql)
        streams = tables_of(data.sql)
    except QueryRefusedError as exc:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST, str(exc), [FieldError(str(exc), "sql")]
        ) from None
    for stream in sorted(streams):
        if stream not in QUERYABLE:
            raise ProblemError.of(
                ProblemKind.UNKNOWN_STREAM,
                f"table {stream!r} is not a queryable stream; name one of {', '.join(QUERYABLE)}"
                ' in double quotes, e.g. FROM "analytics.kpis"',
            )
        gateway.access.require(principal, "read", stream)
    buffers = await caught_up(gateway.log, recent_buffers, _SYNC_TIMEOUT_S)
    tables = buffers.tables(streams)
    limits = Limits(timeout=data.timeout_ms / 1000, max_rows=data.max_rows)
    try:
        table = await asyncio.to_thread(run_query, data.sql, tables, limits)
    except QueryTimeoutError as exc:
        raise _refused(
            str(exc), "query-timeout", "The query ran past its time limit", 422
        ) from None
    except RowLimitError as exc:
        raise _refused(str(exc), "row-limit", "The query returns too many rows", 422) from None
    except QueryRefusedError as exc:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST, str(exc), [FieldError(str(exc), "sql")]
        ) from None
    if ARROW_STREAM in request.headers.get("accept", ""):
        return Response(_ipc(table), media_type=ARROW_STREAM)
    reply = SqlReply(
        columns=table.column_names,
        types=[str(t) for t in table.schema.types],
        rows=[list(row.values()) for row in table.to_pylist()],
    )
    return Response(_json.encode(reply), media_type="application/json")


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class KpiRow(msgspec.Struct, frozen=True, kw_only=True):
    """One KPI minute as the dashboard shows it."""

    venue: str
    metric: str
    dimension: str
    minute: datetime
    value: int
    count: int


@get(
    "/v1/analytics/kpis",
    summary="The latest value of each KPI minute of the recent past",
    tags=["analytics"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_kpis(
    request: Request[Any, Any, Any],
    venue: Annotated[str | None, QueryParameter(description="Only this venue.")] = None,
    minutes: Annotated[int, QueryParameter(ge=1, le=60, description="How many minutes.")] = 15,
) -> list[KpiRow]:
    """KPIs by venue, metric, dimension and minute: the last update of each."""
    _, buffers = await read_view(request, KPIS, recent_buffers, _SYNC_TIMEOUT_S)
    return latest_kpis(buffers.tables([KPIS])[KPIS], venue, minutes)


def latest_kpis(table: pa.Table, venue: str | None, minutes: int) -> list[KpiRow]:
    """The last update of each KPI minute in ``table`` (a key's updates keep their order),
    over the ``minutes`` up to the newest one, optionally of one venue only."""
    latest: dict[tuple[str, str, str, datetime], KpiRow] = {}
    columns = ("venue", "metric", "dimension", "minute", "value", "count")
    for row in table.select(list(columns)).to_pylist():
        if venue is None or row["venue"] == venue:
            kpi = KpiRow(**row)
            latest[(kpi.venue, kpi.metric, kpi.dimension, kpi.minute)] = kpi
    if not latest:
        return []
    newest = max(key[3] for key in latest)
    since = newest - timedelta(minutes=minutes - 1)
    return sorted((k for k in latest.values() if k.minute >= since), key=_order)


def _order(kpi: KpiRow) -> tuple[str, str, str, datetime]:
    return (kpi.venue, kpi.metric, kpi.dimension, kpi.minute)


@get(
    "/v1/analytics/forecast",
    summary="Each venue's next-hour forecast and the actions it calls for",
    tags=["analytics"],
    responses=problem_specs(*AUTH_PROBLEMS, RATE_PROBLEM),
)
async def list_plans(request: Request[Any, Any, Any]) -> list[VenuePlan]:
    """Per venue: sales and entries per minute over the next hour, and recommendations."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "read", KPIS)
    for stream in (FACTS, VENUES):
        gateway.access.require(principal, "read", stream)
    buffers = await caught_up(gateway.log, recent_buffers, _SYNC_TIMEOUT_S)
    tables = buffers.tables([KPIS, FACTS, VENUES])
    return plans(tables[KPIS], tables[FACTS], tables[VENUES], buffers.lines)


routes = [query, list_kpis, list_plans]
