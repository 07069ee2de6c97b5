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
    TransitDemand,
    Viewed,
)

__all__ = [
    "AreaBook",
    "Causes",
    "Fans",
    "ListingState",
    "Outage",
    "apply",
    "calendar",
    "nights",
    "reprice",
]

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


class Outage(msgspec.Struct, frozen=True, kw_only=True):
    """A transit line's out-of-service share of the area's lines, for its nights."""

    share: float
    first: date
    last: date


class AreaBook(msgspec.Struct, kw_only=True):
    """Everything the price of an area's listing-nights depends on, and the prices published.

    ``lookups`` is keyed by ISO night. The published prices are one int64 matrix (``-1``: no
    price) over the listings ``ids`` (sorted) and ``nights`` nights from ``first``.
    """

    listings: dict[str, ListingState] = msgspec.field(default_factory=dict)
    lookups: dict[str, int] = msgspec.field(default_factory=dict)
    games: dict[str, Fans] = msgspec.field(default_factory=dict)
    transit: dict[str, Outage] = msgspec.field(default_factory=dict)
    today: date | None = None
    ids: list[str] = msgspec.field(default_factory=list)
    first: date | None = None
    nights: int = 0
    published: bytes = b""

    def last_prices(self, ids: list[str], first: date, m: int) -> npt.NDArray[np.int64]:
        """The published prices realigned onto ``ids`` and ``m`` nights from ``first``."""
        old = np.frombuffer(self.published, np.int64).reshape(len(self.ids), self.nights)
        if ids == self.ids and first == self.first and m == self.nights:
            return old
        aligned = np.full((len(ids), m), -1, np.int64)
        if self.first is None or not self.ids:
            return aligned
        where = {listing: row for row, listing in enumerate(self.ids)}
        rows = [(new, where[i]) for new, i in enumerate(ids) if i in where]
        shift = (first - self.first).days
        lo, hi = max(0, -shift), min(m, self.nights - shift)
        if rows and hi > lo:
            new_rows, old_rows = (list(r) for r in zip(*rows, strict=True))
            aligned[np.ix_(new_rows, range(lo, hi))] = old[
                np.ix_(old_rows, range(lo + shift, hi + shift))
            ]
        return aligned


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
        case TransitDemand(route_id=route):
            if event.share <= 0:
                book.transit.pop(route, None)
            else:
                book.transit[route] = Outage(
                    share=event.share, first=event.first_night, last=event.last_night
                )


def _span(book: AreaBook, today: date) -> tuple[date, int]:
    first = max(today, min(s.first for s in book.listings.values()))
    last = max(s.last for s in book.listings.values())
    return first, max(0, min((last - first).days + 1, MAX_NIGHTS))


def calendar(
    states: list[ListingState], first: date, m: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Each listing's calendar and booked nights over ``m`` nights from ``first``."""
    column = np.arange(m)
    starts = np.array([(s.first - first).days for s in states], np.int64)[:, None]
    ends = np.array([(s.last - first).days for s in states], np.int64)[:, None]
    available = (column >= starts) & (column <= ends)
    booked = np.zeros_like(available)
    for row, state in enumerate(states):
        for check_in, check_out in state.bookings.values():
            booked[row, max(0, (check_in - first).days) : max(0, (check_out - first).days)] = True
    return available, booked


def _per_night(
    spans: list[tuple[float, date, date]], first: date, m: int
) -> npt.NDArray[np.float64]:
    """The sum over ``spans`` (value, first night, last night) of each of ``m`` nights."""
    total = np.zeros(m)
    for value, lo_night, hi_night in spans:
        lo, hi = (lo_night - first).days, (hi_night - first).days
        total[max(0, lo) : max(0, hi + 1)] += value
    return total


def reprice(book: AreaBook, area: str, today: date) -> list[PriceSet]:
    """Reprice every listing-night of ``book`` from ``today`` on; return the prices that moved.

    The moved prices are recorded in ``book``; nights before ``today`` are forgotten.
    """
    if not book.listings:
        return []
    first, m = _span(book, today)
    ids = sorted(book.listings)
    states = [book.listings[i] for i in ids]
    available, booked = calendar(states, first, m)
    days = [(first + timedelta(days=j)).isoformat() for j in range(m)]
    fans = _per_night([(e.fans, e.first, e.last) for e in book.games.values()], first, m)
    outages = _per_night([(o.share, o.first, o.last) for o in book.transit.values()], first, m)
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
        out_of_service=outages,
    )
    horizon = today.isoformat()
    book.lookups = {d: c for d, c in book.lookups.items() if d >= horizon}
    last = book.last_prices(ids, first, m)
    moved = result.priced & (result.price_cents != last)
    published = np.where(moved, result.price_cents, last)
    book.ids, book.first, book.nights = ids, first, m
    book.published = published.tobytes()
    rows, cols = np.nonzero(moved)
    return _price_sets(result, [states[r] for r in rows.tolist()], ids, area, first, rows, cols)


def _price_sets(
    result: AreaPrices,
    states: list[ListingState],
    ids: list[str],
    area: str,
    first: date,
    rows: npt.NDArray[np.intp],
    cols: npt.NDArray[np.intp],
) -> list[PriceSet]:
    """The events of the moved cells ``(rows, cols)``, their values gathered column-wise."""
    f = {k: v[rows, cols].tolist() for k, v in result.factors.items()}
    p = {k: v[rows, cols].tolist() for k, v in result.parts.items()}
    prices = result.price_cents[rows, cols].tolist()
    nights = [first + timedelta(days=j) for j in range(int(cols.max(initial=-1)) + 1)]
    return [
        PriceSet(
            listing=ids[row],
            host=state.host,
            area=area,
            kind=state.kind,
            night=nights[j],
            price_cents=prices[n],
            factors=Factors(
                base_cents=state.base,
                season_dow=f["season_dow"][n],
                demand=f["demand"][n],
                lead_time=f["lead_time"][n],
                last_minute=f["last_minute"][n],
                orphan=f["orphan"][n],
                clamp=f["clamp"][n],
            ),
            parts=DemandParts(
                occupancy=p["occupancy"][n],
                pace=p["pace"][n],
                pressure=p["pressure"][n],
                games=p["games"][n],
                transit=p["transit"][n],
            ),
        )
        for n, (row, j, state) in enumerate(zip(rows.tolist(), cols.tolist(), states, strict=True))
    ]


class Causes:
    """Which event of one area's batch moved a listing-night, for its ``causation_id``.

    The last event whose nights cover the night (a Games or transit demand, a booking, its
    cancellation, a search or view), or that registered the listing, whichever came later in
    the batch; for a night no event covers (moved by "today" advancing), the area's last event.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.nights: dict[date, int] = {}
        self.listings: dict[str, int] = {}

    def add(self, book: AreaBook, event_id: str, event: object) -> None:
        """Note ``event`` (before it is applied to ``book``, which knows a booking's nights)."""
        n = len(self.ids)
        self.ids.append(event_id)
        span: tuple[date, date] | None = None
        match event:
            case ListingRegistered(listing=listing):
                self.listings[listing] = n
            case GamesDemand() | TransitDemand():
                span = (event.first_night, event.last_night + timedelta(days=1))
            case Booked() | Searched() | Viewed():
                span = (event.check_in, event.check_out)
            case Cancelled(listing=listing, booking=booking):
                known = book.listings.get(listing)
                span = known.bookings.get(booking) if known else None
        if span is not None:
            for night in nights(*span):
                self.nights[night] = n

    def of(self, price: PriceSet) -> str:
        """The id of the event that moved ``price``."""
        n = max(self.nights.get(price.night, -1), self.listings.get(price.listing, -1))
        return self.ids[n]
