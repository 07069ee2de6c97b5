"""The rentals read models: who owns each listing, and each listing-night's latest price.

Two :class:`~flambeau.processing.view.View` per log and process: ``rentals.listings`` folds
``rentals.inventory`` (each listing's registration and live bookings, for entitlement and for
cancellations), ``rentals.price-book`` folds ``rentals.prices`` (the latest price of each
listing-night, with the ids that explain it).
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import msgspec

from flambeau.events import Record
from flambeau.log import Log
from flambeau.processing import View, view_of
from flambeau.services.rentals.schemas import (
    INVENTORY,
    PRICES,
    Booked,
    Cancelled,
    ListingRegistered,
    PriceSet,
)

__all__ = [
    "IndexPoint",
    "ListingsFold",
    "PricedNight",
    "PricesFold",
    "listings_view",
    "prices_view",
]

F = TypeVar("F")


class ListingsFold:
    """Each listing's latest registration and its bookings not cancelled, by id."""

    def __init__(self) -> None:
        self.listings: dict[str, ListingRegistered] = {}
        self.bookings: dict[str, dict[str, Booked]] = {}

    def __call__(self, record: Record[Any]) -> None:
        match record.data:
            case ListingRegistered(listing=listing):
                self.listings[listing] = record.data
            case Booked(listing=listing, booking=booking):
                self.bookings.setdefault(listing, {})[booking] = record.data
            case Cancelled(listing=listing, booking=booking):
                self.bookings.get(listing, {}).pop(booking, None)


class PricedNight(msgspec.Struct, frozen=True, kw_only=True):
    """A listing-night's price as last published, with the events that explain it.

    Attributes:
        price: The published :class:`PriceSet` (factors and demand parts).
        event_id: The id of the ``rentals.prices`` record.
        causation_id: The id of the event that moved it (an inventory or demand record).
        at: When that price was published (its event time).
    """

    price: PriceSet
    event_id: str
    causation_id: str | None
    at: datetime


HISTORY = 120
"""Points of each area's price index kept (one a second at most)."""
MOVES = 20
"""The latest price moves kept, for the dashboard."""


class IndexPoint(msgspec.Struct, frozen=True):
    """An area's price index when ``at`` (arrival time) came."""

    at: datetime
    index: float


class PricesFold:
    """The latest price of each listing-night, the listings of each area and night, each
    area's price index over time and the latest moves.

    An area's index is the mean, over its listing-nights with a price, of price / base.
    """

    def __init__(self) -> None:
        self.nights: dict[tuple[str, date], PricedNight] = {}
        self.areas: dict[tuple[str, date], set[str]] = {}
        self.sums: dict[str, tuple[float, int]] = {}
        self.history: dict[str, deque[IndexPoint]] = {}
        self.moves: deque[PricedNight] = deque(maxlen=MOVES)

    def __call__(self, record: Record[Any]) -> None:
        price = record.data
        if not isinstance(price, PriceSet):  # pragma: no cover - the stream holds only these
            return
        priced = PricedNight(
            price=price, event_id=record.id, causation_id=record.causation_id, at=record.time
        )
        old = self.nights.get((price.listing, price.night))
        total, count = self.sums.get(price.area, (0.0, 0))
        if old is not None:
            total, count = total - _ratio(old.price), count - 1
        total, count = total + _ratio(price), count + 1
        self.sums[price.area] = (total, count)
        self.nights[(price.listing, price.night)] = priced
        self.areas.setdefault((price.area, price.night), set()).add(price.listing)
        self.moves.appendleft(priced)
        points = self.history.setdefault(price.area, deque(maxlen=HISTORY))
        point = IndexPoint(record.ingested_at, round(total / count, 4))
        if points and record.ingested_at - points[-1].at < timedelta(seconds=1):
            points[-1] = IndexPoint(points[-1].at, point.index)
        else:
            points.append(point)

    def in_area(self, area: str, night: date) -> list[PricedNight]:
        """The latest price of each listing of ``area`` for ``night``, by listing id."""
        listings = sorted(self.areas.get((area, night), ()))
        return [self.nights[(listing, night)] for listing in listings]


def _ratio(price: PriceSet) -> float:
    return price.price_cents / price.factors.base_cents


def _fold_of(view: View, kind: type[F]) -> F:
    fold = view.fold
    if not isinstance(fold, kind):  # pragma: no cover - the factory always builds one
        raise TypeError(f"view {view.name!r} folds into something other than {kind.__name__}")
    return fold


def listings_view(log: Log) -> tuple[View, ListingsFold]:
    """The running view of ``rentals.inventory`` over ``log``, and its fold."""
    view = view_of(log, "rentals.listings", [INVENTORY], ListingsFold)
    return view, _fold_of(view, ListingsFold)


def prices_view(log: Log) -> tuple[View, PricesFold]:
    """The running view of ``rentals.prices`` over ``log``, and its fold."""
    view = view_of(log, "rentals.price-book", [PRICES], PricesFold)
    return view, _fold_of(view, PricesFold)
