"""The KPI pipeline: inputs re-keyed by venue onto ``analytics.facts``, then per-minute windows.

Payments are keyed by ledger, bets by customer and crowds by venue, so each input family is
first carried onto ``analytics.facts``, keyed by venue (bets by the match they bet on):

- ``analytics.sales`` reads ``payments.requests`` and writes one :class:`Sale` per purchase
  transfer whose payment context names a venue (one request carries payments of many venues,
  so this is a fan-out, not a one-to-one relay);
- ``analytics.entries`` (core relay) carries ``crowds.sensors`` gate counts and capacities;
- ``analytics.stakes`` (core relay) carries ``betting.bets`` tickets, keyed by the event of
  their first selection;
- ``analytics.fraud`` (core relay) carries ``payments.alerts`` alerts that name a venue;
- ``analytics.unit-ends`` (:mod:`.ends`) carries each unit's estimated end to its venue.

``analytics.kpis`` then folds the facts into tumbling one-minute windows of event time. Each
batch that changes a minute emits its new value (``emit="current"``): the latest
:class:`~flambeau.services.analytics.schemas.Kpi` of a key is the minute's value so far. A
minute stops changing once the partition's latest event time passes its end plus
:data:`GRACE`; a fact later than that goes to ``analytics.kpis.late``.

Every stage is an ordinary processor: state, outputs and input offsets commit together, and
every emitted id derives from its input's, so a worker killed at any point and restarted
neither loses nor doubles a KPI.

Sales are counted when the terminal asks the ledger (``payments.requests``), not when the
ledger decides: a payment the ledger later refuses still counts. The fraud alert rate shows
those the fraud rules blocked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from flambeau.events import Event, Record
from flambeau.processing import Batch, Processor, Transaction, Tumbling, default_processors, relay
from flambeau.processing.windows import WindowResult
from flambeau.services.analytics.ends import unit_ends
from flambeau.services.analytics.schemas import (
    FACTS,
    KPIS,
    Capacity,
    Entries,
    FraudFlag,
    Kpi,
    Metric,
    Sale,
    Stake,
)
from flambeau.services.betting.schemas import BETS_STREAM, TicketSubmitted
from flambeau.services.crowds.schemas import SENSORS, GateCount, VenueConfigured
from flambeau.services.payments.schemas import CreateTransfers, FraudAlert, TransferCode

__all__ = [
    "GRACE",
    "MINUTE",
    "SEP",
    "entries",
    "fraud",
    "kpis",
    "sales",
    "stakes",
    "unit_ends",
]

MINUTE = timedelta(minutes=1)
GRACE = timedelta(hours=1)
"""How long after a minute's end (in event time) its facts still count: the re-keying stages
run at their own pace, so one source's facts may reach a partition well after another's."""
SEP = "\x1f"
"""Separates the venue from the dimension in a window key."""
REQUESTS = "payments.requests"
ALERTS = "payments.alerts"

sales = default_processors.register(
    Processor("analytics.sales", inputs=[REQUESTS], outputs=[FACTS])
)


@sales.on_batch
def split_sales(batch: Batch[Any], tx: Transaction) -> None:
    """One :class:`Sale` per purchase transfer whose context names a venue, keyed by venue."""
    for record in batch:
        request = record.data
        if not isinstance(request, CreateTransfers) or not request.contexts:
            continue
        contexts = {c.transfer_id: c for c in request.contexts if c.venue}
        for transfer in request.transfers:
            context = contexts.get(transfer.id)
            if context is None or transfer.code != TransferCode.purchase:
                continue
            sale = Sale(
                venue=context.venue, category=context.category, amount_cents=transfer.amount
            )
            tx.emit(FACTS, sale, key=context.venue, causation_id=record.id)


def _venue(record: Record[Any]) -> str:
    venue: str = record.data.venue
    return venue


def _entry(record: Record[Any]) -> Event | None:
    match record.data:
        case GateCount(venue=venue, entered=entered):
            return Entries(venue=venue, entered=entered)
        case VenueConfigured(venue=venue, capacity=capacity):
            return Capacity(venue=venue, capacity=capacity)
    return None


def _match(record: Record[Any]) -> str | None:
    data = record.data
    return data.selections[0].event_id if isinstance(data, TicketSubmitted) else None


def _stake(record: Record[Any]) -> Event | None:
    ticket = record.data
    if not isinstance(ticket, TicketSubmitted):
        return None
    first = ticket.selections[0]
    return Stake(
        event=first.event_id,
        market=first.market_id,
        jurisdiction=ticket.jurisdiction,
        stake_cents=ticket.stake_cents,
    )


def _alert_venue(record: Record[Any]) -> str | None:
    alert = record.data
    return alert.venue if isinstance(alert, FraudAlert) and alert.venue else None


def _flag(record: Record[Any]) -> Event | None:
    alert: FraudAlert = record.data
    return FraudFlag(venue=alert.venue, rule_id=alert.rule_id)


entries = relay("analytics.entries", source=SENSORS, target=FACTS, key=_venue, convert=_entry)
stakes = relay("analytics.stakes", source=BETS_STREAM, target=FACTS, key=_match, convert=_stake)
fraud = relay("analytics.fraud", source=ALERTS, target=FACTS, key=_alert_venue, convert=_flag)

kpis = default_processors.register(Processor("analytics.kpis", inputs=[FACTS], outputs=[KPIS]))


def _to_kpi(metric: Metric) -> Any:
    def to_event(result: WindowResult) -> Kpi:
        venue, _, dimension = result.key.partition(SEP)
        return Kpi(
            venue=venue,
            metric=metric,
            dimension=dimension,
            minute=result.start,
            value=int(result.value),
            count=result.count,
        )

    return to_event


def _window(metric: Metric, agg: Any) -> Any:
    return kpis.window(
        metric.value,
        Tumbling(MINUTE),
        grace=GRACE,
        agg=agg,
        emit="current",
        output=KPIS,
        to_event=_to_kpi(metric),
    )


_WINDOWS = {metric: _window(metric, "count" if metric.name.startswith(("PAY", "FRAUD")) else "sum")
            for metric in Metric}  # fmt: skip


def capacity_key(venue: str) -> str:
    """The state key of ``venue``'s seats."""
    return f"cap/{venue}"


@kpis.on_batch
def fold(batch: Batch[Any], tx: Transaction) -> None:
    """Add each fact to its minute's windows (entries keyed by the venue's seats at the time)."""
    size = len(batch)
    keys: dict[Metric, list[str]] = {metric: [""] * size for metric in Metric}
    values = np.zeros(size, np.int64)
    masks = {metric: np.zeros(size, bool) for metric in Metric}
    seats: dict[str, int] = {}
    for i, fact in enumerate(batch.data):
        match fact:
            case Sale(venue=venue, category=category, amount_cents=amount):
                _put(keys, masks, Metric.SALES, i, f"{venue}{SEP}{category}")
                _put(keys, masks, Metric.PAYMENTS, i, f"{venue}{SEP}")
                values[i] = amount
            case Capacity(venue=venue, capacity=capacity):
                seats[venue] = capacity
            case Entries(venue=venue, entered=entered):
                known = seats.get(venue)
                if known is None:
                    known = seats[venue] = tx.state.get(capacity_key(venue), int, 0)
                _put(keys, masks, Metric.ENTRIES, i, f"{venue}{SEP}{known}")
                values[i] = entered
            case Stake(event=event, market=market, jurisdiction=jurisdiction, stake_cents=cents):
                _put(keys, masks, Metric.BETS, i, f"{event}{SEP}{market}/{jurisdiction}")
                values[i] = cents
            case FraudFlag(venue=venue):
                _put(keys, masks, Metric.FRAUD_ALERTS, i, f"{venue}{SEP}")
    for venue, capacity in seats.items():
        tx.state.put(capacity_key(venue), capacity)
    for metric, window in _WINDOWS.items():
        mask = masks[metric]
        if mask.any():
            window.add(tx, batch, values, keys=keys[metric], where=mask)


def _put(
    keys: dict[Metric, list[str]],
    masks: dict[Metric, Any],
    metric: Metric,
    index: int,
    key: str,
) -> None:
    keys[metric][index] = key
    masks[metric][index] = True
