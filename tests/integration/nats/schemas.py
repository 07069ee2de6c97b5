"""Streams the NATS integration tests write: a fresh registry per test."""

from __future__ import annotations

from flambeau.events import Event, Registry


class Tick(Event, tag="tick"):
    n: int


def make_registry() -> Registry:
    registry = Registry()
    registry.register("it.ticks", Tick, partitions=4)
    registry.register("it.out", Tick, partitions=4)
    return registry
