"""The results processors: the pure reducers, run over the log with exactly-once effects.

::

    POST /v1/adapters/odf ─────▶ results.odf ──┐
    POST /v1/results/documents ▶ results.native┤
        ├─▶ results.unit-state ─────▶ results.units, results.records
        ├─▶ results.schedule-state ─▶ results.units, results.schedule
        │        results.units ─▶ results.unit-clock ─▶ results.units (estimated ends)
        ├─▶ results.medal-table ────▶ results.medals
        └─▶ results.signs ─▶ results.heard ─▶ results.liveness ─▶ ops.health
        (all of them ─▶ results.audit; test feeds ─▶ results.test)

Each processor reads both input streams (co-partitioned: 8 partitions each, documents keyed
alike), keeps its reducer's state per document key in ``tx.state``, and emits what the
reducer returns with ``causation_id`` set to the input record, so every public event traces
back to the ODF message (or native document) that caused it. Test feeds are routed to
``results.test`` by the reducers themselves. What a processor acknowledges without applying
(an older or equal version, unofficial medallists, a misrouted record) is emitted as a
:class:`~.schemas.DocumentIgnored` on ``results.audit``, and status moves the state machines
forbid as an :class:`~.schemas.IrregularMove`: ``/metrics`` counts both.

``results.unit-clock`` reads ``results.units`` back (schedule changes and result snapshots of
a unit meet there, keyed by unit, whichever processor wrote them) and emits a
:class:`~.schemas.UnitEndEstimated` whenever a unit's estimated end moves
(:mod:`~.estimates`); it skips its own events. Those carry the event time of the document
that moved the estimate.

Liveness needs every sign of life of one source in one partition, but documents are keyed by
what they describe. ``results.signs`` re-keys them: for each document it emits a
:class:`~.schemas.KeepAlive` on ``results.heard`` keyed by source (at most one per source,
partition and :data:`SIGN_INTERVAL`), with ``seen_at`` the time Flambeau received the
document, so a source's clock skew never makes it look down. ``results.liveness`` folds those
with :func:`~.liveness.observe` and arms a processing-time timer per source at the end of the
allowed silence; when it fires, :func:`~.liveness.check` emits ``source_down``. The silence is
:data:`POLICY` (20 s, or ``FLAMBEAU_RESULTS_SILENCE_S`` seconds).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from flambeau.events import Record
from flambeau.processing import Batch, Processor, TimeDomain, Timer, Transaction, default_processors
from flambeau.services.results.documents import Incoming, read, source_key
from flambeau.services.results.estimates import UnitClock, clock_state_key, observe_unit
from flambeau.services.results.liveness import (
    LivenessPolicy,
    SourceHealth,
    check,
    liveness_state_key,
    observe,
)
from flambeau.services.results.medals import (
    MedalBook,
    apply_medallists,
    discrepancies,
    medal_state_key,
)
from flambeau.services.results.outcomes import Step, Verdict
from flambeau.services.results.schedule import ScheduleState, apply_schedule, schedule_state_key
from flambeau.services.results.schemas import (
    AUDIT,
    HEALTH,
    HEARD,
    MEDALS,
    NATIVE,
    ODF,
    RECORDS,
    SCHEDULE,
    TEST,
    UNITS,
    DocumentIgnored,
    DocumentType,
    IgnoredReason,
    IrregularMove,
    KeepAlive,
    Medallists,
    MedalStandings,
    MedalTableMismatch,
    OdfDocument,
    ScheduleDocument,
    UnitResult,
    UnitScheduleChanged,
)
from flambeau.services.results.statuses import SourceStatus
from flambeau.services.results.units import UnitDocState, apply_result, result_state_key

__all__ = [
    "POLICY",
    "PROCESSORS",
    "SIGN_INTERVAL",
    "liveness",
    "liveness_processor",
    "medal_table",
    "schedule_state",
    "signs",
    "signs_processor",
    "unit_clock",
    "unit_state",
]

INPUTS = (ODF, NATIVE)
SIGN_INTERVAL = timedelta(seconds=1)
"""At most one sign of life per source and ``results.signs`` partition in this interval."""
_SLACK = timedelta(milliseconds=1)  # a deadline strictly after the allowed silence


def _policy_from_env() -> LivenessPolicy:
    seconds = os.environ.get("FLAMBEAU_RESULTS_SILENCE_S")
    if not seconds:
        return LivenessPolicy()
    try:
        silence = float(seconds)
    except ValueError:
        silence = float("nan")
    if not 0 < silence < 86_400:
        raise ValueError(
            f"FLAMBEAU_RESULTS_SILENCE_S must be a number of seconds in (0, 86400), got {seconds!r}"
        )
    return LivenessPolicy(silence=timedelta(seconds=silence))


POLICY = _policy_from_env()
"""The configured liveness policy of the registered ``results.liveness`` processor."""


# -- shared by the document processors -------------------------------------------------------


S = TypeVar("S")
D = TypeVar("D")


def _emit_all(tx: Transaction, step: Step[Any], cause: str | None) -> None:
    """Emit each of a step's events where it says, caused by ``cause``."""
    for emit in step.emits:
        tx.emit(emit.stream, emit.event, key=emit.key, causation_id=cause)


@dataclass(frozen=True)
class _Fold(Generic[S, D]):
    """How a document processor folds one kind of document into its state.

    Attributes:
        key: The state key of a document (its version sequence).
        state_type: The state stored per key.
        reduce: The pure reducer: ``reduce(state, document)``.
        current: Reads, from the state held before a document, the version the document was
            compared with (a :class:`~.schemas.DocumentIgnored` reports it).
        part: What audit events name below the key, when one state holds several version
            sequences (the medal book holds one per event).
    """

    key: Callable[[D], str]
    state_type: type[S]
    reduce: Callable[[S | None, D], Step[S]]
    current: Callable[[S, D], int | None]
    part: Callable[[D], str] | None = None


def _fold_batch(
    batch: Batch[Any], tx: Transaction, types: frozenset[DocumentType], fold: _Fold[Any, Any]
) -> None:
    """Fold every document of ``types`` in ``batch``; skip the other records."""
    for record in batch:
        incoming = read(record, types)
        if incoming is not None:
            _fold_document(tx, record, incoming, fold)


def _fold_document(
    tx: Transaction, record: Record[Any], incoming: Incoming, fold: _Fold[Any, Any]
) -> None:
    """Fold ``incoming.body`` into the state stored at its key; emit what the reducer returns.

    A document the reader found a problem with is ignored before it touches the state.
    """
    body = incoming.body
    key = fold.key(body)
    document = key if fold.part is None else f"{key}/{fold.part(body)}"
    version: int = body.version
    if incoming.problem is not None:
        _ignore(tx, record, incoming, incoming.problem, document=document, version=version)
        return
    state = tx.state.get(key, fold.state_type)
    step = fold.reduce(state, body)
    tx.state.put(key, step.state)
    previous = None if state is None else fold.current(state, body)
    _apply(tx, record, incoming, step, document=document, version=version, current=previous)


def _apply(
    tx: Transaction,
    record: Record[Any],
    incoming: Incoming,
    step: Step[Any],
    *,
    document: str,
    version: int,
    current: int | None,
) -> None:
    """Emit a step's events, and what it ignored or found irregular, caused by ``record``."""
    _emit_all(tx, step, record.id)
    if step.verdict in (Verdict.STALE, Verdict.IGNORED):
        reason = IgnoredReason.STALE if step.verdict is Verdict.STALE else IgnoredReason.UNOFFICIAL
        _ignore(tx, record, incoming, reason, document=document, version=version, current=current)
    if step.irregular:
        moves = IrregularMove(
            processor=tx.processor,
            document=document,
            version=version,
            moves=step.irregular,
            feed=incoming.feed,
        )
        tx.emit(AUDIT, moves, key=document, causation_id=record.id)


def _ignore(
    tx: Transaction,
    record: Record[Any],
    incoming: Incoming,
    reason: IgnoredReason,
    *,
    document: str,
    version: int,
    current: int | None = None,
) -> None:
    ignored = DocumentIgnored(
        processor=tx.processor,
        reason=reason,
        document=document,
        document_type=incoming.document_type.value,
        version=version,
        current_version=current,
        source=incoming.source,
        feed=incoming.feed,
    )
    tx.emit(AUDIT, ignored, key=document, causation_id=record.id)


# -- unit state and records --------------------------------------------------------------------

RESULT_TYPES = frozenset({DocumentType.RESULT, DocumentType.CURRENT})

unit_state = Processor("results.unit-state", inputs=INPUTS, outputs=[UNITS, RECORDS, TEST, AUDIT])


@unit_state.on_batch
def _unit_results(batch: Batch[Any], tx: Transaction) -> None:
    """Keep the highest version of each unit result document; emit units and records."""
    _fold_batch(batch, tx, RESULT_TYPES, _UNIT_FOLD)


def _unit_key(result: UnitResult) -> str:
    return "unit/" + result_state_key(result)


def _unit_version(state: UnitDocState, result: UnitResult) -> int:
    """The version of the unit's results already applied."""
    return state.version


_UNIT_FOLD = _Fold(_unit_key, UnitDocState, apply_result, _unit_version)


# -- schedule per day and venue ------------------------------------------------------------------

SCHEDULE_TYPES = frozenset({DocumentType.SCHEDULE, DocumentType.SCHEDULE_UPDATE})

schedule_state = Processor(
    "results.schedule-state", inputs=INPUTS, outputs=[UNITS, SCHEDULE, TEST, AUDIT]
)


@schedule_state.on_batch
def _schedules(batch: Batch[Any], tx: Transaction) -> None:
    """Apply full schedules and updates per discipline; emit unit and venue-day changes."""
    _fold_batch(batch, tx, SCHEDULE_TYPES, _SCHEDULE_FOLD)


def _schedule_key(doc: ScheduleDocument) -> str:
    return "schedule/" + schedule_state_key(doc)


def _schedule_version(state: ScheduleState, doc: ScheduleDocument) -> int | None:
    """The version already applied of the kind of ``doc``: a full schedule or an update."""
    return state.full_version if doc.full else state.update_version


_SCHEDULE_FOLD = _Fold(_schedule_key, ScheduleState, apply_schedule, _schedule_version)


# -- estimated end of every unit ------------------------------------------------------------------

unit_clock = Processor("results.unit-clock", inputs=[UNITS], outputs=[UNITS, TEST])


@unit_clock.on_batch
def _unit_clocks(batch: Batch[Any], tx: Transaction) -> None:
    """Fold each unit's schedule changes and snapshots; emit its estimated end when it moves."""
    for record in batch:
        event = record.data
        if not isinstance(event, UnitResult | UnitScheduleChanged):
            continue  # an estimate this processor emitted
        key = clock_state_key(event)
        state = tx.state.get(key, UnitClock)
        step = observe_unit(state, event, record.time)
        if step.state != state:
            tx.state.put(key, step.state)
        _emit_all(tx, step, record.id)


# -- the medal table -------------------------------------------------------------------------------

MEDALLIST_TYPES = frozenset({DocumentType.MEDALLISTS, DocumentType.MEDALS})

medal_table = Processor("results.medal-table", inputs=INPUTS, outputs=[MEDALS, TEST, AUDIT])


@medal_table.on_batch
def _medallists(batch: Batch[Any], tx: Transaction) -> None:
    """Count each event's highest OFFICIAL medallists version; emit awards and NOC counts.

    A source's own table (``DT_MEDALS``, in the same partition as the medallists) is checked
    against the derived one and any difference reported on ``results.audit``.
    """
    for record in batch:
        incoming = read(record, MEDALLIST_TYPES)
        if incoming is None:
            continue
        if isinstance(incoming.body, MedalStandings):
            _check_table(tx, record, incoming, incoming.body)
            continue
        _fold_document(tx, record, incoming, _MEDALS_FOLD)


def _medals_key(doc: Medallists) -> str:
    return "medals/" + medal_state_key(doc)


def _event_of(doc: Medallists) -> str:
    return doc.event


def _event_version(book: MedalBook, doc: Medallists) -> int | None:
    """The version of the event's medallists already counted in ``book``, if any."""
    known = book.events.get(doc.event)
    return None if known is None else known.version


_MEDALS_FOLD = _Fold(_medals_key, MedalBook, apply_medallists, _event_version, _event_of)


def _check_table(
    tx: Transaction, record: Record[Any], incoming: Incoming, reported: MedalStandings
) -> None:
    key = f"medals/{reported.competition}/{reported.feed.value}"
    if incoming.problem is not None:
        _ignore(tx, record, incoming, incoming.problem, document=key, version=reported.version)
        return
    book = tx.state.get(key, MedalBook) or MedalBook()
    differences = discrepancies(book.table, reported)
    if differences:
        mismatch = MedalTableMismatch(
            competition=reported.competition,
            version=reported.version,
            differences=tuple(differences),
            source=incoming.source,
            feed=reported.feed,
        )
        tx.emit(AUDIT, mismatch, key=key, causation_id=record.id)


# -- liveness: signs of life re-keyed by source, then up and down per source --------------------


def signs_processor(
    interval: timedelta = SIGN_INTERVAL, *, name: str = "results.signs"
) -> Processor:
    """A processor relaying each source's signs of life to ``results.heard``, keyed by source.

    Every document counts, not only ``DT_KA``: a source busy sending results is alive. A raw
    record's stored header is trusted here (parsing every large document again only to read its
    ``Source`` would double the parsing cost); the adapter parsed it on the way in.
    """
    processor = Processor(name, inputs=INPUTS, outputs=[HEARD])
    interval_us = interval // timedelta(microseconds=1)

    @processor.on_batch
    def relay(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            data = record.data
            source: str | None
            if isinstance(data, OdfDocument):
                source, feed = data.header.source, data.header.feed
            elif isinstance(data, UnitResult | KeepAlive):
                source, feed = data.source, data.feed
            else:
                continue
            if not source:
                continue
            key = f"sign/{feed.value}/{source}"
            at_us = _micros(record)
            last = tx.state.get(key, int)
            # a clock stepped back is not a reason to stay quiet for as long
            if last is not None and 0 <= at_us - last < interval_us:
                continue
            tx.state.put(key, at_us)
            sign = KeepAlive(source=source, seen_at=record.ingested_at, feed=feed)
            tx.emit(HEARD, sign, key=source_key(source), causation_id=record.id)

    return processor


def _micros(record: Record[Any]) -> int:
    return int(record.ingested_at.timestamp() * 1_000_000)


def liveness_processor(policy: LivenessPolicy, *, name: str = "results.liveness") -> Processor:
    """A processor tracking each source's liveness on ``ops.health`` under ``policy``.

    A sign of life moves the source's processing-time deadline to ``last_seen + silence``;
    the deadline's timer reports the source down. Both emit with the causing record's id
    (the ``results.heard`` record, whose own causation id is the document's).
    """
    processor = Processor(name, inputs=[HEARD], outputs=[HEALTH, TEST])

    def arm(tx: Transaction, key: str, health: SourceHealth, cause: str | None) -> None:
        if health.status is SourceStatus.UP:
            deadline = health.last_seen + policy.silence + _SLACK
            tx.timers.at(key, deadline, data=key, domain=TimeDomain.PROCESSING, causation_id=cause)
        else:
            tx.timers.cancel(key, TimeDomain.PROCESSING)

    @processor.on_batch
    def heard(batch: Batch[KeepAlive], tx: Transaction) -> None:
        for record in batch:
            sign = record.data
            key = "health/" + liveness_state_key(sign.source, sign.feed)
            step = observe(
                tx.state.get(key, SourceHealth),
                source=sign.source,
                seen_at=sign.seen_at,
                now=tx.now(),
                policy=policy,
                feed=sign.feed,
            )
            tx.state.put(key, step.state)
            _emit_all(tx, step, record.id)
            arm(tx, key, step.state, record.id)

    @processor.on_timer
    def silent(timer: Timer, tx: Transaction) -> None:
        key = str(timer.data)
        health = tx.state.get(key, SourceHealth)
        if health is None:
            return
        step = check(health, now=tx.now(), policy=policy)
        tx.state.put(key, step.state)
        _emit_all(tx, step, timer.causation_id)
        if step.verdict is Verdict.UNCHANGED:
            arm(tx, key, step.state, timer.causation_id)

    return processor


signs = signs_processor()
liveness = liveness_processor(POLICY)

PROCESSORS = (unit_state, schedule_state, unit_clock, medal_table, signs, liveness)
"""The results processors, in the order data flows through them."""

for _processor in PROCESSORS:
    default_processors.register(_processor)
