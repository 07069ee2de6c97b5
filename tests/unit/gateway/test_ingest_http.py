"""POST /v1/streams/{stream}/events: bodies, outcomes per event, atomic batches, limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from flambeau.events import Writer
from flambeau.gateway import GatewayConfig
from flambeau.log import open_log
from flambeau.log.base import Log
from flambeau.processing import Processor
from tests.unit.gateway.schemas import Score, make_registry, score
from tests.unit.gateway.served import Served, serve

PATH = "/v1/streams/results.units/events"


async def test_one_event_is_appended_and_its_placement_returned(served: Served, log: Log) -> None:
    key = await served.key("write:results.*")
    async with served.client(key) as client:
        reply = await client.post(PATH, json=score("u1", 3, id="evt-1"))
    assert reply.status_code == 200
    body = reply.json()
    assert body["accepted"] == 1
    assert body["rejected"] == 0
    [placed] = body["results"]
    assert placed["id"] == "evt-1"
    assert placed["duplicate"] is False
    [record] = await log.read("results.units", placed["partition"], placed["offset"])
    assert record.id == "evt-1"
    assert record.key == "u1"


async def test_a_repeated_id_is_acknowledged_as_duplicate_and_stored_once(
    served: Served, log: Log
) -> None:
    key = await served.key("write:results.units")
    async with served.client(key) as client:
        first = (await client.post(PATH, json=score("u1", 3, id="same"))).json()["results"][0]
        again = (await client.post(PATH, json=score("u1", 3, id="same"))).json()
    assert again["duplicates"] == 1
    assert again["accepted"] == 0
    assert again["results"][0]["duplicate"] is True
    assert again["results"][0]["offset"] == first["offset"]
    assert sum((await log.end_offsets("results.units")).values()) == 1


async def test_mixed_batch_keeps_valid_events_and_names_each_bad_field(served: Served) -> None:
    key = await served.key("write:results.units")
    batch = [
        score("u1", 1),
        {"data": {"type": "score", "unit": "u1", "points": "three"}},
        score("u2", 2),
        {"key": "u3", "data": {"type": "no_such_type"}},
        {"data": {"type": "score", "unit": "u1", "points": 1}, "tiem": "typo"},
    ]
    async with served.client(key) as client:
        reply = await client.post(PATH, json=batch)
    assert reply.status_code == 200
    body = reply.json()
    assert body["accepted"] == 2
    assert body["rejected"] == 3
    assert [r["index"] for r in body["results"]] == [0, 2]
    errors = {e["index"]: e for e in body["errors"]}
    assert errors[1]["field"] == "data.points"
    assert errors[3]["field"] == "data.type"
    assert errors[4]["field"] == "tiem"


async def test_atomic_batch_with_one_bad_event_writes_nothing(served: Served, log: Log) -> None:
    key = await served.key("write:results.units")
    batch = [score("u1", 1), {"data": {"type": "score", "unit": "u1"}}]
    async with served.client(key) as client:
        reply = await client.post(PATH, params={"atomic": "true"}, json=batch)
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["type"] == "urn:flambeau:problem:invalid-events"
    assert problem["errors"] == [
        {"index": 1, "field": "data.points", "message": "Object missing required field `points`"}
    ]
    assert sum((await log.end_offsets("results.units")).values()) == 0


async def test_a_batch_with_only_bad_events_is_a_422_problem(served: Served) -> None:
    key = await served.key("write:results.units")
    async with served.client(key) as client:
        reply = await client.post(PATH, json=[{"data": {"type": "score"}}])
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["index"] == 0


async def test_ndjson_lines_are_events_and_a_bad_line_is_reported_by_index(
    served: Served,
) -> None:
    key = await served.key("write:results.units")
    lines = [json.dumps(score("u1", 1)), "", "{not json", json.dumps(score("u2", 2))]
    async with served.client(key) as client:
        reply = await client.post(
            PATH,
            content="\n".join(lines) + "\n",
            headers={"Content-Type": "application/x-ndjson"},
        )
    body = reply.json()
    assert reply.status_code == 200
    assert body["accepted"] == 2
    assert [e["index"] for e in body["errors"]] == [1]


async def test_naive_time_is_refused_and_offset_time_is_stored_in_utc(
    served: Served, log: Log
) -> None:
    key = await served.key("write:results.units")
    async with served.client(key) as client:
        naive = await client.post(PATH, json=score("u1", 1, time="2024-07-28T19:42:11"))
        aware = await client.post(PATH, json=score("u1", 1, time="2024-07-28T21:42:11+02:00"))
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "time"
    placed = aware.json()["results"][0]
    [record] = await log.read("results.units", placed["partition"], placed["offset"])
    assert record.time.utcoffset() is not None
    assert record.time.utcoffset().total_seconds() == 0
    assert record.time.hour == 19


async def test_malformed_json_is_a_400_problem(served: Served) -> None:
    key = await served.key("write:results.units")
    async with served.client(key) as client:
        reply = await client.post(
            PATH, content=b"[{]", headers={"Content-Type": "application/json"}
        )
        scalar = await client.post(
            PATH, content=b"42", headers={"Content-Type": "application/json"}
        )
    assert reply.status_code == 400
    assert reply.json()["type"] == "urn:flambeau:problem:malformed-body"
    assert scalar.status_code == 400


async def test_unknown_stream_is_a_404_problem(served: Served) -> None:
    async with served.client(served.admin_key) as client:
        reply = await client.post("/v1/streams/nope.nothing/events", json=score("u1", 1))
    assert reply.status_code == 404
    assert reply.json()["type"] == "urn:flambeau:problem:unknown-stream"
    assert "nope.nothing" in reply.json()["detail"]


async def test_unsupported_content_type_is_415(served: Served) -> None:
    async with served.client(served.admin_key) as client:
        reply = await client.post(PATH, content=b"a=b", headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415


async def test_limits_on_body_size_batch_size_and_rate(log: Log, tmp_path: Path) -> None:
    config = GatewayConfig(
        data_dir=tmp_path,
        max_body_bytes=2000,
        max_batch_events=3,
        rate_per_key=1.0,
        rate_burst=5,
    )
    async with serve(log, tmp_path, config) as served:
        key = await served.key("write:results.units")
        async with served.client(key) as client:
            big = await client.post(PATH, json=[score("u" * 500, 1)] * 3)
            many = await client.post(PATH, json=[score("u1", 1)] * 4)
            ok = await client.post(PATH, json=[score("u1", 1)] * 3)
            limited = await client.post(PATH, json=[score("u1", 1)] * 3)
    assert big.status_code == 413
    assert big.json()["type"] == "urn:flambeau:problem:body-too-large"
    assert many.status_code == 413
    assert many.json()["type"] == "urn:flambeau:problem:batch-too-large"
    assert ok.status_code == 200
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["retry_after"] > 0


async def test_streams_with_a_writer_refuse_ingest_for_every_key_and_name_the_way_in(
    tmp_path: Path,
) -> None:
    registry = make_registry()
    registry.register("results.derived", Score, partitions=2)
    registry.register("results.routed", Score, partitions=2, writer=Writer.route("POST /v1/x"))
    deriver = Processor(
        "results.deriver", inputs=["results.units"], outputs=["results.derived"], registry=registry
    )
    async with await open_log("memory://", registry) as log, serve(log, tmp_path) as running:
        writer = await running.key("write:*", "read:*")
        replies = {}
        for name, key in (("admin", running.admin_key), ("write:*", writer)):
            async with running.client(key) as client:
                for stream in ("results.derived", deriver.dead_stream, "results.routed"):
                    path = f"/v1/streams/{stream}/events"
                    replies[name, stream] = await client.post(path, json=score("SWM-1", 3))
                ndjson = await client.post(
                    "/v1/streams/results.derived/events",
                    content=json.dumps(score("SWM-1", 3)).encode() + b"\n",
                    headers={"Content-Type": "application/x-ndjson"},
                )
                assert ndjson.status_code == 403
            async with running.ws("/v1/ingest", key=key) as ws:
                message = {"stream": "results.derived", "ref": 1, "events": [score("SWM-1", 3)]}
                await ws.send(json.dumps(message))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack["op"] == "error"
            assert ack["problem"]["type"].endswith("derived-stream")
        for reply in replies.values():
            assert reply.status_code == 403
            assert reply.headers["content-type"].startswith("application/problem+json")
            assert reply.json()["type"] == "urn:flambeau:problem:derived-stream"
        derived = replies["admin", "results.derived"].json()["detail"]
        assert "written by processor results.deriver only" in derived
        assert "results.units (POST /v1/streams/results.units/events)" in derived
        routed = replies["write:*", "results.routed"].json()["detail"]
        assert "written by route POST /v1/x only" in routed
        assert "use POST /v1/x instead" in routed
        for stream in ("results.derived", "results.routed"):
            assert set((await log.info(stream)).end.values()) == {0}
        async with running.client(writer) as client:  # producers' streams still take writes
            assert (await client.post(PATH, json=score("SWM-1", 3))).status_code == 200


async def test_stream_listings_show_each_writer(tmp_path: Path) -> None:
    registry = make_registry()
    registry.register("results.routed", Score, partitions=2, writer=Writer.route("POST /v1/x"))
    async with (
        await open_log("memory://", registry) as log,
        serve(log, tmp_path) as running,
        running.client(running.admin_key) as client,
    ):
        listed = {s["name"]: s["writer"] for s in (await client.get("/v1/streams")).json()}
        one = (await client.get("/v1/streams/results.routed")).json()
    assert listed["results.units"] is None
    assert listed["admin.keys"]["kind"] == "gateway"
    assert listed["admin.keys"]["routes"] == ["POST /v1/keys", "DELETE /v1/keys/{key_id}"]
    assert one["writer"]["kind"] == "route"
    assert one["writer"]["routes"] == ["POST /v1/x"]
