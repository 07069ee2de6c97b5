"""The rentals processors: the Games' demand, then the price of every listing-night.

::

    rentals.config ──rentals.config-copy──▶ rentals.signals (8, every partition)
    results.units (8, by unit) + rentals.signals ──rentals.games──▶ rentals.demand (4, by area)
    rentals.inventory (4, by area) + rentals.demand ──rentals.pricing──▶ rentals.prices (4)

``rentals.games`` folds, per unit, its venue, start and estimated end, and the nations a
final's start list names. When it knows them all (and the venue's area, from configuration),
it emits a :class:`GamesDemand` for the area: the nations' travelling fans, for the night
before the final through the night of its (estimated) end. A new start list, schedule change
or end estimate of the unit replaces it. A final is a unit whose RSC phase is ``FNL``.

``rentals.pricing`` keeps one :class:`~.book.AreaBook` per area, applies each batch's events
to it and reprices the area at once; it publishes the listing-nights whose price changed, each
caused by the last event of its area in the batch. "Today" is the latest event time the area
has seen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors, relay
from flambeau.services.rentals.book import AreaBook, apply, reprice
from flambeau.services.rentals.schemas import (
    CONFIG,
    DEMAND,
    INVENTORY,
    PRICES,
    SIGNALS,
    GamesDemand,
    NationFans,
    VenueArea,
)
from flambeau.services.results.schemas import (
    UNITS,
    ResultStatus,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)

__all__ = ["DEFAULT_FANS", "KnownFinal", "config_copy", "games", "is_final", "pricing"]

DEFAULT_FANS = 2_000
"""Travelling fans of a nation with no ``nation_fans`` configured."""


def is_final(unit: str) -> bool:
    """Whether an RSC names a unit of a final (phase ``FNL``, characters 23 to 26)."""
    return unit[22:25] == "FNL"


class KnownFinal(msgspec.Struct, frozen=True, kw_only=True):
    """What ``rentals.games`` knows of one final."""

    venue: str = ""
    start: datetime | None = None
    end: datetime | None = None
    nocs: tuple[str, ...] = ()


config_copy = relay("rentals.config-copy", source=CONFIG, target=SIGNALS, every_partition=True)
games = default_processors.register(
    Processor("rentals.games", inputs=[UNITS, SIGNALS], outputs=[DEMAND])
)


def _nocs(result: UnitResult) -> tuple[str, ...]:
    found = {c.competitor.noc for c in result.competitors if c.competitor.noc}
    found |= {a.noc for c in result.competitors for a in c.competitor.athletes if a.noc}
    return tuple(sorted(found))


def _fold(known: KnownFinal, event: Any) -> KnownFinal:
    match event:
        case UnitScheduleChanged():
            return msgspec.structs.replace(
                known,
                venue=event.venue or known.venue,
                start=event.start or known.start,
                end=event.end or known.end,
            )
        case UnitEndEstimated(estimated_end=end):
            return msgspec.structs.replace(known, end=end)
        case UnitResult():
            nocs = _nocs(event) if event.status is ResultStatus.START_LIST else known.nocs
            return msgspec.structs.replace(
                known,
                venue=event.venue or known.venue,
                start=event.start or known.start,
                end=event.end or known.end,
                nocs=nocs or known.nocs,
            )
    return known


@games.on_batch
def fans_of_finals(batch: Batch[Any], tx: Transaction) -> None:
    """Fold configuration and finals; emit a final's demand when it is known and changed."""
    for record in batch:
        event = record.data
        if isinstance(event, VenueArea):
            tx.state.put(f"v/{event.venue}", event.area)
        elif isinstance(event, NationFans):
            tx.state.put(f"n/{event.noc}", event.fans)
        elif is_final(record.key):
            _final(record, tx)


def _final(record: Record[Any], tx: Transaction) -> None:
    key = f"u/{record.key}"
    known = tx.state.get(key, KnownFinal) or KnownFinal()
    updated = _fold(known, record.data)
    if updated == known:
        return
    tx.state.put(key, updated)
    area = tx.state.get(f"v/{updated.venue}", str) if updated.venue else None
    if area is None or updated.start is None or not updated.nocs:
        return
    end = max(updated.end or updated.start, updated.start)
    demand = GamesDemand(
        area=area,
        unit=record.key,
        venue=updated.venue,
        nocs=updated.nocs,
        fans=sum(tx.state.get(f"n/{noc}", int, DEFAULT_FANS) for noc in updated.nocs),
        first_night=updated.start.date() - timedelta(days=1),
        last_night=end.date(),
    )
    tx.emit(DEMAND, demand, key=area, causation_id=record.id)


pricing = default_processors.register(
    Processor("rentals.pricing", inputs=[INVENTORY, DEMAND], outputs=[PRICES])
)


@pricing.on_batch
def reprice_areas(batch: Batch[Any], tx: Transaction) -> None:
    """Apply the batch to each area it touches, then reprice each such area once."""
    books: dict[str, AreaBook] = {}
    causes: dict[str, Record[Any]] = {}
    for record in batch:
        area: str = record.data.area
        book = books.get(area)
        if book is None:
            book = books[area] = tx.state.get(f"a/{area}", AreaBook) or AreaBook()
        apply(book, record.data)
        today: date = record.time.date()
        book.today = max(book.today or today, today)
        causes[area] = record
    for area, book in books.items():
        assert book.today is not None
        for price in reprice(book, area, book.today):
            tx.emit(PRICES, price, key=area, causation_id=causes[area].id)
        tx.state.put(f"a/{area}", book)


PROCESSORS = (config_copy, games, pricing)
"""The rentals processors, in the order data flows through them."""
