"""Card payments at venues (drinks, food, merchandise) and transport tickets, with fraud.

The expected purchases in a minute come from the crowd: 30% of arriving spectators buy
something on the way in (a transport ticket most often), everyone inside buys at 0.3% a
minute (drinks and food), and 30% of leaving spectators buy on the way out (the ticket home,
a souvenir). So the per-minute volume peaks before a session starts and just after it ends,
and stays lower during play. Amounts are integer euro cents.

A share of the payments are card testing: bursts of 12 to 40 tiny charges (1 to 99 cents), a
few seconds apart, each on a card never seen before, all on one terminal. The share is exact
over the whole day: the bursts are sized after the legitimate volume is drawn. Scripted bursts
(the fraud incident) come on top.

Each venue-minute draws from its own generator, so a window of the day holds exactly the
payments the whole day holds in that window.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from flambeau.scenario._random import poisson, rng_for, stable_token
from flambeau.scenario.generators.crowds import VenueFlow, expected_flows
from flambeau.scenario.schedule import Schedule
from flambeau.scenario.venues import venue

__all__ = [
    "DEFAULT_FRAUD_SHARE",
    "CardTestingBurst",
    "Category",
    "Purchase",
    "pos_terminals",
    "purchases",
    "ticket_machines",
]

DEFAULT_FRAUD_SHARE = 0.002
"""Two payments in a thousand are card testing."""

_MINUTE = timedelta(minutes=1)


class Category(StrEnum):
    """What was bought."""

    DRINK = "drink"
    FOOD = "food"
    MERCH = "merchandise"
    TRANSPORT = "transport"


@dataclass(frozen=True, slots=True)
class Purchase:
    """One card payment.

    Attributes:
        id: A deterministic id (the idempotency id when sent).
        time: When the terminal authorised it, UTC.
        venue: Venue code.
        terminal: ``POS-<venue>-<nnnn>`` at a stand, ``TVM-<venue>-<nn>`` at a ticket machine.
        merchant: The account credited: ``<venue>-FNB``, ``P2024-SHOP`` or the transit operator.
        card: A card token.
        device: The phone wallet's id when paid by phone, else ``None``.
        category: What was bought.
        amount_cents: Integer euro cents.
        currency: ISO 4217.
        fraud: Ground truth for evaluation: part of a card-testing burst. Not for sending.
    """

    id: str
    time: datetime
    venue: str
    terminal: str
    merchant: str
    card: str
    device: str | None
    category: Category
    amount_cents: int
    currency: str = "EUR"
    fraud: bool = False


@dataclass(frozen=True, slots=True)
class CardTestingBurst:
    """A scripted card-testing burst (the fraud incident).

    Attributes:
        at: When it starts, UTC.
        venue: Venue code.
        terminal: The terminal used; ``None`` picks one.
        cards: How many cards are tested.
    """

    at: datetime
    venue: str
    terminal: str | None = None
    cards: int = 40


_TRANSIT = {"Lyon": "TCL", "Marseille": "RTM", "Nantes": "NAOLIB", "Bordeaux": "TBM",
            "Nice": "LIGNES-AZUR", "Saint-Étienne": "STAS", "Villeneuve-d'Ascq": "ILEVIA",
            "Déols": "RESEAU-HORIZON", "Tahiti": "TAHITI-TRANSPORT"}  # fmt: skip
# (weight per component, category mix): arrivals, spectators inside, departures.
_ARRIVING = (0.30, ((Category.TRANSPORT, 0.45), (Category.DRINK, 0.30), (Category.FOOD, 0.15),
                    (Category.MERCH, 0.10)))  # fmt: skip
_INSIDE = (0.003, ((Category.DRINK, 0.5), (Category.FOOD, 0.4), (Category.MERCH, 0.1)))
_LEAVING = (0.30, ((Category.TRANSPORT, 0.60), (Category.MERCH, 0.25), (Category.DRINK, 0.15)))
# Prices in cents with cumulative weights (bisect on a uniform draw picks one).
_PRICES = {
    Category.DRINK: ((450, 500, 550, 600, 800), (3, 7, 10, 12, 13)),
    Category.FOOD: ((700, 900, 1000, 1200, 1400), (2, 5, 8, 10, 11)),
    Category.MERCH: ((1500, 2500, 3500, 4500, 6500, 9000), (3, 6, 8, 10, 11, 12)),
    Category.TRANSPORT: ((400, 1600, 7000), (14, 19, 20)),
}
_WALLET_SHARE = 0.45


def pos_terminals(venue_code: str) -> list[str]:
    """The stand terminals of a venue: one per 300 seats, at least four."""
    count = max(4, venue(venue_code).capacity // 300)
    return [f"POS-{venue_code}-{n:04d}" for n in range(1, count + 1)]


def ticket_machines(venue_code: str) -> list[str]:
    """The transport ticket machines near a venue: one per 4,000 seats, at least two."""
    count = max(2, venue(venue_code).capacity // 4_000)
    return [f"TVM-{venue_code}-{n:02d}" for n in range(1, count + 1)]


def purchases(
    schedule: Schedule,
    seed: int,
    *,
    rate_multiplier: float = 1.0,
    fraud_share: float = DEFAULT_FRAUD_SHARE,
    bursts: Sequence[CardTestingBurst] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[Purchase]:
    """Every payment of the day in time order, deterministic for ``seed``.

    Args:
        schedule: The day.
        seed: The run's seed.
        rate_multiplier: Scales the number of payments (load rehearsal).
        fraud_share: The share of all generated payments that are card testing, in [0, 1).
        bursts: Scripted card-testing bursts, on top of the random ones.
        start: Only payments at or after this time.
        end: Only payments before this time.

    Raises:
        ValueError: ``fraud_share`` is outside [0, 1) or ``rate_multiplier`` is negative.
    """
    if not 0.0 <= fraud_share < 1.0:
        raise ValueError(f"fraud_share must be in [0, 1), got {fraud_share}")
    if rate_multiplier < 0.0:
        raise ValueError(f"rate_multiplier must be >= 0, got {rate_multiplier}")
    flows = expected_flows(schedule, seed)
    counts = {code: _counts(flow, seed, rate_multiplier) for code, flow in flows.items()}
    legit = sum(sum(sum(c) for c in per_minute) for per_minute in counts.values())
    fraud_total = round(legit * fraud_share / (1.0 - fraud_share))
    planned = _plan_bursts(flows, counts, seed, fraud_total)
    planned += [(b.at, b.venue, b.terminal, b.cards) for b in bursts]
    fraud = sorted(
        (
            p
            for index, burst in enumerate(planned)
            for p in _burst(seed, f"{schedule.day}/{index}", *burst)
        ),
        key=lambda p: p.time,
    )
    legit_stream = _legit(flows, counts, seed, schedule.day, start, end)
    for purchase in heapq.merge(legit_stream, fraud, key=lambda p: p.time):
        if start is not None and purchase.time < start:
            continue
        if end is not None and purchase.time >= end:
            return
        yield purchase


def _counts(flow: VenueFlow, seed: int, multiplier: float) -> list[tuple[int, int, int]]:
    """Per minute, how many payments each component (arriving, inside, leaving) makes."""
    rng = rng_for(seed, "purchase-counts", flow.venue)
    inside = flow.occupancy()
    out = []
    for came, there, went in zip(flow.arrivals, inside, flow.exits, strict=True):
        out.append((
            poisson(rng, came * _ARRIVING[0] * multiplier),
            poisson(rng, there * _INSIDE[0] * multiplier),
            poisson(rng, went * _LEAVING[0] * multiplier),
        ))  # fmt: skip
    return out


def _plan_bursts(
    flows: dict[str, VenueFlow],
    counts: dict[str, list[tuple[int, int, int]]],
    seed: int,
    total: int,
) -> list[tuple[datetime, str, str | None, int]]:
    """Split ``total`` fraudulent payments into bursts at busy minutes of busy venues."""
    rng = rng_for(seed, "fraud-plan")
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(rng.randint(12, 40), total - sum(sizes)))
    if len(sizes) > 1 and sizes[-1] < 5:
        sizes[-2] += sizes.pop()  # a burst of two is not card testing; fold it in
    codes = sorted(counts)
    weights = [sum(sum(c) for c in counts[code]) for code in codes]
    plans: list[tuple[datetime, str, str | None, int]] = []
    for size in sizes:
        code = rng.choices(codes, weights=weights)[0]
        busy = [i for i, c in enumerate(counts[code]) if sum(c) > 0]
        minute = rng.choice(busy) if busy else 0
        at = flows[code].start + minute * _MINUTE + timedelta(seconds=rng.uniform(0, 60))
        plans.append((at, code, None, size))
    return plans


def _burst(
    seed: int, index: str, at: datetime, venue_code: str, terminal: str | None, cards: int
) -> list[Purchase]:
    rng = rng_for(seed, "fraud-burst", index, at.isoformat(), venue_code)
    terminal = terminal or rng.choice(pos_terminals(venue_code))
    out = []
    for n in range(cards):
        token = stable_token(seed, "fraud", index, n)
        out.append(
            Purchase(f"pay-{stable_token(seed, 'fraud-id', index, n, length=16)}", at,
                     venue_code, terminal, f"{venue_code}-FNB", f"card-{token}", None,
                     Category.DRINK, rng.randint(1, 99), fraud=True)
        )  # fmt: skip
        at += timedelta(seconds=rng.uniform(2.0, 8.0))
    return out


def _legit(
    flows: dict[str, VenueFlow],
    counts: dict[str, list[tuple[int, int, int]]],
    seed: int,
    day: date,
    start: datetime | None,
    end: datetime | None,
) -> Iterator[Purchase]:
    first = min(flow.start for flow in flows.values())
    last = max(flow.start + len(flow.arrivals) * _MINUTE for flow in flows.values())
    makers = {code: _Maker(seed, code, day) for code in flows}
    minute = first
    while minute < last:
        nxt = minute + _MINUTE
        if (start is None or nxt > start) and (end is None or minute < end):
            batch: list[Purchase] = []
            for code, flow in flows.items():
                index = flow.index(minute)
                if 0 <= index < len(counts[code]) and any(counts[code][index]):
                    batch += makers[code].minute(minute, index, counts[code][index])
            batch.sort(key=lambda p: (p.time, p.id))
            yield from batch
        minute = nxt


class _Maker:
    """Makes one venue's payments."""

    def __init__(self, seed: int, code: str, day: date) -> None:
        place = venue(code)
        self.seed = seed
        self.code = code
        self.day = day.isoformat()
        # the day is part of every id and draw: a venue's minute 0042 comes again the next day
        self.run = stable_token(seed, "run", self.day, length=8)
        self.transit = _TRANSIT.get(place.city, "IDFM")
        self.pool = max(100, place.capacity)
        self.stands = pos_terminals(code)
        self.machines = ticket_machines(code)
        self.salt = int(stable_token(seed, "cards", code), 16)

    def card(self, number: int) -> tuple[str, str | None]:
        """The card token of the venue's ``number``-th card, and its wallet device if any."""
        # An odd multiplier modulo 2**48 is a bijection: distinct cards get distinct,
        # opaque-looking tokens without hashing each one (so nothing needs caching).
        token = f"{(number * 0x9E3779B97F4B + self.salt) % (1 << 48):012x}"
        wallet = (number * 2654435761 + self.salt) % 100 < _WALLET_SHARE * 100
        return f"card-{token}", f"dev-{token[::-1]}" if wallet else None

    def minute(self, minute: datetime, index: int, counts: tuple[int, int, int]) -> list[Purchase]:
        rng = rng_for(self.seed, "purchases", self.day, self.code, index)
        out = []
        n = 0
        for count, (_, mix) in zip(counts, (_ARRIVING, _INSIDE, _LEAVING), strict=True):
            categories = rng.choices([c for c, _ in mix], weights=[w for _, w in mix], k=count)
            for category in categories:
                n += 1
                prices, cumulative = _PRICES[category]
                amount = prices[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
                if category in (Category.DRINK, Category.FOOD):
                    amount *= rng.choice((1, 1, 1, 2, 2, 3))
                card, device = self.card(rng.randrange(self.pool))
                if category is Category.TRANSPORT:
                    terminal, merchant = rng.choice(self.machines), self.transit
                else:
                    terminal = rng.choice(self.stands)
                    merchant = "P2024-SHOP" if category is Category.MERCH else f"{self.code}-FNB"
                at = minute + timedelta(seconds=rng.uniform(0.0, 60.0))
                pid = f"pay-{self.run}-{self.code}-{index:04d}-{n:05d}"
                out.append(
                    Purchase(pid, at, self.code, terminal, merchant, card, device, category, amount)
                )
        return out
