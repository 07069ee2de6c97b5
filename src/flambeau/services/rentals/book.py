"""An area's state: its listings, bookings, searches and Games demand, and last prices.

The pricing processor keeps one :class:`AreaBook` per area (not one key per listing-night),
applies each inventory or demand event to it with :func:`apply`, then reprices the whole area
at once (:func:`reprice`, vectorised by :mod:`.model`) and publishes only the listing-nights
whose price changed.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import numpy as np
import numpy.typing as npt

from flambeau.services.rentals.model import AreaPrices, area_prices, settings_arrays
from flambeau.services.rentals.schemas import (
    Booked,
    Cancelled,
    DemandParts,
    Factors,
    GamesDemand,
    Kind,
    ListingRegistered,
    PriceSet,
    PricingSettings,
    Searched,
    Viewed,
)

__all__ = ["AreaBook", "Fans", "ListingState", "apply", "nights", "reprice"]

MAX_NIGHTS = 366
"""The widest span of nights an area is priced over."""


class ListingState(msgspec.Struct, kw_only=True):
    """One listing as registered, and its bookings (id → check-in, check-out)."""

    host: str
    kind: Kind
    base: int
    floor: int
    ceiling: int
    first: date
    last: date
    settings: PricingSettings
    bookings: dict[str, tuple[date, date]] = msgspec.field(default_factory=dict)


class Fans(msgspec.Struct, frozen=True, kw_only=True):
    """The fans one final brings, for its nights."""

    fans: int
    first: date
    last: date


class AreaBook(msgspec.Struct, kw_only=True):
    """Everything the price of an area's listing-nights depends on, and the prices published.

    ``lookups`` and ``prices`` are keyed by ISO night.
    """

    listings: dict[str, ListingState] = msgspec.field(default_factory=dict)
    lookups: dict[str, int] = msgspec.field(default_factory=dict)
    games: dict[str, Fans] = msgspec.field(default_factory=dict)
    prices: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    today: date | None = None


def nights(check_in: date, check_out: date) -> list[date]:
    """The nights from ``check_in`` to the night before ``check_out`` (at most MAX_NIGHTS)."""
    count = min((check_out - check_in).days, MAX_NIGHTS)
    return [check_in + timedelta(days=j) for j in range(count)]


def apply(book: AreaBook, event: object) -> None:
    """Fold one inventory or demand event into ``book``."""
    match event:
        case ListingRegistered():
            known = book.listings.get(event.listing)
            book.listings[event.listing] = ListingState(
                host=event.host,
                kind=event.kind,
                base=event.base_cents,
                floor=event.floor_cents,
                ceiling=event.ceiling_cents,
                first=event.available_from,
                last=event.available_to,
                settings=event.settings,
                bookings=known.bookings if known else {},
            )
        case Booked(listing=listing):
            if listing in book.listings:
                book.listings[listing].bookings[event.booking] = (event.check_in, event.check_out)
        case Cancelled(listing=listing):
            if listing in book.listings:
                book.listings[listing].bookings.pop(event.booking, None)
        case Searched() | Viewed():
            for night in nights(event.check_in, event.check_out):
                key = night.isoformat()
                book.lookups[key] = book.lookups.get(key, 0) + 1
        case GamesDemand(unit=unit):
            book.games[unit] = Fans(fans=event.fans, first=event.first_night, last=event.last_night)


def _span(book: AreaBook, today: date) -> tuple[date, int]:
    first = max(today, min(s.first for s in book.listings.values()))
    last = max(s.last for s in book.listings.values())
    return first, max(0, min((last - first).days + 1, MAX_NIGHTS))


def reprice(book: AreaBook, area: str, today: date) -> list[PriceSet]:
    """Reprice every listing-night of ``book`` from ``today`` on; return the prices that moved.

    The moved prices are recorded in ``book.prices``; nights before ``today`` are forgotten.
    """
    if not book.listings:
        return []
    first, m = _span(book, today)
    ids = sorted(book.listings)
    states = [book.listings[i] for i in ids]
    column = np.arange(m)
    available = np.zeros((len(ids), m), bool)
    booked = np.zeros((len(ids), m), bool)
    for row, state in enumerate(states):
        start, end = (state.first - first).days, (state.last - first).days
        available[row] = (column >= start) & (column <= end)
        for check_in, check_out in state.bookings.values():
            booked[row, max(0, (check_in - first).days) : max(0, (check_out - first).days)] = True
    days = [(first + timedelta(days=j)).isoformat() for j in range(m)]
    fans = np.zeros(m)
    for entry in book.games.values():
        lo, hi = (entry.first - first).days, (entry.last - first).days
        fans[max(0, lo) : max(0, hi + 1)] += entry.fans
    result = area_prices(
        first=first,
        today=today,
        base=np.array([s.base for s in states], np.float64),
        floor=np.array([s.floor for s in states], np.float64),
        ceiling=np.array([s.ceiling for s in states], np.float64),
        available=available,
        booked=booked,
        lookups=np.array([book.lookups.get(d, 0) for d in days], np.float64),
        fans=fans,
        settings=settings_arrays([s.settings for s in states]),
    )
    moved: list[PriceSet] = []
    horizon = today.isoformat()
    book.lookups = {d: c for d, c in book.lookups.items() if d >= horizon}
    for row, listing in enumerate(ids):
        known = {d: c for d, c in book.prices.get(listing, {}).items() if d >= horizon}
        book.prices[listing] = known
        cells = np.flatnonzero(
            result.priced[row] & (result.price_cents[row] != _known(known, days))
        )
        for j in cells.tolist():
            price = int(result.price_cents[row, j])
            known[days[j]] = price
            moved.append(_price_set(result, states[row], listing, area, first, row, j, price))
    return moved


def _known(known: dict[str, int], days: list[str]) -> npt.NDArray[np.int64]:
    return np.array([known.get(d, -1) for d in days], np.int64)


def _price_set(
    result: AreaPrices,
    state: ListingState,
    listing: str,
    area: str,
    first: date,
    row: int,
    j: int,
    price: int,
) -> PriceSet:
    factors, parts = result.factors, result.parts
    return PriceSet(
        listing=listing,
        host=state.host,
        area=area,
        kind=state.kind,
        night=first + timedelta(days=j),
        price_cents=price,
        factors=Factors(base_cents=state.base, **{k: float(f[row, j]) for k, f in factors.items()}),
        parts=DemandParts(**{k: float(p[row, j]) for k, p in parts.items()}),
    )
