"""The rehearsal as a results system: its ODF documents read back as the results service reads
them, medals follow official results and protests, schedules and keep-alives are valid ODF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flambeau.scenario.documents import (
    MedallistsFeed,
    event_code,
    keepalive,
    result_message,
    schedule_documents,
    unit_result,
)
from flambeau.scenario.generators.progressions import Progression, progression
from flambeau.scenario.schedule import MedalKind, Schedule, build_schedule
from flambeau.scenario.sports import Shape
from flambeau.services.results.odf import parse
from flambeau.services.results.schemas import (
    DocumentType,
    Medallists,
    PeriodKind,
    ResultStatus,
    ScheduleDocument,
    UnitResult,
)
from flambeau.services.results.schemas import (
    MedalKind as ResultMedal,
)

SEED = 4


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return build_schedule(seed=SEED)


def first_unit(schedule: Schedule, shape: Shape, *, medal: bool = False) -> Progression:
    for unit in schedule.units:
        if unit.shape is shape and (unit.medal or not medal):
            return progression(unit, SEED)
    raise AssertionError(f"no {shape} unit on the day")


@pytest.mark.parametrize("shape", list(Shape))
def test_every_update_reads_back_as_the_results_service_reads_it(
    schedule: Schedule, shape: Shape
) -> None:
    played = first_unit(schedule, shape)
    for update in played.updates:
        message = result_message(update, played.unit)
        parsed = parse(message.xml)
        assert parsed.header.document_type is DocumentType.RESULT
        assert parsed.header.source == played.unit.venue
        assert parsed.header.version == update.version
        assert parsed.body == unit_result(update, played.unit)
        assert message.native == parsed.body  # the native fallback carries the same document


def test_a_match_carries_sides_running_score_and_period_kinds(schedule: Schedule) -> None:
    unit = next(
        u for u in schedule.units if u.shape is Shape.HEAD_TO_HEAD and u.discipline == "FBL"
    )
    played = progression(unit, SEED, extra_time=True)
    final = unit_result(played.official, unit)
    assert isinstance(final, UnitResult)
    home, away = (line for line in sorted(played.official.lines, key=lambda line: line.order))
    assert (final.home, final.away) == (home.competitor.code, away.competitor.code)
    kinds = [period.kind for period in final.periods]
    assert PeriodKind.EXTRA_TIME in kinds  # the forced extra time is visible as such
    regular = [p for p in final.periods if p.kind is PeriodKind.REGULAR]
    assert regular[-1].home_score == sum(p.home_period_score or 0 for p in regular)
    scores = {line.competitor.code: line.score for line in final.competitors}
    assert scores[home.competitor.code] == home.value


def test_schedules_name_every_unit_once_and_parse(schedule: Schedule) -> None:
    at = datetime(2024, 8, 4, 4, tzinfo=UTC)
    messages = schedule_documents(schedule, at)
    units = set()
    for message in messages:
        parsed = parse(message.xml)
        assert parsed.header.document_type is DocumentType.SCHEDULE
        assert isinstance(parsed.body, ScheduleDocument)
        units.update(entry.unit for entry in parsed.body.units)
    expected = {u.code for u in schedule.units}
    assert units == expected
    assert len({m.id for m in messages}) == len(messages)


def test_keepalive_versions_grow_with_time() -> None:
    at = datetime(2024, 8, 4, 18, tzinfo=UTC)
    first, later = keepalive("STA", "ATH", at), keepalive("STA", "ATH", at + timedelta(seconds=10))
    a, b = parse(first.xml).header, parse(later.xml).header
    assert (a.document_type, a.source) == (DocumentType.KEEP_ALIVE, "STA")
    assert b.version > a.version
    assert first.id != later.id
    assert keepalive("STA", "ATH", at).id == first.id  # deterministic: a resend is a duplicate


def medals_of(message_xml: str) -> Medallists:
    body = parse(message_xml).body
    assert isinstance(body, Medallists)
    return body


def test_medallists_follow_the_official_result_and_move_after_a_protest(
    schedule: Schedule,
) -> None:
    unit = next(u for u in schedule.units if u.medal is MedalKind.ALL)
    base = progression(unit, SEED)
    protested = progression(unit, SEED, protest_at=base.official.time)
    book = MedallistsFeed([protested])
    messages = [
        (update, book.message(update, unit))
        for update in protested.updates
        if update.status is ResultStatus.OFFICIAL
    ]
    assert len(messages) == 2  # the official result, then the correction
    (_, first), (_, corrected) = messages
    assert first is not None
    assert corrected is not None
    before, after = medals_of(first.xml), medals_of(corrected.xml)
    assert before.event == after.event == event_code(unit.code)
    assert after.version > before.version
    gold = [m.competitor.code for m in before.medallists if m.medal is ResultMedal.GOLD]
    gold_after = [m.competitor.code for m in after.medallists if m.medal is ResultMedal.GOLD]
    assert gold != gold_after  # the protest moved the gold
    assert gold[0] not in {m.competitor.code for m in after.medallists}  # disqualified
    assert book.message(protested.updates[0], unit) is None  # a start list decides nothing


def test_an_event_decided_by_two_matches_is_partial_until_both_are_official() -> None:
    for seed in range(30):
        schedule = build_schedule(seed=seed)
        by_event: dict[str, list[object]] = {}
        for unit in schedule.units:
            if unit.medal in (MedalKind.GOLD, MedalKind.BRONZE):
                by_event.setdefault(event_code(unit.code), []).append(unit)
        pairs = [units for units in by_event.values() if len(units) >= 2]
        if pairs:
            break
    else:
        raise AssertionError("no event with a bronze and a gold medal match in 30 days drawn")
    units = sorted(pairs[0], key=lambda u: u.start)  # type: ignore[attr-defined]
    played = [progression(u, seed) for u in units]  # type: ignore[arg-type]
    book = MedallistsFeed(played)
    first = book.message(played[0].official, played[0].unit)
    last = book.message(played[-1].official, played[-1].unit)
    assert first is not None
    assert last is not None
    early, complete = medals_of(first.xml), medals_of(last.xml)
    assert early.status.value == "partial"
    assert complete.status.value == "official"
    assert complete.version > early.version
    assert len(complete.medallists) > len(early.medallists)
