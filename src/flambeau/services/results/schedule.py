"""Schedule per day and venue, from schedule documents.

A discipline's ``DT_SCHEDULE`` is its whole schedule and resets everything known before; a
``DT_SCHEDULE_UPDATE`` changes the units it lists. The two are separate ODF documents, each
with its own version sequence, so the state per discipline (:func:`schedule_state_key`) tracks
both, and an update generated before the full schedule in force is stale even if its version
is new.

Each applied document emits, in order:

- a :class:`UnitScheduleChanged` on ``results.units`` per unit whose entry changed (a unit a
  reset drops becomes UNSCHEDULED, without times);
- a :class:`VenueDaySchedule` on ``results.schedule`` for every (day, venue) a changed unit
  left or joined: the discipline's full list there, in start order. Days are Games local days.

Status moves the unit machine forbids (FINISHED -> RUNNING) are applied, since the source's
latest snapshot wins, and reported in ``Step.irregular``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

import msgspec

from flambeau.errors import IllegalTransitionError
from flambeau.services.results.codes import GAMES_TZ
from flambeau.services.results.outcomes import Emit, Step, Verdict, route
from flambeau.services.results.schemas import (
    SCHEDULE,
    UNITS,
    ScheduleDocument,
    ScheduleEntry,
    UnitScheduleChanged,
    VenueDaySchedule,
)
from flambeau.services.results.statuses import UnitStatus, advance_unit_status

__all__ = ["ScheduleState", "apply_schedule", "day_of", "schedule_state_key"]

Slot = tuple[date, str]
"""A (Games local day, venue) pair."""


class ScheduleState(msgspec.Struct, frozen=True, kw_only=True):
    """One discipline's schedule as the documents so far describe it.

    Attributes:
        full_version: Version of the ``DT_SCHEDULE`` in force (0: none yet).
        update_version: Highest ``DT_SCHEDULE_UPDATE`` version applied (0: none).
        baseline_at: When the full schedule in force was generated.
        units: Every unit's entry, by unit code.
        stale: How many documents were ignored as older or equal versions.
    """

    full_version: int = 0
    update_version: int = 0
    baseline_at: datetime | None = None
    units: dict[str, ScheduleEntry] = {}
    stale: int = 0


def schedule_state_key(doc: ScheduleDocument) -> str:
    """The state key of ``doc``'s discipline: competition, feed, discipline."""
    return f"{doc.competition}/{doc.feed.value}/{doc.discipline}"


def day_of(moment: datetime, tz: tzinfo = GAMES_TZ) -> date:
    """The Games local day of ``moment``."""
    return moment.astimezone(tz).date()


def apply_schedule(
    state: ScheduleState | None, doc: ScheduleDocument, *, tz: tzinfo = GAMES_TZ
) -> Step[ScheduleState]:
    """Apply a full schedule or a schedule update to a discipline's schedule.

    Args:
        state: The discipline's state under :func:`schedule_state_key`, or ``None``.
        doc: The document.
        tz: The zone whose calendar days group the schedule (the Games' local time).

    Returns:
        ``STALE`` (counter bumped) for an old version, or an update generated before the full
        schedule in force; otherwise ``APPLIED`` with the changes to emit (none if the
        document repeats what is known). Test feeds emit to ``results.test``.
    """
    current = ScheduleState() if state is None else state
    if doc.full:
        if doc.version <= current.full_version:
            return _stale(current)
        units = {entry.unit: entry for entry in doc.units}
        new = msgspec.structs.replace(
            current, full_version=doc.version, baseline_at=doc.generated_at, units=units
        )
    else:
        too_old = current.baseline_at is not None and doc.generated_at < current.baseline_at
        if doc.version <= current.update_version or too_old:
            return _stale(current)
        units = {**current.units, **{entry.unit: entry for entry in doc.units}}
        new = msgspec.structs.replace(current, update_version=doc.version, units=units)
    emits: list[Emit] = []
    irregular: list[str] = []
    slots: set[Slot] = set()
    for code in sorted(current.units.keys() | units.keys()):
        before, after = current.units.get(code), units.get(code)
        if before == after:
            continue
        assert before is not None or after is not None
        status = UnitStatus.UNSCHEDULED if after is None else after.status
        try:
            advance_unit_status(None if before is None else before.status, status)
        except IllegalTransitionError as error:
            irregular.append(f"{code}: {error}")
        emits.append(route(UNITS, doc.feed, code, _changed(doc, code, before, after)))
        for entry in (before, after):
            slot = _slot(entry, tz)
            if slot is not None:
                slots.add(slot)
    for day, venue in sorted(slots):
        listed = sorted(
            (entry for entry in units.values() if _slot(entry, tz) == (day, venue)),
            key=_start_order,
        )
        schedule = VenueDaySchedule(
            competition=doc.competition,
            day=day,
            venue=venue,
            discipline=doc.discipline,
            units=tuple(listed),
            version=doc.version,
            feed=doc.feed,
        )
        emits.append(route(SCHEDULE, doc.feed, f"{day.isoformat()}/{venue}", schedule))
    return Step(new, Verdict.APPLIED, tuple(emits), tuple(irregular))


def _stale(state: ScheduleState) -> Step[ScheduleState]:
    return Step(msgspec.structs.replace(state, stale=state.stale + 1), Verdict.STALE)


def _start_order(entry: ScheduleEntry) -> tuple[datetime, str]:
    assert entry.start is not None  # only entries with a slot are listed
    return entry.start, entry.unit


def _slot(entry: ScheduleEntry | None, tz: tzinfo) -> Slot | None:
    if entry is None or entry.start is None:
        return None
    return day_of(entry.start, tz), entry.venue or ""


_SLOT = ("start", "end", "venue", "location", "title", "medal")
"""The fields of a schedule entry a :class:`UnitScheduleChanged` carries as they are."""


def _changed(
    doc: ScheduleDocument, code: str, before: ScheduleEntry | None, after: ScheduleEntry | None
) -> UnitScheduleChanged:
    previous = None if before is None else before.status
    # A full schedule that no longer lists a unit takes its slot away.
    status = UnitStatus.UNSCHEDULED if after is None else after.status
    slot: dict[str, Any] = {} if after is None else {name: getattr(after, name) for name in _SLOT}
    return UnitScheduleChanged(
        competition=doc.competition,
        unit=code,
        discipline=doc.discipline,
        status=status,
        previous_status=previous,
        version=doc.version,
        feed=doc.feed,
        **slot,
    )
