"""The Olympic disciplines of Paris 2024 and the shape of their competitions.

Each discipline carries its ODF code (``SWM``, ``BK3``), its shape (a race against the clock, a
head-to-head match, or a judged or scored performance), its typical unit durations, whether a
draw can stand, its periods, a plausible in-play betting delay and its daily session blocks.

The figures are plausible round numbers for a rehearsal, not the official timetable: winning
times are near Olympic level, session blocks follow the usual morning/afternoon/evening pattern.
Where the venue data used a local code (``ATW``, ``ATM`` for the walks and marathon, ``EQD``,
``EQE``, ``EQJ`` for equestrian), this module uses the ODF discipline (``ATH``, ``EQU``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from flambeau.scenario.errors import UnknownCodeError

__all__ = [
    "DISCIPLINES",
    "Discipline",
    "EventSpec",
    "MatchRules",
    "Period",
    "Scoring",
    "Shape",
    "discipline",
]


class Shape(StrEnum):
    """How a unit is contested."""

    RACE = "race"
    """Everyone at once against the clock; ranked by time."""
    HEAD_TO_HEAD = "head_to_head"
    """Two sides; a score decides the winner."""
    JUDGED = "judged"
    """Competitors perform in turn; each routine, attempt or round gets a score."""


class Scoring(StrEnum):
    """How a head-to-head score grows (the other shapes score by time or by routine)."""

    GOALS = "goals"
    """Rare scoring events in clock periods (football, handball, hockey, water polo)."""
    POINTS = "points"
    """Frequent scoring events worth 1, 2 or 3 points (basketball, rugby)."""
    SETS = "sets"
    """Points or games inside sets; first to win ``sets_to_win`` sets (tennis, volleyball)."""
    BOUT = "bout"
    """Combat: clock periods, then a golden score when level (judo, fencing, boxing)."""
    TIME = "time"
    """Races: the lowest time wins."""
    JUDGES = "judges"
    """Judged or scored routines."""


@dataclass(frozen=True, slots=True)
class Period:
    """One period of play.

    Attributes:
        code: The ODF-like period code: ``H1``, ``Q3``, ``ET1``, ``S2`` (set), ``R1`` (round).
        minutes: Clock minutes; 0 for periods decided by points (sets).
    """

    code: str
    minutes: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchRules:
    """How a head-to-head unit unfolds.

    Attributes:
        periods: Regulation periods.
        extra: Extra periods played when a knockout match is level after regulation.
        shootout: Whether a still-level knockout goes to a shoot-out (penalties, 7 m throws).
        rate: Scoring events per clock minute per side at equal strength (GOALS, POINTS, BOUT).
        points: The values a scoring event may take, most likely first.
        real_per_clock: Wall minutes per clock minute (stoppages, time-outs).
        break_minutes: Pause between periods.
        half_time: Pause at half time (the middle of an even number of periods); 0 means
            ``break_minutes``.
        sets_to_win: SETS: sets needed to win the match.
        set_points: SETS: points (games for tennis) needed to win a set.
        final_set_points: SETS: points needed in a deciding set.
        win_by_two: SETS: a set needs a lead of two points.
        tiebreak_at: SETS: at this score all, the next point (a tie-break game) takes the set.
        atom_seconds: SETS: wall seconds per point (per game for tennis).
        cap: BOUT: a score that ends the bout at once (15 touches in fencing); 0 for none.
    """

    periods: tuple[Period, ...] = ()
    extra: tuple[Period, ...] = ()
    shootout: bool = False
    rate: float = 0.0
    points: tuple[int, ...] = (1,)
    real_per_clock: float = 1.0
    break_minutes: float = 2.0
    half_time: float = 0.0
    sets_to_win: int = 0
    set_points: int = 0
    final_set_points: int = 0
    win_by_two: bool = True
    tiebreak_at: int = 0
    atom_seconds: float = 0.0
    cap: int = 0


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One event of a discipline (the ``event`` part of its RSC).

    Attributes:
        code: The RSC event code without padding, at most 18 of ``A-Z0-9``.
        name: English name.
        genders: The genders it is held for: ``M``, ``W``, ``X``.
        competitors: Competitors per unit: lanes in a race, the field of a judged final, 2 for
            a match.
        unit_minutes: The scheduled slot of one unit; 0 means the discipline's default.
        base_ms: Races: a winning time for men, in milliseconds.
        women_factor: Races: women's winning time over men's.
        splits: Races: the intermediate points, in order (the finish is not a split).
        routines: Judged: routines, attempts or rounds per competitor.
        routine_seconds: Judged: wall seconds per routine.
        score_base: Judged: a good score per routine.
        score_spread: Judged: how far the score moves per 10 points of strength.
        lower_is_better: Judged: strokes (golf) and faults (jumping) rank ascending.
        team: Competitors are teams (named by NOC) rather than athletes.
    """

    code: str
    name: str
    genders: str = "MW"
    competitors: int = 2
    unit_minutes: int = 0
    base_ms: int = 0
    women_factor: float = 1.1
    splits: tuple[str, ...] = ()
    routines: int = 1
    routine_seconds: int = 60
    score_base: float = 0.0
    score_spread: float = 0.0
    lower_is_better: bool = False
    team: bool = False


@dataclass(frozen=True, slots=True)
class Discipline:
    """One Olympic discipline.

    Attributes:
        code: ODF discipline code: two letters then a letter or digit (``SWM``, ``BK3``).
        name: English name.
        shape: Race, head-to-head or judged.
        scoring: How a score grows.
        unit_minutes: Default scheduled slot of one unit.
        changeover_minutes: Gap between two units on one field of play.
        draws: Whether a level score can stand (group or pool matches only).
        live_delay_s: A plausible in-play bet delay for this discipline, in seconds.
        sessions: Daily session blocks, local time (start, end).
        sessions_per_day: How many of those blocks a field of play uses per day.
        rules: Head-to-head rules; ``None`` for races and judged events.
        events: The events.
    """

    code: str
    name: str
    shape: Shape
    scoring: Scoring
    unit_minutes: int
    events: tuple[EventSpec, ...]
    sessions: tuple[tuple[time, time], ...]
    changeover_minutes: int = 5
    draws: bool = False
    live_delay_s: float = 5.0
    sessions_per_day: int = 0
    rules: MatchRules | None = None

    def __post_init__(self) -> None:
        if self.sessions_per_day == 0:
            object.__setattr__(self, "sessions_per_day", len(self.sessions))

    @property
    def periods(self) -> tuple[Period, ...]:
        """Regulation periods of a head-to-head discipline; empty for the other shapes."""
        return self.rules.periods if self.rules else ()

    def event(self, code: str) -> EventSpec:
        """The event ``code`` of this discipline.

        Raises:
            UnknownCodeError: the discipline has no such event.
        """
        for spec in self.events:
            if spec.code == code:
                return spec
        raise UnknownCodeError(f"discipline {self.code} has no event {code!r}")

    def slot_minutes(self, event: EventSpec) -> int:
        """The scheduled slot of one unit of ``event``."""
        return event.unit_minutes or self.unit_minutes


def _t(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _blocks(*pairs: tuple[str, str]) -> tuple[tuple[time, time], ...]:
    return tuple((_t(start), _t(end)) for start, end in pairs)


_DAY3 = _blocks(("10:00", "13:30"), ("14:30", "18:00"), ("19:30", "23:00"))
_DAY2 = _blocks(("10:00", "14:00"), ("18:30", "22:30"))
_KICKOFFS = _blocks(("13:00", "15:00"), ("15:00", "17:00"), ("17:00", "19:00"), ("19:00", "21:00"))


def _race(
    code: str, name: str, base_ms: int, splits: tuple[str, ...] = (), **kw: object
) -> EventSpec:
    return EventSpec(code, name, base_ms=base_ms, splits=splits, **kw)  # type: ignore[arg-type]


def _judged(code: str, name: str, base: float, spread: float, **kw: object) -> EventSpec:
    return EventSpec(code, name, score_base=base, score_spread=spread, **kw)  # type: ignore[arg-type]


def _halves(minutes: float, count: int, prefix: str) -> tuple[Period, ...]:
    return tuple(Period(f"{prefix}{n}", minutes) for n in range(1, count + 1))


# The table reads best one discipline per block, so the formatter leaves it alone.
# fmt: off
_SETS = {
    "TEN": MatchRules(
        sets_to_win=2, set_points=6, final_set_points=6, tiebreak_at=6, atom_seconds=260
    ),
    "VVO": MatchRules(sets_to_win=3, set_points=25, final_set_points=15, atom_seconds=28),
    "VBV": MatchRules(sets_to_win=2, set_points=21, final_set_points=15, atom_seconds=28),
    "BDM": MatchRules(sets_to_win=2, set_points=21, final_set_points=21, atom_seconds=22),
    "TTE": MatchRules(sets_to_win=4, set_points=11, final_set_points=11, atom_seconds=16),
    "ARC": MatchRules(
        sets_to_win=3, set_points=1, final_set_points=1, win_by_two=False, atom_seconds=110
    ),
}

DISCIPLINES: tuple[Discipline, ...] = (
    # Races.
    Discipline(
        "ATH", "Athletics", Shape.RACE, Scoring.TIME, 8,
        (
            _race("100M", "100 m", 9_790, competitors=8, women_factor=1.095),
            _race("400MH", "400 m hurdles", 46_500, ("200M",), competitors=8, women_factor=1.13),
            _race("1500M", "1500 m", 209_000, ("400M", "800M", "1200M"), competitors=12,
                  women_factor=1.12, unit_minutes=12),
            _race("3000MSC", "3000 m steeplechase", 487_000, ("1000M", "2000M"), competitors=14,
                  women_factor=1.11, unit_minutes=15),
            _race("20KMW", "20 km race walk", 4_660_000, ("5KM", "10KM", "15KM"), competitors=40,
                  women_factor=1.1, unit_minutes=110),
            _race("MARATHON", "Marathon", 7_560_000, ("10KM", "21KM", "30KM", "40KM"),
                  competitors=40, women_factor=1.11, unit_minutes=160),
        ),
        _blocks(("10:00", "13:30"), ("19:00", "22:30")), live_delay_s=3.0,
    ),
    Discipline(
        "SWM", "Swimming", Shape.RACE, Scoring.TIME, 5,
        (
            _race("100MFREE", "100 m freestyle", 46_900, ("50M",), competitors=8,
                  women_factor=1.12),
            _race("200MIM", "200 m individual medley", 114_000, ("50M", "100M", "150M"),
                  competitors=8, women_factor=1.1),
            _race("1500MFREE", "1500 m freestyle", 871_000, ("500M", "1000M"), competitors=8,
                  women_factor=1.07, unit_minutes=20),
            _race("4X100MMEDLEY", "4 x 100 m medley relay", 209_000, ("100M", "200M", "300M"),
                  competitors=8, women_factor=1.11, team=True, genders="MWX"),
        ),
        _blocks(("11:00", "13:30"), ("20:30", "22:45")), live_delay_s=3.0,
    ),
    Discipline(
        "ROW", "Rowing", Shape.RACE, Scoring.TIME, 12,
        (_race("M1X", "Single sculls", 402_000, ("500M", "1000M", "1500M"), competitors=6,
               women_factor=1.1),
         _race("8", "Eight", 322_000, ("500M", "1000M", "1500M"), competitors=6, team=True)),
        _blocks(("09:30", "12:30"),), live_delay_s=4.0,
    ),
    Discipline(
        "CSP", "Canoe sprint", Shape.RACE, Scoring.TIME, 6,
        (_race("K1500M", "K1 500 m", 96_000, ("250M",), competitors=8, women_factor=1.13),),
        _blocks(("09:30", "12:30"),), live_delay_s=4.0,
    ),
    Discipline(
        "CSL", "Canoe slalom", Shape.RACE, Scoring.TIME, 4,
        (_race("KAYAKCROSS", "Kayak cross", 66_000, ("GATE6",), competitors=4, women_factor=1.12),
         _race("K1", "K1 slalom", 88_000, ("SPLIT1", "SPLIT2"), competitors=10, unit_minutes=30)),
        _blocks(("14:00", "18:30"),), live_delay_s=4.0,
    ),
    Discipline(
        "CRD", "Cycling road", Shape.RACE, Scoring.TIME, 390,
        (_race("ROADRACE", "Road race", 21_600_000, ("KM60", "KM120", "KM200"), competitors=40,
               women_factor=0.67),),
        _blocks(("10:30", "17:30"),), live_delay_s=5.0,
    ),
    Discipline(
        "CTR", "Cycling track", Shape.RACE, Scoring.TIME, 8,
        (_race("TEAMPURSUIT", "Team pursuit", 221_000, ("1000M", "2000M", "3000M"),
               competitors=2, team=True, women_factor=1.1),
         _race("SPRINT200M", "Sprint qualifying", 9_100, competitors=4, women_factor=1.1)),
        _blocks(("11:00", "14:00"), ("17:00", "20:00")), live_delay_s=3.0,
    ),
    Discipline(
        "MTB", "Cycling mountain bike", Shape.RACE, Scoring.TIME, 110,
        (_race("CROSSCOUNTRY", "Cross-country", 5_040_000, ("LAP2", "LAP4", "LAP6"),
               competitors=36, women_factor=1.04),),
        _blocks(("12:00", "16:00"),), live_delay_s=5.0,
    ),
    Discipline(
        "BMX", "Cycling BMX racing", Shape.RACE, Scoring.TIME, 4,
        (_race("RACE", "BMX race", 34_000, ("HILL",), competitors=8, women_factor=1.12),),
        _blocks(("18:00", "21:00"),), live_delay_s=3.0,
    ),
    Discipline(
        "TRI", "Triathlon", Shape.RACE, Scoring.TIME, 135,
        (_race("INDIVIDUAL", "Individual", 6_260_000, ("SWIM", "BIKE"), competitors=50,
               women_factor=1.1),),
        _blocks(("08:00", "11:30"),), live_delay_s=5.0,
    ),
    Discipline(
        "OWS", "Marathon swimming", Shape.RACE, Scoring.TIME, 140,
        (_race("10KM", "10 km", 6_810_000, ("2KM", "5KM", "8KM"), competitors=24,
               women_factor=1.05),),
        _blocks(("07:30", "10:30"),), live_delay_s=5.0,
    ),
    Discipline(
        "SAL", "Sailing", Shape.RACE, Scoring.TIME, 60,
        (_race("ILCA7", "Dinghy (ILCA)", 2_700_000, ("MARK1", "MARK2"), competitors=20,
               women_factor=1.04),
         _race("FORMULAKITE", "Kite", 900_000, ("MARK1",), competitors=10, unit_minutes=25)),
        _blocks(("12:00", "17:00"),), live_delay_s=10.0,
    ),
    # Head-to-head.
    Discipline(
        "FBL", "Football", Shape.HEAD_TO_HEAD, Scoring.GOALS, 115,
        (EventSpec("TEAM11", "Football", team=True),), _KICKOFFS,
        draws=True, live_delay_s=5.0, sessions_per_day=1,
        rules=MatchRules(_halves(45, 2, "H"), _halves(15, 2, "ET"), shootout=True,
                         rate=1.35 / 90, real_per_clock=1.05, break_minutes=15),
    ),
    Discipline(
        "BKB", "Basketball", Shape.HEAD_TO_HEAD, Scoring.POINTS, 120,
        (EventSpec("TEAM5", "Basketball", team=True),), _blocks(
            ("11:00", "13:15"), ("15:00", "17:15"), ("17:30", "19:45"), ("21:00", "23:15")),
        live_delay_s=5.0, changeover_minutes=15,
        rules=MatchRules(_halves(10, 4, "Q"), (Period("OT1", 5),), rate=0.95,
                         points=(2, 2, 2, 3, 1), real_per_clock=2.4, break_minutes=2,
                         half_time=15),
    ),
    Discipline(
        "BK3", "3x3 Basketball", Shape.HEAD_TO_HEAD, Scoring.POINTS, 25,
        (EventSpec("TEAM3", "3x3 Basketball", team=True),), _DAY2,
        live_delay_s=5.0,
        rules=MatchRules((Period("P1", 10),), (Period("OT1", 2),), rate=1.0, points=(1, 1, 2),
                         real_per_clock=1.6),
    ),
    Discipline(
        "HBL", "Handball", Shape.HEAD_TO_HEAD, Scoring.GOALS, 90,
        (EventSpec("TEAM7", "Handball", team=True),), _blocks(
            ("09:30", "11:15"), ("11:30", "13:15"), ("14:30", "16:15"), ("16:30", "18:15"),
            ("19:30", "21:15"), ("21:30", "23:15")),
        draws=True, live_delay_s=6.0,
        rules=MatchRules(_halves(30, 2, "H"), _halves(5, 2, "ET"), shootout=True, rate=28 / 60,
                         real_per_clock=1.25, break_minutes=10),
    ),
    Discipline(
        "HOC", "Hockey", Shape.HEAD_TO_HEAD, Scoring.GOALS, 100,
        (EventSpec("TEAM11", "Hockey", team=True),), _blocks(
            ("10:00", "11:50"), ("12:30", "14:20"), ("19:00", "20:50"), ("21:30", "23:20")),
        draws=True, live_delay_s=6.0,
        rules=MatchRules(_halves(15, 4, "Q"), shootout=True, rate=2.6 / 60, real_per_clock=1.3,
                         break_minutes=2, half_time=10),
    ),
    Discipline(
        "WPO", "Water polo", Shape.HEAD_TO_HEAD, Scoring.GOALS, 80,
        (EventSpec("TEAM7", "Water polo", team=True),), _blocks(
            ("11:00", "12:30"), ("12:45", "14:15"), ("18:30", "20:00"), ("20:15", "21:45")),
        draws=True, live_delay_s=6.0,
        rules=MatchRules(_halves(8, 4, "Q"), shootout=True, rate=10 / 32, real_per_clock=2.1,
                         break_minutes=3),
    ),
    Discipline(
        "RU7", "Rugby sevens", Shape.HEAD_TO_HEAD, Scoring.POINTS, 30,
        (EventSpec("TEAM7", "Rugby sevens", team=True),), _DAY2,
        draws=True, live_delay_s=5.0,
        rules=MatchRules(_halves(7, 2, "H"), _halves(5, 2, "ET"), rate=0.2, points=(5, 7),
                         real_per_clock=1.2, break_minutes=2),
    ),
    Discipline(
        "TEN", "Tennis", Shape.HEAD_TO_HEAD, Scoring.SETS, 150,
        (EventSpec("SINGLES", "Singles"), EventSpec("DOUBLES", "Doubles", genders="MWX")),
        _blocks(("11:00", "17:00"), ("17:30", "23:30")), live_delay_s=8.0, rules=_SETS["TEN"],
    ),
    Discipline(
        "VVO", "Volleyball", Shape.HEAD_TO_HEAD, Scoring.SETS, 120,
        (EventSpec("TEAM6", "Volleyball", team=True),), _DAY3,
        live_delay_s=6.0, changeover_minutes=30, rules=_SETS["VVO"],
    ),
    Discipline(
        "VBV", "Beach volleyball", Shape.HEAD_TO_HEAD, Scoring.SETS, 60,
        (EventSpec("TEAM2", "Beach volleyball", team=True),), _blocks(
            ("09:00", "13:00"), ("14:00", "18:30"), ("21:00", "23:59")),
        live_delay_s=6.0, changeover_minutes=15, rules=_SETS["VBV"],
    ),
    Discipline(
        "BDM", "Badminton", Shape.HEAD_TO_HEAD, Scoring.SETS, 55,
        (EventSpec("SINGLES", "Singles"), EventSpec("DOUBLES", "Doubles", genders="MWX")),
        _DAY3, live_delay_s=7.0, rules=_SETS["BDM"],
    ),
    Discipline(
        "TTE", "Table tennis", Shape.HEAD_TO_HEAD, Scoring.SETS, 50,
        (EventSpec("SINGLES", "Singles"), EventSpec("TEAM", "Team", team=True)),
        _DAY3, live_delay_s=7.0, rules=_SETS["TTE"],
    ),
    Discipline(
        "ARC", "Archery", Shape.HEAD_TO_HEAD, Scoring.SETS, 15,
        (EventSpec("INDIVIDUAL", "Individual"), EventSpec("TEAM", "Team", team=True)),
        _blocks(("09:30", "12:30"), ("14:15", "17:30")), live_delay_s=8.0, rules=_SETS["ARC"],
    ),
    Discipline(
        "JUD", "Judo", Shape.HEAD_TO_HEAD, Scoring.BOUT, 8,
        (EventSpec("73KG", "-73 kg"), EventSpec("63KG", "-63 kg", genders="W")), _DAY2,
        live_delay_s=6.0, changeover_minutes=2,
        rules=MatchRules((Period("R1", 4),), (Period("GS", 3),), rate=0.18, real_per_clock=1.5),
    ),
    Discipline(
        "FEN", "Fencing", Shape.HEAD_TO_HEAD, Scoring.BOUT, 20,
        (EventSpec("FOIL", "Foil individual"), EventSpec("FOILTEAM", "Foil team", team=True,
                                                        unit_minutes=50)),
        _DAY2, live_delay_s=6.0,
        rules=MatchRules(_halves(3, 3, "P"), (Period("PRIO", 1),), rate=1.3, real_per_clock=1.6,
                         break_minutes=1, cap=15),
    ),
    Discipline(
        "BOX", "Boxing", Shape.HEAD_TO_HEAD, Scoring.BOUT, 14,
        (EventSpec("51KG", "51 kg"), EventSpec("57KG", "57 kg")), _blocks(
            ("11:00", "14:30"), ("20:00", "23:30")),
        live_delay_s=6.0, changeover_minutes=3,
        rules=MatchRules(_halves(3, 3, "R"), (Period("JUDGES", 0.5),), rate=0.9,
                         real_per_clock=1.0, break_minutes=1),
    ),
    Discipline(
        "WRE", "Wrestling", Shape.HEAD_TO_HEAD, Scoring.BOUT, 10,
        (EventSpec("FS74KG", "Freestyle 74 kg", genders="M"),
         EventSpec("FS62KG", "Freestyle 62 kg", genders="W")), _DAY2,
        live_delay_s=6.0, changeover_minutes=2,
        rules=MatchRules(_halves(3, 2, "P"), (Period("CRIT", 0.5),), rate=0.7, break_minutes=0.5),
    ),
    Discipline(
        "TKW", "Taekwondo", Shape.HEAD_TO_HEAD, Scoring.BOUT, 12,
        (EventSpec("68KG", "-68 kg", genders="M"), EventSpec("57KG", "-57 kg", genders="W")),
        _DAY2, live_delay_s=6.0, changeover_minutes=3,
        rules=MatchRules(_halves(2, 3, "R"), (Period("GR", 1),), rate=1.1, points=(2, 1, 3, 4),
                         break_minutes=1),
    ),
    # Judged or scored.
    Discipline(
        "GAR", "Artistic gymnastics", Shape.JUDGED, Scoring.JUDGES, 30,
        (_judged("RINGS", "Rings", 14.6, 0.35, genders="M", competitors=8, routine_seconds=150),
         _judged("VAULT", "Vault", 14.5, 0.35, competitors=8, routines=2, routine_seconds=90),
         _judged("BALANCEBEAM", "Balance beam", 14.0, 0.45, genders="W", competitors=8,
                 routine_seconds=180)),
        _blocks(("12:30", "16:30"),), live_delay_s=10.0,
    ),
    Discipline(
        "GTR", "Trampoline", Shape.JUDGED, Scoring.JUDGES, 40,
        (_judged("INDIVIDUAL", "Individual", 59.0, 1.2, competitors=8, routine_seconds=150),),
        _blocks(("12:00", "16:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "GRY", "Rhythmic gymnastics", Shape.JUDGED, Scoring.JUDGES, 45,
        (_judged("INDIVIDUAL", "Individual all-around", 34.0, 1.0, genders="W", competitors=10,
                 routines=4, routine_seconds=150),),
        _blocks(("14:30", "18:30"),), live_delay_s=10.0,
    ),
    Discipline(
        "DIV", "Diving", Shape.JUDGED, Scoring.JUDGES, 75,
        (_judged("3MSPRINGBOARD", "3 m springboard", 82.0, 4.0, competitors=12, routines=5,
                 routine_seconds=80),
         _judged("10MPLATFORM", "10 m platform", 85.0, 4.5, competitors=12, routines=5,
                 routine_seconds=80)),
        _blocks(("10:00", "12:30"), ("15:00", "17:30")), live_delay_s=10.0,
    ),
    Discipline(
        "SWA", "Artistic swimming", Shape.JUDGED, Scoring.JUDGES, 90,
        (_judged("TEAM", "Team", 290.0, 8.0, genders="W", competitors=10, routine_seconds=240,
                 team=True),),
        _blocks(("19:30", "22:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "EQU", "Equestrian", Shape.JUDGED, Scoring.JUDGES, 180,
        (_judged("DRESSAGEIND", "Dressage individual", 80.0, 1.6, genders="X", competitors=18,
                 routine_seconds=480),
         _judged("JUMPINGIND", "Jumping individual", 4.0, 2.0, genders="X", competitors=30,
                 routine_seconds=120, lower_is_better=True, unit_minutes=120)),
        _blocks(("10:00", "13:30"), ("14:30", "18:30")), live_delay_s=10.0, sessions_per_day=1,
    ),
    Discipline(
        "SHO", "Shooting", Shape.JUDGED, Scoring.JUDGES, 60,
        (_judged("25MRAPIDFIRE", "25 m rapid fire pistol", 29.0, 0.8, competitors=6, routines=6,
                 routine_seconds=60, genders="M"),
         _judged("SKEET", "Skeet", 24.0, 0.5, competitors=6, routines=4, routine_seconds=100,
                 genders="MW")),
        _blocks(("09:00", "12:30"), ("13:30", "17:00")), live_delay_s=10.0,
    ),
    Discipline(
        "WLF", "Weightlifting", Shape.JUDGED, Scoring.JUDGES, 120,
        (_judged("61KG", "61 kg", 105.0, 4.0, genders="M", competitors=12, routines=6,
                 routine_seconds=60),
         _judged("49KG", "49 kg", 70.0, 3.0, genders="W", competitors=12, routines=6,
                 routine_seconds=60)),
        _blocks(("15:00", "17:30"), ("19:30", "22:00")), live_delay_s=10.0,
    ),
    Discipline(
        "GLF", "Golf", Shape.JUDGED, Scoring.JUDGES, 300,
        (_judged("INDIVIDUAL", "Individual stroke play", 23.0, 0.6, competitors=60, routines=3,
                 routine_seconds=300, lower_is_better=True),),
        _blocks(("08:00", "15:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "CLB", "Sport climbing", Shape.JUDGED, Scoring.JUDGES, 120,
        (_judged("BOULDERLEAD", "Boulder and lead", 60.0, 5.0, competitors=8, routines=2,
                 routine_seconds=240),),
        _blocks(("10:00", "13:00"), ("13:30", "16:30")), live_delay_s=10.0,
    ),
    Discipline(
        "MPN", "Modern pentathlon", Shape.JUDGED, Scoring.JUDGES, 150,
        (_judged("INDIVIDUAL", "Individual", 300.0, 8.0, competitors=18, routines=4,
                 routine_seconds=240),),
        _blocks(("12:00", "17:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "SKB", "Skateboarding", Shape.JUDGED, Scoring.JUDGES, 90,
        (_judged("PARK", "Park", 90.0, 2.5, competitors=8, routines=3, routine_seconds=60),),
        _blocks(("12:30", "15:30"),), live_delay_s=10.0,
    ),
    Discipline(
        "BMF", "Cycling BMX freestyle", Shape.JUDGED, Scoring.JUDGES, 90,
        (_judged("PARK", "Park", 90.0, 2.5, competitors=9, routines=2, routine_seconds=60),),
        _blocks(("12:00", "15:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "SRF", "Surfing", Shape.JUDGED, Scoring.JUDGES, 35,
        (_judged("SHORTBOARD", "Shortboard", 13.0, 1.5, competitors=2, routines=4,
                 routine_seconds=240),),
        _blocks(("07:00", "16:00"),), live_delay_s=10.0,
    ),
    Discipline(
        "BKG", "Breaking", Shape.JUDGED, Scoring.JUDGES, 20,
        (_judged("BATTLE", "Battle", 9.0, 1.0, genders="MW", competitors=2, routines=3,
                 routine_seconds=60),),
        _blocks(("16:00", "22:00"),), live_delay_s=10.0,
    ),
)
# fmt: on

_BY_CODE = {entry.code: entry for entry in DISCIPLINES}


def discipline(code: str) -> Discipline:
    """The discipline with ODF code ``code``.

    Raises:
        UnknownCodeError: no discipline has that code.
    """
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCodeError(f"unknown discipline code {code!r}") from None
