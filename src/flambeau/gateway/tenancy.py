"""Per-record entitlement by tenant.

A payload with a ``tenant`` field belongs to that tenant: a key of another tenant may not see
it unless it has the ``tenants:*`` scope (an operations room's key) or ``admin``. Payloads
without the field belong to everyone who may read their stream. The gateway applies this to
every subscription (WebSocket and SSE, in :mod:`.fanout`) and to webhook deliveries; a
service's read route filters its answers with :attr:`.Principal.all_tenants` and the tenant.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TENANT_FIELD", "entitled"]

TENANT_FIELD = "tenant"
"""The payload field that names a record's tenant."""


def entitled(all_tenants: bool, tenant: str | None, data: Any) -> bool:
    """Whether a caller of ``tenant`` (seeing ``all_tenants`` or not) may see payload ``data``."""
    owner = getattr(data, TENANT_FIELD, None)
    return all_tenants or owner is None or owner == tenant
