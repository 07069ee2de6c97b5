"""Customer profiles and responsible-gambling limits, kept by the ticket processor.

An operator sets a customer's profile (:class:`~.schemas.CustomerProfile`, ``POST
/v1/betting/customers``) on ``betting.bets``, under the customer's key: it lands in the
customer's ticket partition, before any later ticket of the same customer. The last profile
received applies; a customer without one gets the service's defaults (confidence factor 1,
:attr:`~.config.BettingConfig.stake_limit_cents`, the per-customer liability limit, no
self-exclusion, no deposit or loss limit).

The checks, in order (:func:`stake_refusal`), each naming its rule:

1. ``self_excluded``: the customer excluded themself; every new ticket and change is refused
   (cash-outs, which pay the customer, stay allowed);
2. ``stake_limit_exceeded``: the stake is above ``max_stake_cents x confidence_factor``
   (rounded down); the refusal carries a **reoffer**, the limit itself;
3. ``loss_limit_reached``: the customer's net loss in the current day, ISO week or month (UTC,
   on the ticket processor's clock), plus this stake, would pass that period's loss limit; the
   reoffer is what is left of the tightest limit, when something is.

The customer's liability limit (``max_liability_cents``, else the service's) is checked once
the odds are known (:func:`liability_reoffer` gives the largest stake that fits).

Movements (:class:`Tally`, state key ``m/<operator>/<customer>``) count what the ledger moved
on the customer's wallet, per period: deposits credited, stakes taken (held when asked, taken
back if the hold is refused or voided) and what was paid back (refunds, payouts, cash-outs;
a reversed payout counts negative). A stake is counted when its hold is asked of the ledger,
so two tickets in quick succession cannot both slip under a limit.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import NamedTuple

import msgspec

from flambeau.processing import Transaction
from flambeau.services.betting.messages import customer_key
from flambeau.services.betting.schemas import (
    CustomerProfile,
    PeriodLimits,
    ReasonCode,
)

__all__ = [
    "PERIODS",
    "Refusal",
    "Tally",
    "deposit_refusal",
    "liability_limit",
    "liability_reoffer",
    "load_profile",
    "period_of",
    "record_movement",
    "save_profile",
    "stake_limit",
    "stake_refusal",
    "tallies",
]

PERIODS = ("day", "week", "month")
"""The periods of deposit and loss limits: the calendar day, the ISO week and the month, UTC."""


class Refusal(NamedTuple):
    """A profile rule that refuses a stake, and the largest stake it would take instead."""

    reason: ReasonCode
    detail: str
    reoffer_cents: int | None = None


class Tally(msgspec.Struct, kw_only=True):
    """What moved on a customer's wallet in one period (``period`` names it: ``2026-12-07``,
    ``2026-W49``, ``2026-12``)."""

    period: str
    deposited: int = 0
    staked: int = 0
    returned: int = 0

    @property
    def loss(self) -> int:
        """Net loss: stakes taken less what was paid back (negative: the customer is up)."""
        return self.staked - self.returned


def period_of(kind: str, at: datetime) -> str:
    """The name of the ``kind`` period (day, week, month) ``at`` falls in."""
    if kind == "day":
        return at.date().isoformat()
    if kind == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at.year:04d}-{at.month:02d}"


def _profile_key(operator: str, customer_id: str) -> str:
    return f"p/{customer_key(operator, customer_id)}"


def _tally_key(operator: str, customer_id: str) -> str:
    return f"m/{customer_key(operator, customer_id)}"


def load_profile(tx: Transaction, operator: str, customer_id: str) -> CustomerProfile | None:
    """The customer's profile, if the operator set one."""
    return tx.state.get(_profile_key(operator, customer_id), CustomerProfile)


def save_profile(tx: Transaction, profile: CustomerProfile) -> None:
    """Keep ``profile`` (it replaces the customer's previous one)."""
    tx.state.put(_profile_key(profile.operator, profile.customer_id), profile)


def stake_limit(profile: CustomerProfile | None, default_cents: int) -> int:
    """The customer's stake limit: their own (else ``default_cents``) x confidence factor."""
    if profile is None:
        return default_cents
    base = profile.max_stake_cents or default_cents
    return math.floor(base * profile.confidence_factor)


def liability_limit(profile: CustomerProfile | None, default_cents: int) -> int:
    """The most the book may owe the customer on open tickets."""
    if profile is None or profile.max_liability_cents is None:
        return default_cents
    return profile.max_liability_cents


def liability_reoffer(room_cents: int, odds: tuple[float, ...]) -> int | None:
    """The largest stake whose liability at ``odds`` fits in ``room_cents``; ``None``: none."""
    product = math.prod(odds)
    if room_cents <= 0 or product <= 1.0:
        return None
    stake = math.floor(room_cents / (product - 1.0))
    while stake > 0 and math.ceil(stake * product) - stake > room_cents:
        stake -= 1  # float rounding: never offer a stake the check would refuse
    return stake or None


def tallies(tx: Transaction, operator: str, customer_id: str, at: datetime) -> dict[str, Tally]:
    """The customer's movements in the periods ``at`` falls in (empty tallies for new ones)."""
    kept = tx.state.get(_tally_key(operator, customer_id), dict[str, Tally], {})
    current = {}
    for kind in PERIODS:
        period = period_of(kind, at)
        known = kept.get(kind)
        current[kind] = (
            known if known is not None and known.period == period else Tally(period=period)
        )
    return current


def record_movement(
    tx: Transaction,
    operator: str,
    customer_id: str,
    *,
    deposited: int = 0,
    staked: int = 0,
    returned: int = 0,
) -> None:
    """Count a movement on the customer's wallet in every current period (processing time)."""
    current = tallies(tx, operator, customer_id, tx.now())
    for tally in current.values():
        tally.deposited += deposited
        tally.staked = max(tally.staked + staked, 0)
        tally.returned += returned
    tx.state.put(_tally_key(operator, customer_id), current)


def _over(
    limits: PeriodLimits, current: dict[str, Tally], used: str, added: int
) -> tuple[str, int, int] | None:
    """The period whose limit ``added`` more of ``used`` would pass, its limit and room left."""
    tightest: tuple[str, int, int] | None = None
    for kind in PERIODS:
        limit = getattr(limits, kind)
        if limit is None:
            continue
        room = limit - getattr(current[kind], used)
        if added > room and (tightest is None or room < tightest[2]):
            tightest = (kind, limit, room)
    return tightest


def stake_refusal(
    tx: Transaction,
    profile: CustomerProfile | None,
    *,
    stake_cents: int,
    added_cents: int,
    default_stake_cents: int,
) -> Refusal | None:
    """Why the customer may not stake ``stake_cents`` (``added_cents`` of it new), if so.

    See the module docstring for the rules and their order.
    """
    if profile is None:
        limit = default_stake_cents
        if stake_cents > limit:
            return Refusal(ReasonCode.STAKE_LIMIT_EXCEEDED, f"stake limit {limit} cents", limit)
        return None
    if profile.self_excluded:
        return Refusal(ReasonCode.SELF_EXCLUDED, f"customer {profile.customer_id!r} excluded")
    limit = stake_limit(profile, default_stake_cents)
    if stake_cents > limit:
        detail = (
            f"stake limit {limit} cents ({profile.max_stake_cents or default_stake_cents} x "
            f"confidence factor {profile.confidence_factor})"
        )
        return Refusal(ReasonCode.STAKE_LIMIT_EXCEEDED, detail, limit)
    current = tallies(tx, profile.operator, profile.customer_id, tx.now())
    over = _over(profile.loss_limits, current, "loss", added_cents)
    if over is None:
        return None
    kind, limit, room = over
    detail = f"{kind} loss limit {limit} cents: {limit - room} lost in {current[kind].period}"
    reoffer = stake_cents - added_cents + room if room > 0 else None
    return Refusal(ReasonCode.LOSS_LIMIT_REACHED, detail, reoffer)


def deposit_refusal(
    tx: Transaction, profile: CustomerProfile | None, amount_cents: int
) -> Refusal | None:
    """Why a deposit of ``amount_cents`` would pass the customer's deposit limits, if so."""
    if profile is None:
        return None
    current = tallies(tx, profile.operator, profile.customer_id, tx.now())
    over = _over(profile.deposit_limits, current, "deposited", amount_cents)
    if over is None:
        return None
    kind, limit, room = over
    detail = (
        f"{kind} deposit limit {limit} cents: {limit - room} deposited in {current[kind].period}"
    )
    return Refusal(ReasonCode.DEPOSIT_LIMIT_REACHED, detail, max(room, 0) or None)
