"""Streams the gateway tests use, in a registry of their own."""

from __future__ import annotations

from datetime import datetime

from flambeau.events import Event, Registry
from flambeau.gateway.keys import register_keys_stream


class UnitStarted(Event, frozen=True, tag="unit_started"):
    unit: str
    athletes: int = 0


class Score(Event, frozen=True, tag="score"):
    unit: str
    points: int
    at: datetime | None = None


class OddsChanged(Event, frozen=True, tag="odds_changed"):
    market: str
    price_milli: int


def make_registry() -> Registry:
    """``results.units`` (public, 4 partitions) and ``betting.odds`` (private, 2 partitions)."""
    registry = Registry()
    registry.register(
        "results.units", UnitStarted | Score, partitions=4, public=True, description="units"
    )
    registry.register("betting.odds", OddsChanged, partitions=2, description="odds")
    register_keys_stream(registry)
    return registry


def score(unit: str, points: int, **envelope: object) -> dict[str, object]:
    """The JSON envelope of a ``score`` event."""
    return {"key": unit, "data": {"type": "score", "unit": unit, "points": points}, **envelope}
