"""What the betting service's routes share: body decoding, the operator, OpenAPI, timeouts."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.openapi.spec import Operation

from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Principal,
    ProblemError,
    ProblemKind,
    decode_json,
    describe_validation_error,
    json_body_operation,
    problem_specs,
    standalone_schema,
)

__all__ = [
    "MAX_BODY_BYTES",
    "SYNC_TIMEOUT_S",
    "WAIT_TIMEOUT_S",
    "WRITE_PROBLEMS",
    "conflict",
    "decode",
    "operation",
    "tenant",
]

WAIT_TIMEOUT_S = 20.0
"""How long ``?wait=true`` waits for a decision (longer than any live delay) before a 202."""
SYNC_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024

T = TypeVar("T")


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
