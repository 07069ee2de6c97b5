"""A day's worth of KPI inputs in miniature, and the KPIs computed from them by brute force.

The inputs go to the streams the services read (payments requests and alerts, crowd sensors,
tickets), in event-time order per stream; :func:`expected` recomputes every closed minute's
KPIs straight from them, without the pipeline.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from flambeau.events import NewEvent
from flambeau.services.analytics.schemas import Metric
from flambeau.services.betting.schemas import Channel, Selection, TicketSubmitted
from flambeau.services.crowds.schemas import GateCount, VenueConfigured
from flambeau.services.payments.schemas import (
    CreateTransfers,
    FraudAlert,
    FraudMode,
    PaymentContext,
    Transfer,
    TransferCode,
)

START = datetime(2024, 8, 4, 17, tzinfo=UTC)
MINUTES = 12
VENUES = {"STA": 77_000, "BCY": 15_000, "PDP": 25_000}
CATEGORIES = ("drink", "food", "merchandise")
Row = tuple[str, str, str, datetime, int, int]
"""(venue, metric, dimension, minute, value, count)."""


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def inputs(seed: int, scale: int) -> dict[str, list[NewEvent]]:
    """Events per input stream: ``scale`` payment requests, sensor readings and tickets."""
    rng = random.Random(seed)
    span = MINUTES * 60_000
    streams: dict[str, list[NewEvent]] = defaultdict(list)
    for venue, seats in VENUES.items():
        streams["crowds.sensors"].append(
            NewEvent(
                VenueConfigured(venue=venue, capacity=seats, area="forecourt", area_m2=9000),
                key=venue,
                id=f"cfg-{venue}",
                time=START,
            )
        )
    for i in range(scale):
        at = START + timedelta(milliseconds=1 + i * span // scale)
        venue = rng.choice(list(VENUES))
        streams["crowds.sensors"].append(
            NewEvent(
                GateCount(
                    venue=venue, gate=f"{venue}-G{i % 7}", entered=rng.randrange(60), exited=0
                ),
                key=venue,
                id=f"gate-{i}",
                time=at,
            )
        )
        streams["payments.requests"].append(_request(rng, i, at))
        streams["betting.bets"].append(_ticket(rng, i, at))
        if i % 17 == 0:
            streams["payments.alerts"].append(_alert(rng, i, at))
    return dict(streams)


def _request(rng: random.Random, i: int, at: datetime) -> NewEvent:
    transfers, contexts = [], []
    for j in range(rng.randrange(1, 6)):
        tid = str(i * 10 + j + 1)
        venue = rng.choice([*VENUES, ""])  # a payment away from a venue has no venue
        code = (
            TransferCode.purchase
            if j % 4
            else rng.choice([TransferCode.purchase, TransferCode.fee])
        )
        amount = rng.randrange(100, 9000)
        transfers.append(Transfer(id=tid, debit_account_id="1", credit_account_id="2",
                                  amount=amount, ledger=978, code=code))  # fmt: skip
        contexts.append(PaymentContext(transfer_id=tid, card=f"c{j}", terminal=f"POS-{venue}",
                                       venue=venue, category=rng.choice(CATEGORIES)))  # fmt: skip
    request = CreateTransfers(
        idempotency_key=f"req-{i}", ledger=978, transfers=transfers, contexts=contexts
    )
    return NewEvent(request, key="978", id=f"req-{i}", time=at)


def _ticket(rng: random.Random, i: int, at: datetime) -> NewEvent:
    selection = Selection(event_id=f"FBL-{rng.randrange(3)}", market_id=rng.choice([1, 18]),
                          outcome_id="1", odds=2.5)  # fmt: skip
    ticket = TicketSubmitted(
        ticket_id=f"t-{i}", operator="op-fr", customer_id=f"FR-{i % 50}",
        jurisdiction=rng.choice(["FR", "GB"]), channel=Channel.MOBILE,
        selections=(selection,), stake_cents=rng.randrange(100, 5000),
    )  # fmt: skip
    return NewEvent(ticket, key=f"FR-{i % 50}", id=f"ticket-{i}", time=at)


def _alert(rng: random.Random, i: int, at: datetime) -> NewEvent:
    alert = FraudAlert(rule_id="card-testing", mode=FraudMode.review, transfer_id=str(i),
                       ledger=978, window="1m", count=5, amount=500, threshold=4,
                       venue=rng.choice([*VENUES, ""]))  # fmt: skip
    return NewEvent(alert, key="978", id=f"alert-{i}", time=at)


def expected(streams: dict[str, list[NewEvent]]) -> set[Row]:
    """Every KPI of every minute of the workload, recomputed from the inputs."""
    sums: dict[tuple[str, str, str, datetime], list[int]] = defaultdict(lambda: [0, 0])

    def add(venue: str, metric: Metric, dimension: str, at: datetime, value: int) -> None:
        cell = sums[(venue, metric.value, dimension, _minute(at))]
        cell[0] += value
        cell[1] += 1

    seats: dict[str, int] = {}
    for event in streams["crowds.sensors"]:
        match event.data:
            case VenueConfigured(venue=venue, capacity=capacity):
                seats[venue] = capacity
            case GateCount(venue=venue, entered=entered) if event.time is not None:
                add(venue, Metric.ENTRIES, str(seats.get(venue, 0)), event.time, entered)
    for event in streams["payments.requests"]:
        assert isinstance(event.data, CreateTransfers)
        assert event.time is not None
        venues = {c.transfer_id: c for c in event.data.contexts}
        for transfer in event.data.transfers:
            context = venues[transfer.id]
            if context.venue and transfer.code == TransferCode.purchase:
                add(context.venue, Metric.SALES, context.category, event.time, transfer.amount)
                add(context.venue, Metric.PAYMENTS, "", event.time, 1)
    for event in streams["betting.bets"]:
        assert isinstance(event.data, TicketSubmitted)
        assert event.time is not None
        first = event.data.selections[0]
        dimension = f"{first.market_id}/{event.data.jurisdiction}"
        add(first.event_id, Metric.BETS, dimension, event.time, event.data.stake_cents)
    for event in streams["payments.alerts"]:
        assert isinstance(event.data, FraudAlert)
        assert event.time is not None
        if event.data.venue:
            add(event.data.venue, Metric.FRAUD_ALERTS, "", event.time, 1)
    return {
        (venue, metric, dimension, minute, value, count)
        for (venue, metric, dimension, minute), (value, count) in sums.items()
    }
