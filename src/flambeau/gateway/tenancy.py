"""Per-record entitlement by tenant.

A payload with a ``tenant`` field belongs to that tenant: a key of another tenant may not see
it, whatever its scopes; an admin key sees everything. Payloads without the field belong to
everyone who may read their stream. The gateway applies this to webhook deliveries and to the
service reads that use :func:`visible` (``GET /v1/mobility/deliveries``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from flambeau.gateway.auth import Principal

__all__ = ["TENANT_FIELD", "entitled", "visible"]

TENANT_FIELD = "tenant"
"""The payload field that names a record's tenant."""
T = TypeVar("T")


def entitled(admin: bool, tenant: str | None, data: Any) -> bool:
    """Whether a caller (``admin``, of ``tenant``) may see a record with payload ``data``."""
    owner = getattr(data, TENANT_FIELD, None)
    return admin or owner is None or owner == tenant


def visible(principal: Principal, items: Iterable[T], data: Any = None) -> list[T]:
    """The ``items`` ``principal`` is entitled to; ``data(item)`` gives each one's payload."""
    pick = data or (lambda item: item)
    return [i for i in items if entitled(principal.admin, principal.tenant, pick(i))]
