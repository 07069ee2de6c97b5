"""Relays: re-keying onto another stream's partitioning, copies to every partition, exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from flambeau.events import Event, NewEvent, Record, Registry
from flambeau.log import open_log, partition_for
from flambeau.processing import (
    ManualClock,
    ProcessorConfigError,
    ProcessorRegistry,
    Worker,
    broadcast_keys,
    relay,
)
from flambeau.testing import Advance, run
from tests.unit.processing.schemas import T0


class Reading(Event, tag="reading", frozen=True):
    venue: str
    sensor: str
    people: int


class Seen(Event, tag="seen", frozen=True):
    sensor: str
    people: int


def make_registry() -> Registry:
    registry = Registry()
    registry.register("site.readings", Reading, partitions=2)  # keyed by venue
    registry.register("site.sensors", Reading | Seen, partitions=3)  # keyed by sensor
    registry.register("site.all", Seen, partitions=5)  # one copy per partition
    return registry


def readings(count: int) -> list[NewEvent]:
    return [
        NewEvent(
            Reading(venue=f"V{n % 3}", sensor=f"S{n % 7}", people=n),
            key=f"V{n % 3}",
            id=f"r{n}",
            time=T0 + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def by_sensor(registry: Registry, **options: Any) -> Any:
    return relay(
        "site.by-sensor",
        source="site.readings",
        target="site.sensors",
        key=lambda record: record.data.sensor,
        registry=registry,
        processors=None,
        **options,
    )


def summary(records: list[Record[Any]]) -> list[tuple[str, str, int, str | None]]:
    return [(r.id, r.key, r.partition, r.causation_id) for r in records]


def test_a_relay_re_keys_each_event_onto_the_target_partitioning() -> None:
    registry = make_registry()
    out = run(by_sensor(registry), readings(30), registry=registry)

    records = out.records("site.sensors")
    assert sorted(r.causation_id or "" for r in records) == sorted(f"r{n}" for n in range(30))
    for record in records:
        assert record.key == record.data.sensor
        assert record.partition == partition_for(record.key, 3)
        n = int((record.causation_id or "r-1")[1:])
        assert record.data == Reading(venue=f"V{n % 3}", sensor=f"S{n % 7}", people=n)
        assert record.time == T0 + timedelta(seconds=n)  # the input's event time by default


def test_relayed_ids_do_not_depend_on_batching_or_restarts() -> None:
    registry = make_registry()
    relayed = by_sensor(registry)
    plain = run(relayed, readings(40), registry=registry)
    restarted = run(relayed, readings(40), registry=registry, batch_size=3, restart_every=1)

    assert sorted(summary(restarted.records("site.sensors"))) == sorted(
        summary(plain.records("site.sensors"))
    )
    assert len({r.id for r in plain.records("site.sensors")}) == 40


def test_convert_shapes_the_payload_and_none_leaves_a_record_out() -> None:
    registry = make_registry()
    seen = relay(
        "site.seen",
        source="site.readings",
        target="site.sensors",
        key=lambda record: None if record.data.sensor == "S0" else record.data.sensor,
        convert=lambda record: (
            None if record.data.people < 5 else Seen(sensor=record.data.sensor, people=1)
        ),
        time=lambda payload: T0,
        registry=registry,
        processors=None,
    )
    out = run(seen, readings(14), registry=registry)

    # r0 and r7 have sensor S0; r1..r4 have fewer than 5 people
    assert sorted(r.causation_id or "" for r in out.records("site.sensors")) == sorted(
        f"r{n}" for n in (5, 6, 8, 9, 10, 11, 12, 13)
    )
    assert {r.time for r in out.records("site.sensors")} == {T0}
    assert all(isinstance(e, Seen) for e in out.events("site.sensors"))


def test_every_partition_gets_one_copy_of_each_event() -> None:
    registry = make_registry()
    everywhere = relay(
        "site.everywhere",
        source="site.readings",
        target="site.all",
        every_partition=True,
        convert=lambda record: Seen(sensor=record.data.sensor, people=record.data.people),
        registry=registry,
        processors=None,
    )
    out = run(everywhere, readings(6), registry=registry, restart_every=1)

    records = out.records("site.all")
    assert Counter((r.causation_id, r.partition) for r in records) == Counter(
        (f"r{n}", p) for n in range(6) for p in range(5)
    )
    assert len({r.id for r in records}) == 30


def test_broadcast_keys_hash_to_each_partition_in_turn() -> None:
    for partitions in (1, 2, 8, 16):
        keys = broadcast_keys(partitions)
        assert [partition_for(k, partitions) for k in keys] == list(range(partitions))
    with pytest.raises(ValueError, match="at least 1"):
        broadcast_keys(0)


def test_a_throttled_relay_passes_one_event_per_key_and_interval_of_arrival() -> None:
    registry = make_registry()
    throttled = by_sensor(registry, throttle=timedelta(seconds=1))
    event = Reading(venue="V1", sensor="S1", people=1)
    other = Reading(venue="V1", sensor="S2", people=1)
    items: list[NewEvent | Advance] = [
        NewEvent(event, key="V1", id="a"),
        NewEvent(other, key="V1", id="b"),
        Advance(timedelta(milliseconds=600)),
        NewEvent(event, key="V1", id="c"),  # S1 0.6 s after a: held back
        Advance(timedelta(milliseconds=600)),
        NewEvent(event, key="V1", id="d"),  # 1.2 s after a: relayed
        NewEvent(other, key="V1", id="e"),  # S2 1.2 s after b: relayed
    ]
    out = run(throttled, items, clock=ManualClock(T0), registry=registry, restart_every=1)

    assert [r.causation_id for r in out.records("site.sensors")] == ["a", "b", "d", "e"]


def test_a_relay_is_declared_with_key_or_every_partition_and_registered() -> None:
    registry = make_registry()
    cases: list[dict[str, Any]] = [{}, {"key": lambda r: "x", "every_partition": True}]
    for options in cases:
        with pytest.raises(ProcessorConfigError, match=r"either key= .* or every_partition"):
            relay("site.bad", source="site.readings", target="site.all", registry=registry,
                  processors=None, **options)  # fmt: skip
    with pytest.raises(ProcessorConfigError, match="throttle must be a positive interval"):
        relay("site.bad", source="site.readings", target="site.all", every_partition=True,
              throttle=timedelta(seconds=1), registry=registry, processors=None)  # fmt: skip
    processors = ProcessorRegistry()
    registered = relay(
        "site.kept",
        source="site.readings",
        target="site.sensors",
        key=lambda record: record.data.sensor,
        registry=registry,
        processors=processors,
    )
    assert processors.get("site.kept") is registered


async def _target(log: Any, stream: str) -> list[Record[msgspec.Raw]]:
    info = await log.info(stream)
    found: list[Record[msgspec.Raw]] = []
    for partition in range(info.partitions):
        found += await log.read(stream, partition, 0, 10_000)
    return found


async def test_over_sqlite_a_replayed_relay_writes_nothing_twice(tmp_path: Path) -> None:
    registry = make_registry()
    relayed = by_sensor(registry)
    async with await open_log(f"sqlite:///{tmp_path / 'log.db'}", registry) as log:
        await log.append("site.readings", readings(25))
        await Worker(log, [relayed], drain=True, batch_size=4).run()
        await log.append("site.readings", readings(50)[25:])
        await Worker(log, [relayed], drain=True, batch_size=9).run()
        first = await _target(log, "site.sensors")
        # rewind the relay to the start, as a worker that crashed before committing would be
        await log.commit("site.by-sensor", {"site.readings": {0: 0, 1: 0}})
        assert await log.committed("site.by-sensor", "site.readings") == {0: 0, 1: 0}
        await Worker(log, [relayed], drain=True, batch_size=5).run()
        again = await _target(log, "site.sensors")

    assert len(first) == 50
    assert sorted(r.id for r in again) == sorted(r.id for r in first)
    for record in again:
        assert record.partition == partition_for(record.key, 3)
