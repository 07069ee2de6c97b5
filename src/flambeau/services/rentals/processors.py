"""The rentals processors: the Games' and transit's demand, then every listing-night's price.

::

    rentals.config ──rentals.config-copy──▶ rentals.signals (8, every partition)
    results.units (8, by unit) ──rentals.units-by-event──▶ rentals.units (8, by event)
    rentals.units + rentals.signals ──rentals.games──▶ rentals.demand (4, by area)
    rentals.config (1) + mobility.transit (1) ──rentals.transit──▶ rentals.demand
    rentals.inventory (4, by area) + rentals.demand ──rentals.pricing──▶ rentals.prices (4)

``rentals.games`` folds, per final, its venue, start and estimated end, and the nations its
start list names. When it knows them all (and the venue's area, from configuration), it emits
a :class:`GamesDemand` for the area: the nations' travelling fans, for the night before the
final through the night of its (estimated) end. A new start list, schedule change or end
estimate of the unit replaces it (one that changes nothing of it emits nothing). A final is a
unit whose RSC phase is ``FNL``.

A semi-final's official result names the nations that qualify for its event's final (unit
``FNL-000100``, the gold medal match or the race final): those ranked in the first half of
the semi-final (a match's winner). Until the final's start list names its nations, the
qualifiers of its semi-finals stand for them, so an official semi-final result raises demand
in the final's area. Semi-finals and finals meet in one partition because
``rentals.units-by-event`` re-keys them by event.

``rentals.transit`` turns ``mobility.transit`` line states into :class:`TransitDemand` for
every area the line serves (configuration): a closed line (a strike) counts 1, a disrupted
one 0.5, divided by the number of lines serving the area, for the night of the status and the
next (``OUTAGE_NIGHTS``). A line open again lifts it.

``rentals.pricing`` keeps one :class:`~.book.AreaBook` per area, applies each batch's events
to it and reprices the area at once (a demand record on its own: the area is repriced before
and after it); it publishes the listing-nights whose price changed, each
caused by the last event of its area in the batch that covers its night or registered its
listing (:class:`~.book.Causes`; else the area's last event). "Today" is the latest event time
the area has seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Batch, Processor, Transaction, default_processors, relay
from flambeau.services.mobility.schemas import TRANSIT, LineState, LineStatus
from flambeau.services.rentals.book import AreaBook, Causes, apply, reprice
from flambeau.services.rentals.schemas import (
    CONFIG,
    DEMAND,
    INVENTORY,
    PRICES,
    SIGNALS,
    UNITS_BY_EVENT,
    GamesDemand,
    LineArea,
    NationFans,
    TransitDemand,
    VenueArea,
)
from flambeau.services.results.schemas import (
    UNITS,
    CompetitorResult,
    ResultStatus,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)

__all__ = [
    "DEFAULT_FANS",
    "FINAL_UNIT",
    "OUTAGE_NIGHTS",
    "KnownFinal",
    "config_copy",
    "games",
    "is_final",
    "is_semi_final",
    "pricing",
    "transit",
    "units_by_event",
]

DEFAULT_FANS = 2_000
"""Travelling fans of a nation with no ``nation_fans`` configured."""
FINAL_UNIT = "FNL-000100--"
"""The phase and unit of an event's final that its semi-finals qualify for."""
OUTAGE_NIGHTS = 2
"""Nights a line's closure or disruption weighs on: the night of the status and the next."""
_SEVERITY = {LineState.CLOSED: 1.0, LineState.DISRUPTED: 0.5, LineState.OPEN: 0.0}


def is_final(unit: str) -> bool:
    """Whether an RSC names a unit of a final (phase ``FNL``, characters 23 to 26)."""
    return unit[22:25] == "FNL"


def is_semi_final(unit: str) -> bool:
    """Whether an RSC names a unit of a semi-final (phase ``SFNL``)."""
    return unit[22:26] == "SFNL"


class KnownFinal(msgspec.Struct, frozen=True, kw_only=True):
    """What ``rentals.games`` knows of one final; ``semis``: each semi-final's qualifiers."""

    venue: str = ""
    start: datetime | None = None
    end: datetime | None = None
    nocs: tuple[str, ...] = ()
    semis: dict[str, tuple[str, ...]] = {}


def _by_event(record: Record[Any]) -> str | None:
    unit: str = getattr(record.data, "unit", record.key)
    return unit[:22] if is_final(unit) or is_semi_final(unit) else None


config_copy = relay("rentals.config-copy", source=CONFIG, target=SIGNALS, every_partition=True)
units_by_event = relay("rentals.units-by-event", source=UNITS, target=UNITS_BY_EVENT, key=_by_event)
games = default_processors.register(
    Processor("rentals.games", inputs=[UNITS_BY_EVENT, SIGNALS], outputs=[DEMAND])
)


def _nocs(competitors: Iterable[CompetitorResult]) -> tuple[str, ...]:
    found: set[str] = set()
    for line in competitors:
        if line.competitor.noc:
            found.add(line.competitor.noc)
        found |= {a.noc for a in line.competitor.athletes if a.noc}
    return tuple(sorted(found))


def _fold(event: Any, known: KnownFinal) -> KnownFinal:
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
            listed = event.status is ResultStatus.START_LIST
            nocs = _nocs(event.competitors) if listed else known.nocs
            return msgspec.structs.replace(
                known,
                venue=event.venue or known.venue,
                start=event.start or known.start,
                end=event.end or known.end,
                nocs=nocs or known.nocs,
            )
    return known


def _qualified(result: UnitResult) -> tuple[str, ...]:
    """The nations ranked in the first half of a semi-final (a match's winner)."""
    cut = max(1, len(result.competitors) // 2)
    ranked = [c for c in result.competitors if c.rank is not None and c.rank <= cut]
    return _nocs(ranked)


def _with_semi(semi: str, nocs: tuple[str, ...], known: KnownFinal) -> KnownFinal:
    return msgspec.structs.replace(known, semis={**known.semis, semi: nocs})


@games.on_batch
def fans_of_finals(batch: Batch[Any], tx: Transaction) -> None:
    """Fold configuration, finals and semi-finals; emit a final's demand when it changed."""
    for record in batch:
        event = record.data
        if isinstance(event, VenueArea):
            tx.state.put(f"v/{event.venue}", event.area)
        elif isinstance(event, NationFans):
            tx.state.put(f"n/{event.noc}", event.fans)
        elif isinstance(event, LineArea):
            continue  # rentals.transit's configuration
        elif is_final(event.unit):
            _update(tx, event.unit, record.id, partial(_fold, event))
        elif (
            is_semi_final(event.unit)
            and isinstance(event, UnitResult)
            and event.status is ResultStatus.OFFICIAL
        ):
            change = partial(_with_semi, event.unit, _qualified(event))
            _update(tx, event.unit[:22] + FINAL_UNIT, record.id, change)


def _update(
    tx: Transaction, unit: str, cause: str, change: Callable[[KnownFinal], KnownFinal]
) -> None:
    """Change what is known of final ``unit``; emit its demand if it changed and is complete."""
    key = f"u/{unit}"
    known = tx.state.get(key, KnownFinal) or KnownFinal()
    updated = change(known)
    if updated == known:
        return
    tx.state.put(key, updated)
    nocs = updated.nocs or tuple(sorted({n for q in updated.semis.values() for n in q}))
    area = tx.state.get(f"v/{updated.venue}", str) if updated.venue else None
    if area is None or updated.start is None or not nocs:
        return
    end = max(updated.end or updated.start, updated.start)
    demand = GamesDemand(
        area=area,
        unit=unit,
        venue=updated.venue,
        nocs=nocs,
        fans=sum(tx.state.get(f"n/{noc}", int, DEFAULT_FANS) for noc in nocs),
        first_night=updated.start.date() - timedelta(days=1),
        last_night=end.date(),
    )
    if tx.state.get(f"d/{unit}", GamesDemand) == demand:
        return  # an end estimate or a new version that changes nothing for lodging
    tx.state.put(f"d/{unit}", demand)
    tx.emit(DEMAND, demand, key=area, causation_id=cause)


transit = default_processors.register(
    Processor("rentals.transit", inputs=[CONFIG, TRANSIT], outputs=[DEMAND])
)


@transit.on_batch
def lines_out_of_service(batch: Batch[Any], tx: Transaction) -> None:
    """Fold which areas each line serves; emit each served area's share out of service."""
    for record in batch:
        event = record.data
        if isinstance(event, LineArea):
            areas = tx.state.get(f"l/{event.route_id}", list[str], [])
            if event.area not in areas:
                tx.state.put(f"l/{event.route_id}", sorted([*areas, event.area]))
                tx.state.put(f"c/{event.area}", tx.state.get(f"c/{event.area}", int, 0) + 1)
        elif isinstance(event, LineStatus):
            severity = _SEVERITY[event.state]
            first = record.time.date()
            for area in tx.state.get(f"l/{event.route_id}", list[str], []):
                lines = max(1, tx.state.get(f"c/{area}", int, 1))
                outage = TransitDemand(
                    area=area, route_id=event.route_id, severity=severity,
                    share=severity / lines, first_night=first,
                    last_night=first + timedelta(days=OUTAGE_NIGHTS - 1),
                )  # fmt: skip
                tx.emit(DEMAND, outage, key=area, causation_id=record.id)


pricing = default_processors.register(
    Processor("rentals.pricing", inputs=[INVENTORY, DEMAND], outputs=[PRICES])
)


@pricing.on_batch
def reprice_areas(batch: Batch[Any], tx: Transaction) -> None:
    """Apply the batch to each area it touches, then reprice each such area once (and right
    before and after each demand record, so that the prices a demand moves name it)."""
    books: dict[str, AreaBook] = {}
    causes: dict[str, Causes] = {}
    for record in batch:
        area: str = record.data.area
        book = books.get(area)
        if book is None:
            book = books[area] = tx.state.get(f"a/{area}", AreaBook) or AreaBook()
            causes[area] = Causes()
        demand = record.stream == DEMAND
        if demand and causes[area].ids:
            _publish(tx, area, book, causes[area])
            causes[area] = Causes()
        causes[area].add(book, record.id, record.data)
        apply(book, record.data)
        today: date = record.time.date()
        book.today = max(book.today or today, today)
        if demand:
            _publish(tx, area, book, causes[area])
            causes[area] = Causes()
    for area, book in books.items():
        if causes[area].ids:
            _publish(tx, area, book, causes[area])
        tx.state.put(f"a/{area}", book)


def _publish(tx: Transaction, area: str, book: AreaBook, causes: Causes) -> None:
    """Reprice ``area`` and emit the prices that moved, each with the event that moved it."""
    assert book.today is not None
    for price in reprice(book, area, book.today):
        tx.emit(PRICES, price, key=area, causation_id=causes.of(price))


PROCESSORS = (config_copy, units_by_event, games, transit, pricing)
"""The rentals processors, in the order data flows through them."""
