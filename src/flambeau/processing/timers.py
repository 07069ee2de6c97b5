"""Timers: let a processor act at a moment rather than on an event.

An *event-time* timer fires when the partition's first event at or after its time arrives,
before that event is handled (or at once, if set at or before the watermark). So "close betting
5 minutes before the end" happens at the same point of the input whether the events arrive live
or are replayed, and every bet stamped after the deadline sees the market closed. A
*processing-time* timer fires once the
runtime's :class:`~flambeau.processing.clock.Clock` reaches its time, even when no input
arrives.

A timer is named by a key, one per (domain, key): setting it again moves it. Timers live in
the processor's state (keys ``~t/e/<key>`` and ``~t/p/<key>``), so they commit atomically with
the batch that set them and survive restarts. A fired timer is removed before its handler runs;
the handler may set it again.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from flambeau.processing._time import from_us, to_us
from flambeau.processing.clock import Clock
from flambeau.processing.errors import ProcessorConfigError
from flambeau.processing.state import DELETED, State, StateStore, decode_value, encode_value

__all__ = ["TimeDomain", "Timer", "Timers"]

PREFIX = "~t/"
_CODE = {"event": "e", "processing": "p"}


class TimeDomain(StrEnum):
    """Which clock a timer follows."""

    EVENT = "event"
    PROCESSING = "processing"


class Timer(NamedTuple):
    """A timer, as its handler receives it.

    Attributes:
        key: The timer's name within its domain, for example ``"close:market-42"``.
        at: When it is due, UTC.
        domain: Event time (watermark) or processing time (clock).
        data: A plain value stored with the timer (``str``, ``int``, lists, dicts, ...).
        causation_id: The event that set the timer; events the handler emits default to it.
        seq: Numbers the settings of the partition's timers, so every firing has its own id.
    """

    key: str
    at: datetime
    domain: TimeDomain
    data: Any = None
    causation_id: str | None = None
    seq: int = 0

    @property
    def id(self) -> str:
        """A stable id for this firing, used to derive the ids of the events it emits."""
        return f"~timer/{self.domain.value}/{self.key}/{to_us(self.at)}/{self.seq}"


def _state_key(domain: TimeDomain, key: str) -> str:
    return f"{PREFIX}{_CODE[domain.value]}/{key}"


_Entry = tuple[int, Any, str | None, int]  # at (us), data, causation id, seq
SEQ_KEY = "~tseq"


class TimerTable:
    """The timers of one processor partition, with a heap per domain to find the next due."""

    def __init__(self, store: StateStore) -> None:
        self._entries: dict[tuple[TimeDomain, str], _Entry] = {}
        self._heaps: dict[TimeDomain, list[tuple[int, str]]] = {d: [] for d in TimeDomain}
        for domain in TimeDomain:
            prefix = _state_key(domain, "")
            for state_key in store.keys_with_prefix(prefix):
                raw = store.raw(state_key)
                assert raw is not None
                at_us, data, cause, seq = decode_value(raw)
                self._set(domain, state_key[len(prefix) :], (int(at_us), data, cause, int(seq)))
        raw_seq = store.raw(SEQ_KEY)
        self.seq: int = 0 if raw_seq is None else int(decode_value(raw_seq))

    def _set(self, domain: TimeDomain, key: str, entry: _Entry | None) -> None:
        if entry is None:
            self._entries.pop((domain, key), None)
        else:
            self._entries[(domain, key)] = entry
            heapq.heappush(self._heaps[domain], (entry[0], key))

    def get(self, domain: TimeDomain, key: str) -> Timer | None:
        """The timer ``key`` of ``domain``, if set."""
        entry = self._entries.get((domain, key))
        if entry is None:
            return None
        return Timer(key, from_us(entry[0]), domain, entry[1], entry[2], entry[3])

    def next_due(self, domain: TimeDomain) -> int | None:
        """When the earliest timer of ``domain`` is due (microseconds), if any is set."""
        heap = self._heaps[domain]
        while heap:
            at_us, key = heap[0]
            entry = self._entries.get((domain, key))
            if entry is not None and entry[0] == at_us:
                return at_us
            heapq.heappop(heap)  # stale: moved or cancelled since it was pushed
        return None

    def pop_due(self, domain: TimeDomain, now_us: int, state: State) -> list[Timer]:
        """Remove and return the timers of ``domain`` due at ``now_us``, by time then key."""
        due: list[Timer] = []
        heap = self._heaps[domain]
        while True:
            at_us = self.next_due(domain)
            if at_us is None or at_us > now_us:
                break
            _, key = heapq.heappop(heap)
            entry = self._entries.pop((domain, key))
            state.put_raw(_state_key(domain, key), None)
            due.append(Timer(key, from_us(entry[0]), domain, entry[1], entry[2], entry[3]))
        return due

    def apply(self, timers: Timers, state: State) -> None:
        """Apply a transaction's timer changes (an entry, or ``DELETED``) and persist them."""
        changes = timers.changes
        if timers.seq != self.seq:
            self.seq = timers.seq
            state.put_internal(SEQ_KEY, self.seq)
        for (domain, key), change in changes.items():
            if change is DELETED:
                self._set(domain, key, None)
                state.put_raw(_state_key(domain, key), None)
            else:
                entry, raw = change
                self._set(domain, key, entry)
                state.put_raw(_state_key(domain, key), raw)


class Timers:
    """``tx.timers``: set, move, read and cancel the partition's timers.

    Changes take effect when the transaction commits, like state writes.
    """

    def __init__(self, table: TimerTable, clock: Clock, processor: str, enabled: bool) -> None:
        self._table = table
        self._clock = clock
        self._processor = processor
        self._enabled = enabled
        self.changes: dict[tuple[TimeDomain, str], Any] = {}
        self.seq = table.seq
        self.earliest_event: int | None = None  # earliest event-time due set, even if moved since

    def at(
        self,
        key: str,
        when: datetime,
        *,
        data: Any = None,
        domain: TimeDomain = TimeDomain.EVENT,
        causation_id: str | None = None,
    ) -> None:
        """Set timer ``key`` to fire at ``when`` (event time by default).

        Raises:
            ProcessorConfigError: the processor has no ``on_timer`` handler.
            ValueError: ``when`` has no timezone.
            TypeError: ``data`` cannot be encoded to MessagePack.
        """
        if not self._enabled:
            raise ProcessorConfigError(
                f"processor {self._processor!r} sets timer {key!r} but has no on_timer handler"
            )
        entry = (to_us(when), data, causation_id, self.seq)
        try:
            raw = encode_value(entry)
        except NotImplementedError as exc:
            raise TypeError(f"timer {key!r}: {exc}") from None
        self.changes[(domain, key)] = (entry, raw)
        self.seq += 1
        if domain is TimeDomain.EVENT and (
            self.earliest_event is None or entry[0] < self.earliest_event
        ):
            self.earliest_event = entry[0]

    def after(
        self, key: str, delay: timedelta, *, data: Any = None, causation_id: str | None = None
    ) -> None:
        """Set processing-time timer ``key`` to fire ``delay`` after the clock's now."""
        self.at(
            key,
            self._clock.now() + delay,
            data=data,
            domain=TimeDomain.PROCESSING,
            causation_id=causation_id,
        )

    def cancel(self, key: str, domain: TimeDomain = TimeDomain.EVENT) -> None:
        """Remove timer ``key`` if it is set."""
        self.changes[(domain, key)] = DELETED

    def get(self, key: str, domain: TimeDomain = TimeDomain.EVENT) -> Timer | None:
        """Timer ``key`` as this transaction sees it, or ``None``."""
        change = self.changes.get((domain, key))
        if change is DELETED:
            return None
        if change is not None:
            (at_us, data, cause, seq), _ = change
            return Timer(key, from_us(at_us), domain, data, cause, seq)
        return self._table.get(domain, key)
