"""The cut-off rush: a scripted moment with hundreds of live matches near their cut-off at once.

A real Games day has a few dozen matches; the betting service's promise is that changes and
cash-outs hold up to the cut-off across hundreds of events at once. The ``cutoff_rush``
incident (scripted, never drawn at random) adds ``events`` (default :data:`RUSH_EVENTS`) extra
football group matches at one venue, scheduled so that at the incident's time ``at`` every one
of them is in play and its cut-off (5 minutes before the end of play) falls within the next
:data:`RUSH_WINDOW`, spread evenly over it: match ``i`` (of ``n``) ends its play at

    end_i = at + 5 min + 10 min * i / (n + 1)

and starts however long before that its own result progression plays (half-times, stoppage
time: the progression is drawn from the seed and the unit's code, so it is played once to
measure it, then the unit is moved to start that long before ``end_i``). The betting service
moves each cut-off with the results service's estimate of the end, which follows the play.

Everything else follows from the day's generators: each match gets a result progression and
in-play bets (at :data:`RUSH_BETS_PER_MINUTE` per match, far below a real match's popularity,
so 300 of them stay playable on a small machine), and :mod:`.ticket_moves` draws the bettors'
changes and cash-outs, with its burst in the 3 minutes before each match's cut-off and a few
just after it: in all, a burst of changes and cash-outs over the 10 minutes after ``at``, on
300 events whose cut-offs all fall inside it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from flambeau.scenario.generators.progressions import progression
from flambeau.scenario.generators.ticket_moves import CUTOFF
from flambeau.scenario.schedule import Unit
from flambeau.scenario.sports import discipline
from flambeau.services.results.codes import rsc

__all__ = [
    "MAX_RUSH_EVENTS",
    "RUSH_BETS_PER_MINUTE",
    "RUSH_DISCIPLINE",
    "RUSH_EVENTS",
    "RUSH_PHASE",
    "RUSH_WINDOW",
    "rush_units",
]

RUSH_EVENTS = 300
"""How many matches a ``cutoff_rush`` adds unless the script says otherwise."""
RUSH_WINDOW = timedelta(minutes=10)
"""Every rush match's cut-off falls within this long after the incident's time."""
RUSH_DISCIPLINE = "FBL"
RUSH_PHASE = "GPZ"
"""The RSC phase of the rush's matches (a group no real schedule uses)."""
RUSH_BETS_PER_MINUTE = 0.3
"""In-play bets per rush match and minute of play (before the run's rate multiplier)."""
MAX_RUSH_EVENTS = 9_999
"""The most matches one rush may add (the RSC unit number has four digits)."""


def rush_units(at: datetime, events: int, venue: str, seed: int) -> tuple[Unit, ...]:
    """The matches of a cut-off rush at ``at``, at ``venue``, for the run's ``seed``.

    Raises:
        ValueError: ``events`` is not between 1 and :data:`MAX_RUSH_EVENTS`.
    """
    if not 1 <= events <= MAX_RUSH_EVENTS:
        raise ValueError(f"a cut-off rush has 1 to {MAX_RUSH_EVENTS} events, got {events}")
    spec = discipline(RUSH_DISCIPLINE)
    event = spec.events[0]
    duration = timedelta(minutes=event.unit_minutes or spec.unit_minutes)
    units = []
    for number in range(1, events + 1):
        gender = "M" if number % 2 else "W"
        end = at + CUTOFF + RUSH_WINDOW * number / (events + 1)
        unit = Unit(
            code=rsc(RUSH_DISCIPLINE, gender, event.code, RUSH_PHASE, f"{number:04d}00"),
            discipline=RUSH_DISCIPLINE,
            gender=gender,
            event=event.code,
            phase=RUSH_PHASE,
            venue=venue,
            field=f"{venue}-RUSH",
            session=f"{venue}-RUSH",
            start=end - duration,
            duration=duration,
            competitors=2,
            draw_allowed=True,
        )
        played = progression(unit, seed).finished_at - unit.start
        units.append(replace(unit, start=end - played))
    return tuple(sorted(units, key=lambda u: (u.start, u.code)))
