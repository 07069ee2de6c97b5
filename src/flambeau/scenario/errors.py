"""Errors the scenario raises on purpose, named for what went wrong."""

from __future__ import annotations

from flambeau.errors import FlambeauError, IllegalTransitionError

__all__ = [
    "IllegalStatusTransitionError",
    "IncidentTargetError",
    "InvalidScriptError",
    "ScenarioError",
    "Stopped",
    "UnknownCodeError",
]


class ScenarioError(FlambeauError):
    """Base class of the scenario's deliberate errors."""


class UnknownCodeError(ScenarioError, KeyError):
    """A venue, discipline, NOC or unit code is not in the scenario's data."""

    def __str__(self) -> str:
        # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class Stopped(ScenarioError):
    """The client was stopped while a request was waiting to be retried."""


class InvalidScriptError(ScenarioError):
    """An incident script cannot be parsed: bad syntax, an unknown kind, a bad time or field."""


class IncidentTargetError(ScenarioError):
    """An incident names a target that does not exist, or no target fits it on the day."""


class IllegalStatusTransitionError(ScenarioError, IllegalTransitionError):
    """A result document moved between two statuses the ODF life cycle does not allow."""
