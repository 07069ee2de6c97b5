"""A bounded memory of replies: the oldest entries go once the entries or their items pass a
limit. The gateway's payments routes and read model keep what a later reply needs in it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Memo"]

V = TypeVar("V")


class Memo(Generic[V]):
    """Values by key, first write wins, at most ``entries`` of them and ``items`` items in all.

    ``size`` tells how many items a value holds; one value larger than ``items`` is still kept
    (alone), so the newest answer can always be given.
    """

    def __init__(self, entries: int, items: int, size: Callable[[V], int]) -> None:
        self.entries = entries
        self.items = items
        self.size = size
        self.values: OrderedDict[str, V] = OrderedDict()
        self.held = 0  # items over all values

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def __len__(self) -> int:
        return len(self.values)

    def get(self, key: str) -> V | None:
        return self.values.get(key)

    def remember(self, key: str, value: V) -> None:
        """Keep ``value`` under ``key`` unless the key is already known; forget the oldest."""
        values = self.values
        if key in values:
            return
        values[key] = value
        self.held += self.size(value)
        while len(values) > 1 and (len(values) > self.entries or self.held > self.items):
            self.held -= self.size(values.popitem(last=False)[1])
