"""Input records as the adapters append them, for running the results processors."""

from __future__ import annotations

from typing import Any

import msgspec

from flambeau.events import NewEvent
from flambeau.services.results.documents import NativeBody, native_event, odf_event
from flambeau.services.results.odf import parse
from flambeau.services.results.schemas import NATIVE, ODF


def odf(xml: str) -> tuple[str, NewEvent]:
    """``(results.odf, event)`` exactly as ``POST /v1/adapters/odf`` appends ``xml``."""
    return ODF, odf_event(parse(xml))


def native(body: NativeBody) -> tuple[str, NewEvent]:
    """``(results.native, event)`` exactly as ``POST /v1/results/documents`` appends ``body``."""
    return NATIVE, native_event(body)


def as_test_feed(xml: str) -> str:
    """The same document from a test feed (``FeedFlag="T"``)."""
    assert 'FeedFlag="P"' in xml
    return xml.replace('FeedFlag="P"', 'FeedFlag="T"')


def tags(records: list[Any]) -> list[str]:
    """The ``type`` tag of each record's payload."""
    return [type(r.data).__struct_config__.tag for r in records]


def trace(records: list[Any]) -> list[tuple[str, str, str | None]]:
    """``(type tag, key, causation id)`` of each record: what the event tests compare."""
    return [(type(r.data).__struct_config__.tag, r.key, r.causation_id) for r in records]


def relayed(record: Any) -> NewEvent:
    """An output record as the next processor reads it (same id, key, time and cause)."""
    return NewEvent(record.data, record.key, record.id, record.time, record.causation_id)


def replace_event(item: tuple[str, NewEvent], **changes: Any) -> tuple[str, NewEvent]:
    """``item`` with envelope fields changed (a producer bypassing the adapters)."""
    stream, event = item
    return stream, msgspec.structs.replace(event, **changes)
