"""Every results route against no key, a wrong key, a revoked key, the wrong scope, the right."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ._documents import SWM_FINAL, fixture
from .conftest import Gateway

WRONG_KEY = "fbk_0123456789ab_" + "x" * 43
NATIVE_KEEPALIVE = {"type": "keep_alive", "source": "TIMING-1", "seen_at": "2024-07-31T18:30:00Z"}

Call = Callable[[Gateway, dict[str, str]], Awaitable[Any]]


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def post_odf(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.post(
        "/v1/adapters/odf",
        content=fixture("keepalive.xml").encode(),
        headers={**headers, "Content-Type": "application/xml"},
    )


async def post_documents(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.post(
        "/v1/results/documents", json=NATIVE_KEEPALIVE, headers=headers
    )


async def get_medals(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.get("/v1/results/medals", headers=headers)


async def get_unit(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.get(f"/v1/results/units/{SWM_FINAL}", headers=headers)


async def get_schedule(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.get("/v1/results/schedule?date=2024-07-31", headers=headers)


async def get_sources(gateway: Gateway, headers: dict[str, str]) -> Any:
    return await gateway.client.get("/v1/results/sources", headers=headers)


# route, the scope it needs, the status when allowed (no unit is known: 404 once allowed)
ROUTES: list[tuple[Call, str, int]] = [
    (post_odf, "write:results.odf", 200),
    (post_documents, "write:results.native", 200),
    (get_medals, "read:results.medals", 200),
    (get_unit, "read:results.units", 404),
    (get_schedule, "read:results.schedule", 200),
    (get_sources, "read:ops.health", 200),
]
IDS = [call.__name__ for call, _, _ in ROUTES]


@pytest.mark.parametrize(("call", "scope", "allowed"), ROUTES, ids=IDS)
async def test_each_route_needs_a_valid_key_with_its_scope(
    private_gateway: Gateway, call: Call, scope: str, allowed: int
) -> None:
    gateway = private_gateway
    wrong_scope = await gateway.key("read:betting.*", "write:betting.*")
    revoked = await gateway.revoked_key(scope)
    right = await gateway.key(scope)

    statuses = {
        "no key": (await call(gateway, {})).status_code,
        "wrong key": (await call(gateway, bearer(WRONG_KEY))).status_code,
        "revoked key": (await call(gateway, bearer(revoked))).status_code,
        "wrong scope": (await call(gateway, bearer(wrong_scope))).status_code,
        "right scope": (await call(gateway, bearer(right))).status_code,
    }

    assert statuses == {
        "no key": 401,
        "wrong key": 401,
        "revoked key": 401,
        "wrong scope": 403,
        "right scope": allowed,
    }


@pytest.mark.parametrize(("call", "scope", "allowed"), ROUTES, ids=IDS)
async def test_refusals_are_problem_json(
    private_gateway: Gateway, call: Call, scope: str, allowed: int
) -> None:
    response = await call(private_gateway, bearer(WRONG_KEY))

    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:flambeau:problem:unauthorized"


@pytest.mark.parametrize(
    ("call", "anonymous"),
    [
        (post_odf, 401),
        (post_documents, 401),
        (get_medals, 200),
        (get_unit, 404),
        (get_schedule, 200),
        (get_sources, 401),  # ops.health is private
    ],
    ids=IDS,
)
async def test_public_results_are_readable_without_a_key(
    gateway: Gateway, call: Call, anonymous: int
) -> None:
    assert (await call(gateway, {})).status_code == anonymous
    # a key is still checked: a bad one is refused even where anonymous reads are allowed
    assert (await call(gateway, bearer(WRONG_KEY))).status_code == 401


async def test_a_key_without_the_scope_still_reads_public_results(gateway: Gateway) -> None:
    key = await gateway.key("read:betting.*")

    assert (await get_medals(gateway, bearer(key))).status_code == 200
    assert (await get_sources(gateway, bearer(key))).status_code == 403
