"""The results service's state machines: unit schedule status, result status, source status.

Each is an ``Enum`` plus a :class:`~flambeau.machine.Machine` whose transition raises
:class:`~flambeau.errors.IllegalTransitionError` on a move the machine forbids. Staying in the
same unit or result status is not a move and is always allowed; a new unit or document may
start in any status.

ODF documents are full snapshots ordered by ``Version``, so a snapshot with a higher version is
the source's final word even when its status jumps over states we never saw (a lost message),
and callers apply it; an *illegal* move (FINISHED -> RUNNING) is still applied but reported, so
operators see feeds that contradict themselves.

Unit status (ODF ``ScheduleStatus``)::

    UNSCHEDULED <-> SCHEDULED -> GETTING_READY -> RUNNING -> FINISHED   (forward skips allowed)
                                                  RUNNING <-> INTERRUPTED
                                              INTERRUPTED -> FINISHED | POSTPONED | CANCELLED
    not started yet          -> DELAYED | POSTPONED | RESCHEDULED | CANCELLED
    DELAYED, RESCHEDULED     -> SCHEDULED | GETTING_READY | RUNNING | FINISHED, or another hold
    POSTPONED                -> RESCHEDULED | SCHEDULED | CANCELLED
    FINISHED and CANCELLED are final.

Result status (ODF ``ResultStatus``), by stage; a move may stay in its stage or go to a later
one, never back::

    START_LIST -> LIVE <-> INTERMEDIATE -> UNCONFIRMED -> UNOFFICIAL | PARTIAL
               -> OFFICIAL <-> PROTESTED <-> PROVISIONAL

Source status (liveness)::

    (new) -> UP <-> DOWN        (DOWN after a configured silence; UP when heard again)
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from flambeau.machine import Machine

__all__ = [
    "ResultStatus",
    "SourceStatus",
    "UnitStatus",
    "advance_result_status",
    "advance_source_status",
    "advance_unit_status",
]


class UnitStatus(StrEnum):
    """Where a unit is in its day (ODF ``ScheduleStatus``)."""

    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    GETTING_READY = "getting_ready"
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    DELAYED = "delayed"
    POSTPONED = "postponed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


class ResultStatus(StrEnum):
    """How final a result document is (ODF ``ResultStatus``).

    ``PARTIAL`` is used by medallist documents when only some medals of an event are decided
    (a bronze match played before the final).
    """

    START_LIST = "start_list"
    LIVE = "live"
    INTERMEDIATE = "intermediate"
    UNCONFIRMED = "unconfirmed"
    UNOFFICIAL = "unofficial"
    PARTIAL = "partial"
    OFFICIAL = "official"
    PROTESTED = "protested"
    PROVISIONAL = "provisional"


class SourceStatus(StrEnum):
    """Whether a feed source is heard from."""

    UP = "up"
    DOWN = "down"


StatusT = TypeVar("StatusT", bound=StrEnum)
_U = UnitStatus
_MAIN = (_U.UNSCHEDULED, _U.SCHEDULED, _U.GETTING_READY, _U.RUNNING, _U.FINISHED)
_BEFORE_START = frozenset({_U.UNSCHEDULED, _U.SCHEDULED, _U.GETTING_READY})
_HOLDS = frozenset({_U.DELAYED, _U.POSTPONED, _U.RESCHEDULED, _U.CANCELLED})
_UNIT_TABLE: dict[UnitStatus, frozenset[UnitStatus]] = {
    # forward along the main path, plus the holds while the unit has not started
    **{
        status: frozenset(_MAIN[index + 1 :]) | (_HOLDS if status in _BEFORE_START else frozenset())
        for index, status in enumerate(_MAIN)
    },
    _U.RUNNING: frozenset({_U.FINISHED, _U.INTERRUPTED}),
    _U.INTERRUPTED: frozenset({_U.RUNNING, _U.FINISHED, _U.POSTPONED, _U.CANCELLED}),
    _U.DELAYED: frozenset(
        {_U.SCHEDULED, _U.GETTING_READY, _U.RUNNING, _U.FINISHED}
        | {_U.POSTPONED, _U.RESCHEDULED, _U.CANCELLED}
    ),
    _U.RESCHEDULED: frozenset(
        {_U.SCHEDULED, _U.GETTING_READY, _U.RUNNING, _U.FINISHED}
        | {_U.DELAYED, _U.POSTPONED, _U.CANCELLED}
    ),
    _U.POSTPONED: frozenset({_U.RESCHEDULED, _U.SCHEDULED, _U.CANCELLED}),
    _U.FINISHED: frozenset(),
    _U.CANCELLED: frozenset(),
}
# A unit that lost its slot goes back to UNSCHEDULED; that is a correction, not a contradiction.
_UNIT_TABLE[_U.SCHEDULED] = _UNIT_TABLE[_U.SCHEDULED] | {_U.UNSCHEDULED}

_R = ResultStatus
_RESULT_STAGE: dict[ResultStatus, int] = {
    _R.START_LIST: 0,
    _R.LIVE: 1,
    _R.INTERMEDIATE: 1,
    _R.UNCONFIRMED: 2,
    _R.UNOFFICIAL: 3,
    _R.PARTIAL: 3,
    _R.OFFICIAL: 4,
    _R.PROTESTED: 4,
    _R.PROVISIONAL: 4,
}


def _explain(old: object, new: object, machine: str) -> str:
    return f"illegal {machine} move {old} -> {new}"


def _machine(
    name: str, table: dict[StatusT, frozenset[StatusT]], start: frozenset[StatusT]
) -> Machine[StatusT]:
    """A machine over ``table`` where staying put is allowed and ``None`` starts anywhere."""
    moves: dict[StatusT | None, frozenset[StatusT]] = {None: start}
    moves.update({status: targets | {status} for status, targets in table.items()})
    return Machine(name, moves, explain=lambda old, new, _: _explain(old, new, name))


_UNITS = _machine("unit status", _UNIT_TABLE, frozenset(UnitStatus))
_RESULTS = _machine(
    "result status",
    {old: frozenset(n for n in _R if _RESULT_STAGE[n] >= _RESULT_STAGE[old]) for old in _R},
    frozenset(ResultStatus),
)
_SOURCES = Machine(
    "source status",
    {
        None: {SourceStatus.UP, SourceStatus.DOWN},
        SourceStatus.UP: {SourceStatus.DOWN},
        SourceStatus.DOWN: {SourceStatus.UP},
    },
    explain=lambda old, new, _: _explain(old, new, "source status"),
)


def advance_unit_status(old: UnitStatus | None, new: UnitStatus) -> UnitStatus:
    """Move a unit's schedule status from ``old`` (``None``: never seen) to ``new``.

    Returns:
        ``new``.

    Raises:
        IllegalTransitionError: the machine forbids the move (e.g. FINISHED -> RUNNING).
    """
    return _UNITS.transition(old, new)


def advance_result_status(old: ResultStatus | None, new: ResultStatus) -> ResultStatus:
    """Move a result document's status from ``old`` (``None``: first document) to ``new``.

    Returns:
        ``new``.

    Raises:
        IllegalTransitionError: ``new`` belongs to an earlier stage (e.g. OFFICIAL -> LIVE).
    """
    return _RESULTS.transition(old, new)


def advance_source_status(old: SourceStatus | None, new: SourceStatus) -> SourceStatus:
    """Move a source between UP and DOWN; a new source may start in either.

    Unlike the other machines, staying put is refused: liveness emits each transition exactly
    once, so asking for the status a source already has is a caller bug.

    Raises:
        IllegalTransitionError: ``old == new``.
    """
    return _SOURCES.transition(old, new)
