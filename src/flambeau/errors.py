"""The root of every Flambeau error, the core's errors, and the state machines' error.

Every exception class in Flambeau derives from :class:`FlambeauError`. The core's errors
(events, the schema registry, the log and its backends) are here; every other package keeps
its own in its ``errors.py`` (``processing``, ``gateway``, each service, ``scenario``), under
:class:`FlambeauError` directly or through the package's base (CONTRIBUTING.md, "Errors").
Callers catch these by class; the gateway maps each one to an RFC 9457 problem type, so the
class name is part of the interface. Messages name the offending stream, field or value.
"""

from __future__ import annotations


class FlambeauError(Exception):
    """Base class of all deliberate Flambeau errors."""


class UnknownBackendError(FlambeauError):
    """A log URL names a scheme no backend is registered for."""


class InvalidLogURLError(FlambeauError):
    """A log URL has the right scheme but a bad path or option."""


class UnknownStreamError(FlambeauError):
    """A stream name is not registered in the schema registry."""


class InvalidStreamNameError(FlambeauError):
    """A stream name does not follow ``<domain>.<noun>``."""


class StreamConflictError(FlambeauError):
    """A stream is registered twice with different definitions."""


class StreamWriterConflictError(FlambeauError):
    """A stream is declared with a writer of another kind or service than the one it has."""


class SchemaMismatchError(FlambeauError):
    """An event's payload is not one of the types its stream accepts."""


class InvalidEventError(FlambeauError):
    """An event envelope is malformed: a naive timestamp, an empty id, an oversized key."""


class LogClosedError(FlambeauError):
    """The log was used after ``aclose()``."""


class BackendUnavailableError(FlambeauError):
    """The log backend cannot be reached (for example, the NATS server is down)."""


class LogFailedError(FlambeauError):
    """A write could not be made durable; the log refuses further work until reopened."""


class LogLockedError(FlambeauError):
    """Another process has the embedded log open; SQLite logs have one writing process."""


class IllegalTransitionError(FlambeauError):
    """A move a state machine forbids, such as a lease going from LOST to DRAINING.

    Raised by :meth:`flambeau.machine.Machine.transition` (a package may raise a subclass).

    Attributes:
        machine: Which machine (``"lease"``, ``"unit status"``, ...); empty when not given.
        old: The state before, or ``None`` when there was none.
        new: The state asked for.
    """

    def __init__(
        self, message: str, *, machine: str = "", old: object = None, new: object = None
    ) -> None:
        super().__init__(message)
        self.machine = machine
        self.old = old
        self.new = new
