"""Signs of life re-keyed by source, then ``source_down`` / ``source_up`` on ``ops.health``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import flambeau.app as app
from flambeau.events import NewEvent, Record, default_registry
from flambeau.log import partition_for
from flambeau.processing import ManualClock, Processor, ProcessorConfigError, default_processors
from flambeau.services.crowds.schemas import SENSORS, AreaDensity, GateCount, VenueConfigured
from flambeau.services.ops.processors import (
    POLICY,
    WATCHES,
    heartbeat_signs,
    liveness,
    watch_relays,
)
from flambeau.services.ops.schemas import (
    HEALTH,
    HEARTBEATS,
    SIGNS,
    DownReason,
    Heartbeat,
    Reported,
    Sign,
    SourceDown,
    SourceKind,
    SourceUp,
)
from flambeau.testing import Advance, run

T0 = datetime(2024, 8, 4, 17, 30, tzinfo=UTC)
GATE = "STA/STA-G03"
GATE_SILENCE = POLICY.silence(WATCHES[0].interval // timedelta(milliseconds=1))
(gate_signs,) = watch_relays


def gate_count(n: int, gate: str = "STA-G03", venue: str = "STA") -> NewEvent:
    count = GateCount(venue=venue, gate=gate, entered=n, exited=0)
    return NewEvent(count, key=venue, id=f"gate-{venue}-{gate}-{n}")


def trace(records: list[Record[Any]]) -> list[tuple[str, str]]:
    return [(type(r.data).__name__, r.key) for r in records]


def test_gate_counts_are_signs_of_their_counter_keyed_by_source_once_a_second() -> None:
    items: list[Any] = [
        NewEvent(VenueConfigured(venue="STA", capacity=10, area="F", area_m2=9), key="STA"),
        gate_count(1),
        gate_count(1, gate="STA-G04"),
        NewEvent(AreaDensity(venue="STA", area="F", people=3, area_m2=9), key="STA"),
        Advance(timedelta(milliseconds=500)),
        gate_count(2),  # half a second after the last sign of STA-G03: not relayed
        Advance(timedelta(milliseconds=600)),
        gate_count(3),
    ]
    out = run(gate_signs, items, clock=ManualClock(T0), restart_every=1)

    assert trace(out.records(SIGNS)) == [
        ("Sign", GATE),
        ("Sign", "STA/STA-G04"),
        ("Sign", GATE),
    ]
    assert [r.causation_id for r in out.records(SIGNS)] == [
        "gate-STA-STA-G03-1",
        "gate-STA-STA-G04-1",
        "gate-STA-STA-G03-3",
    ]
    first = out.events(SIGNS)[0]
    assert first == Sign(
        source=GATE,
        kind=SourceKind.GATE_COUNTER,
        interval_ms=60_000,
        seen_at=T0,  # when Flambeau received it, not the counter's clock
        venue="STA",
    )
    assert out.events(SIGNS)[2].seen_at == T0 + timedelta(milliseconds=1100)


def test_heartbeats_are_re_keyed_by_source_whatever_key_the_producer_chose() -> None:
    beats = [
        NewEvent(
            Heartbeat(source=f"ENC-{n}", kind=SourceKind.BROADCAST_ENCODER, interval_ms=5_000),
            key=f"anything-{n}",
            id=f"beat-{n}",
        )
        for n in range(8)
    ]
    out = run(heartbeat_signs, beats, clock=ManualClock(T0))

    records = out.records(SIGNS)
    assert sorted((r.key, r.causation_id) for r in records) == [
        (f"ENC-{n}", f"beat-{n}") for n in range(8)
    ]
    assert all(r.partition == partition_for(r.key, 4) for r in records)


def test_a_gate_counter_that_goes_silent_is_down_and_comes_back_up() -> None:
    """Done when (issue 14): a silent gate counter raises source_down, then source_up."""
    relay_clock, clock = ManualClock(T0), ManualClock(T0)
    steps: list[Any] = [
        gate_count(1),
        Advance(timedelta(seconds=50)),
        gate_count(2),
        Advance(GATE_SILENCE + timedelta(seconds=5)),  # silent for two counting periods and more
        Advance(timedelta(minutes=10)),  # still silent: nothing more
        gate_count(3),
    ]
    # the liveness processor runs on its own clock, moved in step with the relay's
    items: list[Any] = []
    for item in steps:
        if isinstance(item, Advance):
            relay_clock.advance(item.by)
            items.append(item)
        else:
            relayed = run(gate_signs, [item], clock=relay_clock).records(SIGNS)
            items += [(SIGNS, NewEvent(r.data, key=r.key, id=r.id)) for r in relayed]

    out = run(liveness, items, clock=clock, restart_every=1)

    health = out.records(HEALTH)
    assert [(type(r.data).__name__, r.key) for r in health] == [
        ("KeepAlive", GATE),
        ("SourceUp", GATE),
        ("KeepAlive", GATE),
        ("SourceDown", GATE),
        ("KeepAlive", GATE),
        ("SourceUp", GATE),
    ]
    down, up = health[3].data, health[5].data
    assert isinstance(down, SourceDown)
    assert isinstance(up, SourceUp)
    assert (down.kind, down.venue, down.reason) == (
        SourceKind.GATE_COUNTER,
        "STA",
        DownReason.SILENT,
    )
    assert down.last_seen == T0 + timedelta(seconds=50)
    assert down.silence_ms == (GATE_SILENCE + timedelta(seconds=5)) // timedelta(milliseconds=1)
    assert up.down_since == down.detected_at
    # each transition traces back to the sign that caused it (and the sign to its gate count)
    assert health[3].causation_id == items[2][1].id


def test_a_failure_report_is_down_at_once_and_an_ok_heartbeat_is_up_again() -> None:
    def beat(status: Reported, n: int) -> NewEvent:
        data = Heartbeat(
            source="STA-PWR",
            kind=SourceKind.VENUE_POWER,
            interval_ms=10_000,
            venue="STA",
            status=status,
            detail="" if status is Reported.OK else "main feed lost",
        )
        return NewEvent(data, key="STA-PWR", id=f"pwr-{n}")

    clock = ManualClock(T0)
    signs = run(heartbeat_signs, [beat(Reported.OK, 0), beat(Reported.FAILED, 1)], clock=clock)
    back = run(heartbeat_signs, [beat(Reported.OK, 2)], clock=clock)
    items = [
        (SIGNS, NewEvent(r.data, key=r.key, id=r.id))
        for r in [*signs.records(SIGNS), *back.records(SIGNS)]
    ]
    out = run(liveness, items, clock=clock)

    assert [type(e).__name__ for e in out.events(HEALTH)] == [
        "KeepAlive",
        "SourceUp",
        "SourceDown",
        "KeepAlive",
        "SourceUp",
    ]
    down = out.events(HEALTH)[2]
    assert (down.reason, down.detail, down.kind) == (
        DownReason.FAILED,
        "main feed lost",
        SourceKind.VENUE_POWER,
    )


def test_the_watches_read_registered_streams() -> None:
    assert [w.stream for w in WATCHES] == [SENSORS]
    assert HEARTBEATS in heartbeat_signs.inputs


def test_the_assembly_runs_the_ops_processors_and_serves_the_route() -> None:
    assert "flambeau.services.ops" in app.SERVICES
    for name in ("ops.heartbeat-signs", "ops.gate-signs", "ops.liveness", "betting.health"):
        assert name in default_processors
    paths = {path for route in app.gateway_routes for path in route.paths}
    assert "/v1/ops/sources" in paths


def test_ops_health_is_written_by_the_liveness_processors_only() -> None:
    writer = default_registry.spec(HEALTH).writer
    assert writer is not None
    assert set(writer.processors) == {"ops.liveness", "results.liveness"}
    assert default_registry.spec(HEARTBEATS).writer is None  # producers post heartbeats
    with pytest.raises(ProcessorConfigError, match=r"crowds\.forger cannot write it too"):
        Processor("crowds.forger", inputs=[SENSORS], outputs=[HEALTH])
