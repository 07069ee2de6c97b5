"""Every route against: no key, a wrong key, a revoked key, and a key with the wrong scope."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import websockets

from flambeau.gateway import GatewayConfig
from flambeau.log.base import Log
from tests.unit.gateway.schemas import score
from tests.unit.gateway.served import Served, next_op, serve

WRONG_KEY = "fbk_0123456789ab_" + "x" * 43
ODDS = {"data": {"type": "odds_changed", "market": "m1", "price_milli": 1850}, "key": "m1"}

Call = Callable[[Served, "str | None"], Awaitable[int]]


def headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def post_odds(served: Served, key: str | None) -> int:
    async with served.client(key) as client:
        return (await client.post("/v1/streams/betting.odds/events", json=ODDS)).status_code


async def sse_odds(served: Served, key: str | None) -> int:
    async with (
        served.client(key) as client,
        client.stream("GET", "/v1/streams/betting.odds/events") as response,
    ):
        return response.status_code


async def sse_odds_query_key(served: Served, key: str | None) -> int:
    params = {"key": key} if key else {}
    async with (
        served.client() as client,
        client.stream("GET", "/v1/streams/betting.odds/events", params=params) as response,
    ):
        return response.status_code


async def describe_odds(served: Served, key: str | None) -> int:
    async with served.client(key) as client:
        return (await client.get("/v1/streams/betting.odds")).status_code


async def list_keys(served: Served, key: str | None) -> int:
    async with served.client(key) as client:
        return (await client.get("/v1/keys")).status_code


async def create_key(served: Served, key: str | None) -> int:
    async with served.client(key) as client:
        body = {"tenant": "t", "scopes": ["read:results.*"]}
        return (await client.post("/v1/keys", json=body)).status_code


async def revoke_key(served: Served, key: str | None) -> int:
    _, victim = await served.gateway.keys.create("victim", ["read:results.*"])
    async with served.client(key) as client:
        return (await client.delete(f"/v1/keys/{victim.key_id}")).status_code


async def ws_outcome(served: Served, path: str, key: str | None, message: object) -> int:
    """200 on success, else the problem's status (or the close code minus 4000)."""
    async with served.ws(path, key=key) as ws:
        try:
            await ws.send(json.dumps(message))
            async with asyncio.timeout(5):
                while True:
                    reply = json.loads(await ws.recv())
                    if reply["op"] in ("subscribed", "ack"):
                        return 200
                    if reply["op"] == "error":
                        return int(reply["problem"]["status"])
        except websockets.ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else 5000) - 4000


async def ws_subscribe_odds(served: Served, key: str | None) -> int:
    return await ws_outcome(served, "/v1/ws", key, {"op": "subscribe", "stream": "betting.odds"})


async def ws_publish_odds(served: Served, key: str | None) -> int:
    message = {"stream": "betting.odds", "ref": 1, "events": [ODDS]}
    return await ws_outcome(served, "/v1/ingest", key, message)


READS: dict[str, Call] = {
    "sse": sse_odds,
    "sse ?key=": sse_odds_query_key,
    "describe stream": describe_odds,
    "ws subscribe": ws_subscribe_odds,
}
WRITES: dict[str, Call] = {"post events": post_odds, "ws publish": ws_publish_odds}
ADMIN: dict[str, Call] = {
    "list keys": list_keys,
    "create key": create_key,
    "revoke key": revoke_key,
}
ALL = {**READS, **WRITES, **ADMIN}


@pytest.mark.parametrize("route", list(ALL))
async def test_no_key_is_401(served: Served, route: str) -> None:
    assert await ALL[route](served, None) == 401


@pytest.mark.parametrize("route", list(ALL))
async def test_wrong_key_is_401(served: Served, route: str) -> None:
    assert await ALL[route](served, WRONG_KEY) == 401


@pytest.mark.parametrize("route", list(ALL))
async def test_revoked_key_is_401(served: Served, route: str) -> None:
    key = await served.key("admin")
    assert await ALL[route](served, key) in (200, 201)
    await served.gateway.keys.revoke(key.split("_")[1])
    assert await ALL[route](served, key) == 401


@pytest.mark.parametrize("route", list(READS) + list(ADMIN))
async def test_write_scope_does_not_grant_read_or_admin(served: Served, route: str) -> None:
    key = await served.key("write:betting.*")
    assert await ALL[route](served, key) == 403


@pytest.mark.parametrize("route", list(WRITES) + list(ADMIN))
async def test_read_scope_does_not_grant_write_or_admin(served: Served, route: str) -> None:
    key = await served.key("read:betting.*")
    assert await ALL[route](served, key) == 403


@pytest.mark.parametrize("route", list(READS))
async def test_read_scope_for_another_stream_is_403(served: Served, route: str) -> None:
    key = await served.key("read:results.*")
    assert await ALL[route](served, key) == 403


@pytest.mark.parametrize(
    ("route", "scope"),
    [(r, "read:betting.odds") for r in READS]
    + [(r, "write:betting.*") for r in WRITES]
    + [(r, "admin") for r in ADMIN],
)
async def test_the_right_scope_is_allowed(served: Served, route: str, scope: str) -> None:
    key = await served.key(scope)
    assert await ALL[route](served, key) in (200, 201)


async def test_ws_handshake_with_a_bad_key_closes_4401(served: Served) -> None:
    for path in ("/v1/ws", "/v1/ingest"):
        async with served.ws(path, key=WRONG_KEY) as ws:
            error = await next_op(ws, "error")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert error["problem"]["status"] == 401
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_public_streams_are_readable_without_a_key_but_not_writable(
    served: Served,
) -> None:
    async with served.client() as client:
        post = await client.post("/v1/streams/results.units/events", json=score("u1", 1))
        async with client.stream("GET", "/v1/streams/results.units/events") as sse:
            assert sse.status_code == 200
        listed = await client.get("/v1/streams")
    assert post.status_code == 401
    assert [s["name"] for s in listed.json()] == ["results.units"]


async def test_stream_listing_shows_what_the_key_may_read(served: Served) -> None:
    key = await served.key("read:betting.*")
    async with served.client(key) as client:
        names = [s["name"] for s in (await client.get("/v1/streams")).json()]
    async with served.client(served.admin_key) as client:
        everything = [s["name"] for s in (await client.get("/v1/streams")).json()]
    assert names == ["betting.odds", "results.units"]
    assert everything == ["admin.keys", "betting.odds", "results.units"]


async def test_a_wrong_key_is_refused_even_on_public_routes(served: Served) -> None:
    async with served.client(WRONG_KEY) as client:
        for path in ("/healthz", "/metrics", "/v1/streams", "/v1/streams/results.units"):
            assert (await client.get(path)).status_code == 401, path
    async with served.client() as client:
        for path in ("/healthz", "/metrics", "/v1/streams"):
            assert (await client.get(path)).status_code == 200, path


async def test_malformed_authorization_header_is_401(served: Served) -> None:
    async with served.client() as client:
        reply = await client.get("/v1/streams", headers={"Authorization": "Basic abc"})
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_private_metrics_need_admin(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(data_dir=tmp_path, public_metrics=False)
    async with serve(log, tmp_path, config) as served:
        reader = await served.key("read:results.*")
        async with served.client() as client:
            anonymous = (await client.get("/metrics")).status_code
            scoped = (await client.get("/metrics", headers=headers(reader))).status_code
            admin = (await client.get("/metrics", headers=served.admin)).status_code
    assert (anonymous, scoped, admin) == (401, 403, 200)


async def test_configured_public_patterns_replace_the_registry_defaults(
    log: Log, tmp_path: Path
) -> None:
    config = GatewayConfig(data_dir=tmp_path, public_streams=("betting.*",))
    async with serve(log, tmp_path, config) as served:
        assert await sse_odds(served, None) == 200
        async with (
            served.client() as client,
            client.stream("GET", "/v1/streams/results.units/events") as response,
        ):
            assert response.status_code == 401
