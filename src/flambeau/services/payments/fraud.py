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
burst counters: an hour) and any beyond ``max_keys``. A card, device or terminal counter is
held in its stored MessagePack form (about 250 bytes with its key, against about 800 as a live
object), since most cards are seen once or twice and only the touched ones need decoding.
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
    "DEFAULT_MAX_KEYS",
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


_V = TypeVar("_V", bytes, BurstCounter)

DEFAULT_MAX_KEYS = 50_000
"""Counters kept per partition by default: about 16 MB of card, device and terminal counters
(plus the terminals' burst counters), whatever the number of cards in a day."""


class FraudEngine:
    """Ordered rules over per-key counters; one engine per (processor, partition)."""

    def __init__(
        self,
        rules: Sequence[Rule] = DEFAULT_RULES,
        *,
        tiny_amount: int = 100,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        """Build an engine with empty counters.

        Args:
            rules: Evaluated in this order; ids must be unique.
            tiny_amount: The largest amount (minor units) that counts as a card-testing attempt.
            max_keys: The most card, device and terminal counters kept (and, separately, the
                most terminal burst counters); the least recently used are forgotten first.

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
        self.counters: dict[str, bytes] = {}  # encoded KeyCounters, in last-use order
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
                keyed[dimension] = self._count(f"{dimension}:{key}", now_s, amount)
        burst = None
        if context.terminal and context.card and 0 < amount <= self.tiny_amount:
            burst = self._touch(self.bursts, context.terminal, now_s)
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
                    venue=context.venue,
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

    def _count(self, key: str, now_s: int, amount: int) -> KeyCounters:
        # Re-inserting keeps the table in last-use order, so forgetting pops from the front.
        stored = self.counters.pop(key, None)
        counters = KeyCounters() if stored is None else _decode_counters(stored)
        counters.add(now_s, amount)
        self.counters[key] = _encode(counters)
        self._dirty.add(COUNTER_PREFIX + key)
        return counters

    def _touch(self, table: dict[str, BurstCounter], key: str, now_s: int) -> BurstCounter:
        value = table.pop(key, None)
        if value is None:
            value = BurstCounter()
        table[key] = value
        self._dirty.add(BURST_PREFIX + key)
        return value

    def _forget(self, now_s: int) -> None:
        _drop_oldest(self.counters, COUNTER_PREFIX, now_s - DAY.width_s * DAY.buckets,
                     self.max_keys, _last_seen, self._dirty)  # fmt: skip
        _drop_oldest(self.bursts, BURST_PREFIX, now_s - MINUTES.width_s * MINUTES.buckets,
                     self.max_keys, _burst_last_seen, self._dirty)  # fmt: skip

    def changes(self) -> dict[str, bytes | None]:
        """Keys changed since the last call, MessagePack-encoded; ``None`` means forgotten."""
        out: dict[str, bytes | None] = {}
        for key in self._dirty:
            if key.startswith(COUNTER_PREFIX):
                out[key] = self.counters.get(key[4:])
            else:
                burst = self.bursts.get(key[4:])
                out[key] = None if burst is None else _encode(burst)
        self._dirty = set()
        return out

    def to_items(self) -> dict[str, bytes]:
        """Every counter as key -> MessagePack bytes."""
        items = {COUNTER_PREFIX + key: value for key, value in self.counters.items()}
        items.update((BURST_PREFIX + key, _encode(value)) for key, value in self.bursts.items())
        return items

    def load(self, items: Mapping[str, bytes]) -> None:
        """Replace the counters with stored ones (keys without an ``f/`` prefix are ignored).

        Raises:
            LedgerStateError: a stored counter does not decode.
        """
        counters: list[tuple[int, str, bytes]] = []
        bursts: list[tuple[str, BurstCounter]] = []
        try:
            for key in items:  # values read only for our keys (the others may be on disk)
                if key.startswith(COUNTER_PREFIX):
                    value = items[key]
                    counters.append((_decode_counters(value).last_s, key[4:], bytes(value)))
                elif key.startswith(BURST_PREFIX):
                    bursts.append((key[4:], msgspec.msgpack.decode(items[key], type=BurstCounter)))
        except msgspec.DecodeError as exc:
            raise LedgerStateError(f"fraud counter does not decode: {exc}") from exc
        # Restore last-use order, which forgetting relies on.
        counters.sort(key=lambda item: item[0])
        bursts.sort(key=lambda item: item[1].last_s)
        self.counters = {key: value for _, key, value in counters}
        self.bursts = dict(bursts)
        self._dirty = set()


_encode = msgspec.msgpack.Encoder().encode
_decode_counters = msgspec.msgpack.Decoder(KeyCounters).decode


class _LastSeen(msgspec.Struct, array_like=True):
    """The fields of a stored :class:`KeyCounters` up to ``last_s``, skipping the buckets."""

    hour: msgspec.Raw
    day: msgspec.Raw
    last_s: int


_decode_last_seen = msgspec.msgpack.Decoder(_LastSeen).decode


def _last_seen(stored: bytes) -> int:
    return _decode_last_seen(stored).last_s


def _burst_last_seen(burst: BurstCounter) -> int:
    return burst.last_s


def _drop_oldest(
    table: dict[str, _V],
    prefix: str,
    horizon: int,
    most: int,
    last_seen: Callable[[_V], int],
    dirty: set[str],
) -> None:
    """Forget, from the least recently used end, entries unseen since ``horizon`` and any
    beyond ``most``; mark each forgotten key dirty under ``prefix``."""
    while table:
        key = next(iter(table))
        if len(table) <= most and last_seen(table[key]) > horizon:
            return
        del table[key]
        dirty.add(prefix + key)
