"""API keys: created, revoked and listed as events in the internal stream ``admin.keys``.

Why a stream and not a file: gateways are stateless and may run several to a log (on NATS,
behind a load balancer). Every gateway tails ``admin.keys`` and keeps the table in memory, so a
key created or revoked through any gateway, or with ``flambeau keys`` against the log, reaches
all of them without shared disks, and the history of who was granted what stays auditable.

A key reads ``fbk_<key id>_<secret>``. Only the SHA-256 of the whole key is stored; a presented
key is looked up by its id and its hash compared in constant time. A high-entropy random secret
(256 bits) needs no slow password hash: there is nothing to brute-force.

The admin key is created at first start when no active admin key exists: its text is returned
once (the gateway prints it) and saved to ``<data dir>/admin.key`` with mode 0600. On a log that
lost its events (``memory://``, or a fresh database) the saved admin key is registered again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flambeau.errors import FlambeauError, LogClosedError
from flambeau.events import Event, NewEvent, Registry, Writer, default_registry, utc_now
from flambeau.gateway.errors import InvalidScopeError, LastAdminKeyError, UnknownKeyError
from flambeau.log.base import Log

__all__ = [
    "ADMIN_KEY_FILE",
    "KEYS_STREAM",
    "SCOPE_PATTERN",
    "KeyCreated",
    "KeyRecord",
    "KeyRevoked",
    "KeyStore",
    "hash_key",
    "register_keys_stream",
    "validate_scope",
]

KEYS_STREAM = "admin.keys"
ADMIN_KEY_FILE = "admin.key"
ADMIN_TENANT = "admin"
_PREFIX = "fbk"
_KEY_SHAPE = re.compile(r"^fbk_(?P<id>[0-9a-f]{12})_[A-Za-z0-9_-]{20,}$")
SCOPE_PATTERN = r"^(?:admin|tenants:\*|(?:read|write):[a-z0-9_.*?\[\]!-]+)$"
"""``admin``, ``tenants:*``, ``read:<stream pattern>`` or ``write:<stream pattern>``."""
_SCOPE = re.compile(SCOPE_PATTERN)
_log = logging.getLogger("flambeau.gateway.keys")


class KeyCreated(Event, frozen=True, tag="key_created"):
    """A key was granted: its id, tenant, scopes and the SHA-256 of its text."""

    key_id: str
    tenant: str
    scopes: tuple[str, ...]
    sha256: str
    created_at: datetime
    description: str = ""


class KeyRevoked(Event, frozen=True, tag="key_revoked"):
    """A key was revoked; it is refused from then on."""

    key_id: str
    revoked_at: datetime


def register_keys_stream(registry: Registry) -> None:
    """Register ``admin.keys`` (one partition, never public, written by the gateway's key
    routes only) in ``registry``.

    Do it before opening a log with ``registry``: the SQLite backend serves only the streams
    its registry knows at open time.
    """
    registry.register(
        KEYS_STREAM,
        KeyCreated | KeyRevoked,
        partitions=1,
        public=False,
        description="API keys granted and revoked (hashes only); read by every gateway",
        writer=Writer.gateway("POST /v1/keys", "DELETE /v1/keys/{key_id}"),
    )


# Registered at import, like every service's streams: a log reopened from disk only serves the
# streams its registry knows when it opens.
register_keys_stream(default_registry)


@dataclass(frozen=True)
class KeyRecord:
    """What the gateway knows about one key (never its text)."""

    key_id: str
    tenant: str
    scopes: tuple[str, ...]
    sha256: str
    created_at: datetime
    description: str = ""
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """Whether the key has been revoked."""
        return self.revoked_at is not None


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(key.encode()).hexdigest()


def validate_scope(scope: str) -> str:
    """Return ``scope`` if well formed.

    Raises:
        InvalidScopeError: it is not ``admin``, ``tenants:*`` (see every tenant's records),
            ``read:<pattern>`` or ``write:<pattern>``.
    """
    if not _SCOPE.match(scope):
        raise InvalidScopeError(
            f"scope {scope!r} must be 'admin', 'tenants:*', 'read:<stream pattern>' or "
            "'write:<stream pattern>' (patterns use fnmatch wildcards, e.g. 'read:results.*')"
        )
    return scope


def key_id_of(key: str) -> str | None:
    """The id part of a presented key, or ``None`` if it is not shaped like one of ours."""
    match = _KEY_SHAPE.match(key)
    return match.group("id") if match else None


class KeyStore:
    """The table of API keys, kept in step with the ``admin.keys`` stream of ``log``."""

    def __init__(self, log: Log) -> None:
        register_keys_stream(log.registry)
        self._log = log
        self._keys: dict[str, KeyRecord] = {}
        self._next = 0

    # -- reading the stream --------------------------------------------------------------------

    async def refresh(self) -> None:
        """Apply every key event appended since the last refresh."""
        decoder = self._log.registry.decoder(KEYS_STREAM)
        while True:
            records = await self._log.read(KEYS_STREAM, 0, self._next, 1000)
            if not records:
                return
            for record in records:
                self._apply(decoder.decode(record.data))
                self._next = record.offset + 1

    async def follow(self, refresh_s: float = 1.0) -> None:
        """Refresh whenever the stream grows (and at least every ``refresh_s``), until cancelled
        or the log closes. A failing backend is retried: revocations must keep arriving."""
        while True:
            try:
                await self.refresh()
                await self._log.wait(KEYS_STREAM, {0: self._next}, refresh_s)
            except LogClosedError:
                return
            except FlambeauError:
                _log.exception("reading %s failed; retrying", KEYS_STREAM)
                await asyncio.sleep(refresh_s)

    def _apply(self, event: KeyCreated | KeyRevoked) -> None:
        match event:
            case KeyCreated():
                if event.key_id not in self._keys:
                    self._keys[event.key_id] = KeyRecord(
                        event.key_id,
                        event.tenant,
                        tuple(event.scopes),
                        event.sha256,
                        event.created_at,
                        event.description,
                    )
            case KeyRevoked():
                known = self._keys.get(event.key_id)
                if known is not None and known.revoked_at is None:
                    self._keys[event.key_id] = _revoked(known, event.revoked_at)

    # -- the API -------------------------------------------------------------------------------

    def verify(self, key: str) -> KeyRecord | None:
        """The record of ``key`` if the key is known and its hash matches (revoked or not)."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        record = self._keys.get(key_id)
        if record is None:
            return None
        if not hmac.compare_digest(hash_key(key), record.sha256):
            return None
        return record

    def get(self, key_id: str) -> KeyRecord:
        """The record of ``key_id``.

        Raises:
            UnknownKeyError: no key has that id.
        """
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKeyError(f"no API key has id {key_id!r}") from None

    def records(self) -> list[KeyRecord]:
        """Every key, by creation time."""
        return sorted(self._keys.values(), key=lambda r: (r.created_at, r.key_id))

    async def create(
        self, tenant: str, scopes: tuple[str, ...] | list[str], description: str = ""
    ) -> tuple[str, KeyRecord]:
        """Grant a new key; return its text (shown once, never stored) and its record.

        Raises:
            InvalidScopeError: a scope is malformed, or none is given.
        """
        if not tenant or len(tenant) > 128:
            raise InvalidScopeError("a key needs a tenant of 1 to 128 characters")
        if not scopes:
            raise InvalidScopeError("a key needs at least one scope")
        checked = tuple(dict.fromkeys(validate_scope(s) for s in scopes))
        key_id = secrets.token_hex(6)
        key = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        await self._register(key, tenant, checked, description)
        return key, self._keys[key_id]

    async def _register(
        self, key: str, tenant: str, scopes: tuple[str, ...], description: str
    ) -> None:
        key_id = key_id_of(key)
        assert key_id is not None
        event = KeyCreated(
            key_id=key_id,
            tenant=tenant,
            scopes=scopes,
            sha256=hash_key(key),
            created_at=utc_now(),
            description=description,
        )
        await self._log.append(KEYS_STREAM, [NewEvent(event, key=key_id, id=f"created:{key_id}")])
        self._apply(event)

    async def revoke(self, key_id: str) -> KeyRecord:
        """Revoke ``key_id``; revoking twice is harmless.

        Raises:
            UnknownKeyError: no key has that id.
            LastAdminKeyError: it is the last active admin key (create another admin key
                first; otherwise nobody could manage keys until the next restart).
        """
        await self.refresh()
        record = self.get(key_id)
        if record.revoked:
            return record
        if "admin" in record.scopes and not any(
            "admin" in other.scopes and not other.revoked and other.key_id != key_id
            for other in self._keys.values()
        ):
            raise LastAdminKeyError(
                f"API key {key_id} is the last active admin key; create another admin key "
                "before revoking it"
            )
        event = KeyRevoked(key_id=key_id, revoked_at=utc_now())
        await self._log.append(KEYS_STREAM, [NewEvent(event, key=key_id, id=f"revoked:{key_id}")])
        self._apply(event)
        return self._keys[key_id]

    async def ensure_saved_key(
        self, path: Path, tenant: str, scopes: tuple[str, ...], description: str
    ) -> tuple[str, bool]:
        """The key saved in ``path`` if it is active with exactly ``scopes``; otherwise a new
        key for ``tenant`` with ``scopes``, saved there with mode 0600. Returns the key and
        whether this call created it.

        For the keys the platform gives its own tools (the rehearsal, the operator dashboard):
        created once, reused on the next start, replaced if revoked or if the file holds any
        other key.

        Raises:
            InvalidScopeError: a scope is malformed.
        """
        await self.refresh()
        saved = _read_key_file(path)
        if saved is not None:
            record = self.verify(saved)
            if record is not None and not record.revoked and record.scopes == scopes:
                return saved, False
        key, _ = await self.create(tenant, scopes, description)
        _write_key_file(path, key)
        return key, True

    async def ensure_admin_key(self, data_dir: Path) -> str | None:
        """Make sure an admin key exists; return its text if this call created it.

        A key saved in ``data_dir/admin.key`` that the log does not know (a fresh log) is
        registered again. When no active admin key exists at all, a new one is created and
        saved with mode 0600.
        """
        await self.refresh()
        path = data_dir / ADMIN_KEY_FILE
        saved = _read_key_file(path)
        if saved is not None:
            saved_id = key_id_of(saved)
            if saved_id is not None and saved_id not in self._keys:
                await self._register(saved, ADMIN_TENANT, ("admin",), "admin key (from file)")
                return None
            if saved_id is not None and not self._keys[saved_id].revoked:
                return None
        if any("admin" in r.scopes and not r.revoked for r in self._keys.values()):
            _log.info("an admin key exists in the log; %s holds no copy of it", path)
            return None
        key, _ = await self.create(ADMIN_TENANT, ("admin",), "admin key generated at first start")
        _write_key_file(path, key)
        return key


def _revoked(record: KeyRecord, at: datetime) -> KeyRecord:
    return KeyRecord(
        record.key_id,
        record.tenant,
        record.scopes,
        record.sha256,
        record.created_at,
        record.description,
        at,
    )


def _read_key_file(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


def _write_key_file(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{key}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
