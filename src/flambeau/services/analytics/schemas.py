"""Payloads of the analytics streams.

Streams (both keyed by venue code, or by the betting event for bets, 4 partitions):

- ``analytics.facts`` (private, derived): the inputs of the KPIs, re-keyed from the streams that
  carry them so that one venue's facts meet in one partition. :class:`Sale` (one card payment
  with a venue, from ``payments.requests``), :class:`Entries` and :class:`Capacity` (gate
  counts and seats, relayed from ``crowds.sensors``), :class:`Stake` (one ticket, relayed from
  ``betting.bets``, keyed by the match it bets on) and :class:`FraudFlag` (one fraud alert
  with a venue, relayed from ``payments.alerts``), and :class:`UnitEnd` (a unit's estimated end
  with its venue, from ``results.units``; the forecast reads it).
- ``analytics.kpis`` (public, derived): :class:`Kpi`, the value so far of one key, KPI and
  minute of event time, emitted again each time a batch changes it (the latest one counts).

KPIs (``metric`` and what ``dimension`` holds):

=================  ===========================  ==============================================
metric             dimension                    value, count
=================  ===========================  ==============================================
``sales``          product category             sum of amounts (cents), payments
``entries``        seats (capacity) as text     people in through the gates, gate readings
``bets``           ``<market>/<jurisdiction>``  sum of stakes (cents), tickets
``payments``       ``""``                       payments at the venue, payments
``fraud_alerts``   ``""``                       fraud alerts at the venue, alerts
=================  ===========================  ==============================================

The average basket is ``value / count`` of ``sales``; the fraud alert rate of a minute is
``fraud_alerts.value / payments.value``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, default_registry

__all__ = [
    "FACTS",
    "KPIS",
    "PARTITIONS",
    "Capacity",
    "Entries",
    "Fact",
    "FraudFlag",
    "Kpi",
    "Metric",
    "Sale",
    "Stake",
    "UnitEnd",
]

FACTS = "analytics.facts"
KPIS = "analytics.kpis"
PARTITIONS = 4

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Label = Annotated[str, msgspec.Meta(max_length=128)]
Cents = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class Metric(StrEnum):
    """The KPIs of ``analytics.kpis``."""

    SALES = "sales"
    ENTRIES = "entries"
    BETS = "bets"
    PAYMENTS = "payments"
    FRAUD_ALERTS = "fraud_alerts"


class Sale(Event, frozen=True, kw_only=True, tag="sale"):
    """One card payment at a venue: ``amount_cents`` of ``category``."""

    venue: Code
    category: Label
    amount_cents: Cents


class Entries(Event, frozen=True, kw_only=True, tag="entries"):
    """People through one gate in one counting period."""

    venue: Code
    entered: Count


class Capacity(Event, frozen=True, kw_only=True, tag="capacity"):
    """A venue's seats, as its sensors configured them."""

    venue: Code
    capacity: Count


class Stake(Event, frozen=True, kw_only=True, tag="stake"):
    """One ticket on a match (``event``), its first selection's market and its stake."""

    event: Code
    market: int
    jurisdiction: Label
    stake_cents: Cents


class FraudFlag(Event, frozen=True, kw_only=True, tag="fraud_flag"):
    """A fraud rule fired on a payment at ``venue``."""

    venue: Code
    rule_id: Label


class UnitEnd(Event, frozen=True, kw_only=True, tag="unit_end"):
    """When a unit at ``venue`` is now expected to end (from ``results.units``)."""

    venue: Code
    unit: Code
    estimated_end: datetime
    scheduled_end: datetime | None = None


Fact = Sale | Entries | Capacity | Stake | FraudFlag | UnitEnd


class Kpi(Event, frozen=True, kw_only=True, tag="kpi"):
    """One KPI of one key (a venue, or a match for bets) over one minute of event time.

    Attributes:
        venue: The venue code (for ``bets``: the betting event, i.e. the match's unit code).
        metric: Which KPI.
        dimension: The breakdown (see the module docstring).
        minute: The minute's start, UTC.
        value: The sum (cents or people) or the count.
        count: How many facts the minute holds.
    """

    venue: Code
    metric: Metric
    dimension: Label
    minute: datetime
    value: int
    count: int


default_registry.register(
    FACTS,
    Fact,
    partitions=PARTITIONS,
    description="KPI inputs re-keyed by venue (bets by match): sales, entries, stakes, alerts",
)
default_registry.register(
    KPIS,
    Kpi,
    partitions=PARTITIONS,
    public=True,
    description="per-minute KPIs per venue: sales by category, entries, bets, fraud alerts",
)
