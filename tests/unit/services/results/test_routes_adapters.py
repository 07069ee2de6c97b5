"""The ODF and native adapters over HTTP: what is stored, what is refused and kept, and how."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flambeau.services.results.adapters import MAX_ODF_BYTES
from flambeau.services.results.schemas import (
    NATIVE,
    ODF,
    REJECTED,
    KeepAlive,
    OdfDocument,
    RejectedDocument,
    UnitResult,
)

from ._documents import SWM_FINAL, fixture, swimming_final
from .conftest import Gateway

KEEPALIVE = fixture("keepalive.xml")
XML = {"Content-Type": "application/xml"}


async def post_odf(gateway: Gateway, body: bytes | str, **headers: str) -> Any:
    key = await gateway.key("write:results.odf")
    content = body.encode() if isinstance(body, str) else body
    return await gateway.client.post(
        "/v1/adapters/odf",
        content=content,
        headers={"Authorization": f"Bearer {key}", **XML, **headers},
    )


async def post_native(gateway: Gateway, body: Any) -> Any:
    key = await gateway.key("write:results.native")
    return await gateway.client.post(
        "/v1/results/documents", json=body, headers={"Authorization": f"Bearer {key}"}
    )


async def test_an_accepted_message_is_stored_raw_with_its_parsed_header(gateway: Gateway) -> None:
    official = fixture("swm_w100mfr_fnl_official.xml")

    response = await post_odf(gateway, official)

    assert response.status_code == 200
    reply = response.json()
    assert reply["document"] == f"OG2024/{SWM_FINAL}/DT_RESULT"
    assert (reply["document_type"], reply["version"], reply["feed"]) == (
        "DT_RESULT",
        7,
        "production",
    )
    assert reply["duplicate"] is False
    [record] = await gateway.records(ODF)
    assert record.id == reply["id"]
    assert record.key == f"OG2024/{SWM_FINAL}"
    assert isinstance(record.data, OdfDocument)
    assert record.data.xml == official  # byte for byte, for replay
    assert record.data.header.version == 7
    assert record.time == record.data.header.generated_at


async def test_an_exact_resend_is_acknowledged_as_a_duplicate_and_stored_once(
    gateway: Gateway,
) -> None:
    first = (await post_odf(gateway, KEEPALIVE)).json()
    again = (await post_odf(gateway, KEEPALIVE)).json()

    assert again["duplicate"] is True
    assert again["id"] == first["id"]
    assert len(await gateway.records(ODF)) == 1


BAD_DOCUMENTS = [
    # name, body, problem type, errors[0].field
    ("malformed XML", KEEPALIVE[:-10], "malformed-xml", ""),
    (
        "unknown DocumentType",
        KEEPALIVE.replace('DocumentType="DT_KA"', 'DocumentType="DT_GOSSIP"'),
        "invalid-odf",
        "OdfBody@DocumentType",
    ),
    (
        "missing mandatory attribute",
        KEEPALIVE.replace(' Version="1"', ""),
        "invalid-odf",
        "OdfBody@Version",
    ),
    (
        "bad RSC",
        KEEPALIVE.replace("SWM-------------------------------", "SWM---"),
        "invalid-odf",
        "OdfBody@DocumentCode",
    ),
    (
        "non-integer Version",
        KEEPALIVE.replace('Version="1"', 'Version="1.5"'),
        "invalid-odf",
        "OdfBody@Version",
    ),
    ("billion laughs", fixture("billion_laughs.xml"), "unsafe-xml", "DOCTYPE"),
    ("XXE file", fixture("xxe_file.xml"), "unsafe-xml", "DOCTYPE"),
    ("XXE external DTD", fixture("xxe_external_dtd.xml"), "unsafe-xml", "DOCTYPE"),
    ("XXE parameter entity", fixture("xxe_parameter_entity.xml"), "unsafe-xml", "DOCTYPE"),
    ("not an OdfBody", '<?xml version="1.0"?><Odf/>', "malformed-xml", "Odf"),
]


@pytest.mark.parametrize(
    ("body", "problem", "field"),
    [case[1:] for case in BAD_DOCUMENTS],
    ids=[case[0] for case in BAD_DOCUMENTS],
)
async def test_bad_documents_get_a_400_naming_where_and_are_kept_for_inspection(
    gateway: Gateway, body: str, problem: str, field: str
) -> None:
    response = await post_odf(gateway, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    answer = response.json()
    assert answer["type"] == f"urn:flambeau:problem:{problem}"
    assert answer["errors"][0].get("field", "") == field
    assert await gateway.records(ODF) == []
    [letter] = await gateway.records(REJECTED)
    assert letter.id in answer["detail"]
    assert isinstance(letter.data, RejectedDocument)
    assert letter.data.text == body  # the raw body, whole
    assert (letter.data.adapter, letter.data.content_type) == ("odf", "application/xml")
    assert letter.data.location == field
    assert letter.data.key_id is not None


async def test_entities_are_never_expanded_into_the_reply_or_the_log(gateway: Gateway) -> None:
    response = await post_odf(gateway, fixture("xxe_file.xml"))

    assert "root:" not in response.text
    [letter] = await gateway.records(REJECTED)
    assert "&secret;" in (letter.data.text or "")  # kept as sent, never resolved


async def test_a_body_that_is_not_utf8_is_kept_as_bytes(gateway: Gateway) -> None:
    body = KEEPALIVE.replace('<?xml version="1.0" encoding="UTF-8"?>', "").encode("utf-16")

    response = await post_odf(gateway, body)

    assert response.status_code == 400
    [letter] = await gateway.records(REJECTED)
    assert (letter.data.text, letter.data.raw) == (None, body)


async def test_a_value_over_a_schema_limit_is_refused_before_it_is_stored(
    gateway: Gateway,
) -> None:
    official = fixture("swm_w100mfr_fnl_official.xml")
    body = official.replace('FamilyName="Holm"', 'FamilyName="' + "H" * 300 + '"')

    response = await post_odf(gateway, body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "UnitResult@competitors[1].competitor.name"
    assert await gateway.records(ODF) == []


async def test_the_body_size_limit_is_explicit(gateway: Gateway) -> None:
    response = await post_odf(gateway, b" " * (MAX_ODF_BYTES + 1))

    assert response.status_code == 413
    assert await gateway.records(REJECTED) == []  # never read, never kept


async def test_only_xml_content_types_are_accepted(gateway: Gateway) -> None:
    refused = await post_odf(gateway, KEEPALIVE, **{"Content-Type": "text/plain"})
    vendor = await post_odf(gateway, KEEPALIVE, **{"Content-Type": "application/odf+xml"})

    assert refused.status_code == 415
    assert vendor.status_code == 200


async def test_refused_documents_leave_the_good_ones_alone(gateway: Gateway) -> None:
    documents = swimming_final()[:3]

    statuses = [
        (await post_odf(gateway, doc)).status_code
        for doc in [documents[0], fixture("billion_laughs.xml"), *documents[1:]]
    ]

    assert statuses == [200, 400, 200, 200]
    assert len(await gateway.records(ODF)) == 3


# --- the native JSON form -----------------------------------------------------------------------

NATIVE_RESULT = {
    "type": "unit_result",
    "competition": "OG2024",
    "unit": SWM_FINAL,
    "discipline": "SWM",
    "version": 3,
    "status": "live",
    "shape": "timed",
    "source": "SWM-TIMING",
    "competitors": [
        {"competitor": {"code": "1900411", "noc": "SWE"}, "rank": 1, "time_ms": 52160},
    ],
}
NATIVE_KEEPALIVE = {"type": "keep_alive", "source": "SWM-TIMING", "seen_at": "2024-07-31T18:30:00Z"}


async def test_native_documents_are_keyed_like_their_odf_forms(gateway: Gateway) -> None:
    response = await post_native(gateway, [NATIVE_RESULT, NATIVE_KEEPALIVE])

    assert response.status_code == 200
    reply = response.json()
    assert (reply["accepted"], reply["rejected"]) == (2, 0)
    records = {type(r.data): r for r in await gateway.records(NATIVE)}
    assert records[UnitResult].key == f"OG2024/{SWM_FINAL}"  # the ODF result's key
    assert records[KeepAlive].key == "source/SWM-TIMING"
    assert {p["id"] for p in reply["results"]} == {r.id for r in records.values()}


async def test_a_native_resend_is_a_duplicate(gateway: Gateway) -> None:
    await post_native(gateway, NATIVE_RESULT)

    again = (await post_native(gateway, json.loads(json.dumps(NATIVE_RESULT)))).json()

    assert (again["accepted"], again["duplicates"]) == (0, 1)


async def test_invalid_native_documents_are_named_and_the_body_kept(gateway: Gateway) -> None:
    bad = {**NATIVE_RESULT, "version": "seven"}

    mixed = await post_native(gateway, [NATIVE_KEEPALIVE, bad])
    only_bad = await post_native(gateway, bad)

    assert mixed.status_code == 200
    assert mixed.json()["errors"] == [
        {"message": "Expected `int`, got `str`", "field": "version", "index": 1}
    ]
    assert only_bad.status_code == 422
    assert only_bad.json()["errors"][0]["field"] == "version"
    assert len(await gateway.records(NATIVE)) == 1
    letters = await gateway.records(REJECTED)
    assert [(r.data.adapter, r.data.location) for r in letters] == [
        ("native", "[1].version"),
        ("native", "[0].version"),
    ]


async def test_a_native_producer_cannot_post_what_only_processors_write(gateway: Gateway) -> None:
    schedule_change = {
        "type": "unit_schedule",
        "competition": "OG2024",
        "unit": SWM_FINAL,
        "discipline": "SWM",
        "status": "running",
    }

    response = await post_native(gateway, schedule_change)

    assert response.status_code == 422
    assert "unit_schedule" in response.json()["errors"][0]["message"]


async def test_malformed_xml_is_located_by_line_and_column(gateway: Gateway) -> None:
    body = KEEPALIVE.replace("<OdfBody ", "<OdfBody\n  Broken ", 1)

    response = await post_odf(gateway, body)

    assert response.status_code == 400
    assert "(line 3, column" in response.json()["errors"][0]["message"]


async def test_messages_larger_than_the_gateways_json_limit_are_accepted(gateway: Gateway) -> None:
    padding = "<!--" + "x" * (2 * 1024 * 1024) + "-->\n"  # ODF messages can be megabytes
    big = KEEPALIVE.replace("<OdfBody", padding + "<OdfBody", 1)
    assert len(big) > gateway.app.state.gateway.config.max_body_bytes

    response = await post_odf(gateway, big)

    assert response.status_code == 200
