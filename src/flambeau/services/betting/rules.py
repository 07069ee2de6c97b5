"""The bet engine's rules, as pure functions that return a reason code (``None``: passes).

A ticket is checked twice: when it arrives (to refuse at once what no delay can fix) and,
for an in-play ticket, again after the sport's live delay, against the markets as they are
then. :func:`evaluate_ticket` runs every rule in a fixed order, so a ticket that breaks
several rules always gets the same reason:

1. the jurisdiction is known; no two selections on one market (``related_selections``) or
   on one event (``same_event_combination``: a bet builder, see :func:`same_event_refusal`);
2. per selection: the market and outcome exist; the jurisdiction allows its sport and market, and
   allows it in play on this channel; the producer is up; the market is ACTIVE; the outcome
   is bettable; the odds satisfy the ticket's odds policy;
3. the customer's and each market's liability stay within their limits.

Changes and cash-outs are allowed until the cut-off, 5 minutes before the scheduled or
live-estimated end; the caller supplies the *event* time it decides at (an event-time timer),
never the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from flambeau.services.betting.fixtures import Fixture, LiveState
from flambeau.services.betting.jurisdictions import (
    JURISDICTIONS,
    Jurisdiction,
    check_jurisdiction,
)
from flambeau.services.betting.markets import Market, MarketKey, MarketStatus
from flambeau.services.betting.pricing import cash_out_value
from flambeau.services.betting.schemas import (
    Channel,
    OddsPolicy,
    ReasonCode,
    Selection,
    TicketSubmitted,
)
from flambeau.services.betting.sports import profile_for

__all__ = [
    "CHANGE_CUTOFF",
    "EXAMPLE_JURISDICTIONS",
    "CashOutVerdict",
    "FieldProblem",
    "Jurisdiction",
    "LiabilityLimits",
    "Quote",
    "Verdict",
    "check_cutoff",
    "check_jurisdiction",
    "check_liability",
    "check_odds",
    "cutoff_for",
    "evaluate_cash_out",
    "evaluate_leg",
    "evaluate_ticket",
    "live_delay",
    "potential_payout_cents",
    "same_event_refusal",
    "selection_problems",
    "ticket_delay",
    "ticket_liability_cents",
    "ticket_problems",
]

CHANGE_CUTOFF = timedelta(minutes=5)
"""Changes and cash-outs close this long before the (estimated) end of the event."""
EXAMPLE_JURISDICTIONS = JURISDICTIONS
"""The default jurisdiction table (:mod:`.jurisdictions`), under its former name."""


# ------------------------------------------------------------------------------ live delay


def live_delay(
    sport: str, *, in_play: bool, overrides: Mapping[str, timedelta] | None = None
) -> timedelta:
    """How long a ticket waits before it is decided: the sport's delay in play, none before.

    Args:
        sport: Sport name or ODF code.
        in_play: Whether the event has started.
        overrides: Delays by canonical sport name that replace the profile's
            (football 5 s and tennis 3 s by default).
    """
    if not in_play:
        return timedelta(0)
    profile = profile_for(sport)
    if overrides and profile.name in overrides:
        return overrides[profile.name]
    return profile.live_delay


# --------------------------------------------------------------------------- odds policy


def check_odds(policy: OddsPolicy, seen: float, current: float) -> ReasonCode | None:
    """Whether the current odds still satisfy the ticket's policy.

    NONE rejects any change; ANY accepts any; HIGHER accepts current odds at least as high as
    those the customer saw. Odds are compared at two decimals, as quoted.
    """
    seen_c, current_c = round(seen * 100), round(current * 100)
    if policy is OddsPolicy.ANY:
        return None
    if policy is OddsPolicy.HIGHER:
        return None if current_c >= seen_c else ReasonCode.ODDS_CHANGED
    return None if current_c == seen_c else ReasonCode.ODDS_CHANGED


# ------------------------------------------------------------------------------ liability


@dataclass(frozen=True)
class LiabilityLimits:
    """The most the book may lose, in cents, to one customer and on one market."""

    per_customer_cents: int
    per_market_cents: int


def _exact_odds(odds: Sequence[float]) -> Fraction:
    product = Fraction(1)
    for value in odds:
        product *= Fraction(repr(float(value)))
    return product


def potential_payout_cents(stake_cents: int, odds: Sequence[float]) -> int:
    """What a ticket pays if every leg wins, stake included, rounded down to the cent."""
    return math.floor(stake_cents * _exact_odds(odds))


def ticket_liability_cents(stake_cents: int, odds: Sequence[float]) -> int:
    """What the book loses if the ticket wins: payout minus stake, rounded up to the cent."""
    return math.ceil(stake_cents * _exact_odds(odds)) - stake_cents


def check_liability(
    limits: LiabilityLimits,
    *,
    added_cents: int,
    customer_cents: int,
    market_cents: Sequence[int] = (),
) -> ReasonCode | None:
    """Whether adding ``added_cents`` of liability keeps the customer and every market in limits.

    Args:
        limits: The limits.
        added_cents: The new ticket's liability (:func:`ticket_liability_cents`).
        customer_cents: The customer's open liability before this ticket.
        market_cents: The open liability of each market the ticket bets on.
    """
    if customer_cents + added_cents > limits.per_customer_cents:
        return ReasonCode.LIABILITY_EXCEEDED
    if any(current + added_cents > limits.per_market_cents for current in market_cents):
        return ReasonCode.LIABILITY_EXCEEDED
    return None


# -------------------------------------------------------------------------------- cut-off


def cutoff_for(
    fixture: Fixture, state: LiveState | None = None, *, lead: timedelta = CHANGE_CUTOFF
) -> datetime | None:
    """When changes and cash-outs close: ``lead`` before the live-estimated or scheduled end.

    Returns:
        The cut-off, or ``None`` when neither the live state nor the schedule gives an end.
    """
    end = state.estimated_end if state is not None and state.estimated_end else fixture.end
    return None if end is None else end - lead


def check_cutoff(event_time: datetime, cutoff: datetime | None) -> ReasonCode | None:
    """CUTOFF_PASSED once the event time has reached the cut-off; no cut-off never passes."""
    if cutoff is not None and event_time >= cutoff:
        return ReasonCode.CUTOFF_PASSED
    return None


# ---------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class Quote:
    """What the bet engine knows about one market when it decides.

    Attributes:
        market: The market, with its current status.
        sport: The event's sport (for its live delay).
        in_play: Whether the event has started.
        odds: Current offered odds of the bettable outcomes (inactive ones are absent).
        probabilities: Current fair probabilities by outcome (for cash-out).
        producer_up: Whether the producer pricing the market is alive.
    """

    market: Market
    sport: str
    in_play: bool
    odds: Mapping[str, float]
    probabilities: Mapping[str, float] = field(default_factory=dict)
    producer_up: bool = True


@dataclass(frozen=True)
class Verdict:
    """The outcome of the rules: a reason to reject, or the odds to accept at."""

    reason: ReasonCode | None = None
    selection: int | None = None
    detail: str = ""
    odds: tuple[float, ...] = ()
    in_play: bool = False

    @property
    def accepted(self) -> bool:
        """Whether the ticket passes every rule."""
        return self.reason is None


def _key(event_id: str, market_id: int, specifiers: str) -> MarketKey:
    return MarketKey(event_id, market_id, specifiers)


def _market_rules(quote: Quote, outcome_id: str) -> tuple[ReasonCode, str] | None:
    if not quote.producer_up:
        return ReasonCode.PRODUCER_DOWN, "the producer pricing this market is down"
    status = quote.market.status
    if status is MarketStatus.SUSPENDED:
        return ReasonCode.MARKET_SUSPENDED, f"market {quote.market.key} is suspended"
    if status is not MarketStatus.ACTIVE:
        return ReasonCode.MARKET_CLOSED, f"market {quote.market.key} is {status.value}"
    if outcome_id not in quote.odds:
        return ReasonCode.OUTCOME_INACTIVE, f"outcome {outcome_id!r} is not bettable now"
    return None


def evaluate_leg(
    selection: Selection,
    quote: Quote | None,
    *,
    jurisdiction: Jurisdiction,
    channel: Channel,
    policy: OddsPolicy,
    index: int = 0,
) -> Verdict:
    """Run the per-selection rules on one leg of a ticket (step 2 of this module's docstring).

    The bet engine runs this where the leg's market lives, after the live delay; the rules that
    span legs (related selections, liability) are the caller's.

    Args:
        selection: The leg.
        quote: Its market as the engine sees it now, or ``None`` when there is no such market.
        jurisdiction: The customer's jurisdiction.
        channel: How the ticket was placed.
        policy: The ticket's odds policy.
        index: The leg's position in its ticket, reported with a rejection.

    Returns:
        A rejection naming ``index``, or an acceptance whose ``odds`` holds the leg's current
        odds.
    """
    key = _key(selection.event_id, selection.market_id, selection.specifiers)
    if quote is None:
        return Verdict(ReasonCode.UNKNOWN_MARKET, index, f"no market {key}")
    if selection.outcome_id not in quote.market.outcomes:
        return Verdict(
            ReasonCode.UNKNOWN_OUTCOME,
            index,
            f"market {key} has no outcome {selection.outcome_id!r}",
        )
    reason = check_jurisdiction(
        jurisdiction, quote.market.kind, in_play=quote.in_play, channel=channel, sport=quote.sport
    )
    if reason is not None:
        return Verdict(reason, index, f"not allowed in {jurisdiction.code}")
    failed = _market_rules(quote, selection.outcome_id)
    if failed is not None:
        return Verdict(failed[0], index, failed[1])
    current = quote.odds[selection.outcome_id]
    if check_odds(policy, selection.odds, current) is not None:
        return Verdict(
            ReasonCode.ODDS_CHANGED,
            index,
            f"odds moved from {selection.odds} to {current} ({policy.value})",
        )
    return Verdict(odds=(current,), in_play=quote.in_play)


def same_event_refusal(
    selections: Sequence[Selection],
) -> tuple[ReasonCode, int, str] | None:
    """Why a ticket's selections may not be combined, with the selection at fault, if so.

    Legs of an accumulator are priced as independent (the ticket's odds are their product).
    Two outcomes of one market exclude each other: ``related_selections``. Two markets of one
    event (a bet builder: the home win and over 2.5 goals) are correlated, so the product
    would be the wrong price, and the engine has no correlated pricing: such a ticket is
    refused ``same_event_combination``.
    """
    markets: set[tuple[str, int, str]] = set()
    events: set[str] = set()
    for index, selection in enumerate(selections):
        event = selection.event_id
        market = (event, selection.market_id, selection.specifiers)
        if market in markets:
            label = f"{selection.market_id} {selection.specifiers}".rstrip()
            detail = f"another selection is on market {label} of {event!r}"
            return ReasonCode.RELATED_SELECTIONS, index, detail
        if event in events:
            detail = (
                f"another selection is on event {event!r}: same-event combinations (bet "
                "builder) are correlated and not priced; bet them on separate tickets"
            )
            return ReasonCode.SAME_EVENT_COMBINATION, index, detail
        markets.add(market)
        events.add(event)
    return None


def evaluate_ticket(
    ticket: TicketSubmitted,
    quotes: Mapping[MarketKey, Quote],
    *,
    jurisdictions: Mapping[str, Jurisdiction],
    limits: LiabilityLimits | None = None,
    customer_liability_cents: int = 0,
    market_liability_cents: Mapping[MarketKey, int] | None = None,
) -> Verdict:
    """Run every rule on a ticket, in the order of this module's docstring.

    Args:
        ticket: The ticket.
        quotes: The markets as the engine sees them now, by key.
        jurisdictions: Known jurisdictions by code.
        limits: Liability limits; ``None`` skips the liability rule.
        customer_liability_cents: The customer's open liability.
        market_liability_cents: Open liability per market.

    Returns:
        A rejection with its reason and the selection at fault, or an acceptance at the
        current odds (which, under ANY or HIGHER, may differ from those seen).
    """
    jurisdiction = jurisdictions.get(ticket.jurisdiction)
    if jurisdiction is None:
        return Verdict(
            ReasonCode.UNKNOWN_JURISDICTION,
            detail=f"no rules for jurisdiction {ticket.jurisdiction!r}",
        )
    combined = same_event_refusal(ticket.selections)
    if combined is not None:
        return Verdict(combined[0], combined[1], combined[2])
    accepted: list[float] = []
    in_play = False
    for index, selection in enumerate(ticket.selections):
        key = _key(selection.event_id, selection.market_id, selection.specifiers)
        leg = evaluate_leg(
            selection,
            quotes.get(key),
            jurisdiction=jurisdiction,
            channel=ticket.channel,
            policy=ticket.odds_policy,
            index=index,
        )
        if not leg.accepted:
            return leg
        accepted.extend(leg.odds)
        in_play = in_play or leg.in_play
    if limits is not None:
        added = ticket_liability_cents(ticket.stake_cents, accepted)
        per_market = market_liability_cents or {}
        markets = [
            per_market.get(_key(s.event_id, s.market_id, s.specifiers), 0)
            for s in ticket.selections
        ]
        breached = check_liability(
            limits, added_cents=added, customer_cents=customer_liability_cents, market_cents=markets
        )
        if breached is not None:
            return Verdict(
                ReasonCode.LIABILITY_EXCEEDED,
                detail=f"liability {added} cents would exceed the customer or market limit",
            )
    return Verdict(odds=tuple(accepted), in_play=in_play)


def ticket_delay(
    ticket: TicketSubmitted,
    quotes: Mapping[MarketKey, Quote],
    *,
    overrides: Mapping[str, timedelta] | None = None,
) -> timedelta:
    """The live delay a ticket waits: the longest of its in-play selections' sports."""
    delay = timedelta(0)
    for selection in ticket.selections:
        quote = quotes.get(_key(selection.event_id, selection.market_id, selection.specifiers))
        if quote is not None:
            delay = max(delay, live_delay(quote.sport, in_play=quote.in_play, overrides=overrides))
    return delay


@dataclass(frozen=True)
class CashOutVerdict:
    """The outcome of a cash-out request: a reason to refuse, and the offer when there is one."""

    reason: ReasonCode | None
    offer_cents: int | None = None
    detail: str = ""


def evaluate_cash_out(
    *,
    stake_cents: int,
    legs: Sequence[tuple[MarketKey, str, float]],
    quotes: Mapping[MarketKey, Quote],
    event_time: datetime,
    cutoff: datetime | None,
    min_amount_cents: int | None = None,
    margin: float = 0.05,
) -> CashOutVerdict:
    """Whether an open ticket may be cashed out now, and for how much.

    Args:
        stake_cents: The ticket's stake.
        legs: Per selection: its market, outcome id and the odds it was accepted at.
        quotes: The markets as they are now.
        event_time: The event time the request is decided at.
        cutoff: The earliest cut-off among the ticket's events.
        min_amount_cents: The least the customer accepts.
        margin: The cash-out margin.
    """
    reason = check_cutoff(event_time, cutoff)
    if reason is not None:
        return CashOutVerdict(reason, detail=f"cash-out closed at {cutoff}")
    probabilities: list[float] = []
    for key, outcome_id, _odds in legs:
        quote = quotes.get(key)
        if quote is None:
            return CashOutVerdict(ReasonCode.UNKNOWN_MARKET, detail=f"no market {key}")
        failed = _market_rules(quote, outcome_id)
        if failed is not None and failed[0] is not ReasonCode.OUTCOME_INACTIVE:
            return CashOutVerdict(failed[0], detail=failed[1])
        probability = quote.probabilities.get(outcome_id, 0.0)
        if probability <= 0.0:
            return CashOutVerdict(ReasonCode.SELECTION_LOST, detail=f"{outcome_id!r} cannot win")
        probabilities.append(probability)
    offer = cash_out_value(stake_cents, [odds for _, _, odds in legs], probabilities, margin=margin)
    if min_amount_cents is not None and offer < min_amount_cents:
        return CashOutVerdict(
            ReasonCode.CASH_OUT_BELOW_MINIMUM,
            offer,
            f"offer {offer} cents is below the {min_amount_cents} asked",
        )
    return CashOutVerdict(None, offer)


# ------------------------------------------------------------------------------ bad input


@dataclass(frozen=True)
class FieldProblem:
    """One reason a ticket is malformed, naming the field (for an RFC 9457 ``errors`` entry)."""

    field: str
    message: str


def ticket_problems(
    ticket: TicketSubmitted, markets_of: Callable[[str], Sequence[Market]]
) -> list[FieldProblem]:
    """What is wrong with a ticket's selections, field by field (empty: nothing).

    Catches what the schema cannot: unknown events and markets, specifiers that match no
    offered line, outcomes the market does not have. Stakes, odds types and required fields
    are the decoder's job.

    Args:
        ticket: The decoded ticket.
        markets_of: The markets offered for an event id (empty when the event is unknown).
    """
    return selection_problems(ticket.selections, markets_of)


def selection_problems(
    selections: Sequence[Selection], markets_of: Callable[[str], Sequence[Market]]
) -> list[FieldProblem]:
    """:func:`ticket_problems` for a list of selections (a ticket's, or a change's)."""
    problems: list[FieldProblem] = []
    for index, selection in enumerate(selections):
        where = f"selections[{index}]"
        offered = markets_of(selection.event_id)
        if not offered:
            problems.append(
                FieldProblem(f"{where}.event_id", f"no markets for event {selection.event_id!r}")
            )
            continue
        same_id = [m for m in offered if m.type.id == selection.market_id]
        if not same_id:
            ids = sorted({m.type.id for m in offered})
            problems.append(
                FieldProblem(
                    f"{where}.market_id",
                    f"event {selection.event_id!r} has no market {selection.market_id}; "
                    f"offered: {ids}",
                )
            )
            continue
        market = next((m for m in same_id if m.specifiers == selection.specifiers), None)
        if market is None:
            lines = sorted(m.specifiers for m in same_id)
            problems.append(
                FieldProblem(
                    f"{where}.specifiers",
                    f"market {selection.market_id} has no line {selection.specifiers!r}; "
                    f"offered: {lines}",
                )
            )
            continue
        if selection.outcome_id not in market.outcomes:
            problems.append(
                FieldProblem(
                    f"{where}.outcome_id",
                    f"market {selection.market_id} {selection.specifiers} has no outcome "
                    f"{selection.outcome_id!r}; outcomes: {list(market.outcomes)}",
                )
            )
    return problems
