"""Issue 20, item 1, over a real WebSocket and SSE: offers per jurisdiction and channel.

A subscriber of ``betting.offers`` names its audience with the gateway's event key filter
(``FR/internet``) and receives the odds feed with only the markets a customer there may bet,
decided by the same table as the bet engine and ``GET /v1/betting/markets?jurisdiction=``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from flambeau.services.betting.markets import MARKET_TYPES, MarketKind

from .conftest import MATCH, Platform

pytestmark = pytest.mark.timeout(120)

HANDICAP = MARKET_TYPES[MarketKind.HANDICAP].id
DE_IN_PLAY = {MARKET_TYPES[k].id for k in (MarketKind.MATCH_1X2, MarketKind.NEXT_GOAL)}


async def odds_changes(ws: Any, sub: str, phases: set[str]) -> dict[str, set[int]]:
    """Market ids of the ``odds_change`` messages of ``sub``, per phase, once every phase came."""
    seen: dict[str, set[int]] = {}
    async with asyncio.timeout(20):
        while not phases <= set(seen):
            message = json.loads(await ws.recv())
            if message.get("op") != "events" or message["sub"] != sub:
                continue
            for event in message["events"]:
                data = event["data"]
                assert event["key"] == sub.replace("-", "/")
                if data["type"] == "odds_change":
                    assert data["event_id"] == MATCH
                    phase = data["event_status"]["phase"]
                    seen.setdefault(phase, set()).update(m["id"] for m in data["markets"])
    return seen


async def subscribe(ws: Any, audience: str) -> None:
    sub = audience.replace("/", "-")
    op = {"op": "subscribe", "sub": sub, "stream": "betting.offers", "key": audience}
    await ws.send(json.dumps({**op, "from": "earliest"}))
    async with asyncio.timeout(5):
        while json.loads(await ws.recv()).get("op") != "subscribed":
            pass


async def test_websocket_subscribers_of_two_jurisdictions_see_what_each_may_bet(
    platform: Platform,
) -> None:
    assert platform.served is not None
    key = platform.operator["Authorization"].removeprefix("Bearer ")
    await platform.unit("start_list", None)
    # priced before play first: a batch holding both documents would publish the live prices only
    await platform.markets("not_started")
    await platform.unit("live", (0, 0), unit_status="running", current_period="H1")
    await platform.markets("live", home_score=0)
    async with platform.served.ws(key=key) as fr, platform.served.ws(key=key) as de:
        await subscribe(fr, "FR/internet")
        await subscribe(de, "DE/internet")
        france = await odds_changes(fr, "FR-internet", {"not_started", "live"})
        germany = await odds_changes(de, "DE-internet", {"not_started", "live"})
    # France: never a handicap, in play or not; everything else, in play too.
    assert HANDICAP not in france["not_started"] | france["live"]
    assert france["live"] > DE_IN_PLAY
    # Germany: every market before play, only the final result and next goal in play.
    assert HANDICAP in germany["not_started"]
    assert germany["live"] == DE_IN_PLAY
    # The listing over HTTP answers the same for the same audience.
    listing = await platform.client.get(
        "/v1/betting/markets",
        params={"jurisdiction": "DE", "channel": "internet", "event": MATCH},
        headers=platform.operator,
    )
    assert {m["id"] for m in listing.json()["events"][0]["markets"]} == DE_IN_PLAY


async def test_an_sse_subscriber_filters_by_jurisdiction_and_channel(platform: Platform) -> None:
    await platform.unit("start_list", None)
    await platform.markets("not_started")
    params = {"from": "earliest", "event_key": "GB/mobile"}
    async with platform.client.stream(
        "GET", "/v1/streams/betting.offers/events", params=params, headers=platform.operator
    ) as response:
        assert response.status_code == 200
        change = await first_odds_change(response)
    assert change["key"] == "GB/mobile"
    assert HANDICAP in {m["id"] for m in change["data"]["markets"]}  # GB allows handicaps


async def first_odds_change(response: httpx.Response) -> dict[str, Any]:
    async with asyncio.timeout(20):
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                event = json.loads(line.removeprefix("data:"))
                if event.get("data", {}).get("type") == "odds_change":
                    return dict(event)
    raise AssertionError("the stream ended before an odds_change")
