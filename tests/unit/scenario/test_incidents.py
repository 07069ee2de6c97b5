"""Incident scripts: parsed from TOML or JSON, resolved against the day, drawn at random."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flambeau.scenario.errors import IncidentTargetError, InvalidScriptError
from flambeau.scenario.generators.incidents import (
    CutoffRush,
    ExtraTime,
    FraudBurst,
    IncidentKind,
    Protest,
    ScriptEntry,
    SourceSilence,
    kind_of,
    parse_script,
    random_incidents,
    resolve,
)
from flambeau.scenario.generators.progressions import can_go_to_extra_time
from flambeau.scenario.schedule import Schedule, build_schedule

SCRIPT = """
[[incident]]
at = "18:40"
kind = "source_silence"
source = "STA"

[[incident]]
at = "2024-08-04T15:00:00+02:00"
kind = "extra_time"

[[incident]]
at = 2024-08-04T21:30:00Z
kind = "fraud_burst"
venue = "DEF"
cards = 25

[[incident]]
at = "22:00:30"
kind = "protest"
"""


@pytest.fixture(scope="module")
def day() -> Schedule:
    return build_schedule()


def test_a_toml_script_parses_in_time_order() -> None:
    entries = parse_script(SCRIPT)
    assert [kind_of(e.incident) for e in entries] == [
        IncidentKind.EXTRA_TIME,
        IncidentKind.SOURCE_SILENCE,
        IncidentKind.PROTEST,
        IncidentKind.FRAUD_BURST,
    ]
    assert entries[0].at == datetime(2024, 8, 4, 13, 0, tzinfo=UTC)
    assert entries[1] == ScriptEntry(datetime(2024, 8, 4, 16, 40, tzinfo=UTC), SourceSilence("STA"))
    assert entries[2].at == datetime(2024, 8, 4, 20, 0, 30, tzinfo=UTC)  # Paris time
    assert entries[3] == ScriptEntry(
        datetime(2024, 8, 4, 21, 30, tzinfo=UTC), FraudBurst("DEF", None, 25)
    )


def test_a_json_script_parses_like_toml() -> None:
    text = '[{"at": "18:40", "kind": "source_silence", "source": "STA", "seconds": 45}]'
    assert parse_script(text, fmt="json") == (
        ScriptEntry(datetime(2024, 8, 4, 16, 40, tzinfo=UTC), SourceSilence("STA", 45)),
    )
    wrapped = '{"incident": [{"at": "10:00", "kind": "protest"}]}'
    assert parse_script(wrapped, fmt="json")[0].incident == Protest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[incident]]\nat = "10:00"\nkind = "meteor"', "unknown kind 'meteor'"),
        ('[[incident]]\nat = "10:00"\nkind = "protest"\ncolour = "red"', "unknown field"),
        ('[[incident]]\nkind = "protest"', "no 'at'"),
        ('[[incident]]\nat = "ten"\nkind = "protest"', "bad time 'ten'"),
        ('[[incident]]\nat = "2024-08-04T10:00:00"\nkind = "protest"', "needs an offset"),
        ('[[incident]]\nat = "10:00"\nkind = "source_silence"\nseconds = "30"', "must be int"),
        ('[[incident]]\nat = "10:00"\nkind = "source_silence"\nseconds = 0', "positive"),
        ("[[incident]\n", "not valid TOML"),
        ('[[incident]]\nat = "10:00"', "no 'kind'"),
    ],
)
def test_a_bad_script_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidScriptError, match=message):
        parse_script(text)


def test_resolving_names_every_target(day: Schedule) -> None:
    incidents = resolve(parse_script(SCRIPT), day)
    by_kind = {kind_of(e.incident): e.incident for e in incidents.entries}
    extra = by_kind[IncidentKind.EXTRA_TIME]
    assert isinstance(extra, ExtraTime)
    assert extra.unit is not None
    assert can_go_to_extra_time(day.unit(extra.unit))
    assert incidents.extra_time == {extra.unit}
    protest = by_kind[IncidentKind.PROTEST]
    assert isinstance(protest, Protest)
    assert protest.unit is not None
    assert day.unit(protest.unit).medal is not None
    assert incidents.protests is not None
    assert set(incidents.protests) == {protest.unit}
    (silence,) = incidents.silences
    assert silence.source == "STA"
    assert silence.end - silence.start == timedelta(seconds=30)
    (burst,) = incidents.bursts
    assert (burst.venue, burst.cards) == ("DEF", 25)


def test_an_unnamed_extra_time_takes_the_match_running_then(day: Schedule) -> None:
    match = next(u for u in day.units if can_go_to_extra_time(u))
    at = match.start + timedelta(minutes=10)
    incidents = resolve([ScriptEntry(at, ExtraTime())], day)
    running = [u for u in day.units if can_go_to_extra_time(u) and u.start <= at < u.end]
    assert incidents.extra_time <= {u.code for u in running}
    assert incidents.extra_time


@pytest.mark.parametrize(
    ("incident", "message"),
    [
        (ExtraTime("NOPE"), "no unit 'NOPE'"),
        (SourceSilence("XYZ"), "source 'XYZ'"),
        (FraudBurst("STA", "POS-DEF-0001"), "terminal 'POS-DEF-0001' is not at venue STA"),
        (FraudBurst("CDM"), "venue 'CDM' has no session"),
    ],
)
def test_a_bad_target_is_refused_by_name(day: Schedule, incident: object, message: str) -> None:
    with pytest.raises(IncidentTargetError, match=message):
        resolve([ScriptEntry(day.sessions[0].start, incident)], day)  # type: ignore[arg-type]


def test_a_unit_that_cannot_take_the_incident_is_refused(day: Schedule) -> None:
    race = next(u for u in day.units if u.discipline == "ATH")
    with pytest.raises(IncidentTargetError, match="cannot go to extra time"):
        resolve([ScriptEntry(race.start, ExtraTime(race.code))], day)
    heat = next(u for u in day.units if u.medal is None)
    with pytest.raises(IncidentTargetError, match="awards no medal"):
        resolve([ScriptEntry(heat.start, Protest(heat.code))], day)


def test_nothing_left_to_target_is_an_error(day: Schedule) -> None:
    late = datetime(2024, 8, 5, 3, 0, tzinfo=UTC)
    with pytest.raises(IncidentTargetError, match="no a match that can go to extra time"):
        resolve([ScriptEntry(late, ExtraTime())], day)


def test_random_incidents_are_deterministic_and_cover_every_kind(day: Schedule) -> None:
    drawn = random_incidents(day, 7)
    assert drawn == random_incidents(day, 7)
    assert drawn != random_incidents(day, 8)
    # Every kind but the cut-off rush, which only a script asks for.
    assert {kind_of(e.incident) for e in drawn} == set(IncidentKind) - {IncidentKind.CUTOFF_RUSH}
    assert [e.at for e in drawn] == sorted(e.at for e in drawn)
    resolved = resolve(drawn, day)
    assert resolved.entries == drawn  # the picker already names every target
    more = random_incidents(
        day, 7, extra_time=3, protests=2, silences=0, fraud_bursts=0, security=0
    )
    kinds = [kind_of(e.incident) for e in more]
    assert kinds.count(IncidentKind.EXTRA_TIME) == 3
    assert kinds.count(IncidentKind.PROTEST) == 2
    assert len(kinds) == 5


def test_a_cutoff_rush_is_scripted_with_its_size_and_lands_at_the_busiest_venue(
    day: Schedule,
) -> None:
    script = parse_script(
        '[[incident]]\nat = "19:30"\nkind = "cutoff_rush"\nevents = 120\n', day=day.day
    )
    (entry,) = resolve(script, day).entries
    assert isinstance(entry.incident, CutoffRush)
    assert entry.incident.events == 120
    assert entry.incident.venue in day.venues
    with pytest.raises(InvalidScriptError, match="events"):
        parse_script('[[incident]]\nat = "19:30"\nkind = "cutoff_rush"\nevents = 0\n')
    with pytest.raises(IncidentTargetError, match="at most"):
        resolve([ScriptEntry(entry.at, CutoffRush(events=10_000))], day)
