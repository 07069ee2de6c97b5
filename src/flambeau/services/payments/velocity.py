"""Event-time sliding-window counters for the fraud rules, small enough to store per key.

A :class:`Window` is a number of fixed buckets (60 one-minute buckets for an hour, 24 one-hour
buckets for a day). A :class:`Buckets` counter keeps only the buckets still inside its window,
oldest first, with running totals, so adding and reading are O(1) amortised and a counter's
memory is bounded by its window. The window slides by whole buckets: "the last hour" means the
current minute and the 59 before it.

Event time may go backwards a little (events arrive out of order): a late event lands in its
own bucket if that bucket is still inside the window, and is dropped otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

__all__ = ["DAY", "HOUR", "MINUTES", "Buckets", "BurstCounter", "KeyCounters", "Window"]


class Window(NamedTuple):
    """A sliding window of ``buckets`` buckets of ``width_s`` seconds each."""

    name: str
    width_s: int
    buckets: int


HOUR = Window("1h", 60, 60)
DAY = Window("1d", 3_600, 24)
MINUTES = Window("1h", 60, 60)
"""The card-testing detector's minute buckets; its rules read any suffix of up to 60 minutes."""


class Buckets(msgspec.Struct, array_like=True):
    """Counts and amounts per bucket, ``[index, count, amount]`` oldest first, with totals."""

    items: list[list[int]] = msgspec.field(default_factory=list)
    count: int = 0
    amount: int = 0

    def evict(self, window: Window, now_s: int) -> None:
        """Drop the buckets that slid out of ``window`` at ``now_s``."""
        oldest = now_s // window.width_s - window.buckets + 1
        items = self.items
        while items and items[0][0] < oldest:
            _, count, amount = items.pop(0)
            self.count -= count
            self.amount -= amount

    def add(self, window: Window, now_s: int, amount: int) -> None:
        """Count one event of ``amount`` at ``now_s``."""
        self.evict(window, now_s)
        index = now_s // window.width_s
        items = self.items
        if items and items[-1][0] == index:
            items[-1][1] += 1
            items[-1][2] += amount
        elif not items or items[-1][0] < index:
            items.append([index, 1, amount])
        else:
            self._add_late(window, now_s, index, amount)
            return
        self.count += 1
        self.amount += amount

    def _add_late(self, window: Window, now_s: int, index: int, amount: int) -> None:
        newest = self.items[-1][0]
        if index <= newest - window.buckets:
            return
        for position, bucket in enumerate(self.items):
            if bucket[0] == index:
                bucket[1] += 1
                bucket[2] += amount
                break
            if bucket[0] > index:
                self.items.insert(position, [index, 1, amount])
                break
        self.count += 1
        self.amount += amount

    def since(self, window: Window, now_s: int, buckets: int) -> tuple[int, int]:
        """``(count, amount)`` over the last ``buckets`` buckets up to ``now_s``."""
        oldest = now_s // window.width_s - buckets + 1
        count = amount = 0
        for index, bucket_count, bucket_amount in reversed(self.items):
            if index < oldest:
                break
            count += bucket_count
            amount += bucket_amount
        return count, amount


class KeyCounters(msgspec.Struct, array_like=True):
    """One card's, device's or terminal's hour and day counters, and when it was last seen."""

    hour: Buckets = msgspec.field(default_factory=Buckets)
    day: Buckets = msgspec.field(default_factory=Buckets)
    last_s: int = 0

    def add(self, now_s: int, amount: int) -> None:
        """Count one attempt of ``amount`` at ``now_s`` in both windows."""
        self.hour.add(HOUR, now_s, amount)
        self.day.add(DAY, now_s, amount)
        self.last_s = max(self.last_s, now_s)


class BurstCounter(msgspec.Struct, array_like=True):
    """One terminal's tiny-amount attempts per minute, and when each card was last seen.

    ``cards`` is kept in last-seen order (a card seen again moves to the end), so both reading
    the distinct cards of the last N minutes and forgetting old cards stop at the first card
    older than the window.
    """

    tiny: Buckets = msgspec.field(default_factory=Buckets)
    cards: dict[str, int] = msgspec.field(default_factory=dict)
    last_s: int = 0

    def add(self, now_s: int, card: str, amount: int) -> None:
        """Count one tiny attempt of ``amount`` by ``card`` at ``now_s``."""
        self.tiny.add(MINUTES, now_s, amount)
        minute = now_s // MINUTES.width_s
        cards = self.cards
        # A late event must not break the last-seen order, so it counts as seen now.
        stamp = max(minute, cards[next(reversed(cards))]) if cards else minute
        cards.pop(card, None)
        cards[card] = stamp
        oldest = minute - MINUTES.buckets + 1
        while cards:
            first = next(iter(cards))
            if cards[first] >= oldest:
                break
            del cards[first]
        self.last_s = max(self.last_s, now_s)

    def recent(self, now_s: int, minutes: int) -> tuple[int, int, int]:
        """``(attempts, amount, distinct cards)`` over the last ``minutes`` minutes."""
        attempts, amount = self.tiny.since(MINUTES, now_s, minutes)
        oldest = now_s // MINUTES.width_s - minutes + 1
        distinct = 0
        for minute in reversed(self.cards.values()):
            if minute < oldest:
                break
            distinct += 1
        return attempts, amount, distinct
