"""The producer of ``flambeau bench chain``: a day of the rehearsal's results as ODF documents,
posted through the adapter at a fixed rate, with the rehearsal's bettors beside them.

:class:`Feed` posts documents at ``rate`` per second. The versions of one document (a unit's
results, an event's medallists) are posted in order, one at a time, so none arrives after a
later one, and a unit's medallists follow its result; different documents are posted
concurrently (the rehearsal's results lanes post each source in order, which at this rate would
measure the lanes' queues rather than the platform). The wall time just before each POST is
noted with the stored event id the adapter answers, so a subscriber can measure each derived
event from the moment its cause was sent. :class:`Bettors` places the scenario's in-play bets
through the betting route (each bettor's wallet funded first) at the odds last seen on
``betting.odds``, so official results settle tickets and pay winners.

:func:`script` prepares a :class:`~flambeau.scenario.timeline.Timeline` window before the clock
starts: every result in games-time order with the ``DT_MEDALLISTS`` each official medal result
calls for, and the bets in between. :func:`send_schedules` posts the day's ``DT_SCHEDULE``
documents first; :func:`play` then posts the script, and a keep-alive from each source heard
that has been quiet for :data:`KEEPALIVE_GAP_S` (as the rehearsal thins them, so a quiet venue
is not declared down while the others are busy).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from flambeau.scenario.channels import Channels
from flambeau.scenario.client import GatewayClient, Subscriber, WireEvent
from flambeau.scenario.documents import (
    MedallistsFeed,
    OdfMessage,
    keepalive,
    result_message,
    schedule_documents,
)
from flambeau.scenario.generators.bettors import BetPlacement, bets
from flambeau.scenario.generators.results import ResultUpdate
from flambeau.scenario.odds import OddsBook
from flambeau.scenario.payloads import ticket
from flambeau.scenario.schedule import Unit
from flambeau.scenario.sports import Shape, discipline
from flambeau.scenario.stats import Counters, Latency
from flambeau.scenario.timeline import Timeline
from flambeau.services.betting.schemas import ODDS_STREAM, OddsMessage, TicketSubmitted
from flambeau.services.results.schemas import ODF_ROUTE, ResultStatus

__all__ = [
    "Bettors",
    "Feed",
    "Sent",
    "channels_for",
    "is_goal",
    "odds_follower",
    "play",
    "script",
    "send_schedules",
]

KEEPALIVE_GAP_S = 5.0
"""A source's keep-alive is sent only after this many wall seconds without a document."""
IN_FLIGHT = 128
"""Documents posted at once at most; beyond it the feed waits (and falls behind its rate)."""
BET_BATCHES_IN_FLIGHT = 4
"""Batches of tickets being posted at once at most; a bet beyond it is shed (and counted)."""


class Sent(msgspec.Struct, array_like=True, frozen=True):
    """One document as the producer posted it.

    Attributes:
        id: The ``results.odf`` event id the adapter answered (empty when refused).
        message: The scenario's message id.
        at: Wall time (Unix seconds) just before the POST.
        kind: ``schedule``, ``result``, ``medallists`` or ``keep_alive``.
        code: The unit (for a result), the event (medallists), else the document code.
        goal: A live result in which a side's score went up.
        official: An OFFICIAL result.
        origin: For medallists, the message id of the official result that called for it.
        status: The adapter's HTTP status.
    """

    id: str
    message: str
    at: float
    kind: str
    code: str
    goal: bool = False
    official: bool = False
    origin: str = ""
    status: int = 0


def is_goal(update: ResultUpdate, unit: Unit, scores: dict[str, tuple[int, ...]]) -> bool:
    """Whether ``update`` is a live snapshot of a match in which a side's score went up
    (``scores`` keeps each unit's last score; sports played in sets are not counted)."""
    spec = discipline(unit.discipline)
    if spec.shape is not Shape.HEAD_TO_HEAD or (spec.rules and spec.rules.sets_to_win > 0):
        return False
    now = tuple(line.value or 0 for line in sorted(update.lines, key=lambda line: line.order))
    before = scores.get(unit.code)
    scores[unit.code] = now
    if update.status is not ResultStatus.LIVE or before is None or len(before) != len(now):
        return False
    return any(new > old for new, old in zip(now, before, strict=True))


@dataclass
class Feed:
    """Posts ODF documents at ``rate`` per second, each source in order (module docstring)."""

    client: GatewayClient
    rate: float
    sent: list[Sent] = field(default_factory=list)
    heard: dict[str, float] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(IN_FLIGHT))
    waited: float = 0.0
    """Seconds the feed waited for a free slot (:data:`IN_FLIGHT` documents unanswered)."""
    _began: float | None = None
    _count: int = 0

    @property
    def documents(self) -> int:
        """Documents handed to the feed so far."""
        return self._count

    def elapsed(self) -> float:
        """Wall seconds since the first document was due."""
        return 0.0 if self._began is None else time.perf_counter() - self._began

    async def send(self, message: OdfMessage, kind: str, **marks: Any) -> None:
        """Post ``message`` when its turn in the rate comes, after the earlier documents of its
        lane: its document code, or the ``lane`` mark (a unit's medallists follow its result)."""
        if self._began is None:
            self._began = time.perf_counter()
        due = self._began + self._count / self.rate
        self._count += 1
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if self._gate.locked():
            waiting = time.perf_counter()
            await self._gate.acquire()
            self.waited += time.perf_counter() - waiting
        else:
            await self._gate.acquire()
        lock = self._locks.setdefault(marks.pop("lane", message.code), asyncio.Lock())
        self.heard[message.source] = time.monotonic()
        task = asyncio.get_running_loop().create_task(self._post(lock, message, kind, marks))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(
        self, lock: asyncio.Lock, message: OdfMessage, kind: str, marks: dict[str, Any]
    ) -> None:
        try:
            async with lock:
                at = time.time()
                reply = await self.client.request(
                    "POST", ODF_ROUTE, content=message.xml, content_type="application/xml"
                )
            if reply.status != 200:
                self.refused[reply.status] = self.refused.get(reply.status, 0) + 1
            stored = reply.ids[0] if reply.ids else ""
            code = marks.pop("code", message.code)
            self.sent.append(Sent(stored, message.id, at, kind, code, status=reply.status, **marks))
        finally:
            self._gate.release()

    def quiet(self, source: str) -> bool:
        """``source`` sent nothing for :data:`KEEPALIVE_GAP_S` wall seconds."""
        return time.monotonic() - self.heard.get(source, -1e9) >= KEEPALIVE_GAP_S

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait for the documents still being posted."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


@dataclass
class Bettors:
    """Places the scenario's bets at the odds last seen (module docstring)."""

    channels: Channels
    odds: OddsBook = field(default_factory=OddsBook)
    placed: int = 0
    without_odds: int = 0
    shed: int = 0
    _pending: list[tuple[TicketSubmitted, datetime]] = field(default_factory=list)
    _tasks: set[asyncio.Task[bool]] = field(default_factory=set)

    def take(self, stream: str, events: list[WireEvent]) -> None:
        """Fold ``betting.odds`` events into the odds book (a :class:`Subscriber` callback)."""
        for event in events:
            self.odds.apply(_odds(event.data))

    def offer(self, bet: BetPlacement) -> None:
        """Queue ``bet`` at the odds shown now (counted when no odds are shown)."""
        selection = self.odds.quote(bet)
        if selection is None:
            self.without_odds += 1
            return
        self._pending.append((ticket(bet, selection), bet.time))

    def flush(self) -> None:
        """Post the queued tickets as one batch (shed when too many batches are in flight)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        if len(self._tasks) >= BET_BATCHES_IN_FLIGHT:
            self.shed += len(batch)
            return
        self.placed += len(batch)
        task = asyncio.get_running_loop().create_task(self.channels.bets(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 60.0) -> None:
        """Post what is queued and wait for the tickets still being posted."""
        self.flush()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


_odds_decoder = msgspec.json.Decoder(OddsMessage)


def _odds(raw: msgspec.Raw) -> OddsMessage:
    return _odds_decoder.decode(raw)


def odds_follower(url: str, key: str, bettors: Bettors) -> Subscriber:
    """A subscriber feeding ``bettors``' odds book from the start of ``betting.odds``."""
    ws = "ws" + url[len("http") :] + "/v1/ws"
    return Subscriber([ws], key, {ODDS_STREAM: "earliest"}, bettors.take)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the producer does, prepared before the clock starts: post ``message`` (with
    its marks for :class:`Sent`), or offer ``bet``."""

    at: datetime
    message: OdfMessage | None = None
    kind: str = ""
    marks: dict[str, Any] = field(default_factory=dict)
    bet: BetPlacement | None = None


def script(
    timeline: Timeline, start: datetime | None, end: datetime | None, multiplier: float
) -> list[Step]:
    """The window's results (with the medallists each official medal result calls for) and
    bets, in games-time order, documents built in advance so building them costs no send time.
    Results whose codes the results schemas refuse are left out, as the rehearsal leaves them."""
    units = {unit.code: unit for unit in timeline.schedule.units}
    medals = MedallistsFeed(timeline.progressions.values())
    updates = sorted(
        (u for p in timeline.progressions.values() for u in p.updates
         if (start is None or u.time >= start) and (end is None or u.time < end)),
        key=lambda u: u.time,
    )  # fmt: skip
    steps: list[Step] = []
    scores: dict[str, tuple[int, ...]] = {}
    for update in updates:
        unit = units[update.unit]
        try:
            message = result_message(update, unit)
            medallists = medals.message(update, unit)
        except ValueError:
            continue
        goal = is_goal(update, unit, scores)
        official = update.status is ResultStatus.OFFICIAL
        steps.append(Step(update.time, message, "result", {"goal": goal, "official": official}))
        if medallists is not None:
            marks = {"origin": message.id, "lane": unit.code}  # posted after the result
            steps.append(Step(update.time, medallists, "medallists", marks))
    placed = bets(timeline.progressions.values(), timeline.config.seed,
                  rate_multiplier=multiplier, start=start, end=end)  # fmt: skip
    return list(heapq.merge(steps, (Step(b.time, bet=b) for b in placed), key=lambda s: s.at))


async def send_schedules(feed: Feed, timeline: Timeline) -> None:
    """Every ``DT_SCHEDULE`` of the day, the rehearsal's first documents."""
    for message in schedule_documents(timeline.schedule, timeline.start):
        await feed.send(message, "schedule")


async def play(
    steps: Sequence[Step],
    feed: Feed,
    bettors: Bettors,
    sources: dict[str, str],
    seconds: float | None = None,
) -> tuple[int, int]:
    """Post the documents of ``steps`` at the feed's rate and offer their bets; every second,
    a keep-alive from each source heard that has been quiet (``sources``: each source's
    discipline). After ``seconds`` (if given) the remaining steps are left unsent. Returns the
    number of keep-alives sent and of steps left."""
    keep_alives = 0
    swept = began = time.monotonic()
    for done, step in enumerate(steps):
        if seconds is not None and time.monotonic() - began >= seconds:
            await bettors.drain()
            await feed.drain()
            return keep_alives, len(steps) - done
        if step.bet is not None:
            bettors.offer(step.bet)
            continue
        assert step.message is not None
        await feed.send(step.message, step.kind, **step.marks)
        bettors.flush()
        if time.monotonic() - swept >= 1.0:
            swept = time.monotonic()
            for source in [s for s in feed.heard if feed.quiet(s)]:
                message = keepalive(source, sources.get(source, "OLY"), step.at)
                await feed.send(message, "keep_alive")
                keep_alives += 1
    await bettors.drain()
    await feed.drain()
    return keep_alives, 0


def channels_for(client: GatewayClient, paths: Sequence[str] | set[str]) -> Channels:
    """The rehearsal's senders (bets, deposits) on ``client``, with their own counters."""
    return Channels(client, set(paths), Counters(), Latency())
