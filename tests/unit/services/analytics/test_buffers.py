"""Arrow buffers take every payload of a stream, whatever its fields' types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flambeau.events import Event, Record
from flambeau.services.analytics.buffers import StreamBuffer, arrow_schema


class Planned(Event, frozen=True, kw_only=True, tag="planned"):
    venue: str
    due: datetime | None = None
    tags: list[str] = []


class Done(Event, frozen=True, kw_only=True, tag="done"):
    venue: str
    due: str = ""


def test_union_and_nested_fields_become_text() -> None:
    at = datetime(2024, 8, 4, 17, tzinfo=UTC)
    buffer = StreamBuffer(arrow_schema(Planned | Done), window=timedelta(days=1))
    payloads = [Planned(venue="STA", due=at, tags=["a"]), Done(venue="BCY", due="soon"),
                Planned(venue="PDP")]  # fmt: skip
    for n, payload in enumerate(payloads):
        buffer.add(Record(str(n), "s", payload.venue, 0, n, at, at, None, payload))
    rows = buffer.table().to_pylist()
    assert [(r["venue"], r["due"], r["tags"]) for r in rows] == [
        ("STA", "2024-08-04T17:00:00+00:00", '["a"]'),
        ("BCY", "soon", None),
        ("PDP", None, "[]"),
    ]
