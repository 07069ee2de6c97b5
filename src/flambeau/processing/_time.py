"""Microsecond time helpers: the runtime does its time arithmetic on int64 microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_TIME = -(2**62)
"""The watermark of a partition that has seen no event yet (far below any real time)."""


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime, exactly."""
    if moment.utcoffset() is None:
        raise ValueError(f"time {moment.isoformat()} has no timezone; use UTC")
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(micros: int) -> datetime:
    """The UTC datetime ``micros`` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=int(micros))


def span_us(duration: timedelta) -> int:
    """A duration in whole microseconds."""
    return duration // timedelta(microseconds=1)
