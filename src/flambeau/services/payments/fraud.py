"""Real-time fraud and velocity rules for card payments, evaluated in event time.

Every transfer that arrives with a :class:`~.schemas.PaymentContext` is an *attempt*: it is
counted per card, per device and per terminal over the last hour and the last day (see
:mod:`.velocity`), and, when its amount is tiny, in its terminal's card-testing counter. Then
the rules run **in order**:

- :class:`VelocityRule` fires when a key's count (or amount) in a window exceeds a threshold;
- :class:`CardTestingRule` fires on a burst of tiny attempts from many distinct cards at one
  terminal: the signature of someone testing stolen card numbers.

A firing rule raises a :class:`~.schemas.FraudAlert` carrying the window's figures. Its mode
decides the rest: ``block`` refuses the transfer and stops the evaluation, ``review`` flags it
for a person, ``shadow`` only records the alert (how a new rule is trialled). Attempts are
counted even when refused, as card networks count declines.

State is one key per counter, changed keys only (``f/c/<dimension>:<key>`` and
``f/b/<terminal>``), like the ledger's. Memory stays bounded: counters are kept in last-use
order, and every evaluation forgets, from the oldest end, counters unused for a day (terminal
burst counters: an hour) and any beyond ``max_keys``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple, TypeVar

import msgspec

from flambeau.services.payments.errors import LedgerStateError
from flambeau.services.payments.results import TransferResult
from flambeau.services.payments.schemas import (
    CreateTransfers,
    FraudAlert,
    FraudMode,
    PaymentContext,
)
from flambeau.services.payments.state import event_time_ns
from flambeau.services.payments.velocity import DAY, HOUR, MINUTES, BurstCounter, KeyCounters

__all__ = [
    "DEFAULT_RULES",
    "CardTestingRule",
    "Dimension",
    "FraudEngine",
    "Metric",
    "Rule",
    "Screening",
    "VelocityRule",
    "Verdict",
]

COUNTER_PREFIX = "f/c/"
BURST_PREFIX = "f/b/"


class Dimension(StrEnum):
    """What a velocity counter is keyed by."""

    card = "card"
    device = "device"
    terminal = "terminal"


class Metric(StrEnum):
    """What a velocity rule compares with its threshold: attempts, or their summed amount."""

    attempts = "attempts"
    amount = "amount"


class VelocityRule(msgspec.Struct, frozen=True, kw_only=True, tag="velocity"):
    """Fires when ``dimension``'s ``metric`` over ``window`` exceeds ``threshold``."""

    id: str
    mode: FraudMode
    dimension: Dimension
    window: Literal["1h", "1d"]
    threshold: int
    metric: Metric = Metric.attempts


class CardTestingRule(msgspec.Struct, frozen=True, kw_only=True, tag="card_testing"):
    """Fires when a terminal saw ``min_attempts`` tiny attempts by ``min_cards`` distinct cards
    within ``window_minutes`` (the current attempt must itself be tiny)."""

    id: str
    mode: FraudMode
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=MINUTES.buckets)] = 10
    min_attempts: int = 20
    min_cards: int = 10


Rule = VelocityRule | CardTestingRule

DEFAULT_RULES: tuple[Rule, ...] = (
    CardTestingRule(id="card_testing_burst", mode=FraudMode.block),
    VelocityRule(
        id="card_daily", mode=FraudMode.review, dimension=Dimension.card, window="1d", threshold=10
    ),
    VelocityRule(
        id="card_hourly", mode=FraudMode.shadow, dimension=Dimension.card, window="1h", threshold=3
    ),
    VelocityRule(
        id="device_daily",
        mode=FraudMode.shadow,
        dimension=Dimension.device,
        window="1d",
        threshold=15,
    ),
)
"""Starting thresholds from published velocity-rule guidance (3 per card per hour, 10 per card
per day, 15 per device per day), in review or shadow mode until measured on real traffic; only
card testing blocks from day one."""


class Verdict(NamedTuple):
    """The alerts one attempt raised, and whether a ``block`` rule refused it."""

    alerts: list[FraudAlert]
    block: bool


class Screening(NamedTuple):
    """A request's alerts, and its refused transfers by index (what the ledger takes)."""

    alerts: list[FraudAlert]
    refused: dict[int, TransferResult]


_V = TypeVar("_V", KeyCounters, BurstCounter)


class FraudEngine:
    """Ordered rules over per-key counters; one engine per (processor, partition)."""

    def __init__(
        self,
        rules: Sequence[Rule] = DEFAULT_RULES,
        *,
        tiny_amount: int = 100,
        max_keys: int = 1_000_000,
    ) -> None:
        """Build an engine with empty counters.

        Args:
            rules: Evaluated in this order; ids must be unique.
            tiny_amount: The largest amount (minor units) that counts as a card-testing attempt.
            max_keys: The most counters kept; the least recently used are forgotten first.

        Raises:
            ValueError: two rules share an id, a card-testing window is not 1 to 60 minutes,
                or ``max_keys`` is below 3.
        """
        if max_keys < 3:
            raise ValueError(f"max_keys must be at least 3 (one attempt touches 3), got {max_keys}")
        ids = [rule.id for rule in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"fraud rule ids must be unique, got {ids}")
        for rule in rules:
            if isinstance(rule, CardTestingRule) and not 1 <= rule.window_minutes <= 60:
                raise ValueError(f"rule {rule.id!r}: window_minutes must be 1 to 60")
        self.rules = tuple(rules)
        self.tiny_amount = tiny_amount
        self.max_keys = max_keys
        self.counters: dict[str, KeyCounters] = {}
        self.bursts: dict[str, BurstCounter] = {}
        self._dirty: set[str] = set()

    def evaluate(
        self, transfer_id: str, amount: int, context: PaymentContext, now: datetime, ledger: int = 0
    ) -> Verdict:
        """Count one attempt, then run the rules in order.

        Args:
            transfer_id: The transfer the alerts will name.
            amount: Its amount, in minor units.
            context: The card, device and terminal; empty ones are not counted.
            now: The attempt's event time.
            ledger: The ledger, copied into alerts (their stream key).
        """
        now_s = event_time_ns(now) // 1_000_000_000
        keyed = {}
        for dimension, key in (
            (Dimension.card, context.card),
            (Dimension.device, context.device),
            (Dimension.terminal, context.terminal),
        ):
            if key:
                counters = self._touch(self.counters, f"{dimension}:{key}", KeyCounters, now_s)
                counters.add(now_s, amount)
                keyed[dimension] = counters
        burst = None
        if context.terminal and context.card and 0 < amount <= self.tiny_amount:
            burst = self._touch(self.bursts, context.terminal, BurstCounter, now_s)
            burst.add(now_s, context.card, amount)
        self._forget(now_s)

        alerts: list[FraudAlert] = []
        figures: tuple[str, int, int, int, int]
        for rule in self.rules:
            if isinstance(rule, VelocityRule):
                found = keyed.get(rule.dimension)
                if found is None:
                    continue
                window = found.hour if rule.window == HOUR.name else found.day
                value = window.count if rule.metric is Metric.attempts else window.amount
                if value <= rule.threshold:
                    continue
                figures = (rule.window, window.count, window.amount, rule.threshold, 0)
            else:
                if burst is None:
                    continue
                attempts, total, cards = burst.recent(now_s, rule.window_minutes)
                if attempts < rule.min_attempts or cards < rule.min_cards:
                    continue
                figures = (f"{rule.window_minutes}m", attempts, total, rule.min_attempts, cards)
            blocked = rule.mode is FraudMode.block
            window_name, count, total_amount, threshold, distinct = figures
            alerts.append(
                FraudAlert(
                    rule_id=rule.id,
                    mode=rule.mode,
                    transfer_id=transfer_id,
                    ledger=ledger,
                    window=window_name,
                    count=count,
                    amount=total_amount,
                    threshold=threshold,
                    distinct_cards=distinct,
                    card=context.card,
                    device=context.device,
                    terminal=context.terminal,
                    blocked=blocked,
                )
            )
            if blocked:
                return Verdict(alerts, True)
        return Verdict(alerts, False)

    def screen(self, request: CreateTransfers, now: datetime) -> Screening:
        """Evaluate every transfer of ``request`` that has a payment context, in order."""
        if not request.contexts:
            return Screening([], {})
        contexts = {context.transfer_id: context for context in request.contexts}
        alerts: list[FraudAlert] = []
        refused: dict[int, TransferResult] = {}
        for index, transfer in enumerate(request.transfers):
            context = contexts.get(transfer.id)
            if context is None:
                continue
            verdict = self.evaluate(transfer.id, transfer.amount, context, now, request.ledger)
            alerts.extend(verdict.alerts)
            if verdict.block:
                refused[index] = TransferResult.blocked_by_fraud_rule
        return Screening(alerts, refused)

    # -- memory and storage -----------------------------------------------------------------

    def _touch(self, table: dict[str, _V], key: str, make: Callable[[], _V], now_s: int) -> _V:
        # Re-inserting keeps each table in last-use order, so forgetting pops from the front.
        value = table.pop(key, None)
        if value is None:
            value = make()
        table[key] = value
        self._dirty.add((COUNTER_PREFIX if table is self.counters else BURST_PREFIX) + key)
        return value

    def _forget(self, now_s: int) -> None:
        for table, prefix, horizon in (
            (self.counters, COUNTER_PREFIX, DAY.width_s * DAY.buckets),
            (self.bursts, BURST_PREFIX, MINUTES.width_s * MINUTES.buckets),
        ):
            while table:
                key = next(iter(table))
                if table[key].last_s > now_s - horizon and len(table) <= self.max_keys:
                    break
                del table[key]
                self._dirty.add(prefix + key)

    def changes(self) -> dict[str, bytes | None]:
        """Keys changed since the last call, MessagePack-encoded; ``None`` means forgotten."""
        out: dict[str, bytes | None] = {}
        encode = msgspec.msgpack.encode
        for key in self._dirty:
            if key.startswith(COUNTER_PREFIX):
                value: KeyCounters | BurstCounter | None = self.counters.get(key[4:])
            else:
                value = self.bursts.get(key[4:])
            out[key] = None if value is None else encode(value)
        self._dirty = set()
        return out

    def to_items(self) -> dict[str, bytes]:
        """Every counter as key -> MessagePack bytes."""
        encode = msgspec.msgpack.encode
        items = {COUNTER_PREFIX + key: encode(value) for key, value in self.counters.items()}
        items.update((BURST_PREFIX + key, encode(value)) for key, value in self.bursts.items())
        return items

    def load(self, items: Mapping[str, bytes]) -> None:
        """Replace the counters with stored ones (keys without an ``f/`` prefix are ignored).

        Raises:
            LedgerStateError: a stored counter does not decode.
        """
        counters: list[tuple[str, KeyCounters]] = []
        bursts: list[tuple[str, BurstCounter]] = []
        try:
            for key, value in items.items():
                if key.startswith(COUNTER_PREFIX):
                    counters.append((key[4:], msgspec.msgpack.decode(value, type=KeyCounters)))
                elif key.startswith(BURST_PREFIX):
                    bursts.append((key[4:], msgspec.msgpack.decode(value, type=BurstCounter)))
        except msgspec.DecodeError as exc:
            raise LedgerStateError(f"fraud counter does not decode: {exc}") from exc
        # Restore last-use order, which forgetting relies on.
        counters.sort(key=lambda item: item[1].last_s)
        bursts.sort(key=lambda item: item[1].last_s)
        self.counters = dict(counters)
        self.bursts = dict(bursts)
        self._dirty = set()
