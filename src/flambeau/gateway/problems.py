"""RFC 9457 problem details: the one shape of every 4xx and 5xx reply.

Each kind of failure has a stable ``type`` URI (``urn:flambeau:problem:<slug>``), a title and a
status. Per-event failures are listed in ``errors``, each naming the event's ``index`` in the
batch and the ``field`` (a dotted path such as ``data.score`` or ``data.lanes[2].time``), so a
producer can fix exactly what was wrong. :mod:`flambeau.errors` classes map to problem kinds in
:data:`ERROR_KINDS`; anything unexpected becomes a 500 whose detail reveals nothing internal.
"""

from __future__ import annotations

import logging
import math
import re
from enum import Enum
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from flambeau import errors
from flambeau.gateway.errors import InvalidScopeError, LastAdminKeyError, UnknownKeyError

__all__ = [
    "AUTH_PROBLEMS",
    "ERROR_KINDS",
    "PROBLEM_JSON",
    "RATE_PROBLEM",
    "FieldError",
    "Problem",
    "ProblemError",
    "ProblemKind",
    "describe_validation_error",
    "exception_handlers",
    "problem_for_exception",
    "problem_response",
    "problem_specs",
    "status_for_exception",
]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("flambeau.gateway")


class FieldError(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong with one event (or with the request when ``index`` is absent).

    Attributes:
        message: What is wrong, in words.
        field: Dotted path to the offending field; empty for the whole event or body.
        index: Position of the event in the batch (0-based); absent for request-level errors.
    """

    message: str
    field: str = ""
    index: int | None = None


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem details object, with Flambeau's ``errors`` extension member."""

    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []
    retry_after: float | None = None


class ProblemKind(Enum):
    """Every problem type the gateway answers with: (slug, status, title)."""

    BAD_REQUEST = ("bad-request", 400, "The request is malformed")
    MALFORMED_BODY = ("malformed-body", 400, "The body is not valid JSON or NDJSON")
    UNAUTHORIZED = ("unauthorized", 401, "A valid API key is required")
    FORBIDDEN = ("forbidden", 403, "The API key does not grant this")
    DERIVED_STREAM = ("derived-stream", 403, "The stream is written by the platform only")
    NOT_FOUND = ("not-found", 404, "No such resource")
    UNKNOWN_STREAM = ("unknown-stream", 404, "No such stream")
    METHOD_NOT_ALLOWED = ("method-not-allowed", 405, "Method not allowed")
    CONFLICT = ("conflict", 409, "The request conflicts with the current state")
    LAST_ADMIN_KEY = ("last-admin-key", 409, "The last active admin key cannot be revoked")
    BODY_TOO_LARGE = ("body-too-large", 413, "The request body is too large")
    BATCH_TOO_LARGE = ("batch-too-large", 413, "Too many events in one batch")
    UNSUPPORTED_MEDIA_TYPE = ("unsupported-media-type", 415, "Unsupported content type")
    INVALID_EVENTS = ("invalid-events", 422, "Events failed validation")
    RATE_LIMITED = ("rate-limited", 429, "Too many requests for this key")
    TOO_MANY_CONNECTIONS = ("too-many-connections", 429, "Too many connections for this key")
    TOO_MANY_SUBSCRIPTIONS = (
        "too-many-subscriptions",
        429,
        "Too many subscriptions on one connection",
    )
    INTERNAL = ("internal", 500, "Internal server error")
    LOG_UNAVAILABLE = ("log-unavailable", 503, "The log is unavailable")

    @property
    def slug(self) -> str:
        """The last part of the problem's type URI."""
        return self.value[0]

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return int(self.value[1])

    @property
    def title(self) -> str:
        """A short summary that does not change between occurrences."""
        return self.value[2]

    @property
    def uri(self) -> str:
        """The problem ``type``: ``urn:flambeau:problem:<slug>``."""
        return f"urn:flambeau:problem:{self.slug}"

    def problem(
        self,
        detail: str = "",
        errors: list[FieldError] | None = None,
        retry_after: float | None = None,
    ) -> Problem:
        """A :class:`Problem` of this kind."""
        return Problem(
            type=self.uri,
            title=self.title,
            status=self.status,
            detail=detail,
            errors=errors or [],
            retry_after=retry_after,
        )


ERROR_KINDS: dict[type[errors.FlambeauError], ProblemKind] = {
    errors.UnknownStreamError: ProblemKind.UNKNOWN_STREAM,
    errors.InvalidStreamNameError: ProblemKind.UNKNOWN_STREAM,
    errors.SchemaMismatchError: ProblemKind.INVALID_EVENTS,
    errors.InvalidEventError: ProblemKind.INVALID_EVENTS,
    errors.StreamConflictError: ProblemKind.CONFLICT,
    errors.LogClosedError: ProblemKind.LOG_UNAVAILABLE,
    errors.BackendUnavailableError: ProblemKind.LOG_UNAVAILABLE,
    errors.LogFailedError: ProblemKind.LOG_UNAVAILABLE,
    errors.UnknownBackendError: ProblemKind.INTERNAL,
    errors.InvalidLogURLError: ProblemKind.INTERNAL,
    UnknownKeyError: ProblemKind.NOT_FOUND,
    LastAdminKeyError: ProblemKind.LAST_ADMIN_KEY,
    InvalidScopeError: ProblemKind.BAD_REQUEST,
}
"""How each deliberate error class is answered; subclasses inherit their base's kind."""

LOG_RETRY_AFTER_S = 1.0


class ProblemError(errors.FlambeauError):
    """Raised by handlers to answer with a problem; carries the problem and extra headers."""

    def __init__(self, problem: Problem, headers: dict[str, str] | None = None) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem
        self.headers = headers or {}

    @classmethod
    def of(
        cls,
        kind: ProblemKind,
        detail: str = "",
        errors: list[FieldError] | None = None,
        *,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> ProblemError:
        """The exception for ``kind``; ``retry_after`` also sets the ``Retry-After`` header."""
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return cls(kind.problem(detail, errors, retry_after), all_headers)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]+)`$")


def describe_validation_error(exc: msgspec.MsgspecError) -> tuple[str, str]:
    """Split a msgspec decode or validation error into ``(field, message)``.

    ``Expected `int`, got `str` - at `$.data.score``` gives ``("data.score", "Expected ...")``;
    a missing or unknown field is named in the path too, so ``field`` always points at it.
    """
    text = str(exc)
    match = _AT.match(text)
    assert match is not None  # the pattern matches any string
    message = match.group("message")
    path = (match.group("path") or "").lstrip(".")
    named = _NAMED_FIELD.match(message)
    if named is not None:
        name = named.group("name")
        path = f"{path}.{name}" if path else name
    return path, message


def _kind_of(exc: errors.FlambeauError) -> ProblemKind:
    for cls in type(exc).__mro__:
        found = ERROR_KINDS.get(cls)
        if found is not None:
            return found
    return ProblemKind.INTERNAL


_HTTP_KINDS = {
    400: ProblemKind.BAD_REQUEST,
    401: ProblemKind.UNAUTHORIZED,
    403: ProblemKind.FORBIDDEN,
    404: ProblemKind.NOT_FOUND,
    405: ProblemKind.METHOD_NOT_ALLOWED,
    413: ProblemKind.BODY_TOO_LARGE,
    415: ProblemKind.UNSUPPORTED_MEDIA_TYPE,
    429: ProblemKind.RATE_LIMITED,
}


def problem_for_exception(exc: BaseException) -> tuple[Problem, dict[str, str]]:
    """The problem and headers that answer ``exc``; unexpected errors reveal no internals."""
    if isinstance(exc, ProblemError):
        return exc.problem, exc.headers
    if isinstance(exc, errors.FlambeauError):
        kind = _kind_of(exc)
        if kind is ProblemKind.INTERNAL:
            _log.error("gateway error: %s", exc)
            return kind.problem("the gateway is misconfigured; see its log"), {}
        if kind is ProblemKind.LOG_UNAVAILABLE:
            retry = {"Retry-After": str(math.ceil(LOG_RETRY_AFTER_S))}
            return kind.problem(str(exc), retry_after=LOG_RETRY_AFTER_S), retry
        return kind.problem(str(exc)), {}
    if isinstance(exc, ValidationException):
        found: list[FieldError] = []
        if isinstance(exc.extra, list):
            for item in exc.extra:
                if isinstance(item, dict):
                    source = getattr(item.get("source"), "value", item.get("source"))
                    name = str(item.get("key", ""))
                    field = f"{source}.{name}" if source and name else name
                    found.append(FieldError(message=str(item.get("message", "")), field=field))
        return ProblemKind.BAD_REQUEST.problem(exc.detail, found), {}
    if isinstance(exc, HTTPException):
        http_kind = _HTTP_KINDS.get(exc.status_code)
        headers = dict((exc.headers or {}).items())
        if http_kind is None:
            status = exc.status_code
            return Problem(type="about:blank", title=exc.detail, status=status), headers
        detail = exc.detail if exc.detail != http_kind.title else ""
        return http_kind.problem(detail), headers
    _log.exception("unexpected error in the gateway", exc_info=exc)
    return ProblemKind.INTERNAL.problem("an unexpected error occurred; it has been logged"), {}


def status_for_exception(exc: BaseException) -> int:
    """The HTTP status :func:`problem_for_exception` would answer ``exc`` with (no logging)."""
    if isinstance(exc, ProblemError):
        return exc.problem.status
    if isinstance(exc, errors.FlambeauError):
        return _kind_of(exc).status
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 500


_encode = msgspec.json.Encoder().encode


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[bytes]:
    """A Litestar response carrying ``problem`` as ``application/problem+json``."""
    return Response(
        content=_encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers or {},
    )


def _handle(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    problem, headers = problem_for_exception(exc)
    return problem_response(problem, headers)


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The exception handlers to install on the app: every error becomes problem+json."""
    return {Exception: _handle, HTTPException: _handle, ProblemError: _handle}


AUTH_PROBLEMS = ((401, "Missing or invalid API key"), (403, "Not allowed for this key"))
"""The (status, description) of a route's authentication problems, for :func:`problem_specs`."""
RATE_PROBLEM = (429, "Rate limit reached; see Retry-After")


def problem_specs(*pairs: tuple[int, str]) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for a route: a problem+json reply per (status, description)."""
    return {
        status: ResponseSpec(Problem, description=text, media_type=PROBLEM_JSON)
        for status, text in pairs
    }
