"""What the OpenAPI document says about the core gateway, and the answers that match it."""

from __future__ import annotations

import msgspec
import pytest

from flambeau.gateway.openapi import decode_json
from tests.unit.gateway.schemas import OddsChanged
from tests.unit.gateway.served import Served


async def test_options_lists_every_method_of_the_path(served: Served) -> None:
    async with served.client() as client:
        keys = await client.options("/v1/keys")
        events = await client.options("/v1/streams/results.units/events")
    assert keys.headers["allow"] == "GET, OPTIONS, POST"
    assert events.headers["allow"] == "GET, OPTIONS, POST"


async def test_each_stream_is_documented_with_its_own_body_and_every_problem(
    served: Served,
) -> None:
    async with served.client() as client:
        document = (await client.get("/schema/openapi.json")).json()
    post = document["paths"]["/v1/streams/betting.odds/events"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/events.betting.odds"}
    # one payload type: msgspec decodes it without the tag, so the document does not ask for it
    data = document["components"]["schemas"]["events.betting.odds"]["properties"]["data"]
    assert "type" not in data["required"]
    for status in ("400", "401"):
        assert "application/problem+json" in post["responses"][status]["content"]
    strict = document["components"]["schemas"]["NewKeyRequest"]
    assert strict["additionalProperties"] is False
    assert strict["properties"]["scopes"]["items"]["pattern"].startswith("^(?:admin|")


async def test_an_integer_the_log_cannot_hold_is_a_422_naming_the_event(served: Served) -> None:
    event = {"data": {"type": "odds_changed", "market": "m", "price_milli": 2**64}}
    async with served.client(served.admin_key) as client:
        reply = await client.post("/v1/streams/betting.odds/events", json=[event])
    assert reply.status_code == 422
    assert "event 0: an integer" in reply.json()["detail"]


def test_an_integral_float_is_taken_for_an_integer_and_a_fraction_is_not() -> None:
    decode = msgspec.json.Decoder(OddsChanged).decode
    taken = decode_json(decode, b'{"type": "odds_changed", "market": "m", "price_milli": 1500.0}')
    assert taken.price_milli == 1500
    with pytest.raises(msgspec.ValidationError, match="got `float`"):
        decode_json(decode, b'{"type": "odds_changed", "market": "m", "price_milli": 1500.5}')
