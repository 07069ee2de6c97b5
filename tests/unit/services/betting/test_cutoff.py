"""The change and cash-out cut-off follows the results service's estimated end, on match time.

The desk runs the betting processors with the results service's ``results.unit-clock``, which
reads the same ``results.units`` snapshots the trading half reads and publishes the estimate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.services.betting.messages import UNTIMED, FeedTick, SourceSignal
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import (
    CashOutAccepted,
    CashOutRejected,
    ChangeRejected,
    ReasonCode,
    TicketChanged,
)
from flambeau.services.payments.processors import ledger
from flambeau.services.results.processors import unit_clock
from flambeau.services.results.schemas import (
    EndAdjustment,
    KeepAlive,
    SourceDown,
    UnitEndEstimated,
)

from .feeds import FINAL_WHISTLE, MATCH, SOURCE, STILL, Match, bet, decisions, minute, tick
from .harness import Desk
from .test_tickets import cash_out_request, change, customer_balance, home_win

CUTOFF = FINAL_WHISTLE - timedelta(minutes=5)
EXTRA_TIME = timedelta(minutes=5 + 16 + 16)
"""What football's extra time adds: a 5 minute break and two periods of 15 minutes + 1."""


def clocked_desk() -> Desk:
    return Desk([*betting_processors(STILL), ledger, unit_clock])


def estimates(desk: Desk) -> list[UnitEndEstimated]:
    return [e for e in desk.events("results.units") if isinstance(e, UnitEndEstimated)]


def a_bet_in_play(desk: Desk) -> Match:
    match = Match(desk)
    match.open()
    match.kick_off()
    bet(desk, "t-1", [home_win(desk)], at=minute(10))
    desk.advance(timedelta(seconds=5))
    return match


def test_extra_time_moves_the_estimated_end_and_the_cutoff() -> None:
    desk = clocked_desk()
    match = a_bet_in_play(desk)
    assert estimates(desk)[-1].estimated_end == FINAL_WHISTLE
    match.snapshot("live", minute(108), unit_status="running", score=(1, 1), period="ET1")
    desk.advance()
    moved = estimates(desk)[-1]
    assert moved.estimated_end == FINAL_WHISTLE + EXTRA_TIME
    assert moved.adjustments == (EndAdjustment.EXTRA_TIME,)
    tick(desk, CUTOFF + timedelta(minutes=1))  # past the old cut-off: changes stay open
    cash_out_request(desk, "co-1", "t-1", 0)
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))


def test_after_extra_time_the_moved_cutoff_closes_cash_out() -> None:
    desk = clocked_desk()
    match = a_bet_in_play(desk)
    match.snapshot("live", minute(108), unit_status="running", score=(1, 1), period="ET1")
    desk.advance()
    tick(desk, CUTOFF + EXTRA_TIME)  # the moved cut-off
    cash_out_request(desk, "co-1", "t-1", 0)
    (refused,) = [d for d in decisions(desk, "t-1") if isinstance(d, CashOutRejected)]
    assert refused.reason is ReasonCode.CUTOFF_PASSED


def test_a_cutoff_passed_in_regulation_reopens_when_extra_time_begins() -> None:
    desk = clocked_desk()
    match = a_bet_in_play(desk)
    tick(desk, CUTOFF + timedelta(seconds=30))
    cash_out_request(desk, "co-1", "t-1", 0)
    assert any(isinstance(d, CashOutRejected) for d in decisions(desk, "t-1"))
    match.snapshot("live", minute(113), unit_status="running", score=(1, 1), period="ET1")
    desk.advance()
    cash_out_request(desk, "co-2", "t-1", 0)
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))


def test_a_late_kick_off_moves_the_cutoff_through_the_estimate() -> None:
    desk = clocked_desk()
    match = Match(desk)
    match.open()
    match.snapshot("live", minute(20), unit_status="running", score=(0, 0), period="H1")
    desk.advance()
    assert estimates(desk)[-1].adjustments == (EndAdjustment.LATE_START,)
    assert estimates(desk)[-1].estimated_end == FINAL_WHISTLE + timedelta(minutes=20)
    bet(desk, "t-1", [home_win(desk)], at=minute(25))
    desk.advance(timedelta(seconds=5))
    tick(desk, CUTOFF + timedelta(minutes=19))
    cash_out_request(desk, "co-1", "t-1", 0)
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))


def test_keep_alives_move_the_trading_clock_on_the_source_time_not_ours() -> None:
    desk = clocked_desk()
    a_bet_in_play(desk)
    heard = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # when Flambeau received the document
    keep_alive = KeepAlive(source=SOURCE, seen_at=heard)
    desk.send("ops.health", keep_alive, key=SOURCE, time=minute(60))
    (copy, *_) = [r for r in desk.records("betting.signals") if isinstance(r.data, FeedTick)]
    assert (copy.time, copy.data.at) == (minute(60), minute(60))
    cash_out_request(desk, "co-1", "t-1", 61)  # the match is 55 minutes from its cut-off
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))
    down = SourceDown(
        source=SOURCE, last_seen=heard, detected_at=heard + timedelta(seconds=20), silence_ms=20_000
    )
    desk.send("ops.health", down, key=SOURCE, time=heard + timedelta(seconds=20))
    signals = [r for r in desk.records("betting.signals") if isinstance(r.data, SourceSignal)]
    detected = heard + timedelta(seconds=20)
    assert {(r.time, r.data.up, r.data.at) for r in signals} == {(UNTIMED, False, detected)}
    assert len(signals) == 8  # one copy per trading partition
    assert all(r.time < CUTOFF for r in desk.records("betting.signals"))
    assert {e.unit for e in estimates(desk)} == {MATCH}


def change_queued_before_the_cutoff(desk: Desk, *, clock_passes_cutoff: bool) -> list[Any]:
    """A stake change that reaches its event partition when the match is 1 ms from the
    cut-off, waits its live delay there, and is decided once the delay is over."""
    a_bet_in_play(desk)
    tick(desk, CUTOFF - timedelta(milliseconds=1))
    change(desk, "ch-1", 3000, at_minute=109.99)  # queued: the 5 s delay starts
    assert not [d for d in decisions(desk, "t-1") if isinstance(d, ChangeRejected | TicketChanged)]
    if clock_passes_cutoff:
        tick(desk, CUTOFF + timedelta(milliseconds=1))  # the match passes its cut-off meanwhile
    desk.advance(timedelta(seconds=5))
    return [d for d in decisions(desk, "t-1") if isinstance(d, ChangeRejected | TicketChanged)]


def test_a_change_queued_1_ms_before_the_cutoff_and_decided_after_it_is_refused() -> None:
    desk = clocked_desk()
    (refused,) = change_queued_before_the_cutoff(desk, clock_passes_cutoff=True)
    assert isinstance(refused, ChangeRejected)
    assert refused.reason is ReasonCode.CUTOFF_PASSED
    assert customer_balance(desk) == -1000  # the raise held for it was given back


def test_the_same_change_decided_before_the_cutoff_is_accepted() -> None:
    desk = clocked_desk()
    (accepted,) = change_queued_before_the_cutoff(desk, clock_passes_cutoff=False)
    assert isinstance(accepted, TicketChanged)
    assert accepted.stake_cents == 3000
    assert customer_balance(desk) == -3000
