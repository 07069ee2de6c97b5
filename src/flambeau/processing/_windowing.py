"""The per-partition state of tumbling and hopping windows, aggregated with numpy.

Each open window keeps two dense arrays indexed by a partition-wide key dictionary: event counts
and the running aggregate. A batch is aggregated in one pass: every accepted (window, key) row
gets a group id ``window_number * keys + key_index`` and ``np.bincount`` / ``ufunc.at`` fold the
whole batch at once, then each touched window adds its slice. Only windows the batch touched are
written back, one state key per window (``~w/<name>/<start>``) holding its keys and arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from flambeau.processing.state import State, StateStore

if TYPE_CHECKING:
    from flambeau.processing.windows import Agg, Window

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

DENSE_LIMIT = 1 << 22  # group-id space above which a batch is folded window by window


class Rows(NamedTuple):
    """The events a batch added to one window, with their positions in the batch."""

    positions: Int64s  # position of each row's record in the batch (for causes and late events)
    keys: list[str]
    times: Int64s
    values: npt.NDArray[Any]
    wm_before: Int64s  # the partition watermark just before each row's record


class Pending(msgspec.Struct, frozen=True):
    """A window value to emit; the engine turns it into a ``WindowResult`` and an event."""

    key: str
    start_us: int
    end_us: int
    value: int | float
    count: int
    cause: int  # batch position of the causing record; -1: the record that moved the watermark
    close_at: int  # when the window closes (end + grace)


class WindowState(Protocol):
    """What the engine needs of a window's per-partition state."""

    def apply(self, rows: Rows) -> tuple[Bools, list[Pending]]:
        """Fold ``rows`` in; return which rows were late and (``emit=current``) the updates."""
        ...

    def close(self, watermark: int) -> list[Pending]:
        """Remove and return the windows the watermark has closed, by end, start, key."""
        ...

    def persist(self, state: State) -> None:
        """Write what changed since the last call into ``state``."""
        ...


def finish(agg: Agg, count: int, acc: Any) -> int | float:
    """The reported value of an accumulator."""
    if agg == "count":
        return count
    if agg == "mean":
        return float(acc) / count
    return acc  # type: ignore[no-any-return]


def identity(agg: Agg, dtype: type[np.generic]) -> int | float:
    """The neutral element of ``agg`` in ``dtype``."""
    if agg == "min":
        return float("inf") if dtype is np.float64 else int(np.iinfo(np.int64).max)
    if agg == "max":
        return float("-inf") if dtype is np.float64 else int(np.iinfo(np.int64).min)
    return 0


_encode = msgspec.msgpack.encode
_decode_blob = msgspec.msgpack.Decoder(tuple[list[str], bytes, bytes]).decode


class _Acc:
    """Counts and aggregates of one open window, indexed by key index."""

    __slots__ = ("counts", "values")

    def __init__(self, capacity: int, dtype: type[np.generic], neutral: int | float) -> None:
        self.counts: Int64s = np.zeros(capacity, np.int64)
        self.values: npt.NDArray[Any] = np.full(capacity, neutral, dtype)

    def grow(self, size: int, neutral: int | float) -> None:
        have = self.counts.shape[0]
        if size > have:
            extra = max(size - have, have)
            self.counts = np.concatenate([self.counts, np.zeros(extra, np.int64)])
            self.values = np.concatenate([self.values, np.full(extra, neutral, self.values.dtype)])


class FixedWindows:
    """Tumbling (``hop == size``) and hopping windows of one window operator and partition."""

    def __init__(
        self, window: Window, size: int, hop: int, align: int, grace: int, store: StateStore
    ) -> None:
        self.agg: Agg = window.agg
        self.current = window.emit.value == "current"
        self.dtype = window.np_dtype
        self.neutral = identity(self.agg, self.dtype)
        self.size, self.hop, self.align, self.grace = size, hop, align, grace
        self.per_event = -(-size // hop)  # windows an event can fall in
        self.prefix = f"~w/{window.name}/"
        self._index: dict[str, int] = {}
        self._names: list[str] = []
        self._open: dict[int, _Acc] = {}
        self._dirty: set[int] = set()
        self._closed: set[int] = set()
        for state_key in store.keys_with_prefix(self.prefix):
            raw = store.raw(state_key)
            assert raw is not None
            self._load(int(state_key[len(self.prefix) :]), raw)

    def _load(self, start: int, raw: bytes) -> None:
        keys, counts, values = _decode_blob(raw)
        index = self._key_indices(keys)
        acc = _Acc(len(self._names), self.dtype, self.neutral)
        acc.counts[index] = np.frombuffer(counts, np.int64)
        acc.values[index] = np.frombuffer(values, self.dtype)
        self._open[start] = acc

    def _key_indices(self, keys: list[str]) -> Int64s:
        lookup = self._index
        try:
            return np.fromiter(map(lookup.__getitem__, keys), np.int64, len(keys))
        except KeyError:
            names = self._names
            for key in keys:
                if key not in lookup:
                    lookup[key] = len(names)
                    names.append(key)
            return np.fromiter(map(lookup.__getitem__, keys), np.int64, len(keys))

    # -- folding a batch -------------------------------------------------------------------------

    def apply(self, rows: Rows) -> tuple[Bools, list[Pending]]:
        times = rows.times
        size, hop, align, grace = self.size, self.hop, self.align, self.grace
        last_start = times - (times - align) % hop
        if self.per_event == 1 and hop == size:
            starts = last_start
            accepted = starts + (size + grace) > rows.wm_before
            late: Bools = ~accepted
            event = np.flatnonzero(accepted)
            starts = starts[event]
        else:
            back = np.arange(self.per_event, dtype=np.int64)[:, None] * hop
            all_starts = last_start[None, :] - back
            ok = (times[None, :] < all_starts + size) & (
                all_starts + (size + grace) > rows.wm_before[None, :]
            )
            late = np.logical_not(ok.any(axis=0))
            which, event = np.nonzero(ok)
            starts = all_starts[which, event]
        if event.size == 0:
            return late, []
        kidx = self._key_indices(rows.keys)[event]
        values = rows.values[event]
        number = (starts - align) // hop
        low = int(number.min())
        spread = int(number.max()) - low + 1
        keys = len(self._names)
        updates: list[Pending] = []
        if spread * keys <= max(DENSE_LIMIT, 4 * event.size):
            self._fold(
                number - low, kidx, values, rows.positions[event], spread, keys, low, updates
            )
        else:  # events spread over many windows: fold one window at a time
            for one in np.unique(number).tolist():
                mask = number == one
                self._fold(
                    np.zeros(int(mask.sum()), np.int64),
                    kidx[mask],
                    values[mask],
                    rows.positions[event][mask],
                    1,
                    keys,
                    one,
                    updates,
                )
        if updates:
            updates.sort(key=lambda p: (p.end_us, p.start_us, p.key))
        return late, updates

    def _fold(
        self,
        window: Int64s,
        kidx: Int64s,
        values: npt.NDArray[Any],
        positions: Int64s,
        spread: int,
        keys: int,
        low: int,
        updates: list[Pending],
    ) -> None:
        groups = window * keys + kidx
        length = spread * keys
        counts = np.bincount(groups, minlength=length).reshape(spread, keys)
        agg = self.agg
        folded: npt.NDArray[Any] | None = None
        if agg in ("sum", "mean"):
            if self.dtype is np.float64:
                folded = np.bincount(groups, weights=values, minlength=length)
            else:  # bincount sums in float64; integer sums stay exact with add.at
                folded = np.zeros(length, np.int64)
                np.add.at(folded, groups, values)
        elif agg == "min":
            folded = np.full(length, self.neutral, self.dtype)
            np.minimum.at(folded, groups, values)
        elif agg == "max":
            folded = np.full(length, self.neutral, self.dtype)
            np.maximum.at(folded, groups, values)
        last: Int64s | None = None
        if self.current:
            last = np.full(length, -1, np.int64)
            np.maximum.at(last, groups, positions)
        for row in np.flatnonzero(counts.any(axis=1)).tolist():
            start = (low + row) * self.hop + self.align
            acc = self._open.get(start)
            if acc is None:
                acc = self._open[start] = _Acc(keys, self.dtype, self.neutral)
            acc.grow(keys, self.neutral)
            acc.counts[:keys] += counts[row]
            if folded is not None:
                part = folded[row * keys : (row + 1) * keys]
                view = acc.values[:keys]
                if agg == "min":
                    np.minimum(view, part, out=view)
                elif agg == "max":
                    np.maximum(view, part, out=view)
                else:
                    view += part.astype(self.dtype, copy=False)
            self._dirty.add(start)
            if last is not None:
                touched = np.flatnonzero(counts[row]).tolist()
                causes = last[row * keys : (row + 1) * keys]
                end = start + self.size
                for k in touched:
                    count = int(acc.counts[k])
                    updates.append(
                        Pending(
                            self._names[k],
                            start,
                            end,
                            finish(agg, count, acc.values[k].item()),
                            count,
                            int(causes[k]),
                            end + self.grace,
                        )
                    )

    # -- closing and persisting ----------------------------------------------------------------

    def close(self, watermark: int) -> list[Pending]:
        closing = [s for s in self._open if s + self.size + self.grace <= watermark]
        if not closing:
            return []
        results: list[Pending] = []
        names = self._names
        for start in sorted(closing):
            acc = self._open.pop(start)
            self._dirty.discard(start)
            self._closed.add(start)
            end = start + self.size
            present = np.flatnonzero(acc.counts[: len(names)])
            counts = acc.counts[present].tolist()
            values = acc.values[present].tolist()
            order = sorted(range(len(counts)), key=lambda i: names[present[i]])
            for i in order:
                results.append(
                    Pending(
                        names[present[i]],
                        start,
                        end,
                        finish(self.agg, counts[i], values[i]),
                        counts[i],
                        -1,
                        end + self.grace,
                    )
                )
        self._compact()
        return results

    def _compact(self) -> None:
        """Drop keys no open window holds, once they outnumber the live ones."""
        if not self._open:
            self._index.clear()
            self._names.clear()
            return
        total = len(self._names)
        live = np.zeros(total, bool)
        for acc in self._open.values():
            acc.grow(total, self.neutral)
            live |= acc.counts[:total] > 0
        kept = np.flatnonzero(live)
        if total <= 2 * kept.size + 1024:
            return
        self._names = [self._names[i] for i in kept.tolist()]
        self._index = {name: i for i, name in enumerate(self._names)}
        for acc in self._open.values():
            acc.counts = acc.counts[kept].copy()
            acc.values = acc.values[kept].copy()

    def persist(self, state: State) -> None:
        names = self._names
        for start in self._dirty:
            acc = self._open[start]
            present = np.flatnonzero(acc.counts[: len(names)])
            blob = _encode(
                (
                    [names[i] for i in present.tolist()],
                    acc.counts[present].tobytes(),
                    acc.values[present].tobytes(),
                )
            )
            state.put_raw(f"{self.prefix}{start}", blob)
        for start in self._closed:
            state.put_raw(f"{self.prefix}{start}", None)
        self._dirty.clear()
        self._closed.clear()
