"""The small schema the conformance suite writes: a fresh registry per test."""

from __future__ import annotations

from datetime import timedelta

from flambeau.events import Event, Registry


class Ping(Event, frozen=True, tag="ping"):
    n: int
    pad: str = ""


class Pong(Event, frozen=True, tag="pong"):
    n: int


class Other(Event, frozen=True, tag="other"):
    n: int


def make_registry() -> Registry:
    registry = Registry()
    registry.register("test.pings", Ping | Pong, partitions=4)
    registry.register("test.single", Ping, partitions=1)
    registry.register("test.out", Pong, partitions=4)
    registry.register("test.aged", Ping, partitions=1, max_age=timedelta(seconds=0.2))
    registry.register("test.sized", Ping, partitions=1, max_bytes=2000)
    return registry
