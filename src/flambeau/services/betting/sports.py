"""Sport profiles: how each sport is priced, which lines it offers, and its live bet delay.

Three pricing models cover the Games:

- ``POISSON``: team sports decided by a goal count, priced from Poisson scoring rates
  conditioned on the score and the time left (football, handball, hockey, water polo,
  basketball);
- ``ELO``: head-to-head sports decided by a race to a number of units (sets, games, touches),
  priced from an Elo win probability adjusted by the units already won;
- ``RACE``: many competitors, one finishing order, priced from strength ratings with
  Plackett-Luce (Harville) probabilities: timed races, and judged events ranked by their
  scores (gymnastics, diving, skateboarding...), whose units have the same shape for betting:
  a field, a ranking, ties as dead heats. They get outright (winner) and podium markets.

A profile is found by its name (``"football"``) or by its ODF discipline code (``"FBL"``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from flambeau.services.betting.errors import UnknownSportError

__all__ = ["SPORTS", "PricingModel", "SportProfile", "profile_for"]


class PricingModel(enum.Enum):
    """Which vectorised pricer prices a sport."""

    POISSON = "poisson"
    ELO = "elo"
    RACE = "race"


@dataclass(frozen=True)
class SportProfile:
    """How one sport is priced and offered.

    Attributes:
        name: Lower-case snake_case sport name, the canonical key.
        model: The pricing model.
        codes: ODF discipline codes that name this sport in schedule entries.
        can_draw: Whether regulation time can end level (1X2 instead of a two-way winner).
        regulation: Playing time of a match, for Poisson sports (the clock the rates run on).
        goals_per_team: Expected goals (points) of an average team over regulation time.
        race_to: Units needed to win, for Elo sports (tennis best of three: 2 sets).
        total_lines: Lines of the match total market (``total=2.5``).
        team_lines: Lines of the home and away team total markets.
        handicap_lines: Home handicaps of the two-way handicap market (``hcp=-1.5``).
        live_delay: How long an in-play ticket waits before it is decided.
        podium_places: Places of the race podium market (``top=3``).
        scorer_markets: Whether a match offers next-scorer and anytime-scorer markets once
            its start list names the squads (goals come one at a time, each by one player).
    """

    name: str
    model: PricingModel
    codes: tuple[str, ...] = ()
    can_draw: bool = False
    regulation: timedelta = timedelta(0)
    goals_per_team: float = 0.0
    race_to: int = 1
    total_lines: tuple[float, ...] = ()
    team_lines: tuple[float, ...] = ()
    handicap_lines: tuple[float, ...] = ()
    live_delay: timedelta = timedelta(seconds=8)
    podium_places: int = 3
    scorer_markets: bool = False

    def __post_init__(self) -> None:
        lines = (*self.total_lines, *self.team_lines, *self.handicap_lines)
        # Whole-number lines can push (void); pricing assumes two-way markets that sum to one.
        if any(float(line).is_integer() for line in lines):
            raise ValueError(f"sport {self.name!r}: lines must be half lines, got {lines}")
        if self.model is PricingModel.POISSON and self.goals_per_team <= 0:
            raise ValueError(f"sport {self.name!r}: a Poisson sport needs goals_per_team > 0")
        if self.race_to < 1:
            raise ValueError(f"sport {self.name!r}: race_to must be at least 1")


def _goal_sport(
    name: str,
    code: str,
    minutes: int,
    goals_per_team: float,
    lines: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]],
    *,
    can_draw: bool = True,
    scorer_markets: bool = True,
) -> SportProfile:
    """A Poisson team sport: its regulation time, average goals, and its match total, team
    total and handicap lines. Goals come one at a time unless ``scorer_markets`` is off."""
    total_lines, team_lines, handicap_lines = lines
    return SportProfile(
        name,
        PricingModel.POISSON,
        codes=(code,),
        can_draw=can_draw,
        regulation=timedelta(minutes=minutes),
        goals_per_team=goals_per_team,
        total_lines=total_lines,
        team_lines=team_lines,
        handicap_lines=handicap_lines,
        live_delay=timedelta(seconds=5),
        scorer_markets=scorer_markets,
    )


_HEAD_TO_HEAD = (
    # name, ODF code, units to win (race_to), live delay in seconds
    ("tennis", "TEN", 2, 3),
    ("table_tennis", "TTE", 4, 3),
    ("badminton", "BDM", 2, 3),
    ("volleyball", "VVO", 3, 5),
    ("beach_volleyball", "VBV", 2, 5),
    ("fencing", "FEN", 15, 3),
    ("judo", "JUD", 1, 5),
    ("boxing", "BOX", 1, 5),
    ("wrestling", "WRE", 1, 5),
    ("taekwondo", "TKW", 1, 5),
)
"""The Elo sports."""

_RACES = (
    ("athletics", "ATH"),
    ("swimming", "SWM"),
    ("cycling_road", "CRD"),
    ("cycling_track", "CTR"),
    ("rowing", "ROW"),
    ("canoe_sprint", "CSP"),
    ("triathlon", "TRI"),
    # Judged events (the results service's ``judged`` shape): ranked by the judges' scores.
    ("artistic_gymnastics", "GAR"),
    ("rhythmic_gymnastics", "GRY"),
    ("trampoline", "GTR"),
    ("diving", "DIV"),
    ("skateboarding", "SKB"),
    ("surfing", "SRF"),
    ("artistic_swimming", "SWA"),
)
"""The sports priced as races (names and ODF codes), all with a 5 s live delay."""

_PROFILES = (
    _goal_sport(
        "football",
        "FBL",
        90,
        1.35,
        ((0.5, 1.5, 2.5, 3.5, 4.5, 5.5), (0.5, 1.5, 2.5), (-2.5, -1.5, 1.5, 2.5)),
    ),
    _goal_sport(
        "handball",
        "HBL",
        60,
        28.0,
        ((52.5, 55.5, 58.5), (26.5, 28.5, 30.5), (-4.5, -2.5, 2.5, 4.5)),
    ),
    _goal_sport("hockey", "HOC", 60, 2.0, ((2.5, 3.5, 4.5, 5.5), (0.5, 1.5, 2.5), (-1.5, 1.5))),
    _goal_sport("water_polo", "WPO", 32, 10.0, ((17.5, 19.5, 21.5), (8.5, 10.5), (-2.5, 2.5))),
    # Points do not arrive one by one, so Poisson understates the spread of basketball scores;
    # good enough for winner and totals at these lines, not for exact-score markets.
    _goal_sport(
        "basketball",
        "BKB",
        40,
        85.0,
        ((160.5, 165.5, 170.5), (80.5, 85.5), (-5.5, 5.5)),
        can_draw=False,
        scorer_markets=False,
    ),
    *(
        SportProfile(
            name,
            PricingModel.ELO,
            codes=(code,),
            race_to=race_to,
            live_delay=timedelta(seconds=delay),
        )
        for name, code, race_to, delay in _HEAD_TO_HEAD
    ),
    *(
        SportProfile(name, PricingModel.RACE, codes=(code,), live_delay=timedelta(seconds=5))
        for name, code in _RACES
    ),
)

SPORTS: MappingProxyType[str, SportProfile] = MappingProxyType(
    {profile.name: profile for profile in _PROFILES}
)
"""Every known sport by canonical name."""

_BY_CODE = {code: profile for profile in _PROFILES for code in profile.codes}


def profile_for(sport: str) -> SportProfile:
    """The profile of ``sport``, given as a canonical name or an ODF discipline code.

    Args:
        sport: ``"football"``, ``"FBL"``, ``"Table tennis"``... (case and spaces are ignored).

    Raises:
        UnknownSportError: no profile matches.
    """
    found = SPORTS.get(sport.strip().lower().replace(" ", "_").replace("-", "_"))
    if found is None:
        found = _BY_CODE.get(sport.strip().upper())
    if found is None:
        raise UnknownSportError(
            f"sport {sport!r} has no betting profile; known: {', '.join(sorted(SPORTS))}"
        )
    return found
