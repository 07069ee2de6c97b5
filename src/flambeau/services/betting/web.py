"""What the betting service's routes share: body decoding, the operator, OpenAPI, timeouts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import QueryParameter

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Gateway,
    Principal,
    ProblemError,
    ProblemKind,
    decode_json,
    describe_validation_error,
    gateway_of,
    json_body_operation,
    problem_specs,
    standalone_schema,
)
from flambeau.processing.view import View
from flambeau.services.betting.schemas import BETS_STREAM

__all__ = [
    "MAX_BODY_BYTES",
    "SYNC_TIMEOUT_S",
    "WAIT_TIMEOUT_S",
    "WRITE_PROBLEMS",
    "Wait",
    "conflict",
    "decode",
    "operation",
    "read_route",
    "synced",
    "tenant",
    "write_request",
    "write_route",
]

WAIT_TIMEOUT_S = 20.0
"""How long ``?wait=true`` waits for a decision (longer than any live delay) before a 202."""
SYNC_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024

T = TypeVar("T")

Wait = Annotated[bool, QueryParameter(description="Wait for the decision.")]
"""The ``?wait=`` parameter of the routes answering a decision of the bet engine."""


def operation(body: type[Any]) -> type[Operation]:
    """An OpenAPI operation whose JSON request body is ``body``'s msgspec schema."""
    return json_body_operation(standalone_schema(body))


WRITE_PROBLEMS = problem_specs(
    (400, "Malformed body: each bad field is named"),
    *AUTH_PROBLEMS,
    (404, "No such ticket"),
    (409, "The id was used for another request"),
    (413, "Body too large"),
    RATE_PROBLEM,
)


def read_route(path: str, summary: str, not_found: str, bad_request: str | None = None) -> get:
    """The ``GET`` decorator of a betting route that reads a view.

    Its problems: ``bad_request`` (400) when the route can refuse its parameters, the
    authentication problems, ``not_found`` (404) and the rate limit.
    """
    problems = [*AUTH_PROBLEMS, (404, not_found), RATE_PROBLEM]
    if bad_request is not None:
        problems.insert(0, (400, bad_request))
    return get(path, summary=summary, tags=["betting"], responses=problem_specs(*problems))


def write_route(path: str, body: type[Any], summary: str, pending: type[Any] | None = None) -> post:
    """The ``POST`` decorator of a route whose ``body`` goes to ``betting.bets``.

    Every such route takes a strict JSON body within :data:`MAX_BODY_BYTES`, answers 200 and
    may fail with :data:`WRITE_PROBLEMS`; ``pending``, when given, is what its 202 answers while
    the request waits for a decision.
    """
    responses = WRITE_PROBLEMS
    if pending is not None:
        submitted = ResponseSpec(pending, description="Submitted, not decided yet")
        responses = {202: submitted} | WRITE_PROBLEMS
    return post(
        path,
        status_code=200,
        operation_class=operation(body),
        request_max_body_size=MAX_BODY_BYTES,
        summary=summary,
        tags=["betting"],
        responses=responses,
    )


async def write_request(
    request: Request[Any, Any, Any], body_type: type[T]
) -> tuple[Gateway, Principal, T]:
    """The gateway, the caller allowed to write ``betting.bets``, and the body it sent."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", BETS_STREAM)
    return gateway, principal, await decode(request, body_type)


async def synced(view: View, look: Callable[[], T | None]) -> T | None:
    """What ``look`` finds, asked again once ``view`` has caught up with the log if it found
    nothing: what a client just wrote may be newer than this gateway's view."""
    found = look()
    if found is None:
        await view.sync(SYNC_TIMEOUT_S)
        found = look()
    return found


async def decode(request: Request[Any, Any, Any], body_type: type[T]) -> T:
    """Decode a JSON body strictly (no ``"2.5"`` for a number); 400 names the field."""
    raw = await request.body()
    try:
        return decode_json(lambda data: msgspec.json.decode(data, type=body_type), raw)
    except msgspec.ValidationError as error:
        field, message = describe_validation_error(error)
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST, message, [FieldError(message=message, field=field)]
        ) from None
    except msgspec.DecodeError as error:
        raise ProblemError.of(ProblemKind.MALFORMED_BODY, str(error)) from None


def tenant(principal: Principal, named: str | None) -> str:
    """The operator a request acts for: the key's tenant (an admin may name another)."""
    tenant = principal.tenant
    if tenant is None:  # pragma: no cover - authorize() refuses anonymous writes first
        raise ProblemError.of(ProblemKind.UNAUTHORIZED, "betting routes need an API key")
    if named is None or named == tenant:
        return tenant
    if principal.admin:
        return named
    raise ProblemError.of(
        ProblemKind.FORBIDDEN,
        f"API key {principal.key_id} acts for operator {tenant!r}, not {named!r}",
        [FieldError(message=f"must be {tenant!r} or absent", field="operator")],
    )


def conflict(what: str, identifier: str, field: str) -> ProblemError:
    return ProblemError.of(
        ProblemKind.CONFLICT,
        f"{what} {identifier!r} was already submitted with other content",
        [FieldError(message="already used for another request", field=field)],
    )
