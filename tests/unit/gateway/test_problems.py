"""Every error maps to an RFC 9457 problem with a stable type."""

from __future__ import annotations

import pytest
from litestar.exceptions import NotFoundException, ValidationException

from flambeau import errors
from flambeau.gateway.errors import InvalidScopeError, UnknownKeyError
from flambeau.gateway.problems import ProblemError, ProblemKind, problem_for_exception


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (errors.UnknownStreamError("unknown stream 'x.y'"), 404, "unknown-stream"),
        (errors.SchemaMismatchError("bad type"), 422, "invalid-events"),
        (errors.InvalidEventError("naive time"), 422, "invalid-events"),
        (errors.LogClosedError("closed"), 503, "log-unavailable"),
        (errors.BackendUnavailableError("nats down"), 503, "log-unavailable"),
        (errors.LogFailedError("disk"), 503, "log-unavailable"),
        (errors.UnknownBackendError("x://"), 500, "internal"),
        (UnknownKeyError("no key 'k'"), 404, "not-found"),
        (InvalidScopeError("scope"), 400, "bad-request"),
    ],
)
def test_flambeau_errors_map_to_problem_types(
    error: errors.FlambeauError, status: int, slug: str
) -> None:
    problem, headers = problem_for_exception(error)
    assert problem.status == status
    assert problem.type == f"urn:flambeau:problem:{slug}"
    if status == 503:
        assert headers["Retry-After"] == "1"


def test_unexpected_errors_reveal_nothing() -> None:
    problem, _ = problem_for_exception(RuntimeError("secret path /etc/shadow"))
    assert problem.status == 500
    assert "shadow" not in problem.detail


def test_framework_errors_become_problems() -> None:
    problem, _ = problem_for_exception(NotFoundException())
    assert problem.status == 404
    invalid = ValidationException(
        "bad", extra=[{"key": "atomic", "message": "not a bool", "source": "query"}]
    )
    problem, _ = problem_for_exception(invalid)
    assert problem.errors[0].field == "query.atomic"


def test_retry_after_is_rounded_up_to_whole_seconds() -> None:
    error = ProblemError.of(ProblemKind.RATE_LIMITED, "slow down", retry_after=0.2)
    assert error.headers["Retry-After"] == "1"
    assert error.problem.retry_after == 0.2
