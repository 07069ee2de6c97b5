"""WebSocket ingest at /v1/ingest: one batch per message, acknowledged in order."""

from __future__ import annotations

import asyncio
import json

from flambeau.log.base import Log
from tests.unit.gateway.schemas import score
from tests.unit.gateway.served import Served


async def test_pipelined_batches_are_acked_in_order_and_stored_in_order(
    served: Served, log: Log
) -> None:
    key = await served.key("write:results.*")
    async with served.ws("/v1/ingest", key=key) as ws:
        for ref in range(50):
            events = [score("solo", ref * 10 + i) for i in range(10)]
            await ws.send(json.dumps({"stream": "results.units", "ref": ref, "events": events}))
        acks = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(50)]
    assert [a["ref"] for a in acks] == list(range(50))
    assert all(a["op"] == "ack" and a["accepted"] == 10 for a in acks)
    offsets = [r["offset"] for a in acks for r in a["results"]]
    assert offsets == list(range(500))
    partition = acks[0]["results"][0]["partition"]
    records = await log.read("results.units", partition, 0, 1000)
    assert [r.offset for r in records] == list(range(500))


async def test_bad_messages_get_error_acks_and_the_socket_stays_open(served: Served) -> None:
    key = await served.key("write:results.*")
    async with served.ws("/v1/ingest", key=key) as ws:
        await ws.send("nonsense")
        await ws.send(json.dumps({"stream": "results.units", "ref": "a", "events": [{"data": {}}]}))
        await ws.send(json.dumps({"stream": "betting.odds", "ref": "b", "events": []}))
        await ws.send(json.dumps({"stream": "results.units", "ref": "c", "events": score("u", 1)}))
        replies = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(4)]
    assert replies[0]["op"] == "error"
    assert replies[0]["problem"]["status"] == 400
    assert replies[1]["problem"]["status"] == 422
    assert replies[1]["problem"]["errors"][0]["index"] == 0
    assert replies[2]["problem"]["status"] == 403
    assert replies[3]["op"] == "ack"
    assert replies[3]["ref"] == "c"
    assert replies[3]["accepted"] == 1
