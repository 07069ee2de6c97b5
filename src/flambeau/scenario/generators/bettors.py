"""Bettors in several jurisdictions placing in-play bets on live matches.

Bets arrive on every head-to-head unit while it is live, at a per-minute rate that follows
the sport's popularity, plus a rush within 2 to 12 seconds of each goal and each period end:
the late bets a live delay and a ``bet_stop`` exist to catch.

The generator draws what bettors *try*; it enforces no rule. Each jurisdiction carries its rules
as data for the betting service to apply: Australia's Interactive Gambling Act 2001 bans
online in-play betting, so every Australian bet here should be refused; Germany's 2021 State
Treaty limits in-play bets to the final result and the next goal.

Odds are not known to the simulator: ``seen_odds`` is a placeholder that the driver fills with
the odds it last saw on the odds stream before sending the bet.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flambeau.scenario._random import poisson, rng_for, stable_token
from flambeau.scenario.generators.progressions import Progression
from flambeau.scenario.generators.results import Action
from flambeau.scenario.sports import Scoring, Shape, discipline
from flambeau.services.results.schemas import ResultStatus

__all__ = [
    "JURISDICTIONS",
    "BetPlacement",
    "Jurisdiction",
    "Market",
    "OddsPolicy",
    "bets",
    "jurisdiction",
    "popularity",
]


class Market(StrEnum):
    """The in-play markets bettors use."""

    MATCH_WINNER = "match_winner"
    """Selections ``home``, ``away`` and, where a draw can stand, ``draw``."""
    TOTAL = "total"
    """Selections ``over`` and ``under`` the ``total=<line>`` specifier."""
    NEXT_SCORE = "next_score"
    """Selections ``home``, ``away`` and ``none``: who scores next."""


class OddsPolicy(StrEnum):
    """What the bettor accepts if the odds move before acceptance (Sportradar MTS's values)."""

    NONE = "none"
    """Only the odds the bettor saw."""
    HIGHER = "higher"
    """The odds seen or better."""
    ANY = "any"
    """Whatever the odds are at acceptance."""


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A betting jurisdiction.

    Attributes:
        code: ``FR``, ``GB``, ``DE``, ``US-NJ``, ``AU``.
        regulator: The licensing authority.
        currency: ISO 4217 currency of stakes.
        in_play_allowed: Whether online in-play bets may be accepted at all.
        in_play_markets: The markets allowed in play; empty means all.
        share: Share of the bettors in the simulation.
        median_stake: Median stake in minor units.
        max_stake: Largest stake a bettor places, in minor units.
    """

    code: str
    regulator: str
    currency: str
    in_play_allowed: bool
    share: float
    median_stake: int
    max_stake: int
    in_play_markets: tuple[Market, ...] = ()


# fmt: off
JURISDICTIONS: tuple[Jurisdiction, ...] = (
    Jurisdiction("FR", "ANJ", "EUR", True, 0.36, 1_000, 50_000),
    Jurisdiction("GB", "UKGC", "GBP", True, 0.26, 1_000, 100_000),
    Jurisdiction("DE", "GGL", "EUR", True, 0.14, 1_000, 100_000,
                 (Market.MATCH_WINNER, Market.NEXT_SCORE)),
    Jurisdiction("US-NJ", "NJ DGE", "USD", True, 0.16, 2_500, 250_000),
    Jurisdiction("AU", "ACMA", "AUD", False, 0.08, 2_000, 100_000),
)
# fmt: on

_BY_CODE = {entry.code: entry for entry in JURISDICTIONS}

# Bets per live minute per match at rate multiplier 1, by discipline (others: 2).
_POPULARITY = {"FBL": 40.0, "BKB": 25.0, "TEN": 20.0, "HBL": 8.0, "VVO": 8.0, "VBV": 6.0,
               "HOC": 5.0, "WPO": 4.0, "BDM": 4.0, "TTE": 4.0, "RU7": 6.0, "BOX": 4.0}  # fmt: skip
_RUSH = 15.0
_TOTAL_LINE = {"FBL": 2.5, "HBL": 55.5, "HOC": 4.5, "WPO": 20.5, "BKB": 170.5, "BK3": 35.5,
               "RU7": 35.5, "FEN": 22.5, "JUD": 0.5, "BOX": 20.5, "WRE": 6.5,
               "TKW": 12.5}  # fmt: skip
_POLICIES = ((OddsPolicy.NONE, 0.5), (OddsPolicy.HIGHER, 0.35), (OddsPolicy.ANY, 0.15))
_POLICY_WEIGHTS = tuple(itertools.accumulate(w for _, w in _POLICIES))
_SHARES = tuple(itertools.accumulate(j.share for j in JURISDICTIONS))
_BETTORS_PER_JURISDICTION = 20_000


def jurisdiction(code: str) -> Jurisdiction:
    """The jurisdiction ``code``.

    Raises:
        KeyError: no such jurisdiction in the scenario.
    """
    return _BY_CODE[code]


@dataclass(frozen=True, slots=True)
class BetPlacement:
    """One in-play bet as a bettor places it.

    Attributes:
        id: The ticket id (deterministic; the idempotency id when sent).
        time: When the bettor pressed "place", UTC.
        bettor: ``<jurisdiction>-<nnnnnn>``.
        jurisdiction: The bettor's jurisdiction code.
        currency: ISO 4217.
        channel: ``online`` or ``retail``.
        unit: The match's RSC.
        market: The market.
        specifier: UOF-style specifier, e.g. ``total=2.5``; empty when none.
        selection: ``home``, ``away``, ``draw``, ``over``, ``under`` or ``none``.
        stake_cents: Stake in minor units of ``currency``.
        odds_policy: What the bettor accepts if the odds move.
        seen_odds: Decimal odds times 1000 as last seen; ``None`` until the driver fills it.
        in_play: Placed while the match was live (always true here).
    """

    id: str
    time: datetime
    bettor: str
    jurisdiction: str
    currency: str
    channel: str
    unit: str
    market: Market
    specifier: str
    selection: str
    stake_cents: int
    odds_policy: OddsPolicy
    seen_odds: int | None = None
    in_play: bool = True


def popularity(code: str) -> float:
    """In-play bets per minute of a live match of discipline ``code`` (at rate 1)."""
    return _POPULARITY.get(code, 2.0)


def bets(
    progressions: Iterable[Progression],
    seed: int,
    *,
    rate_multiplier: float = 1.0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[BetPlacement]:
    """In-play bets on every live match among ``progressions``, in time order.

    Args:
        progressions: The day's progressions; only head-to-head units get bets.
        seed: The run's seed.
        rate_multiplier: Scales the number of bets.
        start: Only bets at or after this time.
        end: Only bets before this time.
    """
    streams = [
        _match_bets(p, seed, rate_multiplier, start)
        for p in progressions
        if discipline(p.unit.discipline).shape is Shape.HEAD_TO_HEAD
    ]
    for bet in heapq.merge(*streams, key=lambda b: (b.time, b.id)):
        if start is not None and bet.time < start:
            continue
        if end is not None and bet.time >= end:
            return
        yield bet


def _match_bets(
    progression: Progression, seed: int, multiplier: float, start: datetime | None
) -> Iterator[BetPlacement]:
    """One match's bets in time order, made a minute at a time (memory stays flat).

    Every minute and every rush draws from its own generator, so minutes before ``start`` are
    skipped without changing the bets after it.
    """
    unit = progression.unit
    spec = discipline(unit.discipline)
    live_from, live_to = progression.started_at, progression.finished_at
    per_minute = popularity(spec.code) * multiplier
    rushes = deque(
        u.time
        for u in progression.updates
        if u.status in (ResultStatus.LIVE, ResultStatus.INTERMEDIATE)
        and (
            u.action is Action.PERIOD_END
            or (u.action is Action.SCORE and spec.scoring is Scoring.GOALS)
        )
    )
    a, b = (c.strength for c in progression.competitors)
    home_share = 1.0 / (1.0 + math.exp((b - a) / 20.0))
    prefix = f"bet-{stable_token(seed, unit.code, length=10)}"
    pending: list[tuple[datetime, str, BetPlacement]] = []
    minute = 0
    rush_index = 0
    at = live_from
    if start is not None and start > live_from:
        minute = int((start - live_from) // timedelta(minutes=1))
        at = live_from + minute * timedelta(minutes=1)
        late = start - timedelta(seconds=12)  # a rush lasts 12 s at most
        while rushes and rushes[0] < late:
            rushes.popleft()
            rush_index += 1
    while at < live_to or pending:
        upto = at + timedelta(minutes=1)
        if at < live_to:
            rng = rng_for(seed, "bets", unit.code, minute)
            window = min(timedelta(minutes=1), live_to - at).total_seconds()
            for n in range(poisson(rng, per_minute * window / 60.0)):
                when = at + timedelta(seconds=rng.uniform(0.0, window))
                bet = _bet(rng, progression, when, home_share, f"{minute}-{n}", prefix)
                heapq.heappush(pending, (bet.time, bet.id, bet))
        while rushes and rushes[0] < upto:
            moment = rushes.popleft()
            rng = rng_for(seed, "bet-rush", unit.code, rush_index)
            for n in range(poisson(rng, _RUSH * multiplier)):
                when = moment + timedelta(seconds=rng.uniform(2.0, 12.0))
                bet = _bet(rng, progression, when, home_share, f"r{rush_index}-{n}", prefix)
                heapq.heappush(pending, (bet.time, bet.id, bet))
            rush_index += 1
        # Everything before ``upto`` is final: later minutes and rushes only add later bets.
        while pending and pending[0][0] < upto:
            yield heapq.heappop(pending)[2]
        at = upto
        minute += 1


def _bet(
    rng: random.Random,
    progression: Progression,
    when: datetime,
    home_share: float,
    tag: str,
    prefix: str,
) -> BetPlacement:
    unit = progression.unit
    spec = discipline(unit.discipline)
    place = JURISDICTIONS[bisect.bisect(_SHARES, rng.random() * _SHARES[-1])]
    roll = rng.random()
    sets = spec.scoring is Scoring.SETS
    if roll < 0.6 or (sets and roll < 0.75):
        market, specifier = Market.MATCH_WINNER, ""
        draw = 0.22 if unit.draw_allowed else 0.0
        if rng.random() < draw:
            selection = "draw"
        else:
            selection = "home" if rng.random() < home_share else "away"
    elif roll < 0.85 or sets:
        rules = spec.rules
        line = rules.sets_to_win + 0.5 if sets and rules else _TOTAL_LINE.get(spec.code, 2.5)
        market, specifier = Market.TOTAL, f"total={line}"
        selection = rng.choice(("over", "under"))
    else:
        market, specifier = Market.NEXT_SCORE, ""
        selection = rng.choices(
            ("home", "away", "none"), weights=(home_share, 1 - home_share, 0.1)
        )[0]
    stake = place.median_stake * math.exp(rng.gauss(0.0, 1.0))
    step = 100 if rng.random() < 0.8 else 50  # most bettors stake whole units
    stake_cents = int(min(place.max_stake, max(100, round(stake / step) * step)))
    return BetPlacement(
        id=f"{prefix}-{tag}",
        time=when,
        bettor=f"{place.code}-{rng.randrange(_BETTORS_PER_JURISDICTION):06d}",
        jurisdiction=place.code,
        currency=place.currency,
        channel="retail" if rng.random() < 0.1 else "online",
        unit=unit.code,
        market=market,
        specifier=specifier,
        selection=selection,
        stake_cents=stake_cents,
        odds_policy=_POLICIES[bisect.bisect(_POLICY_WEIGHTS, rng.random() * _POLICY_WEIGHTS[-1])][
            0
        ],
    )
