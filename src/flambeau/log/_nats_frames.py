"""Appends on the ``nats://`` log: events encoded as publish frames, acks turned into places."""

from __future__ import annotations

from collections.abc import Sequence

from flambeau.errors import InvalidEventError
from flambeau.events import NewEvent, Record, new_event_id, utc_now
from flambeau.log._nats_streams import StreamView
from flambeau.log._nats_wire import PubAck, msg_id_header
from flambeau.log.base import Appended, encode_record, partition_for


def frames(
    stream: StreamView,
    events: Sequence[NewEvent],
    items: list[tuple[bytes, bytes, bytes]],
    where: list[int],
    limit: int,
) -> list[int]:
    """Encode ``events`` onto ``items``; return, per event, its item index or ``-1 - i``
    for a repeat of event ``i`` of this same batch."""
    name = stream.spec.name
    count = stream.partitions
    now = utc_now()
    seen: dict[str, int] = {}
    refs: list[int] = []
    for position, event in enumerate(events):
        event_id = event.id or new_event_id()
        first = seen.get(event_id)
        if first is not None:
            refs.append(-1 - first)
            continue
        seen[event_id] = position
        partition = partition_for(event.key or event_id, count) if count > 1 else 0
        record = Record(
            event_id,
            name,
            event.key,
            partition,
            0,  # the offset is the stream sequence, known once stored; filled in on read
            event.time or now,
            now,
            event.causation_id,
            event.data,
        )
        payload = encode_record(record, position)
        header = msg_id_header(event_id)
        if len(payload) + len(header) > limit:
            raise InvalidEventError(
                f"event {position} of stream {name!r} is {len(payload)} bytes encoded, "
                f"more than the {limit} bytes the NATS server accepts in one message"
            )
        refs.append(len(items))
        items.append((stream.subjects[partition], header, payload))
        where.append(partition)
    return refs


def placed_of(
    stream: StreamView, refs: list[int], acks: Sequence[PubAck], where: Sequence[int]
) -> list[Appended]:
    """Where each event of an append went, from the acks (a repeat within the batch is a
    duplicate of its first occurrence); moves the stream's known ends on."""
    placed: list[Appended] = []
    for ref in refs:
        if ref >= 0:
            ack = acks[ref]
            placed.append(Appended(where[ref], ack.seq - 1, ack.duplicate))
            stream.advance(where[ref], ack.seq)
        else:
            original = placed[-1 - ref]
            placed.append(Appended(original.partition, original.offset, True))
    return placed
