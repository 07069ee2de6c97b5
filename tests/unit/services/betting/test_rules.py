"""The bet engine's rules: odds policy, jurisdiction, delay, liability, cut-off, bad input."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from flambeau.services.betting.fixtures import LiveState
from flambeau.services.betting.markets import (
    Market,
    MarketKey,
    MarketKind,
    MarketStatus,
    markets_for,
)
from flambeau.services.betting.rules import (
    EXAMPLE_JURISDICTIONS,
    Jurisdiction,
    LiabilityLimits,
    Quote,
    check_cutoff,
    check_jurisdiction,
    check_liability,
    check_odds,
    cutoff_for,
    evaluate_cash_out,
    evaluate_ticket,
    live_delay,
    potential_payout_cents,
    ticket_delay,
    ticket_liability_cents,
    ticket_problems,
)
from flambeau.services.betting.schemas import (
    Channel,
    OddsPolicy,
    ReasonCode,
    Selection,
    TicketSubmitted,
)

from .factories import KICK_OFF, match

R = ReasonCode
MARKETS = markets_for(match())
WINNER = MARKETS[0]  # 1X2
TOTAL = next(m for m in MARKETS if m.specifiers == "total=2.5")
ODDS = {"1": 2.1, "2": 3.4, "3": 3.6}


def quotes(
    *,
    status: MarketStatus = MarketStatus.ACTIVE,
    odds: dict[str, float] | None = None,
    in_play: bool = True,
    producer_up: bool = True,
) -> dict[MarketKey, Quote]:
    made = {}
    for market, prices in ((WINNER, odds or ODDS), (TOTAL, {"13": 1.9, "12": 1.9})):
        moved = market.moved(status) if status is not MarketStatus.ACTIVE else market
        made[market.key] = Quote(
            moved,
            "football",
            in_play,
            prices,
            {k: 1 / v for k, v in prices.items()},
            producer_up,
        )
    return made


def ticket(
    *selections: Selection,
    stake: int = 1000,
    policy: OddsPolicy = OddsPolicy.NONE,
    jurisdiction: str = "FR",
    channel: Channel = Channel.INTERNET,
) -> TicketSubmitted:
    return TicketSubmitted(
        ticket_id="t-1",
        operator="op-1",
        customer_id="cust-1",
        jurisdiction=jurisdiction,
        channel=channel,
        selections=selections or (home_win(),),
        stake_cents=stake,
        odds_policy=policy,
    )


def home_win(odds: float = 2.1, **changes: object) -> Selection:
    fields: dict[str, object] = {
        "event_id": "fbl-m1",
        "market_id": 1,
        "specifiers": "",
        "outcome_id": "1",
        "odds": odds,
    }
    fields.update(changes)
    return Selection(**fields)  # type: ignore[arg-type]


def decide(
    t: TicketSubmitted, q: dict[MarketKey, Quote] | None = None, **kw: object
) -> ReasonCode | None:
    return evaluate_ticket(
        t, quotes() if q is None else q, jurisdictions=EXAMPLE_JURISDICTIONS, **kw
    ).reason  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "seen", "current", "reason"),
    [
        (OddsPolicy.NONE, 2.1, 2.1, None),
        (OddsPolicy.NONE, 2.1, 2.12, R.ODDS_CHANGED),
        (OddsPolicy.NONE, 2.1, 2.08, R.ODDS_CHANGED),
        (OddsPolicy.ANY, 2.1, 1.5, None),
        (OddsPolicy.HIGHER, 2.1, 2.12, None),
        (OddsPolicy.HIGHER, 2.1, 2.1, None),
        (OddsPolicy.HIGHER, 2.1, 2.08, R.ODDS_CHANGED),
        (OddsPolicy.NONE, 0.1 + 0.2 + 1.0, 1.3, None),  # compared as quoted, not as binary
    ],
)
def test_odds_policy(
    policy: OddsPolicy, seen: float, current: float, reason: ReasonCode | None
) -> None:
    assert check_odds(policy, seen, current) is reason


def test_an_accepted_ticket_takes_the_current_odds() -> None:
    verdict = evaluate_ticket(
        ticket(home_win(2.0), policy=OddsPolicy.HIGHER),
        quotes(),
        jurisdictions=EXAMPLE_JURISDICTIONS,
    )
    assert verdict.accepted
    assert verdict.odds == (2.1,)
    assert verdict.in_play


def test_each_failing_rule_gives_its_own_reason() -> None:
    assert decide(ticket()) is None
    assert decide(ticket(jurisdiction="ZZ")) is R.UNKNOWN_JURISDICTION
    assert decide(ticket(home_win(market_id=999))) is R.UNKNOWN_MARKET
    assert decide(ticket(home_win(specifiers="total=9.5", market_id=18))) is R.UNKNOWN_MARKET
    assert decide(ticket(home_win(outcome_id="12"))) is R.UNKNOWN_OUTCOME
    assert decide(ticket(), quotes(status=MarketStatus.SUSPENDED)) is R.MARKET_SUSPENDED
    assert decide(ticket(), quotes(status=MarketStatus.DEACTIVATED)) is R.MARKET_CLOSED
    assert decide(ticket(), quotes(producer_up=False)) is R.PRODUCER_DOWN
    assert decide(ticket(), quotes(odds={"2": 3.4, "3": 3.6})) is R.OUTCOME_INACTIVE
    assert decide(ticket(home_win(2.2))) is R.ODDS_CHANGED
    over = home_win(1.9, market_id=18, specifiers="total=2.5", outcome_id="12")
    assert decide(ticket(home_win(), over)) is R.SAME_EVENT_COMBINATION
    assert decide(ticket(home_win(), home_win())) is R.RELATED_SELECTIONS


def test_the_rejection_names_the_selection_at_fault() -> None:
    elsewhere = Selection(event_id="fbl-m2", market_id=1, outcome_id="1", odds=2.0)
    verdict = evaluate_ticket(
        ticket(home_win(), elsewhere), quotes(), jurisdictions=EXAMPLE_JURISDICTIONS
    )
    assert (verdict.reason, verdict.selection) == (R.UNKNOWN_MARKET, 1)
    assert "fbl-m2" in verdict.detail


def test_a_jurisdiction_that_forbids_in_play_rejects_an_in_play_bet() -> None:
    no_live = {"XX": Jurisdiction("XX", in_play=False)}
    live = ticket(jurisdiction="XX")
    assert evaluate_ticket(live, quotes(), jurisdictions=no_live).reason is (
        R.JURISDICTION_FORBIDS_IN_PLAY
    )
    assert evaluate_ticket(live, quotes(in_play=False), jurisdictions=no_live).accepted


def test_australia_allows_in_play_only_over_the_counter() -> None:
    assert decide(ticket(jurisdiction="AU")) is R.JURISDICTION_FORBIDS_IN_PLAY
    assert decide(ticket(jurisdiction="AU", channel=Channel.PHONE)) is (
        R.JURISDICTION_FORBIDS_IN_PLAY
    )
    assert decide(ticket(jurisdiction="AU", channel=Channel.RETAIL)) is None
    assert decide(ticket(jurisdiction="AU"), quotes(in_play=False)) is None


def test_a_jurisdiction_can_forbid_a_market_kind_even_before_the_start() -> None:
    rules = Jurisdiction("XX", forbidden_markets=frozenset({MarketKind.MATCH_1X2}))
    assert check_jurisdiction(
        rules, MarketKind.MATCH_1X2, in_play=False, channel=Channel.RETAIL
    ) is (R.JURISDICTION_FORBIDS_MARKET)
    assert check_jurisdiction(rules, MarketKind.TOTAL, in_play=True, channel=Channel.MOBILE) is None


def test_liability_limits_per_customer_and_per_market() -> None:
    limits = LiabilityLimits(per_customer_cents=5_000, per_market_cents=20_000)
    assert ticket_liability_cents(1000, [2.1]) == 1100
    assert potential_payout_cents(1000, [2.1, 1.5]) == 3150
    assert check_liability(limits, added_cents=1100, customer_cents=3_900) is None
    assert check_liability(limits, added_cents=1100, customer_cents=3_901) is R.LIABILITY_EXCEEDED
    assert (
        check_liability(limits, added_cents=1100, customer_cents=0, market_cents=[18_901])
        is R.LIABILITY_EXCEEDED
    )
    busy_market = {WINNER.key: 19_000}
    assert decide(ticket(), limits=limits, market_liability_cents=busy_market) is (
        R.LIABILITY_EXCEEDED
    )
    assert decide(ticket(), limits=limits, customer_liability_cents=3_900) is None


def test_live_delay_per_sport() -> None:
    assert live_delay("football", in_play=True) == timedelta(seconds=5)
    assert live_delay("TEN", in_play=True) == timedelta(seconds=3)
    assert live_delay("football", in_play=False) == timedelta(0)
    assert live_delay("football", in_play=True, overrides={"football": timedelta(seconds=9)}) == (
        timedelta(seconds=9)
    )
    assert ticket_delay(ticket(), quotes()) == timedelta(seconds=5)
    assert ticket_delay(ticket(), quotes(in_play=False)) == timedelta(0)


def test_cutoff_runs_from_the_live_estimate_when_there_is_one() -> None:
    fixture = match()
    assert fixture.end is not None
    assert cutoff_for(fixture) == fixture.end - timedelta(minutes=5)
    late = fixture.end + timedelta(minutes=7)
    assert cutoff_for(fixture, LiveState("fbl-m1", estimated_end=late)) == late - timedelta(
        minutes=5
    )
    assert cutoff_for(match(end=None)) is None
    cutoff = fixture.end - timedelta(minutes=5)
    assert check_cutoff(cutoff - timedelta(seconds=1), cutoff) is None
    assert check_cutoff(cutoff, cutoff) is R.CUTOFF_PASSED
    assert check_cutoff(cutoff, None) is None


def _cash_out(
    q: dict[MarketKey, Quote], *, at: timedelta, minimum: int | None = None
) -> tuple[ReasonCode | None, int | None]:
    cutoff = KICK_OFF + timedelta(minutes=110)
    verdict = evaluate_cash_out(
        stake_cents=1000,
        legs=[(WINNER.key, "1", 2.0)],
        quotes=q,
        event_time=KICK_OFF + at,
        cutoff=cutoff,
        min_amount_cents=minimum,
        margin=0.05,
    )
    return verdict.reason, verdict.offer_cents


def test_cash_out_until_the_cutoff() -> None:
    live = quotes(odds={"1": 1.25, "2": 5.0, "3": 10.0})  # fair probability of "1": 0.8
    assert _cash_out(live, at=timedelta(minutes=60)) == (None, 1520)  # 1000 x 2 x 0.8 x 0.95
    assert _cash_out(live, at=timedelta(minutes=110))[0] is R.CUTOFF_PASSED
    assert _cash_out(live, at=timedelta(minutes=60), minimum=1600) == (
        R.CASH_OUT_BELOW_MINIMUM,
        1520,
    )
    suspended = quotes(status=MarketStatus.SUSPENDED)
    assert _cash_out(suspended, at=timedelta(minutes=60))[0] is R.MARKET_SUSPENDED
    lost = quotes(odds={"2": 1.01, "3": 50.0})
    assert _cash_out(lost, at=timedelta(minutes=60))[0] is R.SELECTION_LOST


def _offered(markets: Sequence[Market]) -> dict[str, Sequence[Market]]:
    return {"fbl-m1": markets}


def test_malformed_selections_name_the_field() -> None:
    offered = _offered(MARKETS).get
    bad = ticket(
        home_win(event_id="nope"),
        home_win(event_id="fbl-m1", market_id=77),
        home_win(market_id=18, specifiers="total=2.7", outcome_id="12"),
        home_win(outcome_id="12"),
        home_win(),
    )
    problems = ticket_problems(bad, lambda event: offered(event, ()))
    assert [p.field for p in problems] == [
        "selections[0].event_id",
        "selections[1].market_id",
        "selections[2].specifiers",
        "selections[3].outcome_id",
    ]
    assert "total=2.5" in problems[2].message
