"""What an operator of the betting service may tune: margins, delays, limits, jurisdictions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from flambeau.services.betting.jurisdictions import JURISDICTIONS, Jurisdiction
from flambeau.services.betting.margins import MarginMethod
from flambeau.services.betting.price_limits import MAX_TICKET_ODDS
from flambeau.services.betting.rules import CHANGE_CUTOFF, LiabilityLimits
from flambeau.services.betting.schemas import Channel

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_LIMITS",
    "DEFAULT_STAKE_LIMIT_CENTS",
    "REOFFER_TTL",
    "BettingConfig",
]

DEFAULT_LIMITS = LiabilityLimits(per_customer_cents=5_000_000, per_market_cents=50_000_000)
"""At most 50,000.00 of liability per customer and 500,000.00 per market."""
DEFAULT_STAKE_LIMIT_CENTS = 1_000_000
"""A customer's stake limit (10,000.00) before their confidence factor scales it."""
REOFFER_TTL = timedelta(seconds=30)
"""How long a reoffer may be accepted, on the ticket processor's clock."""


@dataclass(frozen=True)
class BettingConfig:
    """The betting service's settings.

    Attributes:
        margin: The bookmaker's overround on every market, such as ``0.05``.
        margin_method: How the margin is spread over a market's outcomes.
        cash_out_margin: The share kept from a ticket's fair value when it is cashed out.
        delays: Live delays by canonical sport name, replacing the sport profiles' defaults.
        limits: Liability limits per customer and per market, in cents (a customer's
            profile may set their own).
        stake_limit_cents: A customer's stake limit unless their profile sets one; their
            confidence factor scales either.
        reoffer_ttl: How long a reoffer (the largest acceptable stake) may be accepted.
        max_ticket_odds: The most a ticket's combined odds may reach (see
            :mod:`.price_limits`, which also caps each market type's odds).
        jurisdictions: The jurisdictions tickets may come from, by code (default: the table
            of :mod:`.jurisdictions`); both the decisions and the offers listed follow it.
        offer_audiences: The ``(jurisdiction, channel)`` pairs ``betting.offers`` is written
            for; ``None``: every jurisdiction of the table on every channel.
        cutoff: How long before the (estimated) end changes and cash-outs close.
        alive_every: Interval of the ``alive`` heartbeat on ``betting.odds`` (processing time).
        drift_every: Interval, in event time, of the repricing of live matches as time runs
            down with no score change.
    """

    margin: float = 0.05
    margin_method: MarginMethod = MarginMethod.MULTIPLICATIVE
    cash_out_margin: float = 0.05
    delays: Mapping[str, timedelta] = field(default_factory=dict)
    limits: LiabilityLimits = DEFAULT_LIMITS
    stake_limit_cents: int = DEFAULT_STAKE_LIMIT_CENTS
    reoffer_ttl: timedelta = REOFFER_TTL
    max_ticket_odds: float = MAX_TICKET_ODDS
    jurisdictions: Mapping[str, Jurisdiction] = field(default_factory=lambda: JURISDICTIONS)
    offer_audiences: tuple[tuple[str, Channel], ...] | None = None
    cutoff: timedelta = CHANGE_CUTOFF
    alive_every: timedelta = timedelta(seconds=10)
    drift_every: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if self.margin < 0 or not 0 <= self.cash_out_margin < 1:
            raise ValueError(
                f"margins must be >= 0 (cash-out below 1), got {self.margin}, "
                f"{self.cash_out_margin}"
            )
        if self.alive_every <= timedelta(0) or self.drift_every <= timedelta(0):
            raise ValueError("alive_every and drift_every must be positive")
        object.__setattr__(self, "delays", MappingProxyType(dict(self.delays)))


DEFAULT_CONFIG = BettingConfig()
"""The settings the registered processors run with."""
