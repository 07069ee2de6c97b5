"""Clocks: where processing time comes from.

Event time comes from the events themselves (``Record.time``); processing time comes from a
:class:`Clock`. The runtime uses :class:`SystemClock`; tests use :class:`ManualClock` and move
it forward by hand, so processing-time timers fire exactly when a test says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from flambeau.events import utc_now

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of processing time."""

    def now(self) -> datetime:
        """The current processing time, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return utc_now()


DEFAULT_START = datetime(2024, 7, 26, 17, 30, tzinfo=UTC)
"""Where a :class:`ManualClock` starts unless told otherwise: the Paris 2024 opening ceremony."""


class ManualClock:
    """A clock that only moves when told to; it never goes backwards."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.utcoffset() is None:
            raise ValueError(f"clock start {start.isoformat()} has no timezone; use UTC")
        self._now = start

    def now(self) -> datetime:
        """The clock's current time."""
        return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move the clock forward by ``by`` and return the new time.

        Raises:
            ValueError: ``by`` is negative.
        """
        if by < timedelta(0):
            raise ValueError(f"a clock cannot move backwards (advance by {by})")
        self._now += by
        return self._now

    def set(self, to: datetime) -> None:
        """Move the clock forward to ``to``.

        Raises:
            ValueError: ``to`` is earlier than now, or has no timezone.
        """
        if to.utcoffset() is None:
            raise ValueError(f"clock time {to.isoformat()} has no timezone; use UTC")
        if to < self._now:
            raise ValueError(f"a clock cannot move backwards ({self._now} -> {to})")
        self._now = to
