"""Errors the mobility service raises on purpose; each names where the input went wrong."""

from __future__ import annotations

from flambeau.errors import FlambeauError

__all__ = [
    "FeedError",
    "MalformedProtobufError",
    "MobilityError",
    "NetworkFormatError",
    "UnknownPlaceError",
]


class MobilityError(FlambeauError):
    """Base class of the mobility errors."""


class FeedError(MobilityError):
    """A feed body (GTFS-RT or CIFS) is refused; ``field`` names where, ``reason`` why."""

    def __init__(self, adapter: str, field: str, reason: str) -> None:
        super().__init__(f"{adapter}: {field}: {reason}")
        self.adapter = adapter
        self.field = field
        self.reason = reason


class MalformedProtobufError(FeedError):
    """The GTFS-RT body does not decode as a ``FeedMessage``."""


class NetworkFormatError(MobilityError):
    """A network file cannot be loaded; names the file, the element and why."""

    def __init__(self, path: str, where: str, reason: str) -> None:
        super().__init__(f"network {path}: {where}: {reason}")
        self.path = path
        self.where = where


class UnknownPlaceError(MobilityError):
    """A delivery names a place the network does not know."""

    def __init__(self, field: str, code: str, known: list[str]) -> None:
        super().__init__(
            f"{field}: place {code!r} is not on the network (known: {', '.join(known)})"
        )
        self.field = field
        self.code = code
