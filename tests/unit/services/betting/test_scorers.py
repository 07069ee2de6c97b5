"""Scorer markets: opened from the squads of the start list, priced, settled from the goals."""

from __future__ import annotations

import pytest

from flambeau.services.betting.markets import MARKET_TYPES, NO_GOAL, Market, MarketKind
from flambeau.services.betting.readings import match_result, players_of
from flambeau.services.betting.schemas import (
    BetSettlement,
    OddsChange,
    OddsMarket,
    ReasonCode,
    TicketAccepted,
    TicketRejected,
    TicketSettled,
    VoidReason,
)
from flambeau.services.betting.scorers import DEFAULT_WEIGHT, POSITION_WEIGHTS
from flambeau.services.betting.settlement import MatchResult, settle_market
from flambeau.services.results.odf import parse
from flambeau.services.results.odf_builder import result_xml
from flambeau.services.results.schemas import (
    Athlete,
    Competitor,
    CompetitorKind,
    CompetitorResult,
    Detail,
    ResultStatus,
    Shape,
    UnitResult,
)

from .feeds import (
    KICK_OFF,
    MATCH,
    Match,
    bet,
    decisions,
    latest_odds,
    minute,
    new_desk,
    offered,
)
from .harness import Desk

NEXT, ANYTIME = 90003, 90004
FRA = {"F01": "GK", "F05": "DF", "F08": "MF", "F09": "FW"}
ESP = {"E01": "GK", "E04": "DF", "E10": "MF", "E07": ""}  # E07's position not given


def squads_match(desk: Desk) -> Match:
    match = Match(desk, squads=(FRA, ESP))
    match.open()
    return match


def market(change: OddsChange, market_id: int, specifiers: str = "") -> OddsMarket:
    return next(m for m in change.markets if m.id == market_id and m.specifiers == specifiers)


def probabilities(found: OddsMarket) -> dict[str, float]:
    return {o.id: o.probability or 0.0 for o in found.outcomes}


def test_a_start_list_with_squads_opens_next_and_anytime_scorer_markets() -> None:
    desk = new_desk(payments=False)
    squads_match(desk)
    change = latest_odds(desk)
    following = probabilities(market(change, NEXT, "goalnr=1"))
    assert list(following) == [*FRA, *ESP, NO_GOAL]
    assert sum(following.values()) == pytest.approx(1.0)
    # The players of a side share exactly what the next-goal market gives that side.
    next_goal = probabilities(market(change, 8, "goalnr=1"))
    assert sum(following[p] for p in FRA) == pytest.approx(next_goal["6"])
    assert following[NO_GOAL] == pytest.approx(next_goal["7"])
    # Positions weigh: a forward is likelier than a midfielder than a defender than a keeper;
    # a player without a position gets the even weight (1, as a midfielder).
    assert following["F09"] > following["F08"] > following["F05"] > following["F01"]
    assert following["E07"] == pytest.approx(following["E10"])
    anytime = probabilities(market(change, ANYTIME))
    assert list(anytime) == [*FRA, *ESP]
    assert all(0 < p < 1 for p in anytime.values())
    assert anytime["F09"] > following["F09"]  # any goal of the match, not only the next


def test_a_match_without_squads_has_no_scorer_markets() -> None:
    desk = new_desk(payments=False)
    Match(desk).open()
    ids = {m.id for m in latest_odds(desk).markets}
    assert 8 in ids
    assert NEXT not in ids
    assert ANYTIME not in ids


def test_scorer_bets_settle_from_the_goals_the_official_result_names() -> None:
    desk = new_desk()
    match = squads_match(desk)
    odds_f09 = offered(desk, NEXT, "goalnr=1", "F09")
    bet(desk, "first", [(MATCH, NEXT, "goalnr=1", "F09", odds_f09)], at=KICK_OFF)
    bet(desk, "wrong", [(MATCH, NEXT, "goalnr=1", "E10", offered(desk, NEXT, "goalnr=1", "E10"))],
        at=KICK_OFF, customer="c-2")  # fmt: skip
    odds_any = offered(desk, ANYTIME, "", "F08")
    bet(desk, "any", [(MATCH, ANYTIME, "", "F08", odds_any)], at=KICK_OFF, customer="c-3")
    assert all(isinstance(decisions(desk, t)[0], TicketAccepted) for t in ("first", "wrong", "any"))
    match.kick_off()
    match.scorers.append((0, "F09"))
    match.goal((1, 0), minute(10))
    after = latest_odds(desk)
    # The next goal is now the second: goal 1's market retired, goal 2's opened.
    assert market(after, NEXT, "goalnr=1").status.value == "deactivated"
    assert market(after, NEXT, "goalnr=2").status.value == "active"
    anytime = market(after, ANYTIME)
    assert anytime.status.value == "active"  # F09 has won, the others still trade
    scored = next(o for o in anytime.outcomes if o.id == "F09")
    assert (scored.probability, scored.active) == (1.0, False)
    match.scorers.append((0, "F08"))
    match.goal((2, 0), minute(60))
    match.official((2, 0), minute(115))
    settlement = [e for e in desk.events("betting.odds") if isinstance(e, BetSettlement)][-1]
    won = {(m.id, m.specifiers): {o.id for o in m.outcomes if o.result == 1}
           for m in settlement.markets if m.id in (NEXT, ANYTIME)}  # fmt: skip
    assert won == {
        (NEXT, "goalnr=1"): {"F09"},
        (NEXT, "goalnr=2"): {"F08"},
        (NEXT, "goalnr=3"): {NO_GOAL},
        (ANYTIME, ""): {"F09", "F08"},
    }
    first, wrong, anytime_ticket = (decisions(desk, t)[-1] for t in ("first", "wrong", "any"))
    assert isinstance(first, TicketSettled)
    assert first.payout_cents == int(1000 * odds_f09)
    assert isinstance(wrong, TicketSettled)
    assert wrong.payout_cents == 0
    assert isinstance(anytime_ticket, TicketSettled)
    assert anytime_ticket.payout_cents == int(1000 * odds_any)


def test_a_scorer_and_the_match_winner_on_one_ticket_is_a_refused_bet_builder() -> None:
    desk = new_desk()
    squads_match(desk)
    legs = [
        (MATCH, 1, "", "1", offered(desk, 1, "", "1")),
        (MATCH, ANYTIME, "", "F09", offered(desk, ANYTIME, "", "F09")),
    ]
    bet(desk, "builder", legs, at=KICK_OFF)
    (refused,) = decisions(desk, "builder")
    assert isinstance(refused, TicketRejected)
    assert refused.reason is ReasonCode.SAME_EVENT_COMBINATION


def scorer_market(kind: MarketKind, specifiers: str = "") -> Market:
    outcomes = ("F09", "E10", NO_GOAL) if kind is MarketKind.NEXT_SCORER else ("F09", "E10")
    return Market("m", MARKET_TYPES[kind], specifiers, outcomes)


def test_an_own_goal_or_an_unnamed_scorer_voids_that_goal_and_only_that_goal() -> None:
    result = MatchResult("m", 2, 0, scorers=("", "F09"))  # an own goal, then F09
    first, reason = settle_market(scorer_market(MarketKind.NEXT_SCORER, "goalnr=1"), result)
    assert reason is VoidReason.NO_RESULT
    assert all(o.void_factor == 1.0 for o in first)
    second, reason = settle_market(scorer_market(MarketKind.NEXT_SCORER, "goalnr=2"), result)
    assert reason is None
    assert {o.id for o in second if o.result} == {"F09"}
    unnamed = MatchResult("m", 1, 0)  # the source names no scorer: nothing can be decided
    anytime, reason = settle_market(scorer_market(MarketKind.ANYTIME_SCORER), unnamed)
    assert reason is VoidReason.NO_RESULT
    assert all(o.void_factor == 1.0 for o in anytime)


def test_squads_positions_and_scorers_survive_the_odf_document_of_the_result() -> None:
    squads = (FRA, ESP)
    lines = tuple(
        CompetitorResult(
            competitor=Competitor(
                code=team, kind=CompetitorKind.TEAM, athletes=tuple(Athlete(code=a) for a in squad)
            ),
            score=score,
            details=(
                *(Detail(code="POSITION", pos=a, value=p) for a, p in squad.items() if p),
                *(Detail(code="GOAL", pos=n, value=a) for n, a in goals),
            ),
        )
        for team, squad, score, goals in (
            ("FRA", squads[0], 2, (("1", "F09"), ("3", "E10"))),  # goal 3: an own goal
            ("ESP", squads[1], 1, (("2", "E07"),)),
        )
    )
    unit = UnitResult(
        competition="OG2024", unit=MATCH, discipline="FBL", version=9,
        status=ResultStatus.OFFICIAL, shape=Shape.HEAD_TO_HEAD, source="FBL-timing",
        home="FRA", away="ESP", competitors=lines,
    )  # fmt: skip
    parsed = parse(result_xml(unit, generated_at=KICK_OFF)).body
    assert isinstance(parsed, UnitResult)
    players = players_of(parsed)
    assert [(p.id, p.side) for p in players] == [(a, 0) for a in FRA] + [(a, 1) for a in ESP]
    assert {p.id: p.weight for p in players}["F09"] == POSITION_WEIGHTS["FW"]
    assert {p.id: p.weight for p in players}["E07"] == DEFAULT_WEIGHT
    result = match_result(parsed, ("home", "away", "home"))
    assert result is not None
    assert result.scorers == ("F09", "E07", "")
