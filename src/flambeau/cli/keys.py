"""``flambeau keys create|revoke|list``: manage API keys.

``keys create`` prints the new key alone on stdout (``flambeau keys create ... > sim.key``),
and what it is on stderr.

When a gateway serves the data directory (its ``gateway.json`` names a live process), or
``--gateway URL`` is given, the command goes through the gateway's admin API with the admin key
(``--admin-key``, ``$FLAMBEAU_ADMIN_KEY``, or ``<data dir>/admin.key``). Otherwise it appends to
the log's ``admin.keys`` stream directly; every gateway tails that stream.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer

from flambeau.cli._options import DataOption, data_dir, log_url

RUN_FILE = "gateway.json"
ADMIN_KEY_FILE = "admin.key"

_T = TypeVar("_T")

keys_app = typer.Typer(help="Create, revoke and list API keys.", no_args_is_help=True)


def _running_gateway(data: Path) -> str | None:
    """The URL of the gateway serving ``data``, if its process is alive."""
    try:
        info = json.loads((data / RUN_FILE).read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = info.get("url")
    return url if isinstance(url, str) else None


def _admin_key(explicit: str | None, data: Path) -> str:
    key = explicit or os.environ.get("FLAMBEAU_ADMIN_KEY")
    if key:
        return key
    try:
        return (data / ADMIN_KEY_FILE).read_text().strip()
    except FileNotFoundError:
        raise typer.BadParameter(
            f"no admin key: pass --admin-key, set FLAMBEAU_ADMIN_KEY, or run from the data "
            f"directory holding {ADMIN_KEY_FILE}",
            param_hint="--admin-key",
        ) from None


class _Target:
    """Where key operations go: a gateway's admin API, or the log itself."""

    def __init__(
        self, gateway: str | None, admin_key: str | None, log: str | None, data: Path | None
    ) -> None:
        self.data = data_dir(data)
        self.gateway = gateway or _running_gateway(self.data)
        self.admin_key = admin_key
        self.log_url = log_url(log, self.data)

    def http(self, method: str, path: str, body: Any = None) -> Any:
        assert self.gateway is not None
        headers = {"Authorization": f"Bearer {_admin_key(self.admin_key, self.data)}"}
        response = httpx.request(
            method, self.gateway.rstrip("/") + path, json=body, headers=headers, timeout=10.0
        )
        if response.status_code >= 400:
            try:
                problem = response.json()
                message = problem.get("detail") or problem.get("title")
            except ValueError:
                message = response.text
            raise typer.BadParameter(f"the gateway refused ({response.status_code}): {message}")
        return response.json()

    def on_store(self, use: Callable[[Any], Awaitable[_T]]) -> _T:
        """What ``use`` returns for the log's key store, brought up to date; the log is closed
        after."""

        async def direct() -> _T:
            import flambeau.app  # noqa: F401  (registers every service's streams)
            from flambeau.gateway.keys import KeyStore
            from flambeau.log import open_log

            log = await open_log(self.log_url)
            try:
                store = KeyStore(log)
                await store.refresh()
                return await use(store)
            finally:
                await log.aclose()

        return asyncio.run(direct())


def _print_record(record: dict[str, Any], *, err: bool = False) -> None:
    revoked = f"  revoked {record['revoked_at']}" if record.get("revoked_at") else ""
    typer.echo(
        f"{record['key_id']}  tenant={record['tenant']}  scopes={','.join(record['scopes'])}"
        f"{revoked}",
        err=err,
    )


def _as_dict(record: Any) -> dict[str, Any]:
    return {
        "key_id": record.key_id,
        "tenant": record.tenant,
        "scopes": list(record.scopes),
        "created_at": record.created_at.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "description": record.description,
    }


GatewayOpt = Annotated[
    str | None, typer.Option("--gateway", help="Gateway URL (default: the one serving --data).")
]
AdminOpt = Annotated[str | None, typer.Option("--admin-key", help="Admin API key for --gateway.")]
LogOpt = Annotated[str | None, typer.Option("--log", help="Log URL when no gateway is used.")]


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The tenant the key belongs to.")],
    scope: Annotated[
        list[str], typer.Option(help="admin, read:<pattern> or write:<pattern> (repeatable).")
    ],
    description: Annotated[str, typer.Option(help="What the key is for.")] = "",
    gateway: GatewayOpt = None,
    admin_key: AdminOpt = None,
    log: LogOpt = None,
    data: DataOption = None,
) -> None:
    """Create a key: the key alone is printed on stdout, once (it is stored only hashed), so
    ``KEY=$(flambeau keys create ...)`` or ``... > producer.key`` captures it; what it is
    (id, tenant, scopes) goes to stderr."""
    from flambeau.gateway.errors import InvalidScopeError
    from flambeau.gateway.keys import validate_scope

    try:
        for one in scope:
            validate_scope(one)
    except InvalidScopeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scope") from None
    target = _Target(gateway, admin_key, log, data)
    if target.gateway:
        reply = target.http(
            "POST", "/v1/keys", {"tenant": tenant, "scopes": scope, "description": description}
        )
        key, record = reply["key"], reply["info"]
    else:

        async def made(store: Any) -> tuple[str, dict[str, Any]]:
            text, created = await store.create(tenant, scope, description)
            return text, _as_dict(created)

        key, record = target.on_store(made)
    _print_record(record, err=True)
    typer.echo(key)
    typer.echo("This is the only time the key is shown; keep it (mode 0600).", err=True)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after 'fbk_').")],
    gateway: GatewayOpt = None,
    admin_key: AdminOpt = None,
    log: LogOpt = None,
    data: DataOption = None,
) -> None:
    """Revoke a key; gateways refuse it from then on."""
    from flambeau.gateway.errors import LastAdminKeyError, UnknownKeyError

    target = _Target(gateway, admin_key, log, data)
    if target.gateway:
        record = target.http("DELETE", f"/v1/keys/{key_id}")
    else:

        async def revoked(store: Any) -> dict[str, Any]:
            return _as_dict(await store.revoke(key_id))

        try:
            record = target.on_store(revoked)
        except (UnknownKeyError, LastAdminKeyError) as exc:
            raise typer.BadParameter(str(exc), param_hint="KEY_ID") from None
    _print_record(record)


@keys_app.command("list")
def list_keys(
    gateway: GatewayOpt = None,
    admin_key: AdminOpt = None,
    log: LogOpt = None,
    data: DataOption = None,
) -> None:
    """List every key: id, tenant, scopes, and whether it is revoked."""
    target = _Target(gateway, admin_key, log, data)
    if target.gateway:
        records = target.http("GET", "/v1/keys")
    else:

        async def listed(store: Any) -> list[dict[str, Any]]:
            return [_as_dict(r) for r in store.records()]

        records = target.on_store(listed)
    for record in records:
        _print_record(record)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group to ``app``."""
    app.add_typer(keys_app, name="keys")
