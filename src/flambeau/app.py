"""Assembly: the one module that knows every service.

Importing it registers every service's streams (in :data:`flambeau.events.default_registry`)
and processors (in :data:`flambeau.processing.default_processors`). The gateway and the worker
take what they need from here: ``gateway_routes`` for the HTTP routes of the services and
``gateway_metrics(log)`` for the lag rows on ``/metrics``. Nothing below this module imports a
service; services never import each other.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from flambeau.gateway.metrics import LagRow, MetricsSource
from flambeau.log import Log
from flambeau.processing import default_processors, processor_lag

SERVICES: tuple[str, ...] = ()
"""The service packages, by module path; each may define ``routes`` and register processors."""


def _load_services() -> list[Any]:
    return [importlib.import_module(name) for name in SERVICES]


_services = _load_services()

gateway_routes: Sequence[Any] = tuple(
    route for service in _services for route in getattr(service, "routes", ())
)
"""Every service's Litestar route handlers, for :func:`flambeau.gateway.create_app`."""


def gateway_metrics(log: Log) -> list[MetricsSource]:
    """Metric sources for ``/metrics``: the lag of every registered processor."""
    processors = list(default_processors)

    async def lag() -> list[LagRow]:
        rows = await processor_lag(log, processors)
        return [LagRow(r.processor, r.stream, r.partition, r.committed, r.end) for r in rows]

    return [lag]
