"""How long the periods of each head-to-head sport last, in wall-clock time: the one table.

:func:`~.estimates.estimate` takes the length of a unit from its schedule (start to end) and adds
what the laws of the sport add when play goes on: extra time, a shoot-out, a tie-break, a set
beyond the straight sets. It finds those lengths here, per ODF discipline code.

Every length is **wall-clock** time, not playing time: a football half is 45 minutes of play
plus the stoppage time usually added; a basketball quarter is 10 minutes of game clock, which
stops at every whistle, so about 24 minutes of real time. The playing times and intervals come
from each sport's laws (sources in ``docs/results.md``, section "Estimated end"); the margins
added to them for stoppages are this table's own estimates, stated in each row's comment.

How a row reads:

- **Clock sports** (football, basketball, handball, hockey, rugby sevens, water polo):
  ``regular`` periods of ``period`` each, ``interval`` between them (``half_time`` at the middle);
  when the score is level and a winner is needed, ``extra_periods`` of ``extra_period`` after an
  ``extra_break`` (a sudden-death sport plays them one at a time: each one seen adds one), then a
  ``shootout``.
- **Set sports** (tennis, volleyball, beach volleyball): ``regular`` is the number of sets of a
  straight-sets win, which the schedule's slot is taken to cover; each set beyond them adds
  ``period`` plus an ``interval`` (the deciding set ``deciding_period``), and each set that
  reaches ``tie_break_at`` games all adds a ``tie_break``.

Timed races and judged events have no row: they end at their schedule, moved only by a late
start, a delay or an interruption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flambeau.services.results.schemas import PeriodKind

__all__ = ["PERIOD_TABLE", "PeriodLengths", "lengths_of", "period_kind"]


def _min(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


@dataclass(frozen=True)
class PeriodLengths:
    """The wall-clock lengths of one sport's periods (see the module docstring).

    Attributes:
        sport: The sport's name.
        disciplines: Its ODF discipline codes.
        regular: Regular periods (clock sports), or sets of a straight-sets win (set sports).
        period: Wall-clock length of one regular period or set.
        interval: Break between two periods (or sets).
        half_time: Break at half time (clock sports with an even number of periods).
        extra_periods: Extra periods played once extra time begins; 1 for sudden death.
        extra_period: Wall-clock length of one extra period.
        extra_break: Break before extra time, and between its periods.
        shootout: Wall-clock length of a shoot-out (penalties, 7 m throws, shoot-outs).
        sets: Whether the sport is played in sets rather than on a clock.
        deciding_period: Set sports: the deciding set, when shorter (volleyball's fifth).
        max_sets: Set sports: the most sets a match can have.
        tie_break_at: Set sports: games all at which a tie-break decides the set (0: none).
        tie_break: Wall-clock length of a tie-break.
    """

    sport: str
    disciplines: tuple[str, ...]
    regular: int
    period: timedelta
    interval: timedelta = timedelta(0)
    half_time: timedelta = timedelta(0)
    extra_periods: int = 0
    extra_period: timedelta = timedelta(0)
    extra_break: timedelta = timedelta(0)
    shootout: timedelta = timedelta(0)
    sets: bool = False
    deciding_period: timedelta | None = None
    max_sets: int = 0
    tie_break_at: int = 0
    tie_break: timedelta = timedelta(0)

    @property
    def regulation(self) -> timedelta:
        """Regular play and its intervals: the unit's length when the schedule gives no end."""
        breaks = max(self.regular - 1, 0) * self.interval
        if self.half_time and self.regular % 2 == 0:
            breaks += self.half_time - self.interval
        return self.regular * self.period + breaks

    def added_set(self, number: int) -> timedelta:
        """What set ``number`` (1-based) adds when it is beyond the straight sets."""
        deciding = number == self.max_sets and self.deciding_period is not None
        length = self.deciding_period if deciding and self.deciding_period else self.period
        return self.interval + length


PERIOD_TABLE: tuple[PeriodLengths, ...] = (
    # IFAB Law 7: 2 x 45 min, half time <= 15 min, extra time 2 x 15 min; Law 10 penalties.
    # Margins: 3 min stoppage per half, 1 per extra period; 5 min before extra time; a
    # shoot-out of 5 kicks each takes about 12 min.
    PeriodLengths(
        "football", ("FBL",), regular=2, period=_min(48), interval=_min(15),
        extra_periods=2, extra_period=_min(16), extra_break=_min(5), shootout=_min(12),
    ),
    # FIBA Official Basketball Rules art. 8: 4 x 10 min, 2 min between quarters, 15 min half
    # time, 5 min overtimes after 2 min each, as many as needed. Margin: game clock stops,
    # so a quarter takes about 24 min, an overtime about 12.
    PeriodLengths(
        "basketball", ("BKB",), regular=4, period=_min(24), interval=_min(2),
        half_time=_min(15), extra_periods=1, extra_period=_min(12), extra_break=_min(2),
    ),
    # IHF Rules of the Game rule 2: 2 x 30 min, 15 min half time; level: 2 x 5 min after
    # 5 min (1 min between halves), a second such overtime, then 7 m throws. Margins: 3 min
    # of time-outs per half, 1 per extra half; a shoot-out about 8 min.
    PeriodLengths(
        "handball", ("HBL",), regular=2, period=_min(33), interval=_min(15),
        extra_periods=2, extra_period=_min(6), extra_break=_min(5), shootout=_min(8),
    ),
    # FIH Rules of Hockey: 4 x 15 min, 2 min after the first and third quarters, 10 min half
    # time; a level knock-out match goes to a shoot-out. Margins: 3 min of stopped clock per
    # quarter (penalty corners, video referrals); a shoot-out about 10 min.
    PeriodLengths(
        "hockey", ("HOC",), regular=4, period=_min(18), interval=_min(2),
        half_time=_min(10), shootout=_min(10),
    ),
    # World Rugby Law 5, sevens variation: 2 x 7 min, half time <= 2 min; level: periods of
    # <= 5 min after 1 min, sudden death. Margins: 2 min per half, 1 per extra period.
    PeriodLengths(
        "rugby_sevens", ("RU7",), regular=2, period=_min(9), interval=_min(2),
        extra_periods=1, extra_period=_min(6), extra_break=_min(1),
    ),
    # World Aquatics WP 11: 4 x 8 min of actual play, 2 min intervals, 5 min half time; level
    # when a result is needed: a penalty shoot-out at once. Margins: the clock stops at every
    # whistle, so about 14 min per period; a shoot-out about 8 min.
    PeriodLengths(
        "water_polo", ("WPO",), regular=4, period=_min(14), interval=_min(2),
        half_time=_min(5), shootout=_min(8),
    ),
    # ITF Rules of Tennis rules 5 and 7: sets of 6 games, a tie-break game at 6-6; Paris
    # 2024 played best of three sets. No clock: about 40 min a set, 10 min a tie-break,
    # 2 min between sets (the set break of the ITF's 25-second/120-second rule).
    PeriodLengths(
        "tennis", ("TEN",), regular=2, period=_min(40), interval=_min(2), sets=True,
        max_sets=3, tie_break_at=6, tie_break=_min(10),
    ),
    # FIVB Official Volleyball Rules 6.3 and 18.1: best of five sets to 25, the fifth to 15,
    # 3 min between sets. No clock: about 25 min a set, 15 the fifth.
    PeriodLengths(
        "volleyball", ("VVO",), regular=3, period=_min(25), interval=_min(3), sets=True,
        deciding_period=_min(15), max_sets=5,
    ),
    # FIVB Official Beach Volleyball Rules 6.3 and 18.1: best of three sets to 21, the third
    # to 15, 1 min between sets. About 20 min a set, 12 the third.
    PeriodLengths(
        "beach_volleyball", ("VBV",), regular=2, period=_min(20), interval=_min(1), sets=True,
        deciding_period=_min(12), max_sets=3,
    ),
)  # fmt: skip
"""The table: one row per sport."""

_BY_DISCIPLINE = {code: row for row in PERIOD_TABLE for code in row.disciplines}


def lengths_of(discipline: str) -> PeriodLengths | None:
    """The row of ``discipline`` (an ODF code such as ``FBL``); ``None`` for races and the rest."""
    return _BY_DISCIPLINE.get(discipline)


def period_kind(code: str) -> PeriodKind:
    """What an ODF period code names: ``TOT``, ``PSO``/``SO``/``PEN``..., ``ET1``/``OT1``..."""
    upper = code.upper()
    if upper == "TOT":
        return PeriodKind.TOTAL
    if upper.startswith(("PSO", "SO", "SHO", "PEN")):
        return PeriodKind.SHOOTOUT
    if upper.startswith(("ET", "OT", "GS")):
        return PeriodKind.EXTRA_TIME
    return PeriodKind.REGULAR
