"""``analytics.unit-ends``: each unit's estimated end, carried to its venue's partition.

``results.units`` is keyed by unit and its :class:`UnitEndEstimated` events name no venue; the
unit's venue comes from its :class:`UnitScheduleChanged` or :class:`UnitResult` events. The
processor remembers, per unit, the venue and the latest estimate, and writes a
:class:`~flambeau.services.analytics.schemas.UnitEnd` keyed by venue on ``analytics.facts``
whenever it knows both and either changed. A match going to extra time moves its estimate,
hence the venue's forecast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flambeau.processing import Batch, Processor, Transaction, default_processors
from flambeau.services.analytics.schemas import FACTS, UnitEnd
from flambeau.services.results.schemas import (
    UNITS,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)

__all__ = ["KnownUnit", "unit_ends"]


class KnownUnit(msgspec.Struct, frozen=True, kw_only=True):
    """What the processor knows of one unit."""

    venue: str = ""
    estimated_end: datetime | None = None
    scheduled_end: datetime | None = None


unit_ends = default_processors.register(
    Processor("analytics.unit-ends", inputs=[UNITS], outputs=[FACTS])
)


@unit_ends.on_batch
def carry(batch: Batch[Any], tx: Transaction) -> None:
    """Fold venues and estimates; emit a :class:`UnitEnd` when one is known and changed."""
    for record in batch:
        event = record.data
        key = f"u/{record.key}"
        known = tx.state.get(key, KnownUnit) or KnownUnit()
        match event:
            case UnitScheduleChanged(venue=str(venue)) | UnitResult(venue=str(venue)):
                updated = msgspec.structs.replace(known, venue=venue)
            case UnitEndEstimated(estimated_end=estimate, scheduled_end=scheduled):
                updated = msgspec.structs.replace(
                    known, estimated_end=estimate, scheduled_end=scheduled
                )
            case _:
                continue
        if updated == known:
            continue
        tx.state.put(key, updated)
        if updated.venue and updated.estimated_end is not None:
            fact = UnitEnd(
                venue=updated.venue,
                unit=record.key,
                estimated_end=updated.estimated_end,
                scheduled_end=updated.scheduled_end,
            )
            tx.emit(FACTS, fact, key=updated.venue, causation_id=record.id)
