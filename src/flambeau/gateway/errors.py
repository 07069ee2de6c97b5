"""Errors the gateway raises on purpose; :data:`~flambeau.gateway.problems.ERROR_KINDS` maps
each to its problem type.

:class:`~flambeau.gateway.problems.ProblemError` (a handler's answer, carrying its problem)
lives beside :class:`~flambeau.gateway.problems.Problem`; it too is a
:class:`~flambeau.errors.FlambeauError`.
"""

from __future__ import annotations

from flambeau.errors import FlambeauError

__all__ = [
    "InvalidScopeError",
    "LastAdminKeyError",
    "UnknownKeyError",
    "WebhookTargetRefusedError",
]


class InvalidScopeError(FlambeauError):
    """A scope is not ``admin``, ``tenants:*``, ``read:<pattern>`` or ``write:<pattern>``."""


class UnknownKeyError(FlambeauError):
    """No API key has the given id."""


class LastAdminKeyError(FlambeauError):
    """Revoking this key would leave no active admin key: nobody could manage keys again."""


class WebhookTargetRefusedError(FlambeauError, ValueError):
    """A webhook URL the gateway will not send to.

    The message names the field, the host or address and the reason; not the whole URL, whose
    query or user part may hold a partner's token (it ends up in logs and dead letters).
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"url: {reason}")
        self.url = url
        self.reason = reason
