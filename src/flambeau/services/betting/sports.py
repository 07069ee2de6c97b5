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


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


_PROFILES = (
    SportProfile(
        "football",
        PricingModel.POISSON,
        codes=("FBL",),
        can_draw=True,
        regulation=timedelta(minutes=90),
        goals_per_team=1.35,
        total_lines=(0.5, 1.5, 2.5, 3.5, 4.5, 5.5),
        team_lines=(0.5, 1.5, 2.5),
        handicap_lines=(-2.5, -1.5, 1.5, 2.5),
        live_delay=_seconds(5),
        scorer_markets=True,
    ),
    SportProfile(
        "handball",
        PricingModel.POISSON,
        codes=("HBL",),
        can_draw=True,
        regulation=timedelta(minutes=60),
        goals_per_team=28.0,
        total_lines=(52.5, 55.5, 58.5),
        team_lines=(26.5, 28.5, 30.5),
        handicap_lines=(-4.5, -2.5, 2.5, 4.5),
        live_delay=_seconds(5),
        scorer_markets=True,
    ),
    SportProfile(
        "hockey",
        PricingModel.POISSON,
        codes=("HOC",),
        can_draw=True,
        regulation=timedelta(minutes=60),
        goals_per_team=2.0,
        total_lines=(2.5, 3.5, 4.5, 5.5),
        team_lines=(0.5, 1.5, 2.5),
        handicap_lines=(-1.5, 1.5),
        live_delay=_seconds(5),
        scorer_markets=True,
    ),
    SportProfile(
        "water_polo",
        PricingModel.POISSON,
        codes=("WPO",),
        can_draw=True,
        regulation=timedelta(minutes=32),
        goals_per_team=10.0,
        total_lines=(17.5, 19.5, 21.5),
        team_lines=(8.5, 10.5),
        handicap_lines=(-2.5, 2.5),
        live_delay=_seconds(5),
        scorer_markets=True,
    ),
    # Points do not arrive one by one, so Poisson understates the spread of basketball scores;
    # good enough for winner and totals at these lines, not for exact-score markets.
    SportProfile(
        "basketball",
        PricingModel.POISSON,
        codes=("BKB",),
        can_draw=False,
        regulation=timedelta(minutes=40),
        goals_per_team=85.0,
        total_lines=(160.5, 165.5, 170.5),
        team_lines=(80.5, 85.5),
        handicap_lines=(-5.5, 5.5),
        live_delay=_seconds(5),
    ),
    SportProfile("tennis", PricingModel.ELO, codes=("TEN",), race_to=2, live_delay=_seconds(3)),
    SportProfile(
        "table_tennis", PricingModel.ELO, codes=("TTE",), race_to=4, live_delay=_seconds(3)
    ),
    SportProfile("badminton", PricingModel.ELO, codes=("BDM",), race_to=2, live_delay=_seconds(3)),
    SportProfile("volleyball", PricingModel.ELO, codes=("VVO",), race_to=3, live_delay=_seconds(5)),
    SportProfile(
        "beach_volleyball", PricingModel.ELO, codes=("VBV",), race_to=2, live_delay=_seconds(5)
    ),
    SportProfile("fencing", PricingModel.ELO, codes=("FEN",), race_to=15, live_delay=_seconds(3)),
    SportProfile("judo", PricingModel.ELO, codes=("JUD",), live_delay=_seconds(5)),
    SportProfile("boxing", PricingModel.ELO, codes=("BOX",), live_delay=_seconds(5)),
    SportProfile("wrestling", PricingModel.ELO, codes=("WRE",), live_delay=_seconds(5)),
    SportProfile("taekwondo", PricingModel.ELO, codes=("TKW",), live_delay=_seconds(5)),
    SportProfile("athletics", PricingModel.RACE, codes=("ATH",), live_delay=_seconds(5)),
    SportProfile("swimming", PricingModel.RACE, codes=("SWM",), live_delay=_seconds(5)),
    SportProfile("cycling_road", PricingModel.RACE, codes=("CRD",), live_delay=_seconds(5)),
    SportProfile("cycling_track", PricingModel.RACE, codes=("CTR",), live_delay=_seconds(5)),
    SportProfile("rowing", PricingModel.RACE, codes=("ROW",), live_delay=_seconds(5)),
    SportProfile("canoe_sprint", PricingModel.RACE, codes=("CSP",), live_delay=_seconds(5)),
    SportProfile("triathlon", PricingModel.RACE, codes=("TRI",), live_delay=_seconds(5)),
    # Judged events (the results service's ``judged`` shape): ranked by the judges' scores.
    SportProfile("artistic_gymnastics", PricingModel.RACE, codes=("GAR",), live_delay=_seconds(5)),
    SportProfile("rhythmic_gymnastics", PricingModel.RACE, codes=("GRY",), live_delay=_seconds(5)),
    SportProfile("trampoline", PricingModel.RACE, codes=("GTR",), live_delay=_seconds(5)),
    SportProfile("diving", PricingModel.RACE, codes=("DIV",), live_delay=_seconds(5)),
    SportProfile("skateboarding", PricingModel.RACE, codes=("SKB",), live_delay=_seconds(5)),
    SportProfile("surfing", PricingModel.RACE, codes=("SRF",), live_delay=_seconds(5)),
    SportProfile("artistic_swimming", PricingModel.RACE, codes=("SWA",), live_delay=_seconds(5)),
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
