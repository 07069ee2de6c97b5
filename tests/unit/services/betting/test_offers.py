"""Offers per jurisdiction and channel: one table decides the bets and lists the markets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.jurisdictions import (
    JURISDICTIONS,
    RULES,
    Rule,
    RuleKind,
    jurisdiction_table,
)
from flambeau.services.betting.markets import MARKET_TYPES, MarketKind
from flambeau.services.betting.offer_feed import audiences, offers_processor
from flambeau.services.betting.offers import offered
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import (
    Alive,
    BetSettlement,
    CashOutRejected,
    CashOutRequest,
    Channel,
    OddsChange,
    OddsPolicy,
    ReasonCode,
    TicketAccepted,
)
from flambeau.services.betting.views import EventMarkets, MarketBoard

from .feeds import MATCH, STILL, Match, bet, decisions, minute, new_desk
from .feeds import offered as odds_of
from .harness import Desk


def board(desk: Desk) -> EventMarkets:
    """The match as the markets route shows it: the gateway's fold of ``betting.odds``."""
    fold = MarketBoard()
    for record in desk.records("betting.odds"):
        fold(record)
    return fold.events[MATCH]


def listed(desk: Desk, code: str, channel: Channel = Channel.INTERNET) -> set[int]:
    return {m.id for m in offered(board(desk), JURISDICTIONS[code], channel).markets}


def test_the_table_has_one_rule_per_row_with_a_source_for_each_jurisdiction() -> None:
    assert {"FR", "GB", "DE", "IT", "ES", "US-NJ"} <= set(JURISDICTIONS)
    assert all(rule.source for rule in RULES)
    with pytest.raises(ValueError, match="FR: two rows set in_play"):
        jurisdiction_table([*RULES, Rule("FR", RuleKind.IN_PLAY, False, "a second row")])


def test_a_gb_and_an_fr_customer_see_different_offers_for_the_same_event() -> None:
    desk = new_desk()
    Match(desk).open()
    everything = {m.id for m in board(desk).markets}
    assert listed(desk, "GB") == everything
    assert listed(desk, "FR") == everything - {16}  # no two-way handicap in France
    assert 16 in everything


def test_in_play_offers_follow_the_jurisdiction_and_the_channel() -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    match.kick_off()
    assert listed(desk, "DE") == {1, 8}  # the result and the next goal
    assert listed(desk, "AU", Channel.INTERNET) == set()  # no online in-play betting
    assert listed(desk, "AU", Channel.RETAIL) == {m.id for m in board(desk).markets}


@pytest.mark.parametrize("code", ["FR", "GB", "DE", "AU"])
def test_what_is_listed_is_accepted_and_what_is_not_is_refused_for_the_jurisdiction(
    code: str,
) -> None:
    desk = new_desk()
    match = Match(desk)
    match.open()
    match.kick_off()
    shown = listed(desk, code)
    tickets = {}
    for number, market in enumerate(board(desk).markets):
        outcome = next(o for o in market.outcomes if o.odds is not None and o.active)
        leg = (MATCH, market.id, market.specifiers, outcome.id, outcome.odds)
        ticket = f"{code}-{number}"
        bet(desk, ticket, [leg], at=minute(3), jurisdiction=code, customer=ticket,
            policy=OddsPolicy.ANY)  # fmt: skip
        tickets[ticket] = market.id
    desk.advance(timedelta(seconds=5))
    jurisdiction_reasons = {
        ReasonCode.JURISDICTION_FORBIDS_MARKET,
        ReasonCode.JURISDICTION_FORBIDS_IN_PLAY,
    }
    for ticket, market_id in tickets.items():
        (decision,) = decisions(desk, ticket)
        if market_id in shown:
            assert isinstance(decision, TicketAccepted), (ticket, market_id, decision)
        else:
            assert decision.reason in jurisdiction_reasons, (ticket, market_id, decision)


def test_a_sport_off_the_list_is_neither_listed_nor_accepted() -> None:
    tennis_only = jurisdiction_table(
        [Rule("XA", RuleKind.SPORTS, frozenset({"tennis"}), "a test jurisdiction")]
    )
    desk = new_desk(BettingConfig(drift_every=STILL.drift_every, jurisdictions=tennis_only))
    Match(desk).open()
    assert offered(board(desk), tennis_only["XA"], Channel.INTERNET).markets == ()
    bet(desk, "t-1", [(MATCH, 1, "", "1", odds_of(desk, 1, "", "1"))], at=minute(-30),
        jurisdiction="XA")  # fmt: skip
    (refused,) = decisions(desk, "t-1")
    assert refused.reason is ReasonCode.JURISDICTION_FORBIDS_MARKET


def test_a_jurisdiction_without_cash_out_refuses_it_and_says_so() -> None:
    table = jurisdiction_table(
        [*RULES, Rule("XB", RuleKind.CASH_OUT, False, "a test jurisdiction")]
    )
    desk = new_desk(BettingConfig(drift_every=STILL.drift_every, jurisdictions=table))
    Match(desk).open()
    bet(desk, "t-1", [(MATCH, 1, "", "1", odds_of(desk, 1, "", "1"))], at=minute(-30),
        jurisdiction="XB")  # fmt: skip
    assert isinstance(decisions(desk, "t-1")[0], TicketAccepted)
    request = CashOutRequest(request_id="co-1", ticket_id="t-1", operator="op-1",
                             customer_id="c-1")  # fmt: skip
    desk.send("betting.bets", request, key="op-1/c-1", time=minute(-20))
    (refused,) = [d for d in decisions(desk, "t-1") if isinstance(d, CashOutRejected)]
    assert refused.reason is ReasonCode.JURISDICTION_FORBIDS_CASH_OUT
    assert refused.detail == "cash-out is not allowed in XB"
    assert JURISDICTIONS["FR"].cash_out  # no cash-out rule found for the default table's rows
    assert MarketKind.HANDICAP in JURISDICTIONS["FR"].forbidden_markets


def test_the_offer_feed_copies_each_odds_message_filtered_per_audience() -> None:
    tennis_only = jurisdiction_table(
        [*RULES, Rule("XA", RuleKind.SPORTS, frozenset({"tennis"}), "a test jurisdiction")]
    )
    config = BettingConfig(
        drift_every=STILL.drift_every,
        jurisdictions=tennis_only,
        offer_audiences=(("FR", Channel.INTERNET), ("AU", Channel.RETAIL), ("XA", Channel.MOBILE)),
    )
    desk = Desk([*betting_processors(config), offers_processor(config)])
    match = Match(desk)
    match.open()
    match.kick_off()
    match.official((1, 0), minute(115))
    copies: dict[str, list[str]] = {}
    for record in desk.records("betting.offers"):
        copies.setdefault(record.key, []).append(type(record.data).__name__)
        if isinstance(record.data, OddsChange | BetSettlement):
            ids = {m.id for m in record.data.markets}
            assert record.key != "FR/internet" or MARKET_TYPES[MarketKind.HANDICAP].id not in ids
    # XA allows tennis only: nothing about a football match reaches its customers.
    assert set(copies) == {"FR/internet", "AU/retail"}
    for kinds in copies.values():
        assert "Alive" not in kinds
        assert {"FixtureChange", "OddsChange", "BetStop", "BetSettlement"} <= set(kinds)
    odds = [r for r in desk.records("betting.odds") if not isinstance(r.data, Alive)]
    assert len(copies["AU/retail"]) == len(odds)  # a shop may bet every market, in play too


def test_offer_audiences_must_name_known_jurisdictions() -> None:
    with pytest.raises(ValueError, match="ZZ"):
        audiences(BettingConfig(offer_audiences=(("ZZ", Channel.INTERNET),)))
