"""Unit results: keep the highest version of each result document, emit what changed.

A unit's result document (``DT_RESULT``, or ``DT_CURRENT``, or the same from a native JSON
producer) is a full snapshot with an ascending ``Version``. Per document key, the reducer keeps
only the highest version: an older or equal version is acknowledged, ignored and counted
(``Verdict.STALE``). A newer one is emitted on ``results.units``, and the records it flags or
no longer flags go to ``results.records``.

State, per :func:`result_state_key`, is a small :class:`UnitDocState` (not the snapshot): the
version, the status and the records flagged, so a processor's state stays small however large
the start list.

:func:`fold_unit` is the read side: it folds ``results.units`` into the :class:`UnitView` that
``GET /v1/results/units/{code}`` answers.
"""

from __future__ import annotations

import msgspec

from flambeau.errors import IllegalTransitionError
from flambeau.services.results.outcomes import Emit, Step, Verdict, route
from flambeau.services.results.schemas import (
    RECORDS,
    UNITS,
    CompetitorResult,
    DocumentKind,
    RecordFlagged,
    RecordWithdrawn,
    UnitEndEstimated,
    UnitResult,
    UnitScheduleChanged,
)
from flambeau.services.results.statuses import ResultStatus, advance_result_status

__all__ = ["UnitDocState", "UnitView", "apply_result", "fold_unit", "result_state_key"]

RecordKey = tuple[str, str, bool]
"""A flagged record: competitor code, record code, equalled."""


class UnitDocState(msgspec.Struct, frozen=True, kw_only=True):
    """What the reducer remembers of one result document.

    Attributes:
        version: The highest version applied.
        status: Its result status.
        records: The records that version flags (only ``DT_RESULT`` documents flag records).
        stale: How many older or equal versions were ignored.
    """

    version: int
    status: ResultStatus
    records: tuple[RecordKey, ...] = ()
    stale: int = 0


def result_state_key(result: UnitResult) -> str:
    """The state key of ``result``'s document: competition, feed, unit, document, sub-codes."""
    parts = [result.competition, result.feed.value, result.unit, result.document.value]
    parts.extend(part for part in (result.subcode, result.subtype) if part)
    return "/".join(parts)


def apply_result(state: UnitDocState | None, result: UnitResult) -> Step[UnitDocState]:
    """Apply one version of a unit's result document.

    Args:
        state: The document's state under :func:`result_state_key`, or ``None`` if new.
        result: The snapshot.

    Returns:
        ``STALE`` and the counter bumped when ``result.version`` is not above the stored one;
        otherwise ``APPLIED``, emitting ``result`` on ``results.units`` (key: unit code), then
        :class:`RecordFlagged`/:class:`RecordWithdrawn` on ``results.records``; test feeds go
        to ``results.test``. A status that moves backwards (OFFICIAL -> LIVE) is applied and
        reported in ``irregular``.
    """
    if state is not None and result.version <= state.version:
        return Step(msgspec.structs.replace(state, stale=state.stale + 1), Verdict.STALE)
    irregular: tuple[str, ...] = ()
    try:
        advance_result_status(None if state is None else state.status, result.status)
    except IllegalTransitionError as error:
        irregular = (str(error),)
    emits = [route(UNITS, result.feed, result.unit, result)]
    records = _records(result) if result.document is DocumentKind.RESULT else {}
    before = () if state is None else state.records
    emits.extend(_record_changes(result, before, records))
    new_state = UnitDocState(
        version=result.version,
        status=result.status,
        records=tuple(sorted(records)),
        stale=0 if state is None else state.stale,
    )
    return Step(new_state, Verdict.APPLIED, tuple(emits), irregular)


def _records(result: UnitResult) -> dict[RecordKey, CompetitorResult]:
    return {
        (line.competitor.code, mark.code, mark.equalled): line
        for line in result.competitors
        for mark in line.records
    }


def _record_changes(
    result: UnitResult,
    before: tuple[RecordKey, ...],
    after: dict[RecordKey, CompetitorResult],
) -> list[Emit]:
    emits = []
    for key in sorted(set(after) - set(before)):
        line = after[key]
        flagged = RecordFlagged(
            competition=result.competition,
            unit=result.unit,
            discipline=result.discipline,
            record=key[1],
            competitor=line.competitor,
            equalled=key[2],
            result=line.result,
            time_ms=line.time_ms,
            points=line.points,
            status=result.status,
            version=result.version,
            feed=result.feed,
        )
        emits.append(route(RECORDS, result.feed, result.unit, flagged))
    for competitor, record, _equalled in sorted(set(before) - set(after)):
        withdrawn = RecordWithdrawn(
            competition=result.competition,
            unit=result.unit,
            record=record,
            competitor=competitor,
            version=result.version,
            feed=result.feed,
        )
        emits.append(route(RECORDS, result.feed, result.unit, withdrawn))
    return emits


class UnitView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything known about one unit: its schedule entry and its latest result documents.

    Attributes:
        unit: The unit's RSC.
        schedule: The latest schedule change, if any.
        results: The latest snapshot per document (``"result"``, ``"current"``, plus
            ``"/<subcode>"`` for per-apparatus documents).
        estimated_end: When the unit is now expected to end, and why (see
            :mod:`~flambeau.services.results.estimates`).
    """

    unit: str
    schedule: UnitScheduleChanged | None = None
    results: dict[str, UnitResult] = {}
    estimated_end: UnitEndEstimated | None = None


def fold_unit(
    view: UnitView | None, event: UnitResult | UnitScheduleChanged | UnitEndEstimated
) -> UnitView:
    """Fold one ``results.units`` event into the unit's view (older result versions ignored)."""
    current = UnitView(unit=event.unit) if view is None else view
    if isinstance(event, UnitScheduleChanged):
        return msgspec.structs.replace(current, schedule=event)
    if isinstance(event, UnitEndEstimated):
        return msgspec.structs.replace(current, estimated_end=event)
    name = event.document.value + (f"/{event.subcode}" if event.subcode else "")
    known = current.results.get(name)
    if known is not None and known.version >= event.version:
        return current
    return msgspec.structs.replace(current, results={**current.results, name: event})
