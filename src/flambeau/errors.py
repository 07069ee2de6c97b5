"""Every error Flambeau raises on purpose, named for what went wrong.

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
