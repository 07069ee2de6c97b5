"""The results routes are documented in the gateway's OpenAPI document, bodies included."""

from __future__ import annotations

import re

import msgspec

from flambeau.gateway import GatewayConfig, create_app
from flambeau.log import open_log
from flambeau.services.results import routes


async def test_every_results_route_is_documented_and_every_reference_resolves() -> None:
    async with await open_log("memory://") as log:
        document = create_app(log, GatewayConfig(), routers=routes.routes).openapi_schema

    text = msgspec.json.encode(document.to_schema()).decode()
    schema = msgspec.json.decode(text)
    paths = schema["paths"]
    served = {p for p in paths if not p.startswith("/v1/streams/")}  # not ingest per stream
    assert {p for p in served if "results" in p or "adapters" in p} == {
        "/v1/adapters/odf",
        "/v1/results/documents",
        "/v1/results/medals",
        "/v1/results/units/{code}",
        "/v1/results/schedule",
        "/v1/results/sources",
    }
    assert set(paths["/v1/adapters/odf"]["post"]["requestBody"]["content"]) == {
        "application/xml",
        "text/xml",
    }
    assert "application/json" in paths["/v1/results/documents"]["post"]["requestBody"]["content"]
    refs = set(re.findall(r'"\$ref":"#/components/schemas/([^"]+)"', text))
    assert {"events.UnitResult", "events.KeepAlive"} <= refs
    assert refs <= set(schema["components"]["schemas"])
