"""Who is calling, and what they may do.

A request carries an API key as ``Authorization: Bearer <key>``, or as the ``key`` query
parameter (browsers' ``EventSource`` and ``WebSocket`` cannot set headers). A key grants scopes:

- ``read:<pattern>``: subscribe to and list streams whose name matches the fnmatch pattern;
- ``write:<pattern>``: append to matching streams;
- ``admin``: everything, including managing keys.

No pattern matches ``admin.keys``: only an admin key reads it, and nobody appends to it but the
gateway's own key routes (``POST /v1/keys``, ``DELETE /v1/keys/{id}``), so ``write:*`` can never
grant itself a key.

A request without a key is anonymous: it may read the public streams (by default those the
registry marks ``public=True``). A request with a key that is unknown, malformed or revoked is
refused with 401 on every route, even public ones, so a misconfigured client finds out at once
instead of silently reading as anonymous.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from flambeau.events import Registry
from flambeau.gateway.keys import KEYS_STREAM, KeyStore
from flambeau.gateway.problems import ProblemError, ProblemKind

__all__ = ["Access", "Principal", "RedactKeys", "install_redaction"]

ALL_TENANTS = "tenants:*"
"""The scope that lifts per-record tenancy (an operations room's read key)."""
ADMIN_PREFIX = "admin."
"""Streams under this prefix are the gateway's own: only admin keys read them."""

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="flambeau"'}


@dataclass(frozen=True)
class Principal:
    """The caller: a key's tenant and scopes, or anonymous.

    Attributes:
        key_id: The key's public id; ``None`` when anonymous.
        tenant: The key's tenant; ``None`` when anonymous.
        scopes: What the key grants.
        client: Whom limits count against: ``key:<id>`` or ``ip:<address>``.
    """

    key_id: str | None
    tenant: str | None
    scopes: tuple[str, ...]
    client: str

    @property
    def anonymous(self) -> bool:
        """Whether no key was presented."""
        return self.key_id is None

    @property
    def admin(self) -> bool:
        """Whether the key has the ``admin`` scope."""
        return "admin" in self.scopes

    @property
    def all_tenants(self) -> bool:
        """Whether the key sees every tenant's records (``admin`` or ``tenants:*``)."""
        return self.admin or ALL_TENANTS in self.scopes

    def grants(self, action: str, stream: str) -> bool:
        """Whether a scope grants ``action`` (``read`` or ``write``) on ``stream``.

        The internal ``admin.*`` streams (``admin.keys``, ``admin.webhooks`` with its signing
        secrets, ``admin.webhook_dead``) are granted by the ``admin`` scope only, never by a
        pattern.
        """
        if self.admin:
            return True
        if stream == KEYS_STREAM or stream.startswith(ADMIN_PREFIX):
            return False
        prefix = f"{action}:"
        return any(
            scope.startswith(prefix) and fnmatchcase(stream, scope[len(prefix) :])
            for scope in self.scopes
        )


class Access:
    """Authenticates requests against a :class:`KeyStore` and checks scopes on streams."""

    def __init__(
        self, keys: KeyStore, registry: Registry, public_streams: Iterable[str] | None = None
    ) -> None:
        self.keys = keys
        self._registry = registry
        self._patterns = None if public_streams is None else tuple(public_streams)

    def is_public(self, stream: str) -> bool:
        """Whether anyone may read ``stream`` without a key."""
        if self._patterns is None:
            return stream in self._registry and self._registry.spec(stream).public
        return any(fnmatchcase(stream, pattern) for pattern in self._patterns)

    def authenticate(
        self, headers: Mapping[str, str], query: Mapping[str, str], client_host: str | None
    ) -> Principal:
        """The caller of a request with these headers and query parameters.

        Raises:
            ProblemError: 401 when a key is presented but unknown, malformed or revoked.
        """
        key = _presented_key(headers, query)
        if key is None:
            return Principal(None, None, (), f"ip:{client_host or 'unknown'}")
        record = self.keys.verify(key)
        if record is None:
            raise ProblemError.of(
                ProblemKind.UNAUTHORIZED, "the API key is not valid", headers=_CHALLENGE
            )
        if record.revoked:
            raise ProblemError.of(
                ProblemKind.UNAUTHORIZED,
                f"API key {record.key_id} was revoked",
                headers=_CHALLENGE,
            )
        return Principal(record.key_id, record.tenant, record.scopes, f"key:{record.key_id}")

    def require(self, principal: Principal, action: str, stream: str) -> None:
        """Raise unless ``principal`` may ``action`` (``read`` or ``write``) ``stream``.

        Raises:
            ProblemError: 401 for an anonymous caller, 403 for a key without the scope.
        """
        if principal.grants(action, stream):
            return
        if action == "read" and self.is_public(stream):
            return
        if principal.anonymous:
            raise ProblemError.of(
                ProblemKind.UNAUTHORIZED,
                f"{action} access to stream {stream!r} needs an API key",
                headers=_CHALLENGE,
            )
        raise ProblemError.of(
            ProblemKind.FORBIDDEN,
            f"API key {principal.key_id} has no {action} scope for stream {stream!r}",
        )

    def require_admin(self, principal: Principal) -> None:
        """Raise unless ``principal`` has the ``admin`` scope (401 anonymous, 403 otherwise)."""
        if principal.admin:
            return
        if principal.anonymous:
            raise ProblemError.of(
                ProblemKind.UNAUTHORIZED, "this route needs an admin API key", headers=_CHALLENGE
            )
        raise ProblemError.of(
            ProblemKind.FORBIDDEN, f"API key {principal.key_id} has no admin scope"
        )


def _presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    header = headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ProblemError.of(
                ProblemKind.UNAUTHORIZED,
                "the Authorization header must be 'Bearer <API key>'",
                headers=_CHALLENGE,
            )
        return value.strip()
    key = query.get("key")
    return key or None


_SECRET = re.compile(r"((?:^|[?&;\s])key=)[^&\s\"']*|(fbk_[0-9a-f]{12}_)[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    """``text`` with API keys (``key=`` parameters and ``fbk_`` secrets) masked."""
    return _SECRET.sub(lambda m: f"{m.group(1) or m.group(2)}***", text)


class RedactKeys(logging.Filter):
    """A logging filter that masks API keys in messages and their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction(
    names: Iterable[str] = ("uvicorn.access", "uvicorn.error", "litestar"),
) -> None:
    """Add :class:`RedactKeys` to the named loggers (once), so access logs never hold a key."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())
