"""Hosts, guests and rental cars around the venues: what the rentals service hears in a day.

Every rehearsal day opens (at the timeline's start) with, in order:

- the organiser's configuration on ``rentals.config``: each venue's area
  (:data:`AREAS`), the travelling fans of the nations that send many (:data:`FANS`) and the
  transit lines serving each area (:data:`LINES`), so that ``mobility.transit`` statuses (the
  scripted RER B strike) reach the areas' prices;
- every listing: furnished flats in each area, rental cars at the main stations (Paris, Lyon,
  Marseille), all over the Games calendar (20 July to 11 August 2024) with a base price set
  by area and capacity, a floor at 60% and a ceiling at 250% of it, and the hosts' own
  setting ``demand_min`` 0.5 (:data:`HOST_SETTINGS`);
- the bookings made before the day (about 55% of the nights, as Paris had in early July
  2024), those still to come.

Listings and earlier bookings are the same every day for a seed (their ids do not name the
day), so a day played again, or the next day, repeats them without changing anything.

Then, through the day (07:00 to midnight, Paris time), per area and 10-minute slot, Poisson
arrivals of searches, views and bookings, more in areas whose venues hold more units that day;
12% of the day's bookings are cancelled 20 minutes to 5 hours later. After each semi-final's
official result, the fans of the nations it qualifies search and book in the area of the
event's final (today or in the next days) for its nights; when France qualifies, the surge is
three times larger, and the driver prints the moment ("France reaches the final...").

Incidents (each printed when it happens): a tour operator blocks eight flats in Marseille for
three nights at 09:00 and cancels the whole block at 15:00; a platform brings 15 new flats in
Saint-Denis on the market at 12:00 (a surge of supply, which lowers the area's prices).

``rate_multiplier`` scales the arrivals, and below 1 also the number of listings per area
(at least one of each kind) and of new flats.

Every action carries ``occurred_at``, the Games time it happens at, which the rentals routes
take as the event's time: lead times count from the replayed day, not from today's clock.
Nothing here imports the rentals service; the bodies are what its routes document.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from flambeau.scenario._random import poisson, rng_for
from flambeau.scenario.generators.progressions import Progression
from flambeau.scenario.schedule import Schedule, Unit, build_schedule
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "AREAS",
    "FANS",
    "LINES",
    "LISTINGS_ROUTE",
    "SEARCHES_ROUTE",
    "Area",
    "RentalAction",
    "area_of",
    "listings",
    "rental_actions",
]

_PARIS = timezone(timedelta(hours=2))
LISTINGS_ROUTE = "/v1/rentals/listings"
SEARCHES_ROUTE = "/v1/rentals/searches"
CONFIG_STREAM = "rentals.config"
FIRST_NIGHT = date(2024, 7, 20)
LAST_NIGHT = date(2024, 8, 11)
HOST_SETTINGS = {"demand_min": 0.5}
"""Each host's own settings: demand may fall to half (the default stops at 0.7, which hides
what lowers demand in a quiet area, a strike for one)."""
SLOT = timedelta(minutes=10)
CANCEL_SHARE = 0.12
FINAL_UNIT = "FNL-000100--"


@dataclass(frozen=True, slots=True)
class Area:
    """Where fans of some venues lodge: ``flats`` flats from ``base_eur`` a night for two,
    and ``cars`` rental cars at ``station``."""

    code: str
    venues: tuple[str, ...]
    flats: int
    base_eur: int
    cars: int = 0
    station: str = ""


# fmt: off
AREAS: tuple[Area, ...] = (
    Area("paris-ouest", ("PDP", "RGA", "EIF", "TRO", "SP1", "SP4", "SP6"), 12, 150),
    Area("paris-centre", ("GRP", "INV", "HDV", "ALX", "LC1", "LC2", "LC3", "LC4", "CDM"), 12,
         170, 6, "Gare Saint-Lazare"),
    Area("paris-est", ("BCY",), 10, 130, 6, "Gare de Lyon"),
    Area("paris-nord", ("CPL",), 8, 110, 6, "Gare du Nord"),
    Area("saint-denis", ("STA", "AQC"), 10, 100),
    Area("le-bourget", ("LBO", "NPA"), 8, 85),
    Area("la-defense", ("DEF", "YDM"), 10, 120),
    Area("versailles", ("VER", "LGN", "VE1", "VE2", "ELA"), 8, 110),
    Area("marne", ("VN1", "VN2"), 6, 80),
    Area("lyon", ("LYO",), 10, 95, 6, "Lyon Part-Dieu"),
    Area("marseille", ("MRS", "MAM"), 10, 100, 6, "Marseille Saint-Charles"),
    Area("nantes", ("NAN",), 6, 80),
    Area("nice", ("NIC",), 6, 110),
    Area("lille", ("LIL",), 6, 80),
    Area("bordeaux", ("BOR",), 6, 85),
    Area("saint-etienne", ("STE",), 6, 65),
    Area("chateauroux", ("CTX",), 4, 60),
    Area("tahiti", ("TAH",), 4, 140),
)
FANS: dict[str, int] = {
    "FRA": 40_000, "GBR": 10_000, "USA": 8_000, "GER": 8_000, "BEL": 6_000, "NED": 6_000,
    "ESP": 6_000, "ITA": 6_000, "SUI": 4_000, "POR": 3_000, "BRA": 3_000, "JPN": 3_000,
    "AUS": 3_000, "CHN": 3_000, "CAN": 3_000, "IRL": 3_000, "MAR": 3_000, "ALG": 3_000,
}
"""Travelling fans of the nations that send many; others count the service's default."""
LINES: dict[str, tuple[str, ...]] = {
    "RER-B": ("saint-denis", "paris-nord", "paris-centre", "le-bourget"),
    "RER-D": ("saint-denis", "paris-nord", "paris-est"),
    "M13": ("saint-denis",),
    "M14": ("saint-denis", "paris-centre", "paris-est"),
    "RER-A": ("la-defense", "paris-centre", "marne"),
    "RER-C": ("paris-ouest", "paris-centre", "versailles"),
    "M9": ("paris-ouest",),
}
"""Île-de-France lines (GTFS route ids as the rehearsal's feed names them) → areas served."""
# fmt: on

_BY_VENUE = {venue: area for area in AREAS for venue in area.venues}


def area_of(venue: str) -> Area | None:
    """The area a venue's fans lodge in."""
    return _BY_VENUE.get(venue)


@dataclass(frozen=True, slots=True)
class RentalAction:
    """One request to the rentals routes (or ``rentals.config``) at Games time ``time``.

    Attributes:
        time: When it happens (its ``occurred_at``).
        kind: ``config``, ``listing``, ``booking``, ``cancellation``, ``search`` or ``view``.
        method: ``POST``, or ``DELETE`` for a cancellation; ``INGEST`` for configuration.
        path: The route (or the stream, for ``INGEST``).
        body: The JSON body (configuration: the list of events).
        note: Printed by the driver when sent (an incident, a scripted moment).
    """

    time: datetime
    kind: str
    method: str
    path: str
    body: Any
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Listing:
    id: str
    area: str
    kind: str
    capacity: int
    base_cents: int
    stays: tuple[tuple[date, date], ...]
    """The bookings made before the Games: (check-in, check-out)."""


def _stays(rng: random.Random, longest: int) -> tuple[tuple[date, date], ...]:
    out, night = [], FIRST_NIGHT + timedelta(days=rng.randint(0, 3))
    while night < LAST_NIGHT:
        leave = min(night + timedelta(days=rng.randint(2, longest)), LAST_NIGHT + timedelta(1))
        out.append((night, leave))
        night = leave + timedelta(days=rng.randint(1, 5))
    return tuple(out)


def listings(seed: int, share: float = 1.0) -> list[_Listing]:
    """Every listing of the rehearsal, the same for a seed whatever the day; ``share`` (the
    rate multiplier, at most 1) keeps that share of each area's flats and cars (at least one)."""
    out = []
    share = min(1.0, share)
    for area in AREAS:
        for n in range(max(1, round(area.flats * share))):
            rng = rng_for(seed, "rentals", area.code, "flat", n)
            capacity = rng.choice((2, 2, 3, 4, 4, 6))
            base = round(area.base_eur * (0.7 + 0.15 * capacity) * rng.uniform(0.9, 1.1))
            out.append(_Listing(f"{area.code}-flat-{n:02d}", area.code, "flat", capacity,
                                base * 100, _stays(rng, 5)))  # fmt: skip
        for n in range(min(area.cars, max(1, round(area.cars * share)))):
            rng = rng_for(seed, "rentals", area.code, "car", n)
            base = rng.choice((45, 55, 70, 90))
            out.append(_Listing(f"{area.code}-car-{n:02d}", area.code, "car", 5, base * 100,
                                _stays(rng, 4)))  # fmt: skip
    return out


def _listing_body(listing: _Listing, at: datetime) -> dict[str, Any]:
    return {"listing": listing.id, "kind": listing.kind, "area": listing.area,
            "capacity": listing.capacity, "base_cents": listing.base_cents,
            "floor_cents": listing.base_cents * 6 // 10,
            "ceiling_cents": listing.base_cents * 5 // 2,
            "available_from": FIRST_NIGHT.isoformat(), "available_to": LAST_NIGHT.isoformat(),
            "settings": HOST_SETTINGS, "occurred_at": at.isoformat()}  # fmt: skip


def _config(at: datetime) -> RentalAction:
    events = [{"key": v, "data": {"type": "venue_area", "venue": v, "area": a.code}}
              for a in AREAS for v in a.venues]  # fmt: skip
    events += [{"key": noc, "data": {"type": "nation_fans", "noc": noc, "fans": fans}}
               for noc, fans in FANS.items()]  # fmt: skip
    events += [{"key": route, "data": {"type": "line_area", "route_id": route, "area": area}}
               for route, areas in LINES.items() for area in areas]  # fmt: skip
    return RentalAction(at, "config", "INGEST", CONFIG_STREAM, events)


def _booking(at: datetime, listing: str, booking: str, stay: tuple[date, date],
             note: str = "") -> RentalAction:  # fmt: skip
    body = {"booking": booking, "check_in": stay[0].isoformat(),
            "check_out": stay[1].isoformat(), "occurred_at": at.isoformat()}  # fmt: skip
    return RentalAction(at, "booking", "POST", f"{LISTINGS_ROUTE}/{listing}/bookings", body, note)


def _cancellation(at: datetime, listing: str, booking: str, note: str = "") -> RentalAction:
    path = f"{LISTINGS_ROUTE}/{listing}/bookings/{booking}?occurred_at={_query_time(at)}"
    return RentalAction(at, "cancellation", "DELETE", path, None, note)


def _query_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lookup(at: datetime, kind: str, area: str, listing: str,
            stay: tuple[date, date]) -> RentalAction:  # fmt: skip
    body = {"check_in": stay[0].isoformat(), "check_out": stay[1].isoformat(),
            "occurred_at": at.isoformat()}  # fmt: skip
    if kind == "search":
        return RentalAction(at, "search", "POST", SEARCHES_ROUTE, {"area": area, **body})
    return RentalAction(at, "view", "POST", f"{LISTINGS_ROUTE}/{listing}/views", body)


def _opening(seed: int, day: date, at: datetime, share: float) -> list[RentalAction]:
    out = [_config(at)]
    every = listings(seed, share)
    out += [RentalAction(at, "listing", "POST", LISTINGS_ROUTE, _listing_body(one, at))
            for one in every]  # fmt: skip
    for one in every:
        for n, stay in enumerate(one.stays):
            if stay[1] > day:
                out.append(_booking(at, one.id, f"{one.id}-s{n}", stay))
    return out


class _Day:
    """The state of one day's guests: which nights each listing has taken."""

    def __init__(self, seed: int, day: date, rate: float) -> None:
        self.seed, self.day, self.rate = seed, day, rate
        self.by_area: dict[str, list[_Listing]] = {}
        self.taken: dict[str, set[date]] = {}
        for one in listings(seed, rate):
            self.by_area.setdefault(one.area, []).append(one)
            self.taken[one.id] = {s[0] + timedelta(days=d) for s in one.stays
                                  for d in range((s[1] - s[0]).days)}  # fmt: skip
        self.count = 0

    def stay(self, rng: random.Random, kind: str, first: date | None = None) -> tuple[date, date]:
        lead = rng.choice((0, 0, 1, 1, 2, 2, 3, 4, 6, 9)) if first is None else 0
        check_in = min(max(first or self.day, self.day) + timedelta(days=lead), LAST_NIGHT)
        nights = rng.randint(1, 4 if kind == "flat" else 3)
        return check_in, min(check_in + timedelta(days=nights), LAST_NIGHT + timedelta(1))

    def book(self, rng: random.Random, at: datetime, area: str,
             first: date | None = None) -> list[RentalAction]:  # fmt: skip
        """A booking of a free listing of ``area`` (a cancellation may follow the same day)."""
        flat = rng.random() < 0.8
        options = [o for o in self.by_area[area] if (o.kind == "flat") == flat] or \
            self.by_area[area]  # fmt: skip
        listing = rng.choice(options)
        stay = self.stay(rng, listing.kind, first)
        nights = {stay[0] + timedelta(days=d) for d in range((stay[1] - stay[0]).days)}
        if nights & self.taken[listing.id]:
            return [_lookup(at, "view", area, listing.id, stay)]  # taken: the guest only looks
        self.taken[listing.id] |= nights
        self.count += 1
        booking = f"{listing.id}-{self.day:%m%d}-{self.count}"
        out = [_booking(at, listing.id, booking, stay)]
        if rng.random() < CANCEL_SHARE:
            later = at + timedelta(minutes=rng.randint(20, 300))
            if later.astimezone(_PARIS).date() == self.day:
                # its nights stay taken for the generator: actions are drawn out of time order
                out.append(_cancellation(later, listing.id, booking))
        return out

    def lookups(self, rng: random.Random, at: datetime, area: str, count: int,
                first: date | None = None) -> list[RentalAction]:  # fmt: skip
        out = []
        for _ in range(count):
            listing = rng.choice(self.by_area[area])
            kind = "search" if rng.random() < 0.6 else "view"
            out.append(_lookup(at, kind, area, listing.id, self.stay(rng, listing.kind, first)))
        return out


def _activity(schedule: Schedule) -> dict[str, float]:
    """Per area, 1 + the day's units at its venues / 8."""
    out = {area.code: 1.0 for area in AREAS}
    for unit in schedule.units:
        area = area_of(unit.venue)
        if area is not None:
            out[area.code] += 1 / 8
    return out


def _background(day_state: _Day, schedule: Schedule) -> Iterator[RentalAction]:
    """Searches, views and bookings per area and 10-minute slot, from 07:00 to midnight."""
    activity = _activity(schedule)
    at = datetime.combine(day_state.day, time(7), tzinfo=_PARIS).astimezone(UTC)
    close = datetime.combine(day_state.day, time(23, 59), tzinfo=_PARIS).astimezone(UTC)
    rng = rng_for(day_state.seed, "rentals", "background", day_state.day)
    while at < close:
        for area in AREAS:
            scale = activity[area.code] * day_state.rate
            when = at + timedelta(seconds=rng.randrange(600))
            yield from day_state.lookups(rng, when, area.code, poisson(rng, 0.5 * scale))
            for _ in range(poisson(rng, 0.12 * scale)):
                yield from day_state.book(rng, when, area.code)
        at += SLOT


class _Finals:
    """Each event's final (unit ``FNL-000100``), today or in the next three days."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.days: list[Schedule] = [schedule]

    def of(self, semi: Unit) -> Unit | None:
        code = semi.code[:22] + FINAL_UNIT
        for k in range(4):
            if k == len(self.days):
                self.days.append(build_schedule(self.schedule.day + timedelta(days=k),
                                                self.schedule.seed))  # fmt: skip
            found = [u for u in self.days[k].units if u.code == code]
            if found:
                return found[0]
        return None


def _qualified(progression: Progression) -> tuple[str, ...]:
    """The nations ranked in the first half of a semi-final's official result."""
    lines = progression.official.lines
    cut = max(1, len(lines) // 2)
    return tuple(sorted({line.competitor.noc for line in lines
                         if line.rank is not None and line.rank <= cut}))  # fmt: skip


def _after_semi_finals(day_state: _Day, schedule: Schedule,
                       progressions: Iterable[Progression]) -> Iterator[RentalAction]:  # fmt: skip
    """The qualifiers' fans search and book in the area of their final, for its nights."""
    finals = _Finals(schedule)
    for progression in progressions:
        unit = progression.unit
        if unit.phase != "SFNL" or not any(
            u.status is ResultStatus.OFFICIAL for u in progression.updates
        ):
            continue
        final = finals.of(unit)
        area = None if final is None else area_of(final.venue)
        if final is None or area is None:
            continue
        nocs = _qualified(progression)
        home = "FRA" in nocs
        fans = sum(FANS.get(noc, 2_000) for noc in nocs)
        scale = (3.0 if home else 1.0) * day_state.rate
        night = final.start.astimezone(_PARIS).date() - timedelta(days=1)
        rng = rng_for(day_state.seed, "rentals", "semi", unit.code)
        official = progression.official.time
        note = ""
        if home:
            note = (f"France reaches the final of {unit.code[:22].rstrip('-')} "
                    f"({final.venue}, {area.code}): its fans look for beds")  # fmt: skip
        for n in range(round((4 + fans / 4_000) * scale)):
            at = official + timedelta(minutes=2 + (0 if n == 0 else rng.randrange(88)))
            for action in day_state.lookups(rng, at, area.code, 1, night):
                yield replace(action, note=note if n == 0 else "")
        for _ in range(round((1 + fans / 15_000) * scale)):
            at = official + timedelta(minutes=5 + rng.randrange(85))
            yield from day_state.book(rng, at, area.code, night)


def _incidents(day_state: _Day) -> Iterator[RentalAction]:
    """A tour operator's block booking cancelled whole, and a surge of new supply."""
    day = day_state.day
    blocked_at = datetime.combine(day, time(9), tzinfo=_PARIS).astimezone(UTC)
    freed_at = datetime.combine(day, time(15), tzinfo=_PARIS).astimezone(UTC)
    block: list[_Listing] = []
    stay = (day, day)
    for lead in range(1, 7):  # the first three nights with the most flats free
        first = day + timedelta(days=lead)
        nights = {first + timedelta(days=d) for d in range(3)}
        free = [o for o in day_state.by_area["marseille"]
                if o.kind == "flat" and not nights & day_state.taken[o.id]][:8]  # fmt: skip
        if first + timedelta(days=2) <= LAST_NIGHT and len(free) > len(block):
            block, stay = free, (first, first + timedelta(days=3))
    nights = {stay[0] + timedelta(days=d) for d in range((stay[1] - stay[0]).days)}
    if block:
        note = f"a tour operator blocks {len(block)} flats in marseille for {len(nights)} nights"
        for n, one in enumerate(block):
            day_state.taken[one.id] |= nights  # for the rest of the day (see _Day.book)
            yield _booking(
                blocked_at, one.id, f"block-{day:%m%d}-{n}", stay, note if n == 0 else ""
            )
        note = f"the tour operator cancels its block of {len(block)} flats in marseille"
        for n, one in enumerate(block):
            yield _cancellation(freed_at, one.id, f"block-{day:%m%d}-{n}", note if n == 0 else "")
    surge = datetime.combine(day, time(12), tzinfo=_PARIS).astimezone(UTC)
    base = next(a for a in AREAS if a.code == "saint-denis").base_eur
    count = max(1, round(15 * min(1.0, day_state.rate)))
    for n in range(count):
        fresh = _Listing(f"saint-denis-new-{n:02d}", "saint-denis", "flat", 2 + n % 3,
                         base * (90 + n), ())  # fmt: skip
        note = f"a platform brings {count} new flats in saint-denis on the market" if n == 0 else ""
        yield RentalAction(surge, "listing", "POST", LISTINGS_ROUTE, _listing_body(fresh, surge),
                           note)  # fmt: skip


def rental_actions(
    schedule: Schedule,
    progressions: Iterable[Progression],
    seed: int,
    *,
    opening: datetime,
    rate_multiplier: float = 1.0,
) -> list[RentalAction]:
    """The day's rentals actions in time order, from the opening at ``opening`` on."""
    day_state = _Day(seed, schedule.day, rate_multiplier)
    out = [*_incidents(day_state), *_after_semi_finals(day_state, schedule, progressions)]
    out += _background(day_state, schedule)
    out.sort(key=lambda a: a.time)
    opened = _opening(seed, schedule.day, opening, rate_multiplier)
    return [*opened, *(a for a in out if a.time >= opening)]
