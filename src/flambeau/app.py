"""Assembly: the one module that knows every service.

Importing it registers every service's streams (in :data:`flambeau.events.default_registry`)
and processors (in :data:`flambeau.processing.default_processors`). The gateway and the worker
take what they need from here: ``gateway_routes`` for the HTTP routes of the services and
``gateway_metrics(log)`` for the lag rows on ``/metrics``. Nothing below this module imports a
service. A service imports nothing of another but its published contract (its ``schemas``, and
the modules its package names in ``PUBLIC``): see CONTRIBUTING.md, "Service boundaries".
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from flambeau.gateway.health import LeaseHolders
from flambeau.gateway.metrics import LagRow, MetricsSource
from flambeau.log import Log
from flambeau.processing import default_processors, processor_lag

SERVICES: tuple[str, ...] = (
    "flambeau.services.results",
    "flambeau.services.payments",
    "flambeau.services.betting",
    "flambeau.services.crowds",
    "flambeau.services.ops",
    "flambeau.services.analytics",
    "flambeau.services.mobility",
    "flambeau.services.rentals",
)
"""The service packages. Each has ``schemas`` (its streams), names its published modules in
``PUBLIC``, and may have ``processors`` (registering its processors) and ``routes`` (a module
whose ``routes`` lists its handlers and whose optional ``gauges`` lists its ``/metrics`` gauge
factories)."""

PARTS = ("schemas", "processors", "routes")


def _load(service: str) -> list[ModuleType]:
    loaded = []
    for part in PARTS:
        name = f"{service}.{part}"
        if importlib.util.find_spec(name) is not None:
            loaded.append(importlib.import_module(name))
    return loaded


_modules = [module for service in SERVICES for module in _load(service)]

gateway_routes: Sequence[Any] = tuple(
    route for module in _modules for route in getattr(module, "routes", ())
)
"""Every service's Litestar route handlers, for :func:`flambeau.gateway.create_app`."""


def gateway_gauges(log: Log) -> list[Callable[[], list[str]]]:
    """Scrape-time gauges the services publish for ``/metrics``.

    A service's routes module offers them as ``gauges``, beside ``routes``: a list of
    factories that each take the log and return a scrape-time gauge source.
    """
    return [factory(log) for module in _modules for factory in getattr(module, "gauges", ())]


def gateway_metrics(log: Log) -> list[MetricsSource]:
    """Metric sources for ``/metrics``: the lag of every registered processor."""
    processors = list(default_processors)

    async def lag() -> list[LagRow]:
        rows = await processor_lag(log, processors)
        return [LagRow(r.processor, r.stream, r.partition, r.committed, r.end) for r in rows]

    return [lag]


def gateway_lease_holders(log: Log) -> LeaseHolders | None:
    """Who holds each processor partition, for ``/healthz``: leasing workers of a ``nats://``
    log (``None`` for other logs, where one process runs every partition)."""
    from flambeau.log.nats import NatsLog

    if not isinstance(log, NatsLog):
        return None
    from flambeau.log.nats_leases import NatsLeases

    leases = NatsLeases(log, worker="gateway")

    async def holders(processor: str) -> dict[int, str] | None:
        if not await leases.members(processor):
            return None  # no leasing worker runs it (flambeau up, or a draining backfill)
        return await leases.holders(processor)

    return holders
