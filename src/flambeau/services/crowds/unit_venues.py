"""``crowds.unit-venues``: each unit's estimated end from ``results.units``, keyed by its venue.

``results.units`` is keyed by unit; the crowds processor reads by venue. A unit's
``unit_end_estimated`` does not name its venue, but its ``unit_schedule`` and ``unit_result``
events do, in the same partition and before it in the usual course. The processor remembers
each unit's venue (state ``u/<unit>``) and emits a :class:`VenueUnitEnd` keyed by venue for
every production estimate, with the estimate's record as its cause and its event time, so the
egress forecast moves with the result event that moved ``estimated_end``. An estimate that
arrives before its unit's venue is known waits in the unit's state and is emitted when the
venue arrives. Test feeds are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.crowds.schemas import UNITS, VenueUnitEnd
from flambeau.services.results.schemas import UNITS as RESULT_UNITS
from flambeau.services.results.schemas import (
    EndAdjustment,
    Feed,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)

__all__ = ["UnitVenue", "unit_key", "unit_venues"]

_VENUE_CODE = re.compile(r"[A-Z0-9]{2,8}")
"""Venue codes crowds accepts (other venue names in results are not crowds venues)."""


class UnitVenue(msgspec.Struct, frozen=True, kw_only=True):
    """A unit's venue, and an estimate waiting for it (with its record id and time)."""

    venue: str = ""
    waiting: UnitEndEstimated | None = None
    waiting_id: str = ""
    waiting_at: datetime | None = None


def unit_key(unit: str) -> str:
    """The state key of a unit."""
    return f"u/{unit}"


unit_venues = Processor("crowds.unit-venues", inputs=[RESULT_UNITS], outputs=[UNITS])
default_processors.register(unit_venues)


@unit_venues.on_batch
def apply(batch: Batch[Any], tx: Transaction) -> None:
    """Remember venues; emit each estimate keyed by its unit's venue."""
    for record in batch:
        event = record.data
        if event.feed is not Feed.PRODUCTION:
            continue
        match event:
            case UnitScheduleChanged() | UnitResult():
                _venue_heard(event.unit, event.venue, tx)
            case UnitEndEstimated():
                _estimated(event, record, tx)


def _venue_heard(unit: str, venue: str | None, tx: Transaction) -> None:
    if venue is None or _VENUE_CODE.fullmatch(venue) is None:
        return
    key = unit_key(unit)
    known = tx.state.get(key, UnitVenue) or UnitVenue()
    if known.venue == venue and known.waiting is None:
        return
    if known.waiting is not None:
        end = _unit_end(venue, known.waiting)
        tx.emit(UNITS, end, key=venue, causation_id=known.waiting_id, time=known.waiting_at)
    tx.state.put(key, UnitVenue(venue=venue))


def _estimated(event: UnitEndEstimated, record: Record[Any], tx: Transaction) -> None:
    key = unit_key(event.unit)
    known = tx.state.get(key, UnitVenue) or UnitVenue()
    if known.venue:
        tx.emit(UNITS, _unit_end(known.venue, event), key=known.venue, causation_id=record.id)
        return
    tx.state.put(key, UnitVenue(waiting=event, waiting_id=record.id, waiting_at=record.time))


def _unit_end(venue: str, event: UnitEndEstimated) -> VenueUnitEnd:
    return VenueUnitEnd(
        venue=venue,
        unit=event.unit,
        estimated_end=event.estimated_end,
        finished=EndAdjustment.FINISHED in event.adjustments,
        adjustments=tuple(str(a) for a in event.adjustments),
    )
