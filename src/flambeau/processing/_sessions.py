"""The per-partition state of sliding and session windows, folded event by event.

Both are per key: a key's open windows (and, for sliding windows, the recent events a new window
may need) live in one state key ``~w/<name>/<key>``, rewritten when the key changes. A heap of
close times finds the windows the watermark closes without scanning every key.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from flambeau.processing._windowing import Bools, Pending, Rows, finish, identity
from flambeau.processing.state import State, StateStore

if TYPE_CHECKING:
    from flambeau.processing.windows import Agg, Window

PRUNE = -(2**63)  # heap marker: "look at this key's buffered events again"


def combiner(agg: Agg) -> Callable[[Any, Any], Any]:
    """How two accumulators (or an accumulator and a value) of ``agg`` combine."""
    if agg == "min":
        return min
    if agg == "max":
        return max
    return lambda a, b: a + b


class _KeyedBase:
    def __init__(self, window: Window, grace: int, store: StateStore) -> None:
        self.agg: Agg = window.agg
        self.current = window.emit.value == "current"
        self.grace = grace
        self.combine = combiner(self.agg)
        self.neutral = identity(self.agg, window.np_dtype)
        self.cast: Callable[[Any], Any] = window.dtype
        self.prefix = f"~w/{window.name}/"
        self.heap: list[tuple[int, str, int]] = []
        self.dirty: set[str] = set()

    def _raws(self, store: StateStore) -> list[tuple[str, bytes]]:
        found = []
        for state_key in store.keys_with_prefix(self.prefix):
            raw = store.raw(state_key)
            assert raw is not None
            found.append((state_key[len(self.prefix) :], raw))
        return found

    def _value(self, count: int, acc: Any) -> int | float:
        return finish(self.agg, count, acc)


class SlidingWindows(_KeyedBase):
    """Windows ``(t - size, t]`` for each distinct event time ``t`` of each key."""

    def __init__(self, window: Window, size: int, grace: int, store: StateStore) -> None:
        super().__init__(window, grace, store)
        self.size = size
        # key -> (buffered events [(t, value)] sorted, open windows {end: [count, acc, cause]})
        self.keys: dict[str, tuple[list[tuple[int, Any]], dict[int, list[Any]]]] = {}
        self.watermark = -(2**62)
        for key, raw in self._raws(store):
            events, windows = msgspec.msgpack.decode(raw)
            state = ([(int(t), v) for t, v in events], {int(e): [c, a, -1] for e, c, a in windows})
            self.keys[key] = state
            for end in state[1]:
                heapq.heappush(self.heap, (end + grace, key, end))
            if not state[1]:
                heapq.heappush(self.heap, (self._prune_at(state[0]), key, PRUNE))

    def _prune_at(self, events: list[tuple[int, Any]]) -> int:
        return events[-1][0] + self.size + self.grace if events else -(2**62)

    def apply(self, rows: Rows) -> tuple[Bools, list[Pending]]:
        size, grace, combine, cast = self.size, self.grace, self.combine, self.cast
        late = np.zeros(len(rows.keys), bool)
        touched: dict[tuple[str, int], int] = {}
        times = rows.times.tolist()
        marks = rows.wm_before.tolist()
        values = rows.values.tolist()
        positions = rows.positions.tolist()
        for i, key in enumerate(rows.keys):
            t = times[i]
            if t + grace <= marks[i]:
                late[i] = True
                continue
            v = cast(values[i])
            state = self.keys.get(key)
            if state is None:
                state = self.keys[key] = ([], {})
            events, windows = state
            for end, acc in windows.items():
                if t <= end < t + size:
                    acc[0] += 1
                    acc[1] = combine(acc[1], v)
                    touched[(key, end)] = positions[i]
            bisect.insort(events, (t, v), key=lambda e: e[0])
            if t not in windows:
                count, total = 0, self.neutral
                lo = bisect.bisect_right(events, t - size, key=lambda e: e[0])
                hi = bisect.bisect_right(events, t, key=lambda e: e[0])
                for _, value in events[lo:hi]:
                    count += 1
                    total = combine(total, value)
                windows[t] = [count, total, -1]
                heapq.heappush(self.heap, (t + grace, key, t))
                touched[(key, t)] = positions[i]
            self.dirty.add(key)
        updates: list[Pending] = []
        if self.current:
            for (key, end), cause in touched.items():
                count, acc, _ = self.keys[key][1][end]
                updates.append(
                    Pending(
                        key, end - size, end, self._value(count, acc), count, cause, end + grace
                    )
                )
            updates.sort(key=lambda p: (p.end_us, p.start_us, p.key))
        return late, updates

    def close(self, watermark: int) -> list[Pending]:
        self.watermark = max(self.watermark, watermark)
        results: list[Pending] = []
        heap = self.heap
        while heap and heap[0][0] <= watermark:
            close_at, key, end = heapq.heappop(heap)
            state = self.keys.get(key)
            if state is None:
                continue
            events, windows = state
            if end != PRUNE:
                acc = windows.pop(end, None)
                if acc is None:
                    continue
                results.append(
                    Pending(
                        key, end - self.size, end, self._value(acc[0], acc[1]), acc[0], -1, close_at
                    )
                )
            # a future window ends after watermark - grace, so it needs no older event
            horizon = watermark - self.grace - self.size
            drop = bisect.bisect_right(events, horizon, key=lambda e: e[0])
            if drop:
                del events[:drop]
            if not windows:
                if events:
                    heapq.heappush(heap, (self._prune_at(events), key, PRUNE))
                else:
                    del self.keys[key]
            self.dirty.add(key)
        return results

    def persist(self, state: State) -> None:
        for key in self.dirty:
            entry = self.keys.get(key)
            if entry is None:
                state.put_raw(self.prefix + key, None)
                continue
            events, windows = entry
            blob = msgspec.msgpack.encode(
                ([[t, v] for t, v in events], [[e, a[0], a[1]] for e, a in windows.items()])
            )
            state.put_raw(self.prefix + key, blob)
        self.dirty.clear()


class SessionWindows(_KeyedBase):
    """Runs of a key's events less than ``gap`` apart: ``[first, last + gap)``."""

    def __init__(self, window: Window, gap: int, grace: int, store: StateStore) -> None:
        super().__init__(window, grace, store)
        self.gap = gap
        # key -> open sessions [first, last, count, acc, cause], sorted by first
        self.keys: dict[str, list[list[Any]]] = {}
        for key, raw in self._raws(store):
            sessions = [[int(f), int(la), c, a, -1] for f, la, c, a in msgspec.msgpack.decode(raw)]
            self.keys[key] = sessions
            for s in sessions:
                heapq.heappush(self.heap, (s[1] + gap + grace, key, s[0]))

    def apply(self, rows: Rows) -> tuple[Bools, list[Pending]]:
        gap, grace, combine, cast = self.gap, self.grace, self.combine, self.cast
        late = np.zeros(len(rows.keys), bool)
        touched: dict[str, list[list[Any]]] = {}
        times = rows.times.tolist()
        marks = rows.wm_before.tolist()
        values = rows.values.tolist()
        positions = rows.positions.tolist()
        for i, key in enumerate(rows.keys):
            t, mark = times[i], marks[i]
            sessions = self.keys.get(key)
            if sessions is None:
                sessions = self.keys[key] = []
            # only sessions still open at this event may absorb it
            fits = [
                s for s in sessions if s[1] + gap + grace > mark and s[0] - gap < t < s[1] + gap
            ]
            if not fits and t + gap + grace <= mark:
                late[i] = True
                if not sessions:
                    del self.keys[key]
                continue
            v = cast(values[i])
            merged = [t, t, 1, combine(self.neutral, v), positions[i]]
            for s in fits:
                sessions.remove(s)
                merged[0] = min(merged[0], s[0])
                merged[1] = max(merged[1], s[1])
                merged[2] += s[2]
                merged[3] = combine(merged[3], s[3])
            bisect.insort(sessions, merged, key=lambda s: s[0])
            heapq.heappush(self.heap, (merged[1] + gap + grace, key, merged[0]))
            touched.setdefault(key, []).append(merged)
            self.dirty.add(key)
        updates: list[Pending] = []
        if self.current:
            for key, changed in touched.items():
                live = self.keys.get(key, [])
                for s in changed:
                    if any(s is o for o in live):  # not merged away later in the batch
                        end = s[1] + gap
                        updates.append(
                            Pending(
                                key, s[0], end, self._value(s[2], s[3]), s[2], s[4], end + grace
                            )
                        )
            updates.sort(key=lambda p: (p.end_us, p.start_us, p.key))
        return late, updates

    def close(self, watermark: int) -> list[Pending]:
        results: list[Pending] = []
        heap = self.heap
        while heap and heap[0][0] <= watermark:
            close_at, key, first = heapq.heappop(heap)
            sessions = self.keys.get(key)
            if not sessions:
                continue
            for s in sessions:
                if s[0] == first and s[1] + self.gap + self.grace == close_at:
                    sessions.remove(s)
                    end = s[1] + self.gap
                    results.append(
                        Pending(key, s[0], end, self._value(s[2], s[3]), s[2], -1, close_at)
                    )
                    self.dirty.add(key)
                    break
            if not sessions:
                del self.keys[key]
        results.sort(key=lambda p: (p.end_us, p.start_us, p.key))
        return results

    def persist(self, state: State) -> None:
        for key in self.dirty:
            sessions = self.keys.get(key)
            if not sessions:
                state.put_raw(self.prefix + key, None)
                continue
            blob = msgspec.msgpack.encode([[s[0], s[1], s[2], s[3]] for s in sessions])
            state.put_raw(self.prefix + key, blob)
        self.dirty.clear()
