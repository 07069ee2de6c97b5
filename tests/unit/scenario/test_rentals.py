"""The rehearsal's rentals generator: what hosts, guests and the organiser send in a day."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from flambeau.scenario.generators.rentals import AREAS, LINES, RentalAction, rental_actions
from flambeau.scenario.timeline import ScenarioConfig, Timeline
from flambeau.scenario.venues import VENUES
from flambeau.services.rentals.schemas import (
    Booked,
    LineArea,
    ListingRegistered,
    NationFans,
    Searched,
    VenueArea,
)

DAY = date(2024, 8, 4)


@pytest.fixture(scope="module")
def day() -> tuple[Timeline, list[RentalAction]]:
    timeline = Timeline(ScenarioConfig(day=DAY, seed=0))
    actions = rental_actions(
        timeline.schedule, timeline.progressions.values(), 0, opening=timeline.start
    )
    return timeline, actions


def _listing(body: dict[str, Any]) -> ListingRegistered:
    fields = {k: v for k, v in body.items() if k != "occurred_at"}
    return msgspec.convert({**fields, "host": "rehearsal"}, ListingRegistered, strict=False)


def test_the_day_opens_with_configuration_listings_and_earlier_bookings(
    day: tuple[Timeline, list[RentalAction]],
) -> None:
    timeline, actions = day
    config, *rest = actions
    assert (config.kind, config.time) == ("config", timeline.start)
    Config = VenueArea | NationFans | LineArea
    events = [msgspec.convert(e["data"], Config) for e in config.body]
    venues = {e.venue for e in events if isinstance(e, VenueArea)}
    assert venues == {v.code for v in VENUES}  # every venue's fans lodge somewhere
    lines = {(e.route_id, e.area) for e in events if isinstance(e, LineArea)}
    assert ("RER-B", "saint-denis") in lines  # the rehearsal's strike reaches an area
    assert {a for _, a in lines} <= {a.code for a in AREAS}
    assert [a.time for a in actions] == sorted(a.time for a in actions)
    registered = {}
    for action in rest:
        if action.kind == "listing":
            listing = _listing(action.body)
            assert listing.floor_cents < listing.base_cents < listing.ceiling_cents
            registered[listing.listing] = listing
        elif action.kind in ("booking", "view", "cancellation"):
            listing_id = action.path.split("/")[4]
            assert listing_id in registered, f"{action.kind} before its listing"
    cars = [listing for listing in registered.values() if listing.kind == "car"]
    assert {c.area for c in cars} == {"paris-centre", "paris-est", "paris-nord", "lyon",
                                      "marseille"}  # fmt: skip


def test_bookings_never_overlap_and_cancellations_follow_their_booking(
    day: tuple[Timeline, list[RentalAction]],
) -> None:
    _, actions = day
    nights: dict[str, set[date]] = {}
    live: dict[str, set[date]] = {}
    for action in actions:
        if action.kind == "booking":
            listing, body = action.path.split("/")[4], action.body
            fields = {k: v for k, v in body.items() if k != "occurred_at"}
            booked = msgspec.convert({**fields, "listing": listing, "area": "x"}, Booked,
                                     strict=False)  # fmt: skip
            check_in, check_out = booked.check_in, booked.check_out
            stay = {check_in + timedelta(days=d) for d in range((check_out - check_in).days)}
            assert not stay & nights.setdefault(listing, set()), f"{body['booking']} overlaps"
            assert check_in >= DAY or body["booking"].split("-")[-1].startswith("s")
            nights[listing] |= stay
            live[body["booking"]] = stay
        elif action.kind == "cancellation":
            listing, booking = action.path.split("?")[0].split("/")[4::2]
            nights[listing] -= live.pop(booking)  # KeyError: a cancellation before its booking
    cancelled = sum(1 for a in actions if a.kind == "cancellation")
    assert 0 < cancelled < sum(1 for a in actions if a.kind == "booking")


def test_a_french_semi_final_win_sends_fans_to_the_finals_area(
    day: tuple[Timeline, list[RentalAction]],
) -> None:
    timeline, actions = day
    (moment,) = [a for a in actions if a.note.startswith("France reaches the final of BK3WTEAM3 ")]
    semi = timeline.progressions["BK3WTEAM3-------------SFNL000100--"]
    assert "FRA" in {line.competitor.noc for line in semi.official.lines if line.rank == 1}
    assert moment.time > semi.official.time
    assert "paris-centre" in moment.note  # La Concorde, where the final is played
    after = [a for a in actions if semi.official.time < a.time <= moment.time + timedelta(hours=2)]
    searched = [
        msgspec.convert({"area": a.body["area"], "check_in": a.body["check_in"],
                         "check_out": a.body["check_out"]}, Searched, strict=False)
        for a in after
        if a.kind == "search"
    ]  # fmt: skip
    # the final is on 5 August: its fans look for the night before, in its area
    assert sum(1 for s in searched if (s.area, s.check_in) == ("paris-centre", DAY)) >= 10


def test_the_timeline_opens_with_the_rentals_opening(
    day: tuple[Timeline, list[RentalAction]],
) -> None:
    timeline, actions = day
    opening = [a for a in actions if a.time == timeline.start]
    played = [
        a.payload
        for a in itertools.islice(timeline, 5_000)
        if isinstance(a.payload, RentalAction) and a.at == timeline.start
    ]
    assert played == opening
    assert {a.kind for a in played} == {"config", "listing", "booking"}
    assert all(area in {a.code for a in AREAS} for areas in LINES.values() for area in areas)
