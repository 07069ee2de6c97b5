"""The merged day: ordered, compressed by speed, scaled by rate, moved by the incidents."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from flambeau.scenario.errors import ScenarioError
from flambeau.scenario.generators.incidents import (
    CutoffRush,
    FraudBurst,
    ScriptEntry,
    SourceSilence,
)
from flambeau.scenario.generators.results import ResultUpdate
from flambeau.scenario.generators.rush import RUSH_EVENTS, RUSH_WINDOW
from flambeau.scenario.generators.ticket_moves import CUTOFF
from flambeau.scenario.timeline import ActionKind, IncidentNote, ScenarioConfig, Timeline
from flambeau.services.results.schemas import ResultStatus

# The evening at the Stade de France: the 100 m final is around 19:10 UTC.
EVENING = datetime(2024, 8, 4, 17, 0, tzinfo=UTC)


def _config(**changes: object) -> ScenarioConfig:
    base = {
        "seed": 2,
        "rate_multiplier": 0.05,
        "start": EVENING,
        "end": EVENING + timedelta(minutes=45),
        "random_incidents": False,
    }
    base.update(changes)
    return ScenarioConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def evening() -> list:  # type: ignore[type-arg]
    return list(Timeline(_config()))


def test_actions_come_in_games_time_order_with_every_kind(evening: list) -> None:  # type: ignore[type-arg]
    assert all(a.at <= b.at for a, b in itertools.pairwise(evening))
    assert all(EVENING <= a.at < EVENING + timedelta(minutes=45) for a in evening)
    kinds = Counter(a.kind for a in evening)
    assert set(kinds) >= {
        ActionKind.RESULT, ActionKind.KEEP_ALIVE, ActionKind.GATE_COUNT, ActionKind.AREA_DENSITY,
        ActionKind.PURCHASE, ActionKind.BET,
    }  # fmt: skip


def test_speed_compresses_time() -> None:
    fast = Timeline(_config(speed=600.0))
    for action in itertools.islice(fast, 500):
        assert action.offset == pytest.approx((action.at - EVENING).total_seconds() / 600.0)
    assert fast.offset(EVENING + timedelta(hours=1)) == pytest.approx(6.0)


def test_same_seed_same_day_other_seed_other_day(evening: list) -> None:  # type: ignore[type-arg]
    assert list(itertools.islice(Timeline(_config()), 3000)) == evening[:3000]
    other = list(itertools.islice(Timeline(_config(seed=3)), 3000))
    assert other != evening[:3000]


def test_the_rate_multiplier_scales_payments_and_bets(evening: list) -> None:  # type: ignore[type-arg]
    more = Counter(a.kind for a in Timeline(_config(rate_multiplier=0.25)))
    base = Counter(a.kind for a in evening)
    for kind in (ActionKind.PURCHASE, ActionKind.BET):
        assert more[kind] > 3 * base[kind]
    assert more[ActionKind.GATE_COUNT] > base[ActionKind.GATE_COUNT]  # more counters report
    assert more[ActionKind.RESULT] == base[ActionKind.RESULT]  # the sport does not change


def test_a_silent_source_says_nothing_then_delivers_what_it_held() -> None:
    def sta(actions: list, kind: ActionKind) -> list:  # type: ignore[type-arg]
        return [a for a in actions if a.kind is kind and a.source == "STA"]

    loud = list(Timeline(_config()))
    # Go silent 10 s before a result the stadium sends, so the silence has something to hold.
    at = sta(loud, ActionKind.RESULT)[3].at - timedelta(seconds=10)
    silence = ScriptEntry(at, SourceSilence("STA", 30))
    quiet = list(Timeline(_config(script=(silence,))))
    window = (at, at + timedelta(seconds=30))

    assert not [a for a in sta(quiet, ActionKind.KEEP_ALIVE) if window[0] <= a.at < window[1]]
    assert [a for a in sta(loud, ActionKind.KEEP_ALIVE) if window[0] <= a.at < window[1]]
    held = [a for a in sta(loud, ActionKind.RESULT) if window[0] <= a.at < window[1]]
    assert held, "the window should hold some results at the stadium"
    delivered = [a for a in sta(quiet, ActionKind.RESULT) if a.payload in [h.payload for h in held]]
    assert len(delivered) == len(held)
    assert all(a.at == window[1] for a in delivered)
    # Nothing is lost: the same updates, some of them later.
    assert sorted(_key(a.payload) for a in sta(quiet, ActionKind.RESULT)) == sorted(
        _key(a.payload) for a in sta(loud, ActionKind.RESULT)
    )
    notes = [a.payload for a in quiet if a.kind is ActionKind.INCIDENT]
    assert len(notes) == 1
    assert isinstance(notes[0], IncidentNote)
    assert "source_silence" in notes[0].description


def _key(update: ResultUpdate) -> tuple[str, int]:
    return update.unit, update.version


def test_a_scripted_fraud_burst_shows_up_in_the_payments() -> None:
    at = EVENING + timedelta(minutes=5)
    burst = ScriptEntry(at, FraudBurst("STA", None, 30))
    actions = Timeline(_config(script=(burst,), fraud_share=0.0))
    fraud = [a.payload for a in actions if a.kind is ActionKind.PURCHASE and a.payload.fraud]  # type: ignore[union-attr]
    assert len(fraud) == 30
    assert len({p.terminal for p in fraud}) == 1  # type: ignore[union-attr]


def test_a_protest_reaches_the_stream_as_a_higher_official_version() -> None:
    timeline = Timeline(_config(end=None, start=None, random_incidents=True, rate_multiplier=0.0))
    (unit,) = timeline.incidents.protests or {}
    results = [
        a.payload
        for a in timeline
        if a.kind is ActionKind.RESULT and a.payload.unit == unit  # type: ignore[union-attr]
    ]
    officials = [u for u in results if u.status is ResultStatus.OFFICIAL]  # type: ignore[union-attr]
    assert len(officials) == 2
    assert officials[1].version > officials[0].version  # type: ignore[union-attr]
    assert officials[1].medallists() != officials[0].medallists()  # type: ignore[union-attr]


def test_a_day_without_competition_is_refused() -> None:
    with pytest.raises(ScenarioError, match="no competition is scheduled on 2024-09-01"):
        Timeline(ScenarioConfig(day=date(2024, 9, 1)))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        ScenarioConfig(speed=0)
    with pytest.raises(ValueError, match="rate_multiplier"):
        ScenarioConfig(rate_multiplier=-1)


RUSH_AT = EVENING + timedelta(minutes=30)


def test_a_cutoff_rush_puts_300_live_matches_near_their_cutoff_with_a_burst_of_moves() -> None:
    rush = ScriptEntry(RUSH_AT, CutoffRush())
    timeline = Timeline(_config(
        script=(rush,), start=RUSH_AT - timedelta(minutes=110),
        end=RUSH_AT + RUSH_WINDOW + timedelta(minutes=2), rate_multiplier=0.2,
    ))  # fmt: skip
    assert len(timeline.rush) == RUSH_EVENTS
    for code in timeline.rush:
        played = timeline.progressions[code]
        assert played.started_at < RUSH_AT < played.finished_at  # live then,
        assert RUSH_AT < played.finished_at - CUTOFF < RUSH_AT + RUSH_WINDOW  # its cut-off near
    moves: Counter[str] = Counter()
    live_results: set[str] = set()
    for action in timeline:
        payload = action.payload
        if action.kind is ActionKind.RESULT and payload.unit in timeline.rush:
            live_results.add(payload.unit)
        if action.kind is ActionKind.TICKET_MOVE and payload.bet.unit in timeline.rush:
            if action.at < RUSH_AT:
                moves["in the 100 minutes before"] += 1
            elif action.at < RUSH_AT + RUSH_WINDOW + timedelta(minutes=1):  # late ones too
                moves["in the 11 minutes after"] += 1
    assert live_results == timeline.rush  # every rush match is played on the feed
    # The bettors' changes and cash-outs crowd the window of the cut-offs: per minute, over
    # five times as many as while the matches ran.
    before, burst = moves["in the 100 minutes before"], moves["in the 11 minutes after"]
    assert burst / 11 > 5 * before / 100 > 0
