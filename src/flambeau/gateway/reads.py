"""Answering a query from a view: authorize the caller, then let the view catch up with the log.

Every service's query routes read the same way: ``read`` on the stream the answer comes from
(401, 403 or 429 problems otherwise), the view over the gateway's log, and a bounded wait for
that view to apply what the log holds, after which the route answers anyway. These two
functions are that sequence, written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar.connection import ASGIConnection

from flambeau.gateway.auth import Principal
from flambeau.gateway.context import gateway_of
from flambeau.log.base import Log
from flambeau.processing import View

__all__ = ["caught_up", "read_view"]

_M = TypeVar("_M")


async def caught_up(log: Log, open_view: Callable[[Log], tuple[View, _M]], timeout: float) -> _M:
    """The model of the view ``open_view`` runs over ``log``, once the view has applied all the
    log held at call time, or after ``timeout`` seconds (a slow view still answers, a bit late).
    """
    view, model = open_view(log)
    await view.sync(timeout)
    return model


async def read_view(
    connection: ASGIConnection[Any, Any, Any, Any],
    stream: str,
    open_view: Callable[[Log], tuple[View, _M]],
    timeout: float,
) -> tuple[Principal, _M]:
    """The caller, authorized to ``read`` ``stream``, and the model of its view, caught up.

    Raises:
        ProblemError: 401, 403 or 429, from :meth:`Gateway.authorize`, before any view opens.
    """
    gateway = gateway_of(connection)
    principal = gateway.authorize(connection, "read", stream)
    return principal, await caught_up(gateway.log, open_view, timeout)
