"""The estimated end of every unit: its schedule, moved by what the documents say happened.

``results.unit-clock`` folds each unit's schedule changes and result snapshots from
``results.units`` (both keyed by unit, so they meet in one partition) into a :class:`UnitClock`,
and emits a :class:`~.schemas.UnitEndEstimated` on ``results.units`` whenever the estimate moves.
Every time here is **event time**: the time of the document that said it (an ODF header's
``Date``/``Time``, a native document's ``generated_at``), never the time Flambeau received it,
so a replayed day or a source whose clock differs from ours gets the same estimates.

The rules, in order:

1. **Length.** The schedule's end minus its start (the last pair a document gave both of);
   without a scheduled end, the sport's regulation from :data:`~.periods.PERIOD_TABLE`; a
   unit with neither (a race without an end) has no estimate.
2. **Start.** When play began (the first document showing the unit RUNNING, LIVE or in a
   period): later than scheduled is a ``late_start``. Before play begins, a unit that is
   DELAYED or whose scheduled start has passed cannot start before the latest document's time
   (``delayed``), so its estimate moves on with each document.
3. **Interruptions.** Time spent INTERRUPTED, and the current interruption so far, is added
   (``interrupted``).
4. **Periods**, from the row of the unit's sport: extra time (all the periods the laws play
   once it begins, and any beyond), a shoot-out, tie-breaks, and sets beyond the straight
   sets (``extra_time``, ``shootout``, ``tie_break``, ``added_period``). Timed races and
   judged events have no row: they end at their schedule, moved only by rules 2 and 3.
5. **Finished.** A FINISHED unit's estimate is the time it finished (``finished``).
   A CANCELLED, POSTPONED or UNSCHEDULED unit has none until it is scheduled again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from flambeau.services.results.outcomes import Step, Verdict, route
from flambeau.services.results.periods import PeriodLengths, lengths_of, period_kind
from flambeau.services.results.schemas import (
    UNITS,
    EndAdjustment,
    Feed,
    Period,
    PeriodKind,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)
from flambeau.services.results.statuses import ResultStatus, UnitStatus

__all__ = ["UnitClock", "clock_state_key", "estimate", "observe_unit"]

_IN_PLAY = frozenset({ResultStatus.LIVE, ResultStatus.INTERMEDIATE})
_OVER = frozenset(ResultStatus) - _IN_PLAY - {ResultStatus.START_LIST}
_NO_END = frozenset({UnitStatus.CANCELLED, UnitStatus.POSTPONED, UnitStatus.UNSCHEDULED})


class UnitClock(msgspec.Struct, frozen=True, kw_only=True):
    """What the estimate of one unit's end is made of.

    Attributes:
        competition: The competition code.
        unit: The unit's RSC.
        discipline: Its discipline code (which row of the period table applies).
        feed: Production or test.
        start: Scheduled start.
        end: Scheduled end.
        length: Scheduled length (end minus start, from the last document giving both).
        status: Latest unit status.
        started_at: When play began.
        interrupted_at: When the current interruption began.
        paused: Time spent interrupted before the current interruption.
        periods: The period codes seen, in order.
        tie_breaks: The sets that went to a tie-break.
        finished_at: When the unit finished.
        at: The latest document time seen.
        estimated_end: The estimate last emitted.
        adjustments: Its adjustments.
    """

    competition: str
    unit: str
    discipline: str
    feed: Feed = Feed.PRODUCTION
    start: datetime | None = None
    end: datetime | None = None
    length: timedelta | None = None
    status: UnitStatus | None = None
    started_at: datetime | None = None
    interrupted_at: datetime | None = None
    paused: timedelta = timedelta(0)
    periods: tuple[str, ...] = ()
    tie_breaks: tuple[str, ...] = ()
    finished_at: datetime | None = None
    at: datetime | None = None
    estimated_end: datetime | None = None
    adjustments: tuple[EndAdjustment, ...] = ()


def clock_state_key(event: UnitResult | UnitScheduleChanged) -> str:
    """The state key of ``event``'s unit: competition, feed, unit."""
    return f"clock/{event.competition}/{event.feed.value}/{event.unit}"


def observe_unit(
    state: UnitClock | None, event: UnitResult | UnitScheduleChanged, at: datetime
) -> Step[UnitClock]:
    """Fold one schedule change or result snapshot, of event time ``at``, into the clock.

    Returns:
        ``APPLIED`` with a :class:`UnitEndEstimated` (on ``results.units``, key: the unit)
        when the estimate or its adjustments moved; ``UNCHANGED`` otherwise.
    """
    clock = state or UnitClock(
        competition=event.competition,
        unit=event.unit,
        discipline=event.discipline,
        feed=event.feed,
    )
    clock = _times(clock, event.start, event.end)
    clock = msgspec.structs.replace(clock, at=at if clock.at is None else max(clock.at, at))
    if isinstance(event, UnitScheduleChanged):
        clock = _status(clock, event.status, at)
    else:
        if event.unit_status is not None:
            clock = _status(clock, event.unit_status, at)
        elif event.status in _OVER and clock.finished_at is None:
            clock = msgspec.structs.replace(clock, finished_at=at)  # ODF: no unit status here
        elif event.status in _IN_PLAY or event.current_period or event.periods:
            clock = msgspec.structs.replace(clock, started_at=clock.started_at or at)
        clock = _periods(clock, event.periods, event.current_period)
    found = estimate(clock)
    end, adjustments = found if found is not None else (None, ())
    if end is None or (end, adjustments) == (clock.estimated_end, clock.adjustments):
        return Step(clock, Verdict.UNCHANGED)
    clock = msgspec.structs.replace(clock, estimated_end=end, adjustments=adjustments)
    estimated = UnitEndEstimated(
        competition=clock.competition,
        unit=clock.unit,
        discipline=clock.discipline,
        estimated_end=end,
        scheduled_start=clock.start,
        scheduled_end=clock.end,
        started_at=clock.started_at,
        adjustments=adjustments,
        feed=clock.feed,
    )
    return Step(clock, Verdict.APPLIED, (route(UNITS, clock.feed, clock.unit, estimated),))


def estimate(clock: UnitClock) -> tuple[datetime, tuple[EndAdjustment, ...]] | None:
    """The unit's estimated end and why it moved, or ``None`` when nothing gives an end."""
    if clock.finished_at is not None:
        return clock.finished_at, (EndAdjustment.FINISHED,)
    if clock.start is None or clock.status in _NO_END:
        return None
    row = lengths_of(clock.discipline)
    length = clock.length if clock.length is not None else (row.regulation if row else None)
    if length is None:
        return None
    adjustments: list[EndAdjustment] = []
    if clock.started_at is not None:
        begin = clock.started_at
        if begin > clock.start:
            adjustments.append(EndAdjustment.LATE_START)
    else:
        begin = clock.start
        now = clock.at or begin
        if clock.status is UnitStatus.DELAYED or now > begin:
            begin = max(begin, now)
            adjustments.append(EndAdjustment.DELAYED)
    paused = clock.paused
    if clock.interrupted_at is not None and clock.at is not None:
        paused += max(clock.at - clock.interrupted_at, timedelta(0))
    if paused > timedelta(0):
        adjustments.append(EndAdjustment.INTERRUPTED)
    added = timedelta(0)
    if row is not None:
        added, more = _added(row, clock)
        adjustments.extend(more)
    return begin + length + paused + added, tuple(adjustments)


def _added(row: PeriodLengths, clock: UnitClock) -> tuple[timedelta, list[EndAdjustment]]:
    """What the periods seen add to the schedule's length, per the sport's row."""
    kinds = [period_kind(code) for code in clock.periods]
    added = timedelta(0)
    adjustments: list[EndAdjustment] = []
    if row.sets:
        played = kinds.count(PeriodKind.REGULAR)
        for number in range(row.regular + 1, played + 1):
            added += row.added_set(number)
        if played > row.regular:
            adjustments.append(EndAdjustment.ADDED_PERIOD)
        if clock.tie_breaks and row.tie_break:
            added += len(clock.tie_breaks) * row.tie_break
            adjustments.append(EndAdjustment.TIE_BREAK)
        return added, adjustments
    extra = kinds.count(PeriodKind.EXTRA_TIME)
    if extra and row.extra_periods:
        rounds = -(-extra // row.extra_periods)  # overtimes begun, each of extra_periods
        added += rounds * row.extra_break + rounds * row.extra_periods * row.extra_period
        adjustments.append(EndAdjustment.EXTRA_TIME)
    if PeriodKind.SHOOTOUT in kinds and row.shootout:
        added += row.shootout
        adjustments.append(EndAdjustment.SHOOTOUT)
    return added, adjustments


def _times(clock: UnitClock, start: datetime | None, end: datetime | None) -> UnitClock:
    if start is None and end is None:
        return clock
    new_start = start or clock.start
    new_end = end or clock.end
    length = clock.length
    if start is not None and end is not None and end > start:
        length = end - start
    return msgspec.structs.replace(clock, start=new_start, end=new_end, length=length)


def _status(clock: UnitClock, status: UnitStatus, at: datetime) -> UnitClock:
    started_at, interrupted_at, paused = clock.started_at, clock.interrupted_at, clock.paused
    finished_at = clock.finished_at
    if status in (UnitStatus.RUNNING, UnitStatus.INTERRUPTED, UnitStatus.FINISHED):
        started_at = started_at or at
    if status is UnitStatus.INTERRUPTED:
        interrupted_at = interrupted_at or at
    elif interrupted_at is not None:
        paused += max(at - interrupted_at, timedelta(0))
        interrupted_at = None
    # a unit said finished and then not: the source's latest word wins
    finished_at = (finished_at or at) if status is UnitStatus.FINISHED else None
    return msgspec.structs.replace(
        clock,
        status=status,
        started_at=started_at,
        interrupted_at=interrupted_at,
        paused=paused,
        finished_at=finished_at,
    )


def _periods(clock: UnitClock, periods: tuple[Period, ...], current: str | None) -> UnitClock:
    codes = list(clock.periods)
    for code in [*(p.code for p in periods), *([current] if current else [])]:
        if code not in codes:
            codes.append(code)
    row = lengths_of(clock.discipline)
    tie_breaks = list(clock.tie_breaks)
    if row is not None and row.tie_break_at:
        games = row.tie_break_at
        for period in periods:
            scores = {period.home_period_score, period.away_period_score}
            if scores in ({games}, {games, games + 1}) and period.code not in tie_breaks:
                tie_breaks.append(period.code)
    if tuple(codes) == clock.periods and tuple(tie_breaks) == clock.tie_breaks:
        return clock
    return msgspec.structs.replace(clock, periods=tuple(codes), tie_breaks=tuple(tie_breaks))
