"""The key store: hashed keys in admin.keys, revocation, and the admin key of first start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from flambeau.events import NewEvent, utc_now
from flambeau.gateway.errors import InvalidScopeError, LastAdminKeyError, UnknownKeyError
from flambeau.gateway.keys import (
    ADMIN_KEY_FILE,
    KEYS_STREAM,
    KeyRevoked,
    KeyStore,
    hash_key,
    validate_scope,
)
from flambeau.log import open_log
from flambeau.log.base import Log
from tests.unit.gateway.schemas import make_registry


async def test_created_key_verifies_and_only_its_hash_is_stored(log: Log) -> None:
    store = KeyStore(log)
    key, record = await store.create("acme", ["read:results.*"])
    assert store.verify(key) == record
    assert record.sha256 == hash_key(key)
    [stored] = await log.read(KEYS_STREAM, 0, 0)
    assert key.encode() not in bytes(stored.data)
    assert record.sha256.encode() in bytes(stored.data)


async def test_a_key_with_one_character_changed_does_not_verify(log: Log) -> None:
    store = KeyStore(log)
    key, _ = await store.create("acme", ["admin"])
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert store.verify(tampered) is None
    assert store.verify("not-a-key") is None
    assert store.verify("") is None


async def test_revocation_is_seen_by_another_store_on_the_same_log(log: Log) -> None:
    writer, reader = KeyStore(log), KeyStore(log)
    key, record = await writer.create("acme", ["write:results.units"])
    await reader.refresh()
    assert reader.verify(key) is not None
    assert not reader.verify(key).revoked  # type: ignore[union-attr]
    await writer.revoke(record.key_id)
    await reader.refresh()
    assert reader.verify(key).revoked  # type: ignore[union-attr]
    assert [r.key_id for r in reader.records()] == [record.key_id]


async def test_revoking_an_unknown_key_names_it(log: Log) -> None:
    with pytest.raises(UnknownKeyError, match="nosuchkey"):
        await KeyStore(log).revoke("nosuchkey")


@pytest.mark.parametrize(
    "scope", ["admin", "read:results.*", "write:betting.odds", "read:*", "read:results.[ab]*"]
)
def test_valid_scopes(scope: str) -> None:
    assert validate_scope(scope) == scope


@pytest.mark.parametrize("scope", ["", "read", "read:", "delete:x", "Read:x", "admin:x", "read: x"])
def test_invalid_scopes_are_refused(scope: str) -> None:
    with pytest.raises(InvalidScopeError):
        validate_scope(scope)


async def test_a_key_needs_a_scope_and_a_tenant(log: Log) -> None:
    store = KeyStore(log)
    with pytest.raises(InvalidScopeError):
        await store.create("acme", [])
    with pytest.raises(InvalidScopeError):
        await store.create("", ["admin"])


async def test_first_start_creates_an_admin_key_saved_with_mode_0600(
    log: Log, tmp_path: Path
) -> None:
    store = KeyStore(log)
    key = await store.ensure_admin_key(tmp_path)
    assert key is not None
    path = tmp_path / ADMIN_KEY_FILE
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.verify(key).scopes == ("admin",)  # type: ignore[union-attr]
    assert await store.ensure_admin_key(tmp_path) is None  # second start: nothing new


async def test_a_saved_admin_key_is_registered_again_on_a_fresh_log(tmp_path: Path) -> None:
    first = await open_log("memory://", make_registry())
    key = await KeyStore(first).ensure_admin_key(tmp_path)
    await first.aclose()
    fresh = await open_log("memory://", make_registry())
    try:
        store = KeyStore(fresh)
        assert await store.ensure_admin_key(tmp_path) is None
        assert key is not None
        assert store.verify(key) is not None
    finally:
        await fresh.aclose()


async def test_the_last_active_admin_key_is_not_revoked(log: Log, tmp_path: Path) -> None:
    store = KeyStore(log)
    first = store.verify(await store.ensure_admin_key(tmp_path) or "")
    assert first is not None
    with pytest.raises(LastAdminKeyError, match=f"API key {first.key_id} is the last active"):
        await store.revoke(first.key_id)
    assert not store.get(first.key_id).revoked
    _, second = await store.create("ops", ["admin"])
    assert (await store.revoke(first.key_id)).revoked
    with pytest.raises(LastAdminKeyError):
        await store.revoke(second.key_id)
    _, reader = await store.create("ops", ["read:*"])
    assert (await store.revoke(reader.key_id)).revoked  # the rule is about admin keys only


async def test_a_revoked_saved_admin_key_is_replaced(log: Log, tmp_path: Path) -> None:
    store = KeyStore(log)
    old = await store.ensure_admin_key(tmp_path)
    assert old is not None
    # Every admin key revoked: only a log written before the last-admin rule (or two gateways
    # revoking two admin keys at once) holds that; the next start must still recover.
    old_id = store.verify(old).key_id  # type: ignore[union-attr]
    gone = KeyRevoked(key_id=old_id, revoked_at=utc_now())
    await log.append(KEYS_STREAM, [NewEvent(gone, key=old_id, id=f"revoked:{old_id}")])
    new = await store.ensure_admin_key(tmp_path)
    assert new is not None
    assert new != old
    assert (tmp_path / ADMIN_KEY_FILE).read_text().strip() == new


async def test_no_admin_key_is_made_when_another_gateway_holds_one(
    log: Log, tmp_path: Path
) -> None:
    await KeyStore(log).ensure_admin_key(tmp_path / "first")
    assert await KeyStore(log).ensure_admin_key(tmp_path / "second") is None
    assert not (tmp_path / "second" / ADMIN_KEY_FILE).exists()
