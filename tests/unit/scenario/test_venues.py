"""The venue data: consistent with the sports, on the map, in the Games window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from flambeau.scenario.errors import UnknownCodeError
from flambeau.scenario.sports import DISCIPLINES, discipline
from flambeau.scenario.venues import VENUES, active_venues, venue, venues_for

GAMES = (date(2024, 7, 24), date(2024, 8, 11))


def test_venue_codes_are_unique_three_characters() -> None:
    codes = [v.code for v in VENUES]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 3 and code.isalnum() and code.isupper() for code in codes)


@pytest.mark.parametrize("place", VENUES, ids=lambda v: v.code)
def test_each_venue_is_consistent(place) -> None:  # type: ignore[no-untyped-def]
    # Metropolitan France, or Teahupo'o in Tahiti for surfing.
    in_france = 42.0 < place.latitude < 51.5 and -5.0 < place.longitude < 8.5
    in_tahiti = place.code == "TAH" and -18.0 < place.latitude < -17.0
    assert in_france or in_tahiti
    assert place.capacity > 0
    assert place.opens < place.closes
    hosted = set(place.disciplines)
    for sport in place.sports:
        discipline(sport.discipline)  # a known discipline
        assert GAMES[0] <= sport.first_day <= sport.last_day <= GAMES[1]
        known_events = {event.code for event in discipline(sport.discipline).events}
        assert set(sport.events) <= known_events
        assert any(sport.discipline in fop.disciplines for fop in place.fields)
    for fop in place.fields:
        assert fop.capacity > 0
        assert set(fop.disciplines) <= hosted
    assert len({fop.code for fop in place.fields}) == len(place.fields)


def test_every_discipline_has_a_venue() -> None:
    for spec in DISCIPLINES:
        assert venues_for(spec.code), f"{spec.code} has no venue"


def test_the_well_known_venues_are_where_they_belong() -> None:
    assert venue("STA").name == "Stade de France"
    assert venue("STA").hosts("ATH", date(2024, 8, 4))
    assert venue("RGA").hosts("TEN", date(2024, 8, 4))
    assert not venue("RGA").hosts("TEN", date(2024, 8, 8))
    assert {v.code for v in venues_for("FBL")} >= {"PDP", "MRS", "LYO", "NAN"}


def test_local_time_converts_to_utc_with_the_venue_offset() -> None:
    day = date(2024, 8, 4)
    assert venue("STA").local(day, time(20, 0)) == datetime(2024, 8, 4, 18, 0, tzinfo=UTC)
    assert venue("TAH").local(day, time(8, 0)) == datetime(2024, 8, 4, 18, 0, tzinfo=UTC)


def test_the_busy_day_has_many_active_venues() -> None:
    assert len(list(active_venues(date(2024, 8, 4)))) >= 20
    assert list(active_venues(date(2024, 9, 1))) == []


def test_an_unknown_venue_is_named_in_the_error() -> None:
    with pytest.raises(UnknownCodeError, match="'XYZ'"):
        venue("XYZ")
