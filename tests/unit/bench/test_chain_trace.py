"""``flambeau bench chain`` matches each derived event to the document at the root of its
causation chain, and measures it from that document's send time (or, for medals, from the
official result's)."""

from __future__ import annotations

import pytest

from flambeau.bench._chain_feed import Sent
from flambeau.bench.chain import Seen, trace

GOAL = Sent("odf-goal", "m-goal", 100.0, "result", "FBL1", goal=True, status=200)
QUIET_GOAL = Sent("odf-goal2", "m-goal2", 101.0, "result", "FBL1", goal=True, status=200)
OFFICIAL = Sent("odf-off", "m-off", 200.0, "result", "FBL1", official=True, status=200)
MEDALS = Sent("odf-med", "m-med", 200.05, "medallists", "FBL", origin="m-off", status=200)
SENT = [GOAL, QUIET_GOAL, OFFICIAL, MEDALS]

SEEN = [
    Seen("u1", "odf-goal", "results.units", "unit_result", 100.002),
    Seen("s1", "u1", "betting.odds", "bet_stop", 100.004),
    Seen("u2", "odf-off", "results.units", "unit_result", 200.01),
    Seen("st", "u2", "betting.odds", "bet_settlement", 200.02),
    Seen("r1", "u2", "betting.replies", "leg_settled", 200.03),
    Seen("p1", "r1", "payments.requests", "create_transfers", 200.04, payout=True),
    Seen("d1", "p1", "payments.transfers", "transfers_decided", 200.08),
    Seen("p2", "ticket-7", "payments.requests", "create_transfers", 200.05),
    Seen("d2", "p2", "payments.transfers", "transfers_decided", 200.09),
    Seen("x1", "u2", "payments.transfers", "transfers_decided", 200.1),
    Seen("ma", "odf-med", "results.medals", "medals_awarded", 200.11),
    Seen("s2", "health-3", "betting.odds", "bet_stop", 150.0),
    Seen("o1", "timer-1", "betting.odds", "odds_change", 150.5),
]


def test_each_figure_counts_the_events_its_chain_leads_to() -> None:
    figures = trace(SENT, SEEN)
    assert figures["goal_to_bet_stop_count"] == 1
    assert figures["goal_to_bet_stop_p99_ms"] == pytest.approx(4.0)
    assert figures["official_to_settlement_count"] == 1
    assert figures["official_to_settlement_p50_ms"] == pytest.approx(20.0)
    # only the decision whose chain passes a payout request (not a stake, not a non-payout)
    assert figures["official_to_payout_count"] == 1
    assert figures["official_to_payout_p99_ms"] == pytest.approx(80.0)
    # medals are measured from the official result that called for the medallists
    assert figures["official_to_medals_count"] == 1
    assert figures["official_to_medals_p50_ms"] == pytest.approx(110.0)


def test_a_goal_without_a_stop_and_a_stop_without_a_document_are_reported() -> None:
    figures = trace(SENT, SEEN)
    assert figures["goals_sent"] == 2
    assert figures["goals_without_bet_stop"] == 1
    assert figures["goals_without_bet_stop_on_priced_matches"] == 1  # FBL1 had odds
    assert figures["untraced"] == {"bet_stop": 1}


def test_nothing_seen_gives_empty_figures_not_zeros() -> None:
    figures = trace(SENT, [])
    assert figures["goal_to_bet_stop_count"] == 0
    assert figures["goal_to_bet_stop_p99_ms"] != figures["goal_to_bet_stop_p99_ms"]  # NaN
    assert figures["goals_without_bet_stop"] == 2
    assert figures["goals_without_bet_stop_on_priced_matches"] == 0


def test_a_causation_cycle_ends_the_walk() -> None:
    looped = [Seen("a", "b", "results.units", "unit_result", 1.0),
              Seen("b", "a", "betting.odds", "bet_stop", 2.0)]  # fmt: skip
    assert trace(SENT, looped)["untraced"] == {"bet_stop": 1}
