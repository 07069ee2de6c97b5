"""Errors the processing runtime raises on purpose.

They subclass :class:`flambeau.errors.FlambeauError` so callers can catch every deliberate
Flambeau error in one place; each message names the processor, stream or key at fault.
"""

from __future__ import annotations

from flambeau.errors import FlambeauError

__all__ = [
    "ProcessorConfigError",
    "ReservedStateKeyError",
    "UndeclaredOutputError",
    "UnknownProcessorError",
]


class ProcessorConfigError(FlambeauError):
    """A processor is defined wrongly: no handler, inputs not co-partitioned, a bad name."""


class UnknownProcessorError(FlambeauError):
    """A processor name is not registered (for example in ``flambeau worker --processors``)."""


class ReservedStateKeyError(FlambeauError):
    """A handler used a state key starting with ``~``, which the runtime keeps for itself."""


class UndeclaredOutputError(FlambeauError):
    """A handler emitted to a stream its processor does not list in ``outputs``."""
