"""The rentals processors over the in-process harness: Games demand, then prices."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from flambeau.events import NewEvent
from flambeau.processing import broadcast_keys
from flambeau.services.mobility.schemas import TRANSIT, LineState, LineStatus
from flambeau.services.rentals.processors import games, pricing, transit
from flambeau.services.rentals.schemas import (
    CONFIG,
    DEMAND,
    INVENTORY,
    PRICES,
    SIGNALS,
    UNITS_BY_EVENT,
    Booked,
    Cancelled,
    GamesDemand,
    Kind,
    LineArea,
    ListingRegistered,
    NationFans,
    PriceSet,
    PricingSettings,
    Searched,
    TransitDemand,
    VenueArea,
)
from flambeau.services.results.schemas import (
    Competitor,
    CompetitorResult,
    ResultStatus,
    Shape,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
    UnitStatus,
)
from flambeau.testing import run

FINAL = "SWMW100MFR------------FNL-000100--"
SEMI = "SWMW100MFR------------SFNL000200--"
EVENT = FINAL[:22]
NOW = datetime(2024, 7, 20, 9, tzinfo=UTC)


def listing(name: str, area: str = "lyon", **changes: Any) -> ListingRegistered:
    fields: dict[str, Any] = {
        "listing": name, "host": "host-a", "kind": Kind.FLAT, "area": area, "capacity": 4,
        "base_cents": 10_000, "floor_cents": 6_000, "ceiling_cents": 13_000,
        "available_from": date(2024, 7, 20), "available_to": date(2024, 8, 11),
    }  # fmt: skip
    return ListingRegistered(**{**fields, **changes})


def at(event: Any, key: str, when: datetime = NOW) -> NewEvent:
    return NewEvent(event, key=key, time=when)


def start_list(*nocs: str, unit: str = FINAL, status: ResultStatus = ResultStatus.START_LIST
               ) -> UnitResult:  # fmt: skip
    return UnitResult(
        competition="OG2024",
        unit=unit,
        discipline="SWM",
        version=1,
        status=status,
        shape=Shape.TIMED,
        venue="LYON",
        start=datetime(2024, 8, 3, 19, tzinfo=UTC),
        end=datetime(2024, 8, 3, 21, tzinfo=UTC),
        competitors=tuple(
            CompetitorResult(competitor=Competitor(code=f"{i}", noc=noc), rank=i + 1)
            for i, noc in enumerate(nocs)
        ),
    )


def prices(records: list[Any]) -> dict[tuple[str, date], PriceSet]:
    """The latest price of each listing-night."""
    latest: dict[tuple[str, date], PriceSet] = {}
    for record in records:
        latest[(record.data.listing, record.data.night)] = record.data
    return latest


def test_a_final_start_list_raises_prices_in_its_area_within_one_batch() -> None:
    config = [  # as rentals.config-copy writes them: one copy per partition
        (SIGNALS, at(setting, key))
        for key in broadcast_keys(8)
        for setting in (VenueArea(venue="LYON", area="lyon"), NationFans(noc="FRA", fans=40_000))
    ]
    demand = run(games, [*config, (UNITS_BY_EVENT, at(start_list("FRA", "USA"), EVENT))])
    (made,) = demand.records(DEMAND)
    assert isinstance(made.data, GamesDemand)
    assert (made.data.area, made.data.nocs) == ("lyon", ("FRA", "USA"))
    assert made.data.fans == 42_000  # FRA configured, USA at the default 2,000
    assert (made.data.first_night, made.data.last_night) == (date(2024, 8, 2), date(2024, 8, 3))

    inventory = [(INVENTORY, at(listing(f"L{i}"), "lyon")) for i in range(3)]
    inventory.append((INVENTORY, at(listing("P1", area="paris"), "paris")))
    before = run(pricing, inventory)
    after = run(pricing, [*inventory, (DEMAND, NewEvent(made.data, key="lyon", time=NOW))])
    moved = after.records(PRICES)[len(before.records(PRICES)) :]
    assert moved, "the Games demand moved no price"
    assert {r.causation_id for r in moved} == {"test-5"}  # the demand record, one batch
    assert {r.data.area for r in moved} == {"lyon"}
    assert {r.data.night for r in moved} == {date(2024, 8, 2), date(2024, 8, 3)}
    old = prices(before.records(PRICES))
    for record in moved:
        price = record.data
        assert price.price_cents > old[(price.listing, price.night)].price_cents
        assert price.price_cents <= 13_000
        assert price.parts.games > 1


def test_the_ceiling_caps_a_big_final() -> None:
    demand = GamesDemand(area="lyon", unit=FINAL, venue="LYON", nocs=("FRA",), fans=10**6,
                         first_night=date(2024, 8, 2), last_night=date(2024, 8, 3))  # fmt: skip
    done = run(
        pricing,
        [
            (INVENTORY, at(listing("L1", ceiling_cents=11_000), "lyon")),
            (DEMAND, at(demand, "lyon")),
        ],
    )
    capped = [p for p in prices(done.records(PRICES)).values() if p.night == date(2024, 8, 3)]
    assert [p.price_cents for p in capped] == [11_000]
    assert capped[0].factors.clamp < 1


def test_every_price_is_the_product_of_its_factors() -> None:
    events = [
        at(listing("L1"), "lyon"),
        at(listing("L2", base_cents=8_000), "lyon"),
        at(
            Booked(
                listing="L2",
                area="lyon",
                booking="b1",
                check_in=date(2024, 7, 25),
                check_out=date(2024, 7, 27),
            ),
            "lyon",
        ),
        at(Searched(area="lyon", check_in=date(2024, 7, 21), check_out=date(2024, 7, 30)), "lyon"),
    ]
    done = run(pricing, [(INVENTORY, e) for e in events])
    assert len(done.records(PRICES)) > 40
    for record in done.records(PRICES):
        f = record.data.factors
        product = f.base_cents * f.season_dow * f.demand * f.lead_time * f.last_minute
        assert math.isclose(product * f.orphan * f.clamp, record.data.price_cents, rel_tol=1e-9)


def test_a_booking_and_its_cancellation_leave_the_price_where_it_was() -> None:
    base = [at(listing(f"L{i}"), "lyon") for i in range(4)]
    booking = Booked(listing="L0", area="lyon", booking="b1", check_in=date(2024, 7, 28),
                     check_out=date(2024, 7, 30))  # fmt: skip
    before = prices(run(pricing, [(INVENTORY, e) for e in base]).records(PRICES))
    booked = run(pricing, [(INVENTORY, e) for e in [*base, at(booking, "lyon")]])
    assert prices(booked.records(PRICES)) != before  # the booking moved the area's prices
    cancelled = at(Cancelled(listing="L0", area="lyon", booking="b1"), "lyon")
    after = run(pricing, [(INVENTORY, e) for e in [*base, at(booking, "lyon"), cancelled]])
    assert {k: p.price_cents for k, p in prices(after.records(PRICES)).items()} == {
        k: p.price_cents for k, p in before.items()
    }


def test_lead_time_lowers_unbooked_nights() -> None:
    night = date(2024, 8, 1)
    early = at(listing("L1"), "lyon", datetime(2024, 7, 10, tzinfo=UTC))
    late = at(Searched(area="lyon", check_in=date(2024, 8, 10), check_out=date(2024, 8, 11)),
              "lyon", datetime(2024, 7, 29, tzinfo=UTC))  # fmt: skip
    done = run(pricing, [(INVENTORY, early), (INVENTORY, late)], batch_size=1)
    seen = [r.data for r in done.records(PRICES) if r.data.night == night]
    assert len(seen) == 2
    first, then = seen
    assert then.price_cents < first.price_cents
    assert then.factors.last_minute < 1 == first.factors.last_minute


def test_a_schedule_change_moves_a_finals_demand() -> None:
    config = [(SIGNALS, at(VenueArea(venue="LYON", area="lyon"), key)) for key in broadcast_keys(8)]
    later = UnitScheduleChanged(
        competition="OG2024", unit=FINAL, discipline="SWM", status=UnitStatus.RESCHEDULED,
        start=datetime(2024, 8, 5, 19, tzinfo=UTC), end=datetime(2024, 8, 5, 21, tzinfo=UTC),
    )  # fmt: skip
    done = run(
        games,
        [
            *config,
            (UNITS_BY_EVENT, at(start_list("FRA"), EVENT)),
            (UNITS_BY_EVENT, at(later, EVENT)),
        ],
    )
    first, moved = (r.data for r in done.records(DEMAND))
    assert (first.first_night, first.last_night) == (date(2024, 8, 2), date(2024, 8, 3))
    assert (moved.first_night, moved.last_night) == (date(2024, 8, 4), date(2024, 8, 5))
    assert moved.unit == first.unit  # the pricing state replaces the final's earlier demand


def schedule_of_final(venue: str = "LYON") -> UnitScheduleChanged:
    return UnitScheduleChanged(
        competition="OG2024", unit=FINAL, discipline="SWM", status=UnitStatus.SCHEDULED,
        start=datetime(2024, 8, 3, 19, tzinfo=UTC), end=datetime(2024, 8, 3, 21, tzinfo=UTC),
        venue=venue,
    )  # fmt: skip


def test_an_official_semi_final_raises_demand_in_its_finals_area() -> None:
    config = [
        (SIGNALS, at(setting, key))
        for key in broadcast_keys(8)
        for setting in (VenueArea(venue="LYON", area="lyon"), NationFans(noc="FRA", fans=40_000))
    ]
    live = start_list("FRA", "USA", unit=SEMI, status=ResultStatus.LIVE)
    official = start_list("FRA", "USA", unit=SEMI, status=ResultStatus.OFFICIAL)
    done = run(
        games,
        [
            *config,
            (UNITS_BY_EVENT, at(schedule_of_final(), EVENT)),
            (UNITS_BY_EVENT, at(live, EVENT)),  # not official: nobody has qualified yet
            (UNITS_BY_EVENT, at(official, EVENT)),
        ],
    )
    (made,) = done.records(DEMAND)
    # the semi-final's official record caused it: the final's area, its nights, the winner only
    assert made.causation_id == f"test-{len(config) + 3}"  # the harness numbers inputs from 1
    assert (made.data.unit, made.data.area, made.data.nocs) == (FINAL, "lyon", ("FRA",))
    assert made.data.fans == 40_000
    assert (made.data.first_night, made.data.last_night) == (date(2024, 8, 2), date(2024, 8, 3))
    # the final's start list, when it comes, names the finalists and replaces the qualifiers
    later = run(games, [*config, *((UNITS_BY_EVENT, at(e, EVENT)) for e in (
        schedule_of_final(), official, start_list("FRA", "GBR"),
        UnitEndEstimated(competition="OG2024", unit=FINAL, discipline="SWM",
                         estimated_end=datetime(2024, 8, 3, 21, 30, tzinfo=UTC))))])  # fmt: skip
    # (a later end on the same night changes nothing for lodging: no new demand)
    assert [r.data.nocs for r in later.records(DEMAND)] == [("FRA",), ("FRA", "GBR")]


def test_a_strike_on_a_line_serving_an_area_lowers_its_prices_until_it_reopens() -> None:
    config = [LineArea(route_id="RER-B", area="lyon"), LineArea(route_id="T3", area="lyon"),
              LineArea(route_id="RER-B", area="paris")]  # fmt: skip
    strike = LineStatus(route_id="RER-B", state=LineState.CLOSED, effect="NO_SERVICE",
                        cause="STRIKE", alert_id="s1")  # fmt: skip
    reopened = msgspec.structs.replace(strike, state=LineState.OPEN)
    done = run(
        transit,
        [*((CONFIG, at(c, c.route_id)) for c in config), (TRANSIT, at(strike, "RER-B")),
         (TRANSIT, at(reopened, "RER-B", datetime(2024, 7, 21, 9, tzinfo=UTC)))],
    )  # fmt: skip
    outages = [r.data for r in done.records(DEMAND)]
    assert all(isinstance(o, TransitDemand) for o in outages)
    assert [(o.area, o.share) for o in outages] == [
        ("lyon", 0.5), ("paris", 1.0), ("lyon", 0.0), ("paris", 0.0)
    ]  # fmt: skip
    assert (outages[0].first_night, outages[0].last_night) == (date(2024, 7, 20), date(2024, 7, 21))

    # an empty area's last-minute prices sit on the default bounds: let them move below
    low = PricingSettings(demand_min=0.3)
    inventory = [
        (INVENTORY, at(listing(f"L{i}", settings=low, floor_cents=2_000), "lyon")) for i in range(2)
    ]
    first = run(pricing, inventory).records(PRICES)
    before = prices(first)
    struck = run(pricing, [*inventory, (DEMAND, at(outages[0], "lyon"))])
    moved = struck.records(PRICES)[len(first) :]
    assert {r.data.night for r in moved} == {date(2024, 7, 20), date(2024, 7, 21)}
    for record in moved:
        price = record.data
        assert price.parts.transit == 1 - 0.3 * 0.5
        assert price.price_cents < before[(price.listing, price.night)].price_cents
    lifted = run(pricing, [*inventory, *((DEMAND, at(o, "lyon")) for o in outages[::2])])
    assert {k: p.price_cents for k, p in prices(lifted.records(PRICES)).items()} == {
        k: p.price_cents for k, p in before.items()
    }


def test_in_one_batch_each_moved_night_names_the_event_that_covers_it() -> None:
    booking = Booked(listing="L0", area="lyon", booking="b1", check_in=date(2024, 8, 2),
                     check_out=date(2024, 8, 4))  # fmt: skip
    search = Searched(area="lyon", check_in=date(2024, 8, 8), check_out=date(2024, 8, 10))
    inventory = [(INVENTORY, at(listing(f"L{i}"), "lyon")) for i in range(3)]
    # the booking and a later search of other nights reach the processor in one batch (the
    # worker's batches may also mix a Games demand with inventory events)
    done = run(pricing, [*inventory, (INVENTORY, at(booking, "lyon")),
                         (INVENTORY, at(search, "lyon"))])  # fmt: skip
    registered = {f"test-{n}" for n in range(1, 4)}
    causes: dict[date, set[str | None]] = {}
    for record in done.records(PRICES):
        if record.causation_id not in registered:
            causes.setdefault(record.data.night, set()).add(record.causation_id)
    # the booked nights' occupancy moved the other listings: the booking, not the search
    assert causes == {date(2024, 8, 2): {"test-4"}, date(2024, 8, 3): {"test-4"},
                      date(2024, 8, 8): {"test-5"}, date(2024, 8, 9): {"test-5"}}  # fmt: skip
