"""Small builders shared by the betting tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flambeau.services.betting.fixtures import Competitor, Fixture

KICK_OFF = datetime(2024, 7, 30, 19, 0, tzinfo=UTC)


def match(
    event_id: str = "fbl-m1",
    sport: str = "football",
    home: float = 1600.0,
    away: float = 1500.0,
    *,
    end: datetime | None = KICK_OFF + timedelta(minutes=115),
) -> Fixture:
    """A head-to-head fixture between two rated sides."""
    return Fixture(
        event_id,
        sport,
        (Competitor("home", "Home", home), Competitor("away", "Away", away)),
        KICK_OFF,
        end,
    )


def race(event_id: str = "ath-100m", ratings: tuple[float, ...] = (1500.0,) * 8) -> Fixture:
    """A race whose competitors are ``c0``, ``c1``... with the given ratings."""
    field = tuple(Competitor(f"c{i}", f"Runner {i}", r) for i, r in enumerate(ratings))
    return Fixture(event_id, "athletics", field, KICK_OFF)
