"""The body decoders: any body gives events or precise errors, never a crash."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flambeau.gateway.ingest import codec_for, decode_events, split_body
from flambeau.gateway.problems import ProblemError, describe_validation_error
from tests.unit.gateway.schemas import Score, make_registry

CODEC = codec_for(make_registry(), "results.units")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

envelopes = st.fixed_dictionaries(
    {
        "data": st.fixed_dictionaries(
            {
                "type": st.just("score"),
                "unit": st.text(max_size=20),
                "points": st.integers(-(2**63), 2**63 - 1),
            }
        )
    },
    optional={
        "id": st.text(min_size=1, max_size=30),
        "key": st.text(max_size=30),
        "causation_id": st.none() | st.text(min_size=1, max_size=30),
    },
)


@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_bytes_give_events_errors_or_a_400(body: bytes, ndjson: bool) -> None:
    try:
        items = split_body(body, ndjson)
    except ProblemError as problem:
        status = problem.problem.status
        items = []
    else:
        status = 200
    assert status in (200, 400)
    events, errors = decode_events(CODEC, items)
    indices = sorted([i for i, _ in events] + [e.index for e in errors if e.index is not None])
    assert indices == list(range(len(items)))


@given(st.lists(json_values | envelopes, max_size=8))
def test_every_json_item_is_accounted_for_by_index(items: list[object]) -> None:
    body = json.dumps(items).encode()
    parts = split_body(body, ndjson=False)
    events, errors = decode_events(CODEC, parts, whole=body)
    assert len(events) + len(errors) == len(items)
    for index, _ in events:
        assert isinstance(items[index], dict)
    for error in errors:
        assert error.message


@given(st.lists(envelopes, min_size=1, max_size=10))
def test_valid_envelopes_decode_the_same_from_json_and_ndjson(
    items: list[dict[str, object]],
) -> None:
    as_json = json.dumps(items).encode()
    as_ndjson = "\n".join(json.dumps(item) for item in items).encode()
    from_json, json_errors = decode_events(CODEC, split_body(as_json, False), whole=as_json)
    from_lines, line_errors = decode_events(CODEC, split_body(as_ndjson, True))
    assert json_errors == line_errors
    oversized = {e.index for e in json_errors}
    assert [i for i, _ in from_json] == [i for i in range(len(items)) if i not in oversized]
    for (index, event), (_, again) in zip(from_json, from_lines, strict=True):
        payload = items[index]["data"]
        assert event.data == Score(unit=payload["unit"], points=payload["points"])  # type: ignore[index]
        assert event.key == items[index].get("key", "")
        assert event.id == items[index].get("id", event.id)
        assert again.data == event.data


def test_a_generated_id_is_returned_when_the_producer_gave_none() -> None:
    events, _ = decode_events(CODEC, [b'{"data":{"type":"score","unit":"u","points":1}}'])
    assert events[0][1].id


def test_oversized_key_in_bytes_names_the_field() -> None:
    item = json.dumps({"key": "é" * 200, "data": {"type": "score", "unit": "u", "points": 1}})
    _, errors = decode_events(CODEC, [item.encode()])
    assert errors[0].field == "key"
    assert errors[0].index == 0


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (b"{}", "data"),
        (b'{"data":{"type":"score","unit":1,"points":1}}', "data.unit"),
        (b'{"data":{"type":"score","unit":"u","points":1},"extra":1}', "extra"),
        (b'{"data":{"type":"score","unit":"u"}}', "data.points"),
        (b"[1]", ""),
    ],
)
def test_validation_errors_name_the_field(document: bytes, field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        CODEC.one.decode(document)
    assert describe_validation_error(caught.value)[0] == field
