"""The rehearsal's security incidents, and spectators leaving when play actually ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from flambeau.scenario.generators._matches import can_go_to_extra_time
from flambeau.scenario.generators.crowds import (
    AreaDensity,
    Surge,
    crowd_events,
    expected_flows,
    session_ends,
)
from flambeau.scenario.generators.incidents import (
    IncidentKind,
    InvalidScriptError,
    kind_of,
    parse_script,
    resolve,
)
from flambeau.scenario.generators.progressions import day_progressions
from flambeau.scenario.generators.security import (
    AbandonedObject,
    StadiumBlackout,
    security_envelopes,
)
from flambeau.scenario.schedule import Schedule, build_schedule
from flambeau.services.crowds.schemas import REPORTS, FruinLevel, IncidentType
from flambeau.services.ops.schemas import HEARTBEATS, Reported, SourceKind

SCRIPT = """
[[incident]]
at = "21:00"
kind = "crowd_surge"
venue = "STA"
minutes = 3

[[incident]]
at = "20:00"
kind = "abandoned_object"

[[incident]]
at = "20:30"
kind = "stadium_blackout"
venue = "STA"
seconds = 90

[[incident]]
at = "20:40"
kind = "broadcast_outage"
venue = "STA"
"""


@pytest.fixture(scope="module")
def day() -> Schedule:
    return build_schedule()


def test_the_four_kinds_parse_and_resolve_at_a_venue(day: Schedule) -> None:
    entries = parse_script(SCRIPT)
    assert [kind_of(e.incident) for e in entries] == [
        IncidentKind.ABANDONED_OBJECT,
        IncidentKind.STADIUM_BLACKOUT,
        IncidentKind.BROADCAST_OUTAGE,
        IncidentKind.CROWD_SURGE,
    ]
    assert entries[1].incident == StadiumBlackout("STA", 90)
    resolved = resolve(entries, day)
    picked = resolved.entries[0].incident
    assert isinstance(picked, AbandonedObject)
    assert picked.venue in day.venues  # the busiest venue at 20:00
    assert resolved.surges == (Surge("STA", entries[3].at, entries[3].at + timedelta(minutes=3)),)
    assert len(resolved.security) == 4
    with pytest.raises(InvalidScriptError, match="must be int"):
        parse_script('[[incident]]\nat = "10:00"\nkind = "crowd_surge"\nminutes = "4"')


def test_a_blackout_is_heartbeats_failing_then_recovering_and_a_surge_a_camera_report(
    day: Schedule,
) -> None:
    resolved = resolve(parse_script(SCRIPT), day)
    sent = list(security_envelopes(resolved.security, day))
    assert [e.time for e in sent] == sorted(e.time for e in sent)
    power = [e for e in sent if e.stream == HEARTBEATS and e.key == "STA-POWER"]
    blackout = resolved.entries[1].at
    assert [(e.time - blackout, e.data.status) for e in power[:3]] == [
        (timedelta(minutes=-1), Reported.OK),
        (timedelta(0), Reported.FAILED),
        (timedelta(seconds=90), Reported.OK),
    ]
    assert {e.data.kind for e in power} == {SourceKind.VENUE_POWER}
    assert all(e.data.venue == "STA" for e in power)
    gaps = {later.time - earlier.time for earlier, later in pairwise(power[2:])}
    assert gaps == {timedelta(minutes=30)}  # keeps the system alive, well within its interval
    encoder = [e for e in sent if e.key == "STA-ENCODER"]
    assert encoder[1].data.kind is SourceKind.BROADCAST_ENCODER
    reports = {e.data.kind: e for e in sent if e.stream == REPORTS}
    surge = reports[IncidentType.EXCESSIVE_DENSITY]
    assert (surge.data.zone, surge.time) == (
        "STA-FORECOURT",
        resolved.surges[0].start + timedelta(minutes=1),
    )
    assert reports[IncidentType.ABANDONED_OBJECT].data.zone.endswith("-G01")


def test_a_surge_fills_the_forecourt_to_level_f_for_its_minutes(day: Schedule) -> None:
    start = resolve(parse_script(SCRIPT), day).surges[0].start
    surge = Surge("STA", start, start + timedelta(minutes=3))
    window = {"start": start - timedelta(minutes=5), "end": start + timedelta(minutes=8)}

    def levels(surges: tuple[Surge, ...]) -> dict[datetime, FruinLevel]:
        return {
            e.time: e.level
            for e in crowd_events(day, 1, surges=surges, **window)
            if isinstance(e, AreaDensity) and e.venue == "STA"
        }

    calm, surged = levels(()), levels((surge,))
    inside = [t for t in surged if surge.start < t <= surge.end]
    assert len(inside) == 3
    assert [surged[t] for t in sorted(inside)] == [FruinLevel.E, FruinLevel.F, FruinLevel.F]
    assert {t: surged[t] for t in surged if t not in inside} == {
        t: calm[t] for t in calm if t not in inside
    }
    assert {calm[t] for t in inside} != {FruinLevel.F}


def test_spectators_leave_when_a_match_in_extra_time_actually_ends(day: Schedule) -> None:
    last_matches = {
        s.code: s.units[-1]
        for s in day.sessions
        if s.discipline == "FBL" and can_go_to_extra_time(day.unit(s.units[-1]))
    }  # each session's last match: its extra time moves the session's end
    regular = session_ends(day, day_progressions(day, 1))
    extended = session_ends(day, day_progressions(day, 1, extra_time=set(last_matches.values())))
    moved = [code for code in last_matches if extended[code] > regular[code]]
    assert moved, "no match went to extra time only when forced"  # (seed 1: some do anyway)
    session = next(s for s in day.sessions if s.code == moved[0])
    assert extended[session.code] - regular[session.code] >= timedelta(minutes=25)

    def first_exit(ends: dict[str, datetime]) -> int:
        flow = expected_flows(day, 1, ends)[session.venue]
        last_session_end = flow.index(ends[session.code])
        return next(i for i, x in enumerate(flow.exits) if x > 1 and i > last_session_end - 30)

    assert first_exit(extended) - first_exit(regular) >= 25
