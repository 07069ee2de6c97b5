"""Brute-force window semantics, one event at a time, straight from the definitions.

It keeps every accepted event and recomputes each window's value from them; nothing is
incremental, batched or persisted. The property tests compare the runtime with it.
Times are plain integers (seconds); ``grace``, ``size``, ``hop`` and ``gap`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NEG = -(10**18)


@dataclass(frozen=True)
class In:
    key: str
    t: int
    v: int


Out = tuple[int, str, int, int, Any, int, bool]  # cause index, key, start, end, value, count, final


@dataclass
class Outcome:
    results: list[Out] = field(default_factory=list)
    late: list[int] = field(default_factory=list)


def aggregate(agg: str, values: list[int]) -> Any:
    if agg == "sum":
        return sum(values)
    if agg == "count":
        return len(values)
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    return sum(values) / len(values)


def fixed(events: list[In], size: int, hop: int, grace: int, agg: str, emit: str) -> Outcome:
    """Tumbling (``hop == size``) and hopping windows aligned to 0."""
    out = Outcome()
    members: dict[tuple[str, int], list[int]] = {}
    closed: set[tuple[str, int]] = set()
    mark = NEG
    for i, e in enumerate(events):
        starts = [s for s in range(e.t - size, e.t + 1) if s % hop == 0 and s <= e.t < s + size]
        accepted = [s for s in starts if s + size + grace > mark]
        if not accepted:
            out.late.append(i)
        updates = []
        for s in accepted:
            values = members.setdefault((e.key, s), [])
            values.append(e.v)
            updates.append((s + size, s, e.key, aggregate(agg, values), len(values)))
        if emit == "current":
            for end, s, key, value, count in sorted(updates):
                out.results.append((i, key, s, end, value, count, False))
        mark = max(mark, e.t)
        closing = sorted(
            (s + size, s, key)
            for (key, s) in members
            if (key, s) not in closed and s + size + grace <= mark
        )
        for end, s, key in closing:
            closed.add((key, s))
            if emit == "final":
                values = members[(key, s)]
                out.results.append((i, key, s, end, aggregate(agg, values), len(values), True))
    return out


def sliding(events: list[In], size: int, grace: int, agg: str, emit: str) -> Outcome:
    """Windows ``(t - size, t]`` for every distinct time ``t`` of a key's accepted events."""
    out = Outcome()
    accepted: list[In] = []
    ends: set[tuple[str, int]] = set()
    closed: set[tuple[str, int]] = set()
    mark = NEG

    def members(key: str, end: int) -> list[int]:
        return [a.v for a in accepted if a.key == key and end - size < a.t <= end]

    for i, e in enumerate(events):
        if e.t + grace <= mark:
            out.late.append(i)
        else:
            accepted.append(e)
            touched = {(e.key, e.t)} | {
                (k, end)
                for (k, end) in ends
                if k == e.key and (k, end) not in closed and e.t <= end < e.t + size
            }
            ends.add((e.key, e.t))
            if emit == "current":
                for key, end in sorted(touched, key=lambda w: (w[1], w[0])):
                    values = members(key, end)
                    out.results.append(
                        (i, key, end - size, end, aggregate(agg, values), len(values), False)
                    )
        mark = max(mark, e.t)
        closing = sorted(
            (end, key) for (key, end) in ends if (key, end) not in closed and end + grace <= mark
        )
        for end, key in closing:
            closed.add((key, end))
            if emit == "final":
                values = members(key, end)
                out.results.append(
                    (i, key, end - size, end, aggregate(agg, values), len(values), True)
                )
    return out


@dataclass
class _Run:
    key: str
    times: list[int]
    values: list[int]
    closed: bool = False

    @property
    def first(self) -> int:
        return min(self.times)

    @property
    def last(self) -> int:
        return max(self.times)


def session(events: list[In], gap: int, grace: int, agg: str, emit: str) -> Outcome:
    """A key's events chain into one session while they are less than ``gap`` apart."""
    out = Outcome()
    runs: list[_Run] = []
    mark = NEG
    for i, e in enumerate(events):
        open_runs = [
            r for r in runs if r.key == e.key and not r.closed and r.last + gap + grace > mark
        ]
        fits = [r for r in open_runs if r.first - gap < e.t < r.last + gap]
        if not fits and e.t + gap + grace <= mark:
            out.late.append(i)
        else:
            merged = _Run(e.key, [e.t], [e.v])
            for r in fits:
                runs.remove(r)
                merged.times += r.times
                merged.values += r.values
            runs.append(merged)
            if emit == "current":
                out.results.append(
                    (i, e.key, merged.first, merged.last + gap,
                     aggregate(agg, merged.values), len(merged.values), False)
                )  # fmt: skip
        mark = max(mark, e.t)
        closing = sorted(
            (r.last + gap, r.first, r.key, id(r))
            for r in runs
            if not r.closed and r.last + gap + grace <= mark
        )
        by_id = {id(r): r for r in runs}
        for end, first, key, ident in closing:
            r = by_id[ident]
            r.closed = True
            if emit == "final":
                out.results.append(
                    (i, key, first, end, aggregate(agg, r.values), len(r.values), True)
                )
    return out
