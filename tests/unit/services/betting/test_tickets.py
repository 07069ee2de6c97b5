"""The bet engine end to end on one desk: delay, rules, cash-out, changes, settlement, money."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.money import account_id
from flambeau.services.betting.pricing import cash_out_value
from flambeau.services.betting.rules import LiabilityLimits, ticket_liability_cents
from flambeau.services.betting.schemas import (
    BetCancel,
    CashOutAccepted,
    CashOutRejected,
    CashOutRequest,
    ChangeRejected,
    Channel,
    OddsChange,
    OddsPolicy,
    ReasonCode,
    RollbackBetSettlement,
    Selection,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketOutcome,
    TicketRejected,
    TicketSettled,
    TicketSettlementRolledBack,
    TicketSubmitted,
)
from flambeau.services.payments.schemas import CreateTransfers

from .feeds import (
    FINAL_WHISTLE,
    KICK_OFF,
    MATCH,
    OTHER_MATCH,
    STILL,
    Match,
    bet,
    decisions,
    deposit,
    latest_odds,
    minute,
    net_balances,
    new_desk,
    offered,
    source,
    tick,
)
from .harness import Desk

EUR = 978


def live_match(desk: Desk, unit: str = MATCH) -> Match:
    match = Match(desk, unit=unit)
    match.open()
    match.kick_off()
    return match


def home_win(desk: Desk, unit: str = MATCH) -> tuple[str, int, str, str, float]:
    return (unit, 1, "", "1", offered(desk, 1, "", "1", unit))


def balances(desk: Desk) -> dict[str, int]:
    return net_balances(desk)


def customer_balance(desk: Desk, customer: str = "c-1") -> int:
    return balances(desk).get(account_id(EUR, "op-1", customer), 0)


# --------------------------------------------------------------------------- the live delay


def test_an_in_play_bet_waits_its_delay_then_is_accepted_at_the_current_odds() -> None:
    desk = new_desk()
    live_match(desk)
    leg = home_win(desk)
    bet(desk, "t-1", [leg], at=minute(5))
    assert decisions(desk, "t-1") == []  # football waits 5 s
    desk.advance(timedelta(seconds=4))
    assert decisions(desk, "t-1") == []
    desk.advance(timedelta(seconds=1))
    (accepted,) = decisions(desk, "t-1")
    assert isinstance(accepted, TicketAccepted)
    assert accepted.in_play
    assert accepted.delay_ms == 5000
    assert accepted.odds == (leg[4],)
    assert accepted.potential_payout_cents == int(1000 * leg[4])
    assert customer_balance(desk) == -1000  # the stake went to the book


def test_a_bet_placed_during_the_delay_when_a_goal_happens_is_rejected_market_suspended() -> None:
    desk = new_desk()
    match = live_match(desk)
    bet(desk, "t-1", [home_win(desk)], at=minute(5), policy=OddsPolicy.ANY)
    desk.advance(timedelta(seconds=2))
    match.goal((0, 1), minute(5) + timedelta(seconds=2))  # reprices and reopens at once
    reopened = latest_odds(desk)  # the market is ACTIVE again when the delay ends
    assert {m.status for m in reopened.markets if m.id == 1} == {MarketStatus.ACTIVE}
    desk.advance(timedelta(seconds=3))
    (rejected,) = decisions(desk, "t-1")
    assert isinstance(rejected, TicketRejected)
    assert rejected.reason is ReasonCode.MARKET_SUSPENDED
    assert rejected.selection == 0
    assert balances(desk) == {}  # no money moved


def test_a_pre_match_bet_is_decided_at_once() -> None:
    desk = new_desk()
    Match(desk).open()
    bet(desk, "t-1", [home_win(desk)], at=KICK_OFF - timedelta(hours=1))
    (accepted,) = decisions(desk, "t-1")
    assert isinstance(accepted, TicketAccepted)
    assert not accepted.in_play


def test_odds_that_moved_against_the_policy_are_refused() -> None:
    desk = new_desk()
    live_match(desk)
    event, market, spec, outcome, odds = home_win(desk)
    lower, higher = round(odds - 0.05, 2), round(odds + 0.5, 2)
    bet(desk, "none", [(event, market, spec, outcome, higher)], at=minute(1))
    bet(desk, "higher", [(event, market, spec, outcome, lower)], at=minute(1),
        policy=OddsPolicy.HIGHER)  # fmt: skip
    desk.advance(timedelta(seconds=5))
    (refused,) = decisions(desk, "none")
    assert isinstance(refused, TicketRejected)
    assert refused.reason is ReasonCode.ODDS_CHANGED
    (better,) = decisions(desk, "higher")
    assert isinstance(better, TicketAccepted)
    assert better.odds == (odds,)


# --------------------------------------------------------------------------- rules


def test_a_jurisdiction_that_forbids_in_play_rejects_an_in_play_bet() -> None:
    desk = new_desk()
    live_match(desk)
    bet(desk, "au-online", [home_win(desk)], at=minute(3), jurisdiction="AU")
    bet(desk, "au-shop", [home_win(desk)], at=minute(3), jurisdiction="AU",
        channel=Channel.RETAIL, customer="c-2")  # fmt: skip
    desk.advance(timedelta(seconds=5))
    (online,) = decisions(desk, "au-online")
    assert isinstance(online, TicketRejected)
    assert online.reason is ReasonCode.JURISDICTION_FORBIDS_IN_PLAY
    (shop,) = decisions(desk, "au-shop")
    assert isinstance(shop, TicketAccepted)


def test_germany_allows_the_result_in_play_but_not_totals() -> None:
    desk = new_desk()
    live_match(desk)
    total = (MATCH, 18, "total=2.5", "12", offered(desk, 18, "total=2.5", "12"))
    bet(desk, "de-total", [total], at=minute(3), jurisdiction="DE")
    bet(desk, "de-1x2", [home_win(desk)], at=minute(3), jurisdiction="DE", customer="c-2")
    desk.advance(timedelta(seconds=5))
    assert decisions(desk, "de-total")[0].reason is ReasonCode.JURISDICTION_FORBIDS_MARKET
    assert isinstance(decisions(desk, "de-1x2")[0], TicketAccepted)


def test_bets_are_refused_while_the_results_source_is_down() -> None:
    desk = new_desk()
    live_match(desk)
    leg = home_win(desk)
    source(desk, False, minute(4))
    bet(desk, "t-1", [leg], at=minute(4), policy=OddsPolicy.ANY)
    desk.advance(timedelta(seconds=5))
    assert decisions(desk, "t-1")[0].reason is ReasonCode.PRODUCER_DOWN


def test_unknown_markets_and_jurisdictions_are_named() -> None:
    desk = new_desk()
    Match(desk).open()
    bet(desk, "t-1", [(MATCH, 18, "total=9.5", "12", 2.0)], at=KICK_OFF)
    bet(desk, "t-2", [home_win(desk)], at=KICK_OFF, jurisdiction="XX")
    assert decisions(desk, "t-1")[0].reason is ReasonCode.UNKNOWN_MARKET
    assert decisions(desk, "t-2")[0].reason is ReasonCode.UNKNOWN_JURISDICTION


def test_the_customer_liability_limit_holds_across_tickets() -> None:
    limits = LiabilityLimits(per_customer_cents=10_000, per_market_cents=1_000_000)
    desk = new_desk(replace(STILL, limits=limits))
    Match(desk).open()
    leg = home_win(desk)
    stake = int(6_000 / (leg[4] - 1))  # about 60.00 of liability each
    bet(desk, "t-1", [leg], stake=stake, at=KICK_OFF)
    bet(desk, "t-2", [leg], stake=stake, at=KICK_OFF)
    assert isinstance(decisions(desk, "t-1")[0], TicketAccepted)
    refused = decisions(desk, "t-2")[0]
    assert refused.reason is ReasonCode.CUSTOMER_LIABILITY_EXCEEDED
    # the reoffer is the largest stake whose liability fits in what is left of the limit
    left = 10_000 - ticket_liability_cents(stake, [leg[4]])
    assert ticket_liability_cents(refused.reoffer_cents, [leg[4]]) <= left
    assert ticket_liability_cents(refused.reoffer_cents + 1, [leg[4]]) > left
    bet(desk, "t-3", [leg], stake=stake, at=KICK_OFF, customer="c-2")  # another customer
    assert isinstance(decisions(desk, "t-3")[0], TicketAccepted)


def test_the_market_liability_limit_holds_across_customers() -> None:
    limits = LiabilityLimits(per_customer_cents=1_000_000, per_market_cents=10_000)
    desk = new_desk(replace(STILL, limits=limits))
    Match(desk).open()
    leg = home_win(desk)
    stake = int(6_000 / (leg[4] - 1))
    bet(desk, "t-1", [leg], stake=stake, at=KICK_OFF, customer="a")
    bet(desk, "t-2", [leg], stake=stake, at=KICK_OFF, customer="b")
    assert isinstance(decisions(desk, "t-1")[0], TicketAccepted)
    assert decisions(desk, "t-2")[0].reason is ReasonCode.LIABILITY_EXCEEDED


# --------------------------------------------------------------------------- cash-out


def cash_out_request(desk: Desk, request_id: str, ticket_id: str, at_minute: float) -> None:
    request = CashOutRequest(
        request_id=request_id, ticket_id=ticket_id, operator="op-1", customer_id="c-1"
    )
    desk.send("betting.bets", request, key="op-1/c-1", time=minute(at_minute))


def test_cash_out_pays_stake_times_odds_times_probability_less_the_margin() -> None:
    desk = new_desk()
    live_match(desk)
    leg = home_win(desk)
    bet(desk, "t-1", [leg], at=minute(10))
    desk.advance(timedelta(seconds=5))
    cash_out_request(desk, "co-1", "t-1", 11)
    (accepted,) = [d for d in decisions(desk, "t-1") if isinstance(d, CashOutAccepted)]
    change = [e for e in desk.events("betting.odds") if isinstance(e, OddsChange)][-1]
    probability = next(
        o.probability for m in change.markets if m.id == 1 for o in m.outcomes if o.id == "1"
    )
    assert probability is not None
    assert accepted.amount_cents == cash_out_value(1000, leg[4], probability, margin=0.05)
    assert customer_balance(desk) == -1000 + accepted.amount_cents


CUTOFF = FINAL_WHISTLE - timedelta(minutes=5)


def test_a_cash_out_is_refused_after_the_cutoff() -> None:
    desk = new_desk()
    live_match(desk)
    bet(desk, "t-1", [home_win(desk)], at=minute(10))
    desk.advance(timedelta(seconds=5))
    tick(desk, CUTOFF)  # the match's clock reaches the cut-off
    cash_out_request(desk, "co-late", "t-1", 20)
    (refused,) = [d for d in decisions(desk, "t-1") if isinstance(d, CashOutRejected)]
    assert refused.reason is ReasonCode.CUTOFF_PASSED
    assert customer_balance(desk) == -1000


def test_a_cash_out_just_before_the_cutoff_goes_through() -> None:
    desk = new_desk()
    live_match(desk)
    bet(desk, "t-1", [home_win(desk)], at=minute(10))
    desk.advance(timedelta(seconds=5))
    tick(desk, CUTOFF - timedelta(seconds=1))
    cash_out_request(desk, "co-1", "t-1", 200)  # the operator's clock does not count
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))


def test_the_cutoff_follows_the_live_estimate_of_the_end() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    match.snapshot("live", minute(20), unit_status="running", score=(0, 0), period="H1")
    desk.advance()  # kick-off 20 minutes late: the end moves to 135, the cut-off to 130
    bet(desk, "t-1", [home_win(desk)], at=minute(25))
    desk.advance(timedelta(seconds=5))
    tick(desk, CUTOFF + timedelta(minutes=1))
    cash_out_request(desk, "co-1", "t-1", 0)
    assert any(isinstance(d, CashOutAccepted) for d in decisions(desk, "t-1"))


# --------------------------------------------------------------------------- changes


def change(desk: Desk, change_id: str, stake: int, at_minute: float) -> None:
    request = TicketChange(
        change_id=change_id, ticket_id="t-1", operator="op-1", customer_id="c-1",
        stake_cents=stake, odds_policy=OddsPolicy.ANY,
    )  # fmt: skip
    desk.send("betting.bets", request, key="op-1/c-1", time=minute(at_minute))


def test_a_stake_change_before_the_cutoff_moves_the_difference() -> None:
    desk = new_desk()
    live_match(desk)
    bet(desk, "t-1", [home_win(desk)], at=minute(10))
    desk.advance(timedelta(seconds=5))
    change(desk, "ch-1", 2500, 20)
    desk.advance(timedelta(seconds=5))
    changed = [d for d in decisions(desk, "t-1") if isinstance(d, TicketChanged)]
    assert changed[0].stake_cents == 2500
    assert customer_balance(desk) == -2500
    change(desk, "ch-2", 500, 85)  # a lower stake: the difference goes back
    desk.advance(timedelta(seconds=5))
    assert customer_balance(desk) == -500
    tick(desk, minute(111))  # the end is at 115 min, the cut-off at 110
    change(desk, "ch-3", 700, 30)
    desk.advance(timedelta(seconds=5))
    (late,) = [d for d in decisions(desk, "t-1") if isinstance(d, ChangeRejected)]
    assert late.reason is ReasonCode.CUTOFF_PASSED
    assert customer_balance(desk) == -500


# --------------------------------------------------------------------------- settlement


def test_settlement_then_a_protest_rolls_back_and_settles_again_to_the_cent() -> None:
    desk = new_desk()
    match = live_match(desk)
    winner = home_win(desk)
    draw = (MATCH, 1, "", "2", offered(desk, 1, "", "2"))
    bet(desk, "home", [winner], stake=1234, at=minute(2))
    bet(desk, "draw", [draw], stake=999, at=minute(2), customer="c-2")
    desk.advance(timedelta(seconds=5))
    match.goal((1, 0), minute(30))
    match.official((1, 0), minute(115))
    home_paid = int(1234 * winner[4])  # odds have two decimals: exact cents, floored
    (settled,) = [d for d in decisions(desk, "home") if isinstance(d, TicketSettled)]
    assert settled.outcome is TicketOutcome.WON
    assert settled.payout_cents == home_paid
    assert customer_balance(desk) == -1234 + home_paid
    assert customer_balance(desk, "c-2") == -999
    # The protest is upheld: the goal is disallowed, 0-0 is the official result now.
    match.official((0, 0), minute(140))
    assert any(isinstance(e, RollbackBetSettlement) for e in desk.events("betting.odds"))
    (rolled,) = [d for d in decisions(desk, "home") if isinstance(d, TicketSettlementRolledBack)]
    assert rolled.reversed_cents == home_paid
    home_history = [type(d).__name__ for d in decisions(desk, "home")]
    assert home_history == [
        "TicketAccepted", "TicketSettled", "TicketSettlementRolledBack", "TicketSettled",
    ]  # fmt: skip
    assert decisions(desk, "home")[-1].outcome is TicketOutcome.LOST
    draw_paid = int(999 * draw[4])
    assert decisions(desk, "draw")[-1].payout_cents == draw_paid
    assert customer_balance(desk) == -1234
    assert customer_balance(desk, "c-2") == -999 + draw_paid
    book = account_id(EUR, "op-1")
    assert balances(desk)[book] == 1234 + 999 - draw_paid
    assert sum(balances(desk).values()) == 0


def test_the_same_official_result_again_changes_nothing() -> None:
    desk = new_desk()
    match = live_match(desk)
    bet(desk, "home", [home_win(desk)], at=minute(2))
    desk.advance(timedelta(seconds=5))
    match.official((2, 1), minute(115))
    transfers = len([e for e in desk.events("payments.requests") if isinstance(e, CreateTransfers)])
    match.official((2, 1), minute(120))
    assert len(decisions(desk, "home")) == 2
    after = len([e for e in desk.events("payments.requests") if isinstance(e, CreateTransfers)])
    assert after == transfers


def test_a_cancelled_match_voids_its_bets_and_refunds_the_stake() -> None:
    desk = new_desk()
    match = live_match(desk)
    bet(desk, "t-1", [home_win(desk)], stake=1500, at=minute(2))
    desk.advance(timedelta(seconds=5))
    match.cancel(minute(50))
    assert any(isinstance(e, BetCancel) for e in desk.events("betting.odds"))
    settled = decisions(desk, "t-1")[-1]
    assert isinstance(settled, TicketSettled)
    assert settled.outcome is TicketOutcome.VOID
    assert settled.payout_cents == 1500
    assert customer_balance(desk) == 0


def test_an_accumulator_across_partitions_settles_when_both_legs_have() -> None:
    desk = new_desk()
    first = live_match(desk)
    second = live_match(desk, OTHER_MATCH)
    legs = [home_win(desk), home_win(desk, OTHER_MATCH)]
    bet(desk, "acca", legs, stake=1000, at=minute(1))
    desk.advance(timedelta(seconds=5))
    accepted = decisions(desk, "acca")[0]
    assert isinstance(accepted, TicketAccepted)
    assert accepted.odds == (legs[0][4], legs[1][4])
    first.official((1, 0), minute(115))
    assert len(decisions(desk, "acca")) == 1  # waits for the second leg
    second.official((3, 2), minute(115))
    settled = decisions(desk, "acca")[-1]
    assert isinstance(settled, TicketSettled)
    assert settled.payout_cents == int(1000 * legs[0][4] * legs[1][4] + 1e-9)


def test_a_same_event_combination_is_refused_with_its_own_reason() -> None:
    desk = new_desk()
    Match(desk).open()
    deposit(desk, 10_000)
    total = (MATCH, 18, "total=2.5", "12", offered(desk, 18, "total=2.5", "12"))
    bet(desk, "t-1", [home_win(desk), total], at=KICK_OFF)
    (refused,) = decisions(desk, "t-1")
    assert isinstance(refused, TicketRejected)
    assert refused.reason is ReasonCode.SAME_EVENT_COMBINATION
    assert refused.selection == 1
    assert "bet builder" in refused.detail
    assert customer_balance(desk) == 0  # refused on arrival: no stake was ever held
    # The same two legs on separate tickets are accepted.
    bet(desk, "t-2", [home_win(desk)], at=KICK_OFF)
    bet(desk, "t-3", [total], at=KICK_OFF)
    assert [type(d) for d in decisions(desk, "t-2") + decisions(desk, "t-3")] == [
        TicketAccepted,
        TicketAccepted,
    ]


def test_two_outcomes_of_one_market_are_related_and_refused() -> None:
    desk = new_desk()
    Match(desk).open()
    draw = (MATCH, 1, "", "2", offered(desk, 1, "", "2"))
    bet(desk, "t-1", [home_win(desk), draw], at=KICK_OFF)
    refused = decisions(desk, "t-1")[0]
    assert refused.reason is ReasonCode.RELATED_SELECTIONS
    assert refused.selection == 1


@pytest.mark.parametrize("currency", ["XTS"])
def test_an_unsupported_currency_is_refused(currency: str) -> None:
    desk = new_desk()
    Match(desk).open()
    bet(desk, "t-1", [home_win(desk)], at=KICK_OFF, currency=currency)
    assert decisions(desk, "t-1")[0].reason is ReasonCode.UNSUPPORTED_CURRENCY


def test_a_ticket_keyed_by_its_id_through_generic_ingest_is_still_decided() -> None:
    desk = new_desk()
    Match(desk).open()
    leg = home_win(desk)
    ticket = TicketSubmitted(
        ticket_id="t-raw", operator="op-1", customer_id="c-1", jurisdiction="FR",
        channel=Channel.INTERNET, stake_cents=700,
        selections=(Selection(event_id=leg[0], market_id=1, outcome_id="1", odds=leg[4]),),
    )  # fmt: skip
    deposit(desk, 10_000)
    desk.send("betting.bets", ticket, key="t-raw", time=KICK_OFF)
    (accepted,) = decisions(desk, "t-raw")
    assert isinstance(accepted, TicketAccepted)
    assert customer_balance(desk) == -700
