"""The durable log: one interface, backends chosen by URL scheme."""

from flambeau.log._registry import backends, open_log, register_backend
from flambeau.log.base import Appended, Log, StateChange, StreamInfo, partition_for

__all__ = [
    "Appended",
    "Log",
    "StateChange",
    "StreamInfo",
    "backends",
    "open_log",
    "partition_for",
    "register_backend",
]
