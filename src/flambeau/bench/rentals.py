"""``flambeau bench rentals``: repricing an area after one demand event, and demand events/s.

The workload: 100,000 listings (10,000 with ``--quick``) over 20 areas, each with a 30-night
calendar, a quarter of them with a two-night booking, default settings.

- ``reprice_p99_ms``: one area (5,000 listings, 150,000 listing-nights) gets a Games demand
  event, is repriced by :func:`~flambeau.services.rentals.book.reprice` (building the area's
  arrays, the vectorised model, and the comparison against the last published prices), and
  its moved prices are built as events. p99 over :data:`ROUNDS` events, each with other fans.
- ``listing_nights_per_s``: every area repriced in turn after a demand event: listing-nights
  priced per second of that wall clock (the same work, summed over the 20 areas).
  ``model_listing_nights_per_s``: the vectorised model alone over the same areas (no arrays
  built from the state, no events): what the moved prices' events cost is the difference.
- ``demand_events_per_s``: demand events through the real ``rentals.pricing`` processor (the
  in-process harness: state decoded, applied, repriced and encoded per batch of one event) on
  one area of 500 listings: sustained events per second, prices emitted included (the time of
  a run with the demand events, less that of the same run without them).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import numpy as np

from flambeau.bench._common import percentiles_ms
from flambeau.events import NewEvent
from flambeau.services.rentals.book import AreaBook, apply, calendar, reprice
from flambeau.services.rentals.model import area_prices, settings_arrays
from flambeau.services.rentals.processors import pricing
from flambeau.services.rentals.schemas import (
    DEMAND,
    INVENTORY,
    Booked,
    GamesDemand,
    Kind,
    ListingRegistered,
)
from flambeau.testing import run as run_processor

TODAY = date(2024, 7, 20)
AREAS = 20
NIGHTS = 30
ROUNDS = 50


def _listing(area: str, i: int) -> ListingRegistered:
    return ListingRegistered(
        listing=f"{area}-{i}", host=f"host-{i % 97}", kind=Kind.CAR if i % 5 == 0 else Kind.FLAT,
        area=area, capacity=2 + i % 4, base_cents=6_000 + (i % 50) * 100, floor_cents=3_000,
        ceiling_cents=40_000, available_from=TODAY, available_to=TODAY + timedelta(days=NIGHTS - 1),
    )  # fmt: skip


def _area(area: str, listings: int) -> list[Any]:
    events: list[Any] = []
    for i in range(listings):
        events.append(_listing(area, i))
        if i % 4 == 0:
            night = TODAY + timedelta(days=i % (NIGHTS - 2))
            events.append(
                Booked(
                    listing=f"{area}-{i}",
                    area=area,
                    booking=f"b{i}",
                    check_in=night,
                    check_out=night + timedelta(days=2),
                )
            )
    return events


def _demand(area: str, round_: int) -> GamesDemand:
    return GamesDemand(
        area=area, unit=f"U{round_ % 3}", venue="LYO", nocs=("FRA",), fans=5_000 + 977 * round_,
        first_night=TODAY + timedelta(days=5 + round_ % 7), last_night=TODAY + timedelta(days=13),
    )  # fmt: skip


def _book(area: str, listings: int) -> AreaBook:
    book = AreaBook()
    for event in _area(area, listings):
        apply(book, event)
    reprice(book, area, TODAY)
    return book


def _reprice_p99(listings: int) -> dict[str, float]:
    book = _book("lyon", listings)
    samples = []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        apply(book, _demand("lyon", round_))
        reprice(book, "lyon", TODAY)
        samples.append(time.perf_counter() - started)
    return percentiles_ms(samples)


def _throughput(listings: int) -> tuple[float, float]:
    """Listing-nights/s repricing every area, with the moved prices' events and without."""
    books = {f"area-{a}": _book(f"area-{a}", listings // AREAS) for a in range(AREAS)}
    started = time.perf_counter()
    for area, book in books.items():
        apply(book, _demand(area, 1))
        reprice(book, area, TODAY)
    full = listings * NIGHTS / (time.perf_counter() - started)
    inputs = [_inputs(book) for book in books.values()]
    started = time.perf_counter()
    for kwargs in inputs:
        area_prices(**kwargs)
    return full, listings * NIGHTS / (time.perf_counter() - started)


def _inputs(book: AreaBook) -> dict[str, Any]:
    """The model's arrays for ``book`` (as :func:`reprice` builds them), with no demand."""
    states = [book.listings[i] for i in sorted(book.listings)]
    available, booked = calendar(states, TODAY, NIGHTS)
    return {
        "first": TODAY, "today": TODAY, "available": available, "booked": booked,
        "base": np.array([s.base for s in states], np.float64),
        "floor": np.array([s.floor for s in states], np.float64),
        "ceiling": np.array([s.ceiling for s in states], np.float64),
        "lookups": np.zeros(NIGHTS), "fans": np.full(NIGHTS, 9_000.0),
        "settings": settings_arrays([s.settings for s in states]),
    }  # fmt: skip


def _demand_events_per_s(count: int) -> tuple[float, int]:
    setup = [(INVENTORY, NewEvent(e, key="lyon")) for e in _area("lyon", 500)]
    demand = [(DEMAND, NewEvent(_demand("lyon", r), key="lyon")) for r in range(count)]
    started = time.perf_counter()
    base = run_processor(pricing, setup, batch_size=1)
    middle = time.perf_counter()
    done = run_processor(pricing, [*setup, *demand], batch_size=1)
    seconds = time.perf_counter() - middle - (middle - started)  # the demand events' share
    moved = len(done.outputs.get("rentals.prices", ())) - len(
        base.outputs.get("rentals.prices", ())
    )
    return count / seconds, moved


def run(*, quick: bool = False) -> dict[str, Any]:
    """Measure and return the figures (``quick``: a tenth of the listings)."""
    listings = 10_000 if quick else 100_000
    area = listings // AREAS
    p = _reprice_p99(area)
    rate, moved = _demand_events_per_s(20 if quick else 100)
    full, model = _throughput(listings)
    return {
        "listings": listings,
        "nights": NIGHTS,
        "area_listing_nights": area * NIGHTS,
        "reprice_p99_ms": p["p99_ms"],
        "reprice_p50_ms": p["p50_ms"],
        "listing_nights_per_s": round(full),
        "model_listing_nights_per_s": round(model),
        "demand_events_per_s": round(rate),
        "prices_moved_in_processor_run": moved,
    }
