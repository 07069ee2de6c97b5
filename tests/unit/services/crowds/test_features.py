"""The feature stream per zone and 10 s, and the online detector on a surge and an egress."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flambeau.events import NewEvent
from flambeau.services.crowds.anomaly import detector
from flambeau.services.crowds.processors import occupancy
from flambeau.services.crowds.schemas import (
    ANOMALIES,
    FEATURES,
    SENSORS,
    UNITS,
    AreaDensity,
    CrowdAnomaly,
    GateCount,
    VenueUnitEnd,
    ZoneConfigured,
    ZoneFeatures,
    ZoneRole,
)
from flambeau.testing import run

T0 = datetime(2024, 8, 9, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sensor(event: object, seconds: float) -> tuple[str, NewEvent]:
    return SENSORS, NewEvent(event, key="STA", time=at(seconds))  # type: ignore[arg-type]


def test_each_zone_publishes_a_window_when_the_next_one_starts() -> None:
    gate = ZoneConfigured(venue="STA", zone="G1", role=ZoneRole.GATE, area_m2=100,
                          exit_width_m=2.0)  # fmt: skip
    end = VenueUnitEnd(venue="STA", unit="FBLMTEAM11------------FNL-000100--",
                       estimated_end=at(600))  # fmt: skip
    result = run(
        occupancy,
        [
            (UNITS, NewEvent(end, key="STA", time=at(0))),
            sensor(gate, 1),
            sensor(GateCount(venue="STA", gate="G1", entered=30, period_s=10), 3),
            sensor(GateCount(venue="STA", gate="G1", entered=12, period_s=10), 7),
            sensor(AreaDensity(venue="STA", area="G1", people=50, area_m2=100), 8),
            sensor(AreaDensity(venue="STA", area="G1", people=80, area_m2=100), 14),  # closes 0-10
            sensor(AreaDensity(venue="STA", area="G1", people=20, area_m2=100), 35),  # closes 10-20
        ],
    )
    windows: list[ZoneFeatures] = result.events(FEATURES)
    assert [(w.window_end, w.people, w.counted, w.trend, w.minutes_to_end) for w in windows] == [
        (at(10), 50, 42, 0.0, 9.83),
        (at(20), 80, 0, 1.8, 9.67),  # +0.3 p/m² in 10 s: 1.8 per minute
    ]
    assert windows[0].flow == 36.0  # 12 people through 2 m in 10 s


def trace(surge: bool, seed: int) -> list[ZoneFeatures]:
    """An evening on a forecourt, one window each 10 s: calm, then a 15-minute egress peak
    (density up to 2.6 p/m² and back), with sensor noise; or, instead, a surge to 4.5."""
    rng = random.Random(seed)
    densities = [1.0 + rng.gauss(0, 0.03) for _ in range(180)]  # 30 calm minutes
    if surge:
        densities += [2.4, 4.5, 4.6]
    else:
        ramp = [1.0 + 1.6 * n / 48 for n in range(48)] + [2.6 - 2.3 * n / 42 for n in range(42)]
        densities += [d + rng.gauss(0, 0.03) for d in ramp]
    windows, last = [], densities[0]
    for n, density in enumerate(densities):
        windows.append(ZoneFeatures(
            venue="STA", zone="STA-FORECOURT", role=ZoneRole.FORECOURT,
            window_end=at(10 * (n + 1)), people=round(density * 1_000), density=density,
            trend=round((density - last) * 6, 4),
        ))  # fmt: skip
        last = density
    return windows


def flagged(windows: list[ZoneFeatures]) -> list[CrowdAnomaly]:
    events = [NewEvent(w, key="STA", time=w.window_end) for w in windows]
    return run(detector, events, batch_size=16, restart_every=3).events(ANOMALIES)


def test_the_detector_catches_a_surge() -> None:
    for seed in range(5):
        (first, *_) = flagged(trace(surge=True, seed=seed))
        assert first.window_end == at(10 * 181)  # the window the crowd jumped to 2.4 p/m²
        assert first.density >= 2.0


def test_the_detector_leaves_a_normal_egress_alone() -> None:
    for seed in range(5):
        assert flagged(trace(surge=False, seed=seed)) == []
