"""Payloads of the rentals streams: units of supply (flats, cars) over nights or days.

Streams:

- ``rentals.inventory`` (private, 4 partitions, keyed by area; written by the rentals routes
  only): :class:`ListingRegistered`, and the demand events :class:`Booked`, :class:`Cancelled`,
  :class:`Searched` and :class:`Viewed`. A host posts through ``/v1/rentals/...`` so that its
  key's tenant is checked against the listing's owner.
- ``rentals.config`` (private, 1, producer-writable): configuration of the Games input,
  :class:`VenueArea` (which area a venue's fans lodge in), :class:`NationFans` (how many
  fans a nation sends) and :class:`LineArea` (which areas a transit line serves), e.g.::

      {"key": "LYON", "data": {"type": "venue_area", "venue": "LYON", "area": "lyon"}}
      {"key": "FRA", "data": {"type": "nation_fans", "noc": "FRA", "fans": 40000}}
      {"key": "RER-B", "data": {"type": "line_area", "route_id": "RER-B", "area": "saint-denis"}}

- ``rentals.signals`` (private, 8, internal): ``rentals.config`` copied to every partition, so
  the Games processor, co-partitioned with ``rentals.units``, sees every venue and nation.
- ``rentals.units`` (private, 8, keyed by event, internal): the ``results.units`` records of
  finals and semi-finals, re-keyed by their event (the RSC's first 22 characters), so that a
  semi-final's result meets its final's schedule in one partition.
- ``rentals.demand`` (private, 4, keyed by area): :class:`GamesDemand`, the fans a final brings
  to an area for its nights, and :class:`TransitDemand`, a transit line closed or disrupted in
  an area.
- ``rentals.prices`` (private, 4, keyed by area; entitled readers subscribe with resume):
  :class:`PriceSet`, one listing-night's new price with the factors that multiply to it.

Money is integer cents; nights are dates (a car's day is a night).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.results.schemas import UnitEndEstimated, UnitResult, UnitScheduleChanged

__all__ = [
    "CONFIG",
    "DEMAND",
    "INVENTORY",
    "LISTINGS_ROUTE",
    "PRICES",
    "SIGNALS",
    "UNITS_BY_EVENT",
    "Booked",
    "Cancelled",
    "DemandParts",
    "Factors",
    "GamesDemand",
    "InventoryEvent",
    "Kind",
    "LineArea",
    "ListingRegistered",
    "NationFans",
    "PriceSet",
    "PricingSettings",
    "Searched",
    "TransitDemand",
    "VenueArea",
    "Viewed",
]

INVENTORY = "rentals.inventory"
CONFIG = "rentals.config"
SIGNALS = "rentals.signals"
UNITS_BY_EVENT = "rentals.units"
DEMAND = "rentals.demand"
PRICES = "rentals.prices"
LISTINGS_ROUTE = "/v1/rentals/listings"

Id = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
        description="an id: letters, digits, . _ : - (at most 64)",
    ),
]
Area = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", description="an area, e.g. lyon")
]
Noc = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="a nation, e.g. FRA")]
Venue = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,8}$", description="a venue code")]
Cents = Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
Ratio = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Weight = Annotated[float, msgspec.Meta(ge=0.0, le=5.0)]
Factor = Annotated[float, msgspec.Meta(gt=0.0, le=10.0)]
Days = Annotated[int, msgspec.Meta(ge=0, le=730)]


class Kind(StrEnum):
    """What a listing rents: a furnished flat (by the night) or a car (by the day)."""

    FLAT = "flat"
    CAR = "car"


class PricingSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every factor of the price, with its documented default (see docs/rentals.md).

    Attributes:
        weekend: Friday and Saturday nights.
        season: One factor per month, January first.
        target_occupancy: The area's normal occupancy (Paris, early July 2024: 55.1%).
        occupancy_weight: How much the area's occupancy away from the target moves demand.
        pace_weight: How much booking pace against expectation moves demand.
        pace_horizon_days: Expected occupancy grows linearly to the target over this lead.
        pressure_weight: The most searches and views can add.
        lookups_per_listing: Searches and views per listing-night that count as full pressure.
        fans_for_cap: Travelling fans per area-night that reach ``games_cap``.
        games_cap: The most the Games can add.
        transit_weight: How much the closure of every transit line serving the area lowers
            demand (a closed line counts its share of the area's lines; a disrupted one half).
        demand_min: The lowest demand factor.
        demand_max: The highest demand factor.
        last_minute_days: Nights closer than this are discounted, ramping to the full discount.
        last_minute_discount: The discount on the night itself (PriceLabs: 30% over 15 days).
        far_out_start_days: The far-out premium starts this many days out...
        far_out_ramp_days: ...and reaches its full value this many days further.
        far_out_premium: The full far-out premium (PriceLabs: +20% over 7 months).
        orphan_discount: An unbooked night between two booked ones (PriceLabs: 20%).
    """

    weekend: Factor = 1.15
    season: tuple[Factor, ...] = (1.0,) * 6 + (1.1, 1.1) + (1.0,) * 4
    target_occupancy: Ratio = 0.55
    occupancy_weight: Weight = 0.5
    pace_weight: Weight = 0.3
    pace_horizon_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 90
    pressure_weight: Weight = 0.15
    lookups_per_listing: Annotated[float, msgspec.Meta(gt=0.0, le=1e6)] = 10.0
    fans_for_cap: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 30_000
    games_cap: Weight = 0.6
    transit_weight: Ratio = 0.3
    demand_min: Factor = 0.7
    demand_max: Factor = 2.0
    last_minute_days: Days = 15
    last_minute_discount: Ratio = 0.30
    far_out_start_days: Days = 30
    far_out_ramp_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 210
    far_out_premium: Ratio = 0.20
    orphan_discount: Ratio = 0.20

    def __post_init__(self) -> None:
        if len(self.season) != 12:
            raise ValueError(f"season needs 12 monthly factors, got {len(self.season)}")
        if self.demand_min > self.demand_max:
            raise ValueError(f"demand_min {self.demand_min} is above demand_max {self.demand_max}")


class ListingRegistered(Event, frozen=True, kw_only=True, tag="listing"):
    """A listing (new or updated) of ``host``: what it rents, where, and its price bounds.

    ``available_from`` to ``available_to`` (inclusive) is its calendar: the nights it rents.
    """

    listing: Id
    host: Id
    kind: Kind
    area: Area
    capacity: Annotated[int, msgspec.Meta(ge=1, le=100)]
    base_cents: Cents
    floor_cents: Cents
    ceiling_cents: Cents
    available_from: date
    available_to: date
    settings: PricingSettings = PricingSettings()

    def __post_init__(self) -> None:
        if not self.floor_cents <= self.base_cents <= self.ceiling_cents:
            raise ValueError(
                f"base_cents {self.base_cents} must lie within floor_cents {self.floor_cents} "
                f"and ceiling_cents {self.ceiling_cents}"
            )
        if self.available_to < self.available_from:
            raise ValueError(f"available_to {self.available_to} is before available_from")
        if (self.available_to - self.available_from).days >= 366:
            raise ValueError("a calendar spans at most 366 nights")


def _check_nights(check_in: date, check_out: date) -> None:
    if check_out <= check_in:
        raise ValueError(f"check_out {check_out} is not after check_in {check_in}")
    if (check_out - check_in).days > 366:
        raise ValueError(f"check_out {check_out} is more than 366 nights after check_in")


class Booked(Event, frozen=True, kw_only=True, tag="booking"):
    """``booking`` holds ``listing`` from ``check_in`` to the night before ``check_out``."""

    listing: Id
    area: Area
    booking: Id
    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        _check_nights(self.check_in, self.check_out)


class Cancelled(Event, frozen=True, kw_only=True, tag="cancellation"):
    """``booking`` of ``listing`` is cancelled: its nights are free again."""

    listing: Id
    area: Area
    booking: Id


class Searched(Event, frozen=True, kw_only=True, tag="search"):
    """Someone searched ``area`` for these nights."""

    area: Area
    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        _check_nights(self.check_in, self.check_out)


class Viewed(Event, frozen=True, kw_only=True, tag="view"):
    """Someone looked at ``listing`` for these nights."""

    listing: Id
    area: Area
    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        _check_nights(self.check_in, self.check_out)


InventoryEvent = ListingRegistered | Booked | Cancelled | Searched | Viewed


class VenueArea(Event, frozen=True, kw_only=True, tag="venue_area"):
    """Fans of ``venue``'s units lodge in ``area``."""

    venue: Venue
    area: Area


class NationFans(Event, frozen=True, kw_only=True, tag="nation_fans"):
    """How many fans follow ``noc``'s athletes to a final."""

    noc: Noc
    fans: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class LineArea(Event, frozen=True, kw_only=True, tag="line_area"):
    """Transit line ``route_id`` (a GTFS route id, as ``mobility.transit`` names it) serves
    ``area``; a line serving several areas has one of these each."""

    route_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
    area: Area


Config = VenueArea | NationFans | LineArea


class GamesDemand(Event, frozen=True, kw_only=True, tag="games_demand"):
    """A final brings ``fans`` to ``area`` for the nights ``first_night`` to ``last_night``.

    A later one for the same ``unit`` replaces it (a new start list or schedule).
    """

    area: Area
    unit: str
    venue: str
    nocs: tuple[str, ...]
    fans: int
    first_night: date
    last_night: date


class TransitDemand(Event, frozen=True, kw_only=True, tag="transit_demand"):
    """Line ``route_id`` serving ``area`` is ``severity`` out of service (1 closed, 0.5
    disrupted, 0 open again) for the nights ``first_night`` to ``last_night``; ``share`` is the
    line's share of the area's lines times ``severity``. A later one for the same line
    replaces it."""

    area: Area
    route_id: str
    severity: float
    share: float
    first_night: date
    last_night: date


class Factors(msgspec.Struct, frozen=True, kw_only=True):
    """The factors of one price: their product is ``price_cents`` (within float rounding).

    ``clamp`` is the price over the unclamped product: 1 unless floor or ceiling applied (and
    the rounding to whole cents).
    """

    base_cents: int
    season_dow: float
    demand: float
    lead_time: float
    last_minute: float
    orphan: float
    clamp: float


class DemandParts(msgspec.Struct, frozen=True, kw_only=True):
    """What the demand factor is made of (its product, bounded to the host's demand range)."""

    occupancy: float
    pace: float
    pressure: float
    games: float
    transit: float = 1.0


class PriceSet(Event, frozen=True, kw_only=True, tag="price"):
    """``listing``'s price for ``night`` changed."""

    listing: str
    host: str
    area: str
    kind: Kind
    night: date
    price_cents: int
    factors: Factors
    parts: DemandParts


default_registry.register(
    INVENTORY,
    InventoryEvent,
    partitions=4,
    description="listings, bookings, cancellations, searches and views, keyed by area",
    writer=Writer.route(
        f"POST {LISTINGS_ROUTE}",
        f"POST {LISTINGS_ROUTE}/{{listing}}/bookings",
        "POST /v1/rentals/searches",
    ),
)
default_registry.register(
    CONFIG,
    Config,
    partitions=1,
    description="Games input configuration: venue to area, fans per nation, line to area",
)
default_registry.register(
    SIGNALS,
    Config,
    partitions=8,
    description="Internal: rentals.config copied to every partition of the Games processor",
)
default_registry.register(
    UNITS_BY_EVENT,
    UnitResult | UnitScheduleChanged | UnitEndEstimated,
    partitions=8,
    description="Internal: results.units of finals and semi-finals, keyed by event",
)
default_registry.register(
    DEMAND,
    GamesDemand | TransitDemand,
    partitions=4,
    description="fans a final brings to an area, transit closures in an area, by area",
)
default_registry.register(
    PRICES, PriceSet, partitions=4, description="listing-night price changes with their factors"
)
