"""Relays: carry a stream onto another stream's partitioning, re-keyed or copied to every partition.

A processor's inputs must be co-partitioned: the events that must meet have to land in the same
partition. Streams are partitioned by what they describe (results by unit, crowds by venue,
payments by ledger, liveness by source), so a service that joins two of them first relays one
onto a stream keyed the way its processor reads::

    # each unit's results, keyed by venue, for a processor that reads crowds by venue
    relay("crowds.units", source="results.units", target="crowds.units",
          key=lambda record: record.data.venue)

    # every source status change, copied to each of the 8 betting partitions
    relay("betting.health", source="ops.health", target="betting.signals",
          every_partition=True, convert=to_signal)

A relay is an ordinary processor (its own consumer group, offsets and exactly-once commits)
whose one declared output is ``target``: it becomes the target's writer, so producers cannot
write there.
Each relayed event's id is derived from its input's id and its copy's index (see
:func:`~flambeau.processing.transaction.output_id`), and ``causation_id`` names the input, so a
replay after a crash re-emits the same ids and the log keeps one copy of each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flambeau.events import Event, Record, Registry, default_registry
from flambeau.log import partition_for
from flambeau.processing.batch import Batch
from flambeau.processing.errors import ProcessorConfigError
from flambeau.processing.processor import Processor, ProcessorRegistry, default_processors
from flambeau.processing.transaction import Transaction

__all__ = ["KeyOf", "Relayed", "TimeOf", "broadcast_keys", "relay"]

KeyOf = Callable[[Record[Any]], str | None]
"""The target key of an input record; ``None`` leaves the record out."""
Relayed = Callable[[Record[Any]], Event | None]
"""The payload relayed for an input record (``None`` leaves it out)."""
TimeOf = Callable[[Any], datetime]
"""The event time of a relayed payload (the input's event time when not given)."""

THROTTLE_PREFIX = "relay/"
"""State keys of a throttled relay: ``relay/<target key>`` holds the last relay's arrival time."""


def broadcast_keys(partitions: int) -> tuple[str, ...]:
    """One key per partition, ``keys[p]`` hashing to partition ``p``: a copy per key reaches all.

    Raises:
        ValueError: ``partitions`` is below 1.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    found: dict[int, str] = {}
    number = 0
    while len(found) < partitions:
        key = f"all/{number}"
        found.setdefault(partition_for(key, partitions), key)
        number += 1
    return tuple(found[p] for p in range(partitions))


def relay(
    name: str,
    *,
    source: str | Sequence[str],
    target: str,
    key: KeyOf | None = None,
    every_partition: bool = False,
    convert: Relayed | None = None,
    time: TimeOf | None = None,
    throttle: timedelta | None = None,
    registry: Registry = default_registry,
    processors: ProcessorRegistry | None = default_processors,
) -> Processor:
    """A processor relaying ``source`` to ``target``, re-keyed by ``key`` or to every partition.

    Args:
        name: The relay's processor name (its consumer group).
        source: The stream(s) relayed; several must be co-partitioned, like any inputs.
        target: The stream written; its partition count decides where each copy lands.
        key: The target key of each record (``None`` leaves the record out). Give ``key`` or
            ``every_partition``, not both.
        every_partition: Copy each record to every partition of ``target`` (keys from
            :func:`broadcast_keys`), for a signal every partition must see.
        convert: The payload written for each record (``None`` leaves it out); by default the
            record's own payload, which ``target``'s schema must then accept.
        time: The event time of each written payload; by default the input's event time.
        throttle: With ``key``: relay at most one record per target key and input partition
            within this much arrival time (``ingested_at``), for signs of life where only the
            latest matters. The relay then keeps one timestamp per key in its state.
        registry: Where ``target`` is registered (its partition count is read on first use).
        processors: Where the relay is registered; ``None`` leaves it unregistered (for a
            service that builds its processors per configuration and registers one set).

    Raises:
        ProcessorConfigError: neither or both of ``key`` and ``every_partition``, ``throttle``
            without ``key`` or not positive, or a malformed name or source.
    """
    if (key is None) == (not every_partition):
        raise ProcessorConfigError(
            f"relay {name!r}: give either key= (re-key) or every_partition=True (copy to all)"
        )
    if throttle is not None and (key is None or throttle <= timedelta(0)):
        raise ProcessorConfigError(
            f"relay {name!r}: throttle must be a positive interval and needs key=, got {throttle}"
        )
    sources = [source] if isinstance(source, str) else list(source)
    processor = Processor(name, inputs=sources, outputs=[target], registry=registry)
    payload_of: Relayed = convert or _own_payload
    handler = (
        _Broadcast(target, registry, payload_of, time)
        if key is None
        else _Rekey(target, key, payload_of, time, throttle)
    )
    processor.on_batch(handler)
    if processors is not None:
        processors.register(processor)
    return processor


def _own_payload(record: Record[Any]) -> Event:
    data: Event = record.data
    return data


class _Broadcast:
    """Copies each payload to every partition of the target."""

    def __init__(
        self, target: str, registry: Registry, convert: Relayed, time: TimeOf | None
    ) -> None:
        self.target = target
        self.registry = registry
        self.convert = convert
        self.time = time
        self.keys: tuple[str, ...] = ()

    def __call__(self, batch: Batch[Any], tx: Transaction) -> None:
        if not self.keys:  # the target's partition count is known once every stream registered
            self.keys = broadcast_keys(self.registry.spec(self.target).partitions)
        for record in batch:
            payload = self.convert(record)
            if payload is None:
                continue
            at = None if self.time is None else self.time(payload)
            for target_key in self.keys:
                tx.emit(self.target, payload, key=target_key, causation_id=record.id, time=at)


class _Rekey:
    """Writes each payload under the key computed from its record, optionally throttled."""

    def __init__(
        self,
        target: str,
        key: KeyOf,
        convert: Relayed,
        time: TimeOf | None,
        throttle: timedelta | None,
    ) -> None:
        self.target = target
        self.key = key
        self.convert = convert
        self.time = time
        self.throttle_us = None if throttle is None else throttle // timedelta(microseconds=1)

    def __call__(self, batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            target_key = self.key(record)
            if target_key is None:
                continue
            payload = self.convert(record)
            if payload is None or (self.throttle_us and self._too_soon(tx, record, target_key)):
                continue
            at = None if self.time is None else self.time(payload)
            tx.emit(self.target, payload, key=target_key, causation_id=record.id, time=at)

    def _too_soon(self, tx: Transaction, record: Record[Any], target_key: str) -> bool:
        assert self.throttle_us is not None
        state_key = THROTTLE_PREFIX + target_key
        arrived = int(record.ingested_at.timestamp() * 1_000_000)
        last = tx.state.get(state_key, int)
        # a clock stepped back is no reason to stay quiet for as long
        if last is not None and 0 <= arrived - last < self.throttle_us:
            return True
        tx.state.put(state_key, arrived)
        return False
