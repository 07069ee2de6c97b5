"""What pricing and settlement need to know about an event, independent of the results service.

The results service publishes schedule entries on ``results.schedule`` and unit states on
``results.units``. The betting processors translate those into the small values below, so this
package never imports another service and the pricers stay plain functions of plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flambeau.services.betting.errors import InvalidFixtureError
from flambeau.services.betting.sports import PricingModel, SportProfile, profile_for

__all__ = ["Competitor", "Fixture", "LiveState", "Player"]


@dataclass(frozen=True)
class Competitor:
    """One side of a match, or one entrant of a race.

    Attributes:
        id: Stable id; race outcome ids are these ids.
        name: Display name.
        rating: Elo-scale strength: 400 points more means ten times the odds of winning a
            head-to-head, and ten times the Plackett-Luce weight in a race.
    """

    id: str
    name: str = ""
    rating: float = 1500.0


@dataclass(frozen=True)
class Player:
    """A member of a team's squad, as the start list names it (scorer markets).

    Attributes:
        id: The athlete's code; scorer markets' outcome ids are these codes.
        side: 0 for the home team, 1 for the away team.
        weight: Relative share of the team's goals (see :mod:`.scorers`).
    """

    id: str
    side: int
    weight: float = 1.0


@dataclass(frozen=True)
class Fixture:
    """A schedule entry that carries markets.

    Attributes:
        event_id: The event (fixture) id; markets and ``betting.odds`` partitions key on it.
        sport: Sport name or ODF discipline code, resolved with :func:`profile_for`.
        competitors: ``(home, away)`` for a match; the field for a race.
        start: Scheduled start, timezone-aware UTC.
        end: Scheduled end, timezone-aware UTC, when the schedule gives one.
        players: Both squads of a match (home first), when the start list names them; a
            sport with scorer markets offers them only then.
    """

    event_id: str
    sport: str
    competitors: tuple[Competitor, ...]
    start: datetime
    end: datetime | None = None
    players: tuple[Player, ...] = ()
    _profile: SportProfile = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Resolved once: pricing asks for the profile of every event on every reprice.
        object.__setattr__(self, "_profile", profile_for(self.sport))
        for name, value in (("start", self.start), ("end", self.end)):
            if value is not None and value.utcoffset() is None:
                raise InvalidFixtureError(
                    f"fixture {self.event_id!r}: {name} {value.isoformat()} has no timezone"
                )
        ids = [competitor.id for competitor in self.competitors]
        if len(set(ids)) != len(ids):
            raise InvalidFixtureError(f"fixture {self.event_id!r}: duplicate competitor ids {ids}")
        players = [player.id for player in self.players]
        if len(set(players)) != len(players) or any(p.side not in (0, 1) for p in self.players):
            raise InvalidFixtureError(
                f"fixture {self.event_id!r}: players must have distinct ids and side 0 or 1"
            )
        profile = self._profile
        if profile.model is PricingModel.RACE:
            if len(ids) < 2:
                raise InvalidFixtureError(
                    f"race {self.event_id!r} needs at least 2 competitors, got {len(ids)}"
                )
        elif len(ids) != 2:
            raise InvalidFixtureError(
                f"match {self.event_id!r} ({profile.name}) needs exactly 2 competitors, "
                f"got {len(ids)}"
            )

    @property
    def profile(self) -> SportProfile:
        """The sport's pricing profile."""
        return self._profile

    @property
    def is_race(self) -> bool:
        """Whether the event is a race rather than a head-to-head match."""
        return self.profile.model is PricingModel.RACE

    @property
    def scorers(self) -> tuple[Player, ...]:
        """The players its scorer markets list: none unless the sport offers them."""
        return self.players if self.profile.scorer_markets else ()


@dataclass(frozen=True)
class LiveState:
    """The live state of one event, as far as pricing cares.

    Attributes:
        event_id: The event id.
        home_score: Goals or points (Poisson sports), or units won such as sets (Elo sports).
        away_score: Same, for the away side.
        elapsed_fraction: Share of regulation time played, 0 to 1 (Poisson sports only;
            stoppage time beyond 1 is clipped).
        in_play: Whether the event has started; in-play bets wait the live delay.
        estimated_end: Live estimate of the end, when known; the change and cash-out cut-off
            runs from it instead of the scheduled end.
        goals: Who scored each goal so far (``"home"``/``"away"``), for next-goal settlement.
        scorers: The athlete who scored each goal so far, in order (``""`` when the source
            names none): a player who scored has won the anytime-scorer market.
    """

    event_id: str
    home_score: int = 0
    away_score: int = 0
    elapsed_fraction: float = 0.0
    in_play: bool = False
    estimated_end: datetime | None = None
    goals: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.home_score < 0 or self.away_score < 0:
            raise InvalidFixtureError(
                f"live state of {self.event_id!r}: scores must be >= 0, "
                f"got {self.home_score}-{self.away_score}"
            )
        if not 0.0 <= self.elapsed_fraction <= 1.5:
            raise InvalidFixtureError(
                f"live state of {self.event_id!r}: elapsed_fraction must be in [0, 1.5], "
                f"got {self.elapsed_fraction}"
            )

    @property
    def total(self) -> int:
        """Goals (units) scored so far by both sides."""
        return self.home_score + self.away_score
