"""Settle markets from official results, pay tickets to the cent, roll back, cancel.

Each outcome settles the UOF way: ``result`` (1 won, 0 lost), ``void_factor`` (the share of
the stake refunded: 1 for a push or a non-runner) and ``dead_heat_factor`` (the share of the
rest paid at full odds when competitors tie for a paying place). One leg of a ticket returns

    factor = void_factor + (1 - void_factor) * result * dead_heat_factor * odds

times its stake; an accumulator multiplies its legs' factors. Payouts are computed with exact
fractions (odds as the decimals they were quoted in) and rounded *down* to the cent, so a
rollback followed by a settlement on the corrected result moves balances by exact cents.

A corrected result (a protest upheld) is handled as UOF does: ``rollback_bet_settlement`` for
the markets (:func:`rollback`), then a new ``bet_settlement`` (:func:`settle`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from flambeau.services.betting.errors import (
    IllegalMarketTransitionError,
    InvalidResultError,
    UnsettleableMarketError,
)
from flambeau.services.betting.markets import (
    NO_GOAL,
    Market,
    MarketKind,
    MarketStatus,
    parse_specifiers,
)
from flambeau.services.betting.schemas import (
    LIVE_PRODUCER,
    BetCancel,
    BetSettlement,
    CancelledMarket,
    MarketRef,
    RollbackBetSettlement,
    SettledMarket,
    SettledOutcome,
    TicketOutcome,
    VoidReason,
)

__all__ = [
    "AWAY",
    "HOME",
    "MatchResult",
    "RaceResult",
    "cancel",
    "goals_after",
    "leg_factor",
    "payout_cents",
    "rollback",
    "settle",
    "settle_market",
    "ticket_outcome",
    "void_outcome",
]

HOME = "home"
AWAY = "away"


@dataclass(frozen=True)
class MatchResult:
    """The official result of a head-to-head match.

    Attributes:
        event_id: The event.
        home_score: Home goals (points) in regulation time, or units won (sets) in Elo sports.
        away_score: Same, away.
        goals: Who scored each goal, in order (``"home"``/``"away"``); needed to settle
            next-goal markets that a goal decided.
        winner: ``"home"``/``"away"`` when the scores are level but the match has a winner
            (extra time, shoot-out); settles two-way winner markets only.
        scorers: The athlete who scored each goal of regulation time, in order (``""`` when
            no listed player of the scoring side did: an own goal); settles scorer markets.
    """

    event_id: str
    home_score: int
    away_score: int
    goals: tuple[str, ...] | None = None
    winner: str | None = None
    scorers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.home_score < 0 or self.away_score < 0:
            raise InvalidResultError(
                f"result of {self.event_id!r}: scores must be >= 0, "
                f"got {self.home_score}-{self.away_score}"
            )
        if self.winner not in (None, HOME, AWAY):
            raise InvalidResultError(
                f"result of {self.event_id!r}: winner must be 'home' or 'away', got {self.winner!r}"
            )
        if self.goals is not None and (
            self.goals.count(HOME) != self.home_score
            or self.goals.count(AWAY) != self.away_score
            or len(self.goals) != self.home_score + self.away_score
        ):
            raise InvalidResultError(
                f"result of {self.event_id!r}: goals {self.goals} do not add up to "
                f"{self.home_score}-{self.away_score}"
            )
        if self.scorers is not None and len(self.scorers) != self.home_score + self.away_score:
            raise InvalidResultError(
                f"result of {self.event_id!r}: {len(self.scorers)} scorers for "
                f"{self.home_score}-{self.away_score}"
            )


@dataclass(frozen=True)
class RaceResult:
    """The official result of a race.

    Attributes:
        event_id: The event.
        positions: Finishing position of each classified competitor (1 = winner); competitors
            who tie share a position (two at 2, then the next at 4). Anyone absent did not
            finish, or was disqualified: their bets lose.
        non_runners: Competitors who did not start: their bets are void.
    """

    event_id: str
    positions: Mapping[str, int]
    non_runners: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        bad = {c: p for c, p in self.positions.items() if p < 1}
        if bad:
            raise InvalidResultError(f"result of {self.event_id!r}: positions must be >= 1: {bad}")
        both = self.non_runners & set(self.positions)
        if both:
            raise InvalidResultError(
                f"result of {self.event_id!r}: {sorted(both)} both finished and did not start"
            )


def void_outcome(outcome_id: str) -> SettledOutcome:
    """An outcome whose bets are refunded in full."""
    return SettledOutcome(id=outcome_id, result=0, void_factor=1.0)


def _won(outcome_ids: Sequence[str], winner: str) -> tuple[SettledOutcome, ...]:
    return tuple(SettledOutcome(id=o, result=1 if o == winner else 0) for o in outcome_ids)


def _line(market: Market) -> float:
    specifiers = parse_specifiers(market.specifiers)
    key = market.type.specifier
    try:
        return float(specifiers[key])
    except (KeyError, ValueError):
        raise UnsettleableMarketError(
            f"market {market.key}: specifier {key!r} missing or not a number"
        ) from None


def _over_under(
    market: Market, scored: int
) -> tuple[tuple[SettledOutcome, ...], VoidReason | None]:
    line = _line(market)
    if scored == line:
        return tuple(void_outcome(o) for o in market.outcomes), VoidReason.PUSH
    under, over = market.type.outcome_ids
    return _won(market.outcomes, over if scored > line else under), None


def _match(
    market: Market, result: MatchResult
) -> tuple[tuple[SettledOutcome, ...], VoidReason | None]:
    diff = result.home_score - result.away_score
    outcomes = market.outcomes
    match market.kind:
        case MarketKind.MATCH_1X2:
            return _won(outcomes, "1" if diff > 0 else "2" if diff == 0 else "3"), None
        case MarketKind.MATCH_WINNER:
            side = HOME if diff > 0 else AWAY if diff < 0 else result.winner
            if side is None:
                raise UnsettleableMarketError(
                    f"market {market.key}: scores are level and the result names no winner"
                )
            return _won(outcomes, "4" if side == HOME else "5"), None
        case MarketKind.DRAW_NO_BET:
            if diff == 0:
                return tuple(void_outcome(o) for o in outcomes), VoidReason.PUSH
            return _won(outcomes, "4" if diff > 0 else "5"), None
        case MarketKind.NEXT_GOAL:
            number = int(_line(market))
            if result.home_score + result.away_score < number:
                return _won(outcomes, "7"), None
            if result.goals is None:
                raise UnsettleableMarketError(
                    f"market {market.key}: goal {number} was scored but the result has no "
                    "order of goals"
                )
            return _won(outcomes, "6" if result.goals[number - 1] == HOME else "8"), None
        case MarketKind.TOTAL:
            return _over_under(market, result.home_score + result.away_score)
        case MarketKind.HOME_TOTAL:
            return _over_under(market, result.home_score)
        case MarketKind.AWAY_TOTAL:
            return _over_under(market, result.away_score)
        case MarketKind.HANDICAP:
            margin = diff + _line(market)
            if margin == 0:
                return tuple(void_outcome(o) for o in outcomes), VoidReason.PUSH
            return _won(outcomes, "1714" if margin > 0 else "1715"), None
        case MarketKind.NEXT_SCORER | MarketKind.ANYTIME_SCORER:
            return _scorer(market, result)
        case _:
            raise UnsettleableMarketError(f"market {market.key} is not settled by a match result")


def _scorer(
    market: Market, result: MatchResult
) -> tuple[tuple[SettledOutcome, ...], VoidReason | None]:
    """Scorer markets: a result that does not name the scorers voids what it cannot decide."""
    outcomes = market.outcomes
    scorers = result.scorers
    if market.kind is MarketKind.ANYTIME_SCORER:
        if scorers is None:
            return tuple(void_outcome(o) for o in outcomes), VoidReason.NO_RESULT
        return tuple(SettledOutcome(id=o, result=1 if o in scorers else 0) for o in outcomes), None
    number = int(_line(market))
    if result.home_score + result.away_score < number:
        return _won(outcomes, NO_GOAL), None
    scorer = None if scorers is None else scorers[number - 1]
    if scorer not in outcomes or scorer == NO_GOAL:  # not named, or an own goal
        return tuple(void_outcome(o) for o in outcomes), VoidReason.NO_RESULT
    return _won(outcomes, scorer), None


def _race(market: Market, result: RaceResult) -> tuple[SettledOutcome, ...]:
    unknown = (set(result.positions) | result.non_runners) - set(market.outcomes)
    if unknown:
        raise InvalidResultError(
            f"result of {result.event_id!r} names competitors not in market {market.key}: "
            f"{sorted(unknown)}"
        )
    if market.kind is MarketKind.RACE_WINNER:
        places = 1
    elif market.kind is MarketKind.RACE_PODIUM:
        places = int(_line(market))
    else:
        raise UnsettleableMarketError(f"market {market.key} is not settled by a race result")
    tied: dict[int, int] = {}
    for place in result.positions.values():
        tied[place] = tied.get(place, 0) + 1
    settled = []
    for outcome in market.outcomes:
        if outcome in result.non_runners:
            settled.append(void_outcome(outcome))
            continue
        position = result.positions.get(outcome)
        if position is None or position > places:
            settled.append(SettledOutcome(id=outcome, result=0))
            continue
        # k competitors tied at `position` share the paying places left from there on.
        share = min(places - position + 1, tied[position])
        factor = share / tied[position]
        settled.append(SettledOutcome(id=outcome, result=1, dead_heat_factor=factor))
    return tuple(settled)


def settle_market(
    market: Market, result: MatchResult | RaceResult
) -> tuple[tuple[SettledOutcome, ...], VoidReason | None]:
    """How every outcome of ``market`` settles under ``result``.

    Returns:
        The settled outcomes in the market's order, and the void reason when the whole market
        is void (a push).

    Raises:
        UnsettleableMarketError: the result lacks what the market needs.
        InvalidResultError: the result does not fit the market.
    """
    if result.event_id != market.event_id:
        raise InvalidResultError(
            f"result of {result.event_id!r} cannot settle a market of {market.event_id!r}"
        )
    if isinstance(result, RaceResult):
        return _race(market, result), None
    return _match(market, result)


def settle(
    markets: Sequence[Market],
    result: MatchResult | RaceResult,
    *,
    timestamp: datetime,
    producer: int = LIVE_PRODUCER,
) -> tuple[BetSettlement, tuple[Market, ...]]:
    """Settle an event's markets from its official result.

    Returns:
        The ``bet_settlement`` (certainty 2: confirmed) and the markets, now SETTLED.

    Raises:
        IllegalMarketTransitionError: a market is already settled or cancelled (roll back
            first).
        UnsettleableMarketError: the result lacks what a market needs.
    """
    settled_markets = []
    moved = []
    for market in markets:
        outcomes, void_reason = settle_market(market, result)
        moved.append(market.moved(MarketStatus.SETTLED))
        settled_markets.append(
            SettledMarket(
                id=market.type.id,
                specifiers=market.specifiers,
                outcomes=outcomes,
                void_reason=void_reason,
            )
        )
    message = BetSettlement(
        event_id=result.event_id,
        producer=producer,
        timestamp=timestamp,
        certainty=2,
        markets=tuple(settled_markets),
    )
    return message, tuple(moved)


def rollback(
    markets: Sequence[Market], *, timestamp: datetime, producer: int = LIVE_PRODUCER
) -> tuple[RollbackBetSettlement, tuple[Market, ...]]:
    """Undo the settlement of settled markets, before settling them again on a corrected result.

    Returns:
        The ``rollback_bet_settlement`` and the markets, now DEACTIVATED.

    Raises:
        IllegalMarketTransitionError: a market is not SETTLED.
        ValueError: no markets, or markets of several events.
    """
    event_id = _one_event(markets)
    moved = []
    for market in markets:
        if market.status is not MarketStatus.SETTLED:
            # The status machine allows DEACTIVATED -> DEACTIVATED, but rolling back a
            # settlement that never happened would reverse payouts that were never made.
            raise IllegalMarketTransitionError(
                f"market {market.key}: cannot roll back a settlement of a "
                f"{market.status.name} market"
            )
        moved.append(market.moved(MarketStatus.DEACTIVATED))
    message = RollbackBetSettlement(
        event_id=event_id,
        producer=producer,
        timestamp=timestamp,
        markets=tuple(MarketRef(id=m.type.id, specifiers=m.specifiers) for m in markets),
    )
    return message, tuple(moved)


def cancel(
    markets: Sequence[Market],
    *,
    timestamp: datetime,
    reason: VoidReason = VoidReason.EVENT_CANCELLED,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    superseded_by: str | None = None,
    producer: int = LIVE_PRODUCER,
) -> tuple[BetCancel, tuple[Market, ...]]:
    """Void every bet on ``markets`` (a cancelled match), optionally only in a time window.

    Returns:
        The ``bet_cancel`` and the markets, now CANCELLED.

    Raises:
        IllegalMarketTransitionError: a market is settled or already cancelled.
        ValueError: no markets, markets of several events, or an inverted window.
    """
    event_id = _one_event(markets)
    if start_time is not None and end_time is not None and end_time < start_time:
        raise ValueError(f"bet_cancel window ends ({end_time}) before it starts ({start_time})")
    moved = tuple(market.moved(MarketStatus.CANCELLED) for market in markets)
    message = BetCancel(
        event_id=event_id,
        producer=producer,
        timestamp=timestamp,
        markets=tuple(
            CancelledMarket(id=m.type.id, specifiers=m.specifiers, void_reason=reason)
            for m in markets
        ),
        start_time=start_time,
        end_time=end_time,
        superseded_by=superseded_by,
    )
    return message, moved


def _one_event(markets: Sequence[Market]) -> str:
    if not markets:
        raise ValueError("no markets given")
    events = {m.event_id for m in markets}
    if len(events) > 1:
        raise ValueError(f"markets of several events given at once: {sorted(events)}")
    return markets[0].event_id


def _exact(value: float, max_denominator: int | None = None) -> Fraction:
    # repr() is the shortest decimal that round-trips, i.e. the odds as quoted ("2.35").
    exact = Fraction(repr(float(value)))
    return exact.limit_denominator(max_denominator) if max_denominator else exact


def leg_factor(odds: float, outcome: SettledOutcome) -> Fraction:
    """What one leg returns per unit of stake: refund share plus winnings, exactly.

    Dead-heat factors (1/3 travels as 0.333...) are read back as the nearest fraction with a
    denominator up to 1000, so three-way dead heats pay exact thirds.
    """
    void = _exact(outcome.void_factor, 1000)
    dead_heat = _exact(outcome.dead_heat_factor, 1000)
    return void + (1 - void) * outcome.result * dead_heat * _exact(odds)


def payout_cents(stake_cents: int, legs: Sequence[tuple[float, SettledOutcome]]) -> int:
    """The payout of a ticket, stake included, in cents rounded down.

    Args:
        stake_cents: The stake.
        legs: Per selection, the odds accepted and how its outcome settled.

    Raises:
        ValueError: a negative stake or no legs.
    """
    if stake_cents < 0:
        raise ValueError(f"stake must be >= 0 cents, got {stake_cents}")
    if not legs:
        raise ValueError("a ticket has at least one leg")
    total = Fraction(stake_cents)
    for odds, outcome in legs:
        total *= leg_factor(odds, outcome)
    return math.floor(total)


def ticket_outcome(legs: Sequence[tuple[float, SettledOutcome]], payout: int) -> TicketOutcome:
    """WON when it pays anything beyond a full refund of void legs, VOID when every leg is void,
    LOST when it pays nothing."""
    if all(outcome.void_factor == 1.0 for _, outcome in legs):
        return TicketOutcome.VOID
    return TicketOutcome.LOST if payout == 0 else TicketOutcome.WON


def goals_after(
    goals: tuple[str, ...], before: tuple[int, int], after: tuple[int, int]
) -> tuple[str, ...]:
    """Which side scored each goal, in order, after the score moved from ``before`` to ``after``.

    New goals are appended (home first when both sides scored between two snapshots); a goal
    taken back (VAR) removes that side's latest.
    """
    scorers = list(goals)
    for side, old, new in ((HOME, before[0], after[0]), (AWAY, before[1], after[1])):
        scorers.extend([side] * max(new - old, 0))
        for _ in range(max(old - new, 0)):
            if side in scorers:
                del scorers[len(scorers) - 1 - scorers[::-1].index(side)]
    return tuple(scorers)
