"""Bettors changing their bets and cashing out, with a burst before each match's cut-off.

For every in-play bet the generator draws what its bettor later tries on the ticket:

- while the match runs, a stake change (:data:`STAKE_CHANGE_SHARE` of bets), a change of
  selection to the other side of the same market (:data:`SELECTION_CHANGE_SHARE`) and a
  cash-out (:data:`CASH_OUT_SHARE`), each an exponential wait (mean :data:`MEAN_WAIT`) after
  the bet;
- near the end, :data:`BURST_SHARE` of the bets still open try one more move in the
  :data:`BURST_WINDOW` before the match's cut-off (5 minutes before play ends), and a few
  (:data:`LATE_SHARE` of those) just after it: the moves the cut-off exists to refuse.

These shares are the simulation's assumptions (no public figure was found); they make changes
and cash-outs a steady few per cent of the betting traffic, and most of them near the end.
Moves after play ended are never drawn. Everything is deterministic for a seed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flambeau.scenario._random import rng_for, stable_token
from flambeau.scenario.generators.bettors import BetPlacement, Market

__all__ = [
    "BURST_SHARE",
    "BURST_WINDOW",
    "CASH_OUT_SHARE",
    "CUTOFF",
    "LATE_SHARE",
    "MEAN_WAIT",
    "SELECTION_CHANGE_SHARE",
    "STAKE_CHANGE_SHARE",
    "MoveKind",
    "TicketMove",
    "with_moves",
]

STAKE_CHANGE_SHARE = 0.04
SELECTION_CHANGE_SHARE = 0.02
CASH_OUT_SHARE = 0.06
MEAN_WAIT = timedelta(minutes=12)
BURST_SHARE = 0.2
BURST_WINDOW = timedelta(minutes=3)
LATE_SHARE = 0.1
CUTOFF = timedelta(minutes=5)
"""The betting service's cut-off: changes and cash-outs close 5 minutes before the end."""

_OTHER_SIDE = {"home": "away", "away": "home", "over": "under", "under": "over",
               "draw": "home", "none": "home"}  # fmt: skip


class MoveKind(StrEnum):
    """What a bettor tries on an open ticket."""

    STAKE = "change_stake"
    SELECTION = "change_selection"
    CASH_OUT = "cash_out"


@dataclass(frozen=True, slots=True)
class TicketMove:
    """One change or cash-out a bettor tries on the ticket of ``bet``.

    Attributes:
        id: The change or cash-out request id (deterministic; the idempotency id when sent).
        time: When the bettor pressed the button, UTC.
        bet: The bet whose ticket it is about.
        kind: A stake change, a change of selection or a cash-out.
        stake_cents: The new stake (stake changes).
        selection: The new selection in the same market (selection changes).
    """

    id: str
    time: datetime
    bet: BetPlacement
    kind: MoveKind
    stake_cents: int | None = None
    selection: str | None = None


def _move(
    rng: random.Random, seed: int, bet: BetPlacement, kind: MoveKind, at: datetime
) -> TicketMove:
    token = stable_token(seed, "move", bet.id, kind.value, at.isoformat())
    if kind is MoveKind.STAKE:
        stake = max(100, round(bet.stake_cents * rng.choice((0.5, 1.5, 2.0)) / 100) * 100)
        if stake == bet.stake_cents:
            stake *= 2
        return TicketMove(f"m-{token}", at, bet, kind, stake_cents=stake)
    if kind is MoveKind.SELECTION:
        other = _OTHER_SIDE[bet.selection]
        if bet.market is Market.NEXT_SCORE and bet.selection == "home":
            other = "away"
        return TicketMove(f"m-{token}", at, bet, kind, selection=other)
    return TicketMove(f"m-{token}", at, bet, kind)


def _moves_of(bet: BetPlacement, seed: int, end: datetime) -> list[TicketMove]:
    """What the bettor of ``bet`` tries on its ticket, before play ends at ``end``."""
    rng = rng_for(seed, "moves", bet.id)
    made = []
    for kind, share in ((MoveKind.STAKE, STAKE_CHANGE_SHARE),
                        (MoveKind.SELECTION, SELECTION_CHANGE_SHARE),
                        (MoveKind.CASH_OUT, CASH_OUT_SHARE)):  # fmt: skip
        if rng.random() < share:
            at = bet.time + timedelta(seconds=rng.expovariate(1 / MEAN_WAIT.total_seconds()))
            if at < end:
                made.append(_move(rng, seed, bet, kind, at))
    cutoff = end - CUTOFF
    if bet.time < cutoff - BURST_WINDOW and rng.random() < BURST_SHARE:
        if rng.random() < LATE_SHARE:
            at = cutoff + timedelta(seconds=rng.uniform(0.0, 60.0))
        else:
            at = cutoff - timedelta(seconds=rng.uniform(0.0, BURST_WINDOW.total_seconds()))
        kind = rng.choice((MoveKind.STAKE, MoveKind.CASH_OUT, MoveKind.CASH_OUT))
        made.append(_move(rng, seed, bet, kind, at))
    return made


def with_moves(
    bets: Iterable[BetPlacement], seed: int, ends: Mapping[str, datetime]
) -> Iterator[BetPlacement | TicketMove]:
    """``bets`` (in time order) with the moves their bettors try, merged in time order.

    Args:
        bets: The bets, in time order.
        seed: The run's seed.
        ends: When play ends, by unit code; bets on other units get no moves.
    """
    pending: list[tuple[datetime, str, TicketMove]] = []
    for bet in bets:
        while pending and pending[0][0] <= bet.time:
            yield heapq.heappop(pending)[2]
        yield bet
        end = ends.get(bet.unit)
        if end is not None:
            for move in _moves_of(bet, seed, end):
                heapq.heappush(pending, (move.time, move.id, move))
    while pending:
        yield heapq.heappop(pending)[2]
