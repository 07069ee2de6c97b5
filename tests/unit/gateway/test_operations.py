"""Health, metrics (with processor lag from metric sources), streams, keys API, shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from litestar import Request, get

from flambeau.events import NewEvent
from flambeau.gateway import LagRow, gateway_of
from flambeau.log.base import Log
from tests.unit.gateway.schemas import Score, score
from tests.unit.gateway.served import Served, collect_events, next_op, serve


async def test_healthz_is_ok_while_the_log_answers_and_503_after(served: Served, log: Log) -> None:
    async with served.client() as client:
        ok = await client.get("/healthz")
        await log.aclose()
        down = await client.get("/healthz")
    assert ok.json() == {"status": "ok"}
    assert down.status_code == 503
    assert down.json()["type"] == "urn:flambeau:problem:log-unavailable"
    assert down.headers["Retry-After"] == "1"


async def test_metrics_report_requests_ingest_subscribers_latency_and_lag(
    log: Log, tmp_path: Path
) -> None:
    async def lag() -> list[LagRow]:
        return [LagRow("medals", "results.units", 0, 7, 10)]

    async with serve(
        log, tmp_path, metrics_sources=[lag, lambda: [("odds", "betting.odds", 1, 3, 3)]]
    ) as served:
        key = await served.key("write:results.*")
        async with served.ws() as ws, served.client(key) as client:
            await ws.send(json.dumps({"op": "subscribe", "stream": "results.units"}))
            await next_op(ws, "subscribed")
            await client.post(
                "/v1/streams/results.units/events", json=[score("u1", 1), {"data": {}}]
            )
            await collect_events(ws, 1)
            text = (await client.get("/metrics")).text
    route = 'route="/v1/streams/{stream}/events"'
    assert f'flambeau_http_requests_total{{method="POST",{route},status="200"}} 1' in text
    assert 'flambeau_ingest_events_total{stream="results.units",outcome="accepted"} 1' in text
    assert 'flambeau_ingest_events_total{stream="results.units",outcome="rejected"} 1' in text
    assert 'flambeau_subscribers{stream="results.units",transport="ws"} 1' in text
    assert 'flambeau_delivery_latency_seconds_count{transport="ws"} 1' in text
    assert (
        'flambeau_processor_lag{processor="medals",stream="results.units",partition="0"} 3' in text
    )
    assert 'flambeau_processor_lag{processor="odds",stream="betting.odds",partition="1"} 0' in text


async def test_a_failing_metrics_source_does_not_break_the_scrape(log: Log, tmp_path: Path) -> None:
    def broken() -> list[LagRow]:
        raise RuntimeError("processor registry unavailable")

    async with serve(log, tmp_path, metrics_sources=[broken]) as served, served.client() as client:
        reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert "flambeau_http_requests_total" in reply.text


async def test_stream_listing_has_partitions_epochs_and_end_offsets(
    served: Served, log: Log
) -> None:
    await log.append("results.units", [NewEvent(Score(unit="u", points=1), key="u")] * 3)
    async with served.client() as client:
        [units] = (await client.get("/v1/streams")).json()
        one = (await client.get("/v1/streams/results.units")).json()
    info = await log.info("results.units")
    assert units == one
    assert units["partitions"] == 4
    assert units["epoch"] == info.epoch
    assert sum(units["end"].values()) == 3
    assert units["public"] is True


async def test_keys_api_creates_lists_and_revokes(served: Served) -> None:
    async with served.client(served.admin_key) as admin:
        created = await admin.post(
            "/v1/keys", json={"tenant": "media", "scopes": ["read:results.*"]}
        )
        body = created.json()
        listed = (await admin.get("/v1/keys")).json()
        bad = await admin.post("/v1/keys", json={"tenant": "media", "scopes": ["root"]})
    key = body["key"]
    assert created.status_code == 201
    assert body["info"]["tenant"] == "media"
    assert "sha256" not in json.dumps(listed)
    assert bad.status_code == 400
    async with served.client(key) as client:
        assert (await client.get("/v1/streams/betting.odds")).status_code == 403
        assert (await client.get("/v1/streams/results.units")).status_code == 200
    async with served.client(served.admin_key) as admin:
        revoked = await admin.delete(f"/v1/keys/{body['info']['key_id']}")
        missing = await admin.delete("/v1/keys/000000000000")
    assert revoked.json()["revoked_at"] is not None
    assert missing.status_code == 404
    async with served.client(key) as client:
        assert (await client.get("/v1/streams/results.units")).status_code == 401


async def test_the_last_active_admin_key_cannot_be_revoked(served: Served) -> None:
    admin_id = served.admin_key.split("_")[1]
    async with served.client(served.admin_key) as admin:
        last = await admin.delete(f"/v1/keys/{admin_id}")
        still = await admin.get("/v1/keys")
        second = (await admin.post("/v1/keys", json={"tenant": "ops", "scopes": ["admin"]})).json()
    assert last.status_code == 409
    assert last.headers["content-type"].startswith("application/problem+json")
    assert last.json()["type"] == "urn:flambeau:problem:last-admin-key"
    assert admin_id in last.json()["detail"]
    assert still.status_code == 200
    # with a second admin key, the first may go; then the second is the last one
    async with served.client(second["key"]) as other:
        first_gone = await other.delete(f"/v1/keys/{admin_id}")
        second_kept = await other.delete(f"/v1/keys/{second['info']['key_id']}")
        assert (await other.get("/v1/keys")).status_code == 200
    assert first_gone.status_code == 200
    assert first_gone.json()["revoked_at"] is not None
    assert second_kept.status_code == 409
    async with served.client(served.admin_key) as admin:
        assert (await admin.get("/v1/keys")).status_code == 401


async def test_service_routes_plug_in_and_use_the_gateway_auth(log: Log, tmp_path: Path) -> None:
    @get("/v1/odds/latest")
    async def latest(request: Request) -> dict[str, int]:  # type: ignore[type-arg]
        gateway = gateway_of(request)
        gateway.authorize(request, "read", "betting.odds")
        return {"ends": sum((await gateway.log.end_offsets("betting.odds")).values())}

    async with serve(log, tmp_path, routers=[latest]) as served:
        reader = await served.key("read:betting.*")
        async with served.client() as client:
            anonymous = await client.get("/v1/odds/latest")
            allowed = await client.get(
                "/v1/odds/latest", headers={"Authorization": f"Bearer {reader}"}
            )
    assert anonymous.status_code == 401
    assert allowed.json() == {"ends": 0}


async def test_shutdown_tells_subscribers_their_positions(log: Log, tmp_path: Path) -> None:
    await log.append("results.units", [NewEvent(Score(unit="u", points=1), key="u")] * 2)
    async with serve(log, tmp_path) as served:
        ws = await served.ws()
        await ws.send(
            json.dumps(
                {"op": "subscribe", "sub": "a", "stream": "results.units", "from": "earliest"}
            )
        )
        await collect_events(ws, 2)
        await served.gateway.drain()
        closing = await next_op(ws, "closing")
        await ws.close()
    info = await log.info("results.units")
    ends = ".".join(str(info.end[p]) for p in range(4))
    assert closing["positions"] == {"a": f"{info.epoch}/{ends}"}
    assert ws.close_code in (1001, 1000)
    await asyncio.sleep(0)
