"""schemathesis against the served OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.gateway.schemas import make_registry
from tests.unit.gateway.served import ThreadedGateway

# The SSE route streams forever on success; it is exercised in test_subscribe_sse.py.
SKIPPED = {("GET", "/v1/streams/{stream}/events")}
EXAMPLES = 25


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway]:
    data: Path = tmp_path_factory.mktemp("fuzz")
    running = ThreadedGateway("memory://", data, make_registry).start()
    yield running
    running.stop()


def operations(gateway: ThreadedGateway) -> list[object]:
    schema = schemathesis.openapi.from_url(f"{gateway.base}/schema/openapi.json")
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIPPED:
            found.append(operation)
    return found


def test_the_document_describes_ingest_with_the_stream_schemas(gateway: ThreadedGateway) -> None:
    import httpx

    document = httpx.get(f"{gateway.base}/schema/openapi.json").json()
    body = document["paths"]["/v1/streams/{stream}/events"]["post"]["requestBody"]
    assert "application/x-ndjson" in body["content"]
    schemas = document["components"]["schemas"]
    assert "events.results.units" in schemas
    assert "events.betting.odds" in schemas


@pytest.mark.parametrize("key", ["anonymous", "admin"])
def test_no_generated_request_gets_a_server_error(gateway: ThreadedGateway, key: str) -> None:
    found = operations(gateway)
    assert len(found) >= 7
    headers = {"Authorization": f"Bearer {gateway.admin_key}"} if key == "admin" else {}
    strategy = st.one_of([op.as_strategy() for op in found])  # type: ignore[attr-defined]

    @settings(
        max_examples=EXAMPLES * len(found),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=gateway.base, headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            content_type = response.headers.get("content-type") or [""]
            if isinstance(content_type, list):
                content_type = content_type[0]
            assert content_type.startswith("application/problem+json"), response.text
            problem = response.json()
            assert problem["status"] == response.status_code
            assert problem["type"]

    check()
