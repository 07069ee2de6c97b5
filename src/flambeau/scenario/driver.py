"""The rehearsal driver: plays Games days against a gateway, as the producers of the Games would.

::

    Timeline (per day) ──▶ dispatch ──▶ lanes ──HTTP──▶ gateway ──▶ log ──▶ services
        ▲                     │                                              │
        │ pacing (speed)      └─ incidents, silences               Watch ◀──WS┘
        └── resume checkpoint ◀── lanes' oldest unanswered ◀── answers     (odds, latency)

For each day from ``day`` to the last day of the Games, the driver builds the day's
:class:`~flambeau.scenario.timeline.Timeline`, opens the day (ledger accounts, one schedule per
discipline), then sends every action when it is due: Games time compressed by ``speed``. The
night between two days is skipped. Results become ODF documents on per-source lanes (so each
source keeps its order), purchases ledger requests, bets tickets at the odds last seen on
``betting.odds``, crowd readings and security incidents events (:mod:`.channels`).

Incidents are printed as they happen. A results source that goes silent is silent in wall
time: its documents are held back for the incident's seconds of real time, whatever the
speed, since the platform notices a silence by the clock (and a 30 s outage compressed 600
times would go unseen).

Every second the driver writes its status file and its checkpoint; when it falls behind (the
platform or the generators are slower than the speed asks), it reports by how much rather
than queueing without bound. :meth:`Driver.stop` ends it cleanly: what is queued is flushed
for a few seconds, then the checkpoint is saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from flambeau import heap
from flambeau.scenario import resume
from flambeau.scenario.channels import Channels
from flambeau.scenario.client import GatewayClient
from flambeau.scenario.documents import (
    MedallistsFeed,
    OdfMessage,
    keepalive,
    result_message,
    schedule_documents,
)
from flambeau.scenario.errors import ScenarioError, Stopped
from flambeau.scenario.generators.bettors import BetPlacement
from flambeau.scenario.generators.crowds import AreaDensity, GateCount
from flambeau.scenario.generators.incidents import ScriptEntry, SourceSilence
from flambeau.scenario.generators.purchases import Purchase
from flambeau.scenario.generators.results import ResultUpdate
from flambeau.scenario.generators.ticket_moves import TicketMove
from flambeau.scenario.lanes import Lane
from flambeau.scenario.payloads import (
    Envelope,
    accounts_request,
    first_sight,
    sensor_envelope,
    ticket,
    ticket_move,
)
from flambeau.scenario.producers import Producers
from flambeau.scenario.schedule import DEFAULT_DAY, Unit
from flambeau.scenario.silences import Silences
from flambeau.scenario.stats import (
    PARIS,
    Counters,
    Latency,
    RateMeter,
    progress_line,
    write_status,
)
from flambeau.scenario.timeline import (
    ActionKind,
    IncidentNote,
    KeepAlive,
    ScenarioAction,
    ScenarioConfig,
    Timeline,
)
from flambeau.scenario.watch import Watch
from flambeau.services.betting.schemas import TicketSubmitted

__all__ = ["LAST_DAY", "Driver", "DriverConfig"]

LAST_DAY = date(2024, 8, 11)
"""The closing day of the Olympic Games; the driver plays days up to it."""
RESULT_LANES = 8
BET_CONNECTIONS = 8
PLACED_KEPT = 200_000
"""Tickets sent that the driver remembers, so a change or cash-out goes only on a ticket sent
(a move comes at most the length of a match after its bet)."""
TICK_S = 1.0
STOP_DRAIN_S = 5.0
FINISH_DRAIN_S = 60.0


def _day_opens(day: date) -> datetime:
    """Midnight in Paris starting ``day``: nothing of the day happens before it."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class DriverConfig:
    """What to play, where, and how fast.

    Attributes:
        target: The gateway's base URL.
        key: The simulator's API key (write on the streams it feeds, read on those it follows).
        seed: Seed of every generator.
        day: The first day to play (local Games date).
        speed: Games seconds per wall second.
        rate_multiplier: Scales payments, bets and gate counters.
        script: Scripted incidents (each is played on the day it falls on).
        random_incidents: Also draw one incident of each kind per day from the seed.
        start: Paris time on the first day to start at (default: the day's first action).
        end: Paris time on the first day to stop at (with ``duration``: whichever is first).
        duration: Games seconds to play from the start (default: every day to the last).
        last_day: The last day to play.
        status_file: Where to write the status JSON every second.
        state_dir: Where to keep the checkpoint for resuming.
        progress_every: Seconds between progress lines (0: none).
        keepalive_gap: Wall seconds between two keep-alives of one source at most one is sent
            (a source sends one per 10 Games seconds, hundreds a second at high speed).
    """

    target: str
    key: str
    seed: int = 0
    day: date = DEFAULT_DAY
    speed: float = 60.0
    rate_multiplier: float = 1.0
    script: tuple[ScriptEntry, ...] = ()
    random_incidents: bool = True
    start: time | None = None
    end: time | None = None
    duration: float | None = None
    last_day: date = LAST_DAY
    status_file: Path | None = None
    state_dir: Path | None = None
    progress_every: float = 10.0
    keepalive_gap: float = 1.0

    def identity(self) -> resume.RunIdentity:
        """The options a resume must share with the run it continues."""
        start = None if self.start is None else self.start.strftime("%H:%M:%S")
        return resume.RunIdentity(self.seed, self.day, start, self.duration, self.rate_multiplier)


@dataclass
class _Day:
    timeline: Timeline
    units: dict[str, Unit]
    medals: MedallistsFeed
    disciplines: dict[str, str]
    schedules: dict[str, list[OdfMessage]]
    configured: set[str] = field(default_factory=set)
    """Venues (and their zones) and gates (as zones) configured today."""


class Driver:
    """Plays the rehearsal described by a :class:`DriverConfig` (see the module docstring)."""

    def __init__(self, config: DriverConfig, *, printer: Callable[[str], None] = _stderr) -> None:
        self.config = config
        self.print = printer
        self.counters = Counters()
        self.latency = Latency()
        self.watch = Watch(self.latency)
        self.rate = RateMeter()
        self.client = GatewayClient(config.target, config.key)
        self.channels = Channels(self.client, set(), self.counters, self.latency)
        self.state = "starting"
        self.day = config.day
        self.games_time: datetime | None = None
        self.behind = 0.0
        self.incidents: list[str] = []
        self._stopping = asyncio.Event()
        self._silences: Silences[OdfMessage] = Silences()
        self._last_heard: dict[str, float] = {}
        # Each lane has connections of its own (see GatewayClient.fork).
        channels, client = self.channels, self.client
        self._result_lanes = [
            Lane(f"results-{n}", partial(channels.odf, client=client.fork()), max_batch=16)
            for n in range(RESULT_LANES)
        ]
        self._crowds: Lane[Envelope] = Lane(
            "crowds", partial(channels.sensors, client=client.fork()), max_batch=1000
        )
        self._purchases: Lane[Purchase] = Lane(
            "purchases",
            partial(channels.purchases, client=client.fork()),
            # Requests of a few hundred transfers: large enough to batch, small enough that
            # the gateway's per-subscriber buffers of recent records stay small.
            max_batch=500,
            max_wait=0.1,
        )
        self._bets: Lane[tuple[TicketSubmitted, datetime]] = Lane(
            "bets", partial(channels.bets, client=client.fork(BET_CONNECTIONS)), max_batch=64
        )
        self._moves: Lane[tuple[str, dict[str, Any]]] = Lane(
            "moves", partial(channels.moves, client=client.fork(BET_CONNECTIONS)), max_batch=64
        )
        self._producers = Producers(channels, client, printer)  # deliveries, mobility, rentals
        self._placed: dict[str, None] = {}  # the last tickets sent, for their moves
        self._day: _Day | None = None
        self._end: datetime | None = None
        self._resumed = False
        self._resume_at: datetime | None = None

    @property
    def lanes(self) -> list[Lane[Any]]:
        """Every lane, for flushing, draining and the checkpoint."""
        lanes = [*self._result_lanes, self._crowds, self._purchases, self._bets, self._moves]
        return [*lanes, *self._producers.lanes]

    def stop(self) -> None:
        """Ask the driver to stop cleanly (safe to call from a signal handler)."""
        self._stopping.set()

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        """Play until the last day, the duration, or :meth:`stop`; return the report."""
        loop = asyncio.get_running_loop()
        for lane in self.lanes:
            lane.start()
        ticker = loop.create_task(self._tick(), name="rehearsal status")
        watching: asyncio.Task[None] | None = None
        finished = False
        try:
            self.channels.paths = await self._until_stopped(self.client.paths())
            watching = loop.create_task(self.watch.run(self.client, self._stopping), name="watch")
            finished = await self._play_days()
            self.state = "finishing" if finished else "stopping"
            await self._drain(FINISH_DRAIN_S if finished else STOP_DRAIN_S)
        except Stopped:
            pass
        finally:
            self._stopping.set()
            self.client.stop()
            for lane in self.lanes:
                await lane.aclose()
            if watching is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(watching, 5)
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self.client.aclose()
            self.state = "finished" if finished else "stopped"
            self._save(finished)
            self._write_status()
        return self.report()

    async def _until_stopped(self, work: Any) -> Any:
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stopping.wait())
        done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task not in done:
            task.cancel()
            raise Stopped
        return task.result()

    async def _play_days(self) -> bool:
        """Play each day in turn; ``True`` when everything asked for was played."""
        config = self.config
        day, start = config.day, None
        if config.start is not None:
            start = datetime.combine(day, config.start, tzinfo=PARIS).astimezone(UTC)
        ends = []
        if config.end is not None:
            ends.append(datetime.combine(day, config.end, tzinfo=PARIS).astimezone(UTC))
        if config.duration is not None:
            first = start or (await self._timeline(day, None)).start
            ends.append(first + timedelta(seconds=config.duration))
        self._end = min(ends, default=None)
        if config.state_dir is not None:
            saved = resume.load(config.state_dir, config.identity())
            if saved is not None and saved.finished:
                self._resumed = True
                self.print("the rehearsal already played everything asked for; nothing to do")
                return True
            if saved is not None:
                day, start = saved.day, saved.checkpoint
                shown = "the start" if start is None else f"{start.astimezone(PARIS):%H:%M:%S}"
                self.print(f"resuming the rehearsal on {day} at {shown} (Paris time)")
        # From here on the checkpoint reflects this run: it may be saved.
        self.day, self._resume_at, self._resumed = day, start, True
        while day <= config.last_day:
            if self._end is not None and self._end <= _day_opens(day):
                return True
            try:
                timeline = await self._timeline(day, start)
            except ScenarioError as exc:
                self.print(f"skipping {day}: {exc}")
                day, start = day + timedelta(days=1), None
                continue
            if self._end is not None and self._end <= timeline.start:
                return True
            self.day = day
            if not await self._play(timeline):
                return False
            day, start = day + timedelta(days=1), None
        return True

    async def _timeline(self, day: date, start: datetime | None) -> Timeline:
        config = self.config
        script = tuple(e for e in config.script if e.at.astimezone(PARIS).date() == day)
        scenario = ScenarioConfig(
            day=day,
            seed=config.seed,
            speed=config.speed,
            rate_multiplier=config.rate_multiplier,
            script=script,
            random_incidents=config.random_incidents,
            start=start,
            end=self._end,
        )
        # Building a day plays every unit's progression: a second of CPU kept off the loop.
        return await asyncio.to_thread(Timeline, scenario)

    async def _play(self, timeline: Timeline) -> bool:
        """Send one day's actions when due; ``False`` when stopped before the end.

        The wall clock starts at the day's first action, so a day never opens with an idle
        wait for the first gates to open.
        """
        schedule = timeline.schedule
        schedules: dict[str, list[OdfMessage]] = {}
        for message in schedule_documents(schedule, _day_opens(schedule.day)):
            schedules.setdefault(message.source, []).append(message)
        self._day = _Day(
            timeline,
            {unit.code: unit for unit in schedule.units},
            MedallistsFeed(timeline.progressions.values()),
            {u.venue: u.discipline for u in reversed(schedule.units)},  # what keep-alives name
            schedules,
        )
        if not await self.channels.accounts(accounts_request(schedule)):
            return False
        self.state = "running"
        loop = asyncio.get_running_loop()
        wall0: float | None = None
        for count, action in enumerate(timeline, start=1):
            if self._stopping.is_set():
                return False
            if wall0 is None:
                wall0 = loop.time() - action.offset
            due = wall0 + action.offset
            now = loop.time()
            if due > now:
                self.behind = 0.0
                if not await self._wait_until(due):
                    return False
            else:
                self.behind = now - due
                if count % 200 == 0:
                    await self._housekeeping(due_only=True)
                    await asyncio.sleep(0)
            await self._dispatch(action)
            self.games_time = action.at
        await self._release_silences(force=True)
        return True

    async def _wait_until(self, due: float) -> bool:
        loop = asyncio.get_running_loop()
        await self._housekeeping()
        while (left := due - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), min(left, 0.25))
            if self._stopping.is_set():
                return False
            await self._release_silences()
        return True

    async def _housekeeping(self, *, due_only: bool = False) -> None:
        await self._release_silences()
        for lane in self.lanes:
            lane.flush_ready(due_only=due_only)

    # -- dispatch -----------------------------------------------------------------------------

    async def _dispatch(self, action: ScenarioAction) -> None:
        day = self._day
        assert day is not None
        payload = action.payload
        match action.kind:
            case ActionKind.RESULT:
                assert isinstance(payload, ResultUpdate)
                unit = day.units[payload.unit]
                try:
                    messages = [result_message(payload, unit)]
                    medals = day.medals.message(payload, unit)
                except ValueError:  # the results schemas refuse the unit's codes
                    self.counters.unsendable += 1
                    return
                for message in [*messages, *([medals] if medals else [])]:
                    await self._odf(action.at, message)
            case ActionKind.KEEP_ALIVE:
                assert isinstance(payload, KeepAlive)
                now = asyncio.get_running_loop().time()
                if now - self._last_heard.get(payload.source, -1e9) >= self.config.keepalive_gap:
                    code = day.disciplines.get(payload.source, "OLY")
                    await self._odf(action.at, keepalive(payload.source, code, payload.time))
            case ActionKind.GATE_COUNT | ActionKind.AREA_DENSITY:
                assert isinstance(payload, GateCount | AreaDensity)
                for envelope in first_sight(payload, day.configured, day.timeline.schedule.day):
                    await self._crowds.add(action.at, envelope)
                await self._crowds.add(action.at, sensor_envelope(payload))
            case ActionKind.SECURITY:  # a security incident's reports and heartbeats
                await self._crowds.add(action.at, payload)  # type: ignore[arg-type]
            case ActionKind.PURCHASE:
                assert isinstance(payload, Purchase)
                if not self._purchases.offer(action.at, payload):
                    self.counters.shed += 1
            case ActionKind.BET:
                assert isinstance(payload, BetPlacement)
                selection = self.watch.odds.quote(payload)
                if selection is None:
                    self.counters.bets_without_odds += 1
                    return
                if not self._bets.offer(action.at, (ticket(payload, selection), payload.time)):
                    self.counters.shed += 1
                    return
                self._placed[payload.id] = None
                if len(self._placed) > PLACED_KEPT:
                    del self._placed[next(iter(self._placed))]
            case ActionKind.TICKET_MOVE:
                assert isinstance(payload, TicketMove)
                self._ticket_move(action.at, payload)
            case ActionKind.INCIDENT:
                assert isinstance(payload, IncidentNote)
                self._incident(payload)
            case ActionKind.DELIVERY | ActionKind.MOBILITY | ActionKind.RENTAL:
                await self._producers.send(action.at, payload)

    def _ticket_move(self, at: datetime, move: TicketMove) -> None:
        """Send a change or cash-out; a change of selection goes at the odds last seen.

        A move on a ticket that was never sent (its bet had no odds to go at) is not sent.
        """
        if move.bet.id not in self._placed:
            self.counters.bets_without_odds += 1
            return
        selection = None
        if move.selection is not None:
            selection = self.watch.odds.quote(replace(move.bet, selection=move.selection))
            if selection is None:
                self.counters.bets_without_odds += 1
                return
        if not self._moves.offer(at, ticket_move(move, selection)):
            self.counters.shed += 1

    def _incident(self, note: IncidentNote) -> None:
        line = f"incident at {note.time.astimezone(PARIS):%H:%M:%S}: {note.entry.describe()}"
        self.incidents.append(line)
        del self.incidents[:-20]
        self.print(line)
        incident = note.entry.incident
        if isinstance(incident, SourceSilence) and incident.source is not None:
            now = asyncio.get_running_loop().time()
            self._silences.start(incident.source, incident.seconds, now)

    async def _odf(self, at: datetime, message: OdfMessage) -> None:
        source = message.source
        day = self._day
        if day is not None and source in day.schedules:
            # A source's first words of the day are the schedules it publishes: sent any
            # earlier, they would count as a sign of life long before its keep-alives start.
            for schedule in day.schedules.pop(source):
                await self._odf(at, schedule)
        if self._silences.hold(source, at, message):
            return
        self._last_heard[source] = asyncio.get_running_loop().time()
        lane = self._result_lanes[sum(source.encode()) % RESULT_LANES]
        await lane.add(at, message)

    async def _release_silences(self, *, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        for source, held in self._silences.ended(now, every=force):
            if not force:
                self.print(f"results source {source} is heard again ({len(held)} held documents)")
            for at, message in held:
                await self._odf(at, message)

    # -- status, checkpoint, report -----------------------------------------------------------

    def checkpoint(self) -> datetime | None:
        """Games time before which everything sent has been answered."""
        pending = [at for lane in self.lanes if (at := lane.oldest_unanswered()) is not None]
        if (held := self._silences.oldest()) is not None:
            pending.append(held)
        if pending:
            return min(pending)
        return self.games_time or self._resume_at

    def _save(self, finished: bool) -> None:
        # Nothing is saved before the saved progress has been read: a run stopped (or slow to
        # reach the gateway) before then must not overwrite the checkpoint it would resume.
        if self.config.state_dir is None or not self._resumed:
            return
        progress = resume.Progress(self.day, self.checkpoint(), finished)
        with contextlib.suppress(OSError):
            resume.save(self.config.state_dir, self.config.identity(), progress)

    def status(self) -> dict[str, Any]:
        """The status as written to the status file every second."""
        counters = self.counters
        moment = self.games_time.astimezone(PARIS) if self.games_time else None
        p50, p99 = self.latency.percentile(0.5), self.latency.percentile(0.99)
        return {
            "state": self.state,
            "sim_time": "--:--" if moment is None else f"{moment:%H:%M}",
            "sim_day": self.day.isoformat(),
            "games_time": None if self.games_time is None else self.games_time.isoformat(),
            "speed": self.config.speed,
            "events_per_s": round(self.rate.rate(), 1),
            "behind_s": round(self.behind, 1),
            "sent": counters.sent,
            "accepted": counters.accepted,
            "duplicates": counters.duplicates,
            "rejected": counters.rejected,
            "failed": counters.failed,
            "retries": self.client.retries,
            "unsendable": counters.unsendable,
            "bets_without_odds": counters.bets_without_odds,
            "shed": counters.shed,
            "p50_ms": None if p50 is None else round(p50, 1),
            "p99_ms": None if p99 is None else round(p99, 1),
            "latency_samples": self.latency.matched,
            "last_problem": counters.last_problem,
            "incidents": self.incidents[-5:],
            "derived": dict(self.watch.derived),
            "ledger_results": dict(self.watch.ledger),
            "bets_refused": dict(self.watch.refusals),
            "routes": self.channels.describe(),
        }

    def _write_status(self) -> None:
        if self.config.status_file is not None:
            with contextlib.suppress(OSError):
                write_status(self.config.status_file, self.status())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last_sent = 0
        next_line = loop.time() + self.config.progress_every
        next_trim = loop.time() + heap.TRIM_EVERY_S
        while True:
            await asyncio.sleep(TICK_S)
            if loop.time() >= next_trim:
                next_trim = loop.time() + heap.TRIM_EVERY_S
                heap.trim()
            sent = self.counters.sent
            self.rate.add(sent - last_sent)
            last_sent = sent
            self._write_status()
            self._save(False)
            if self.config.progress_every > 0 and loop.time() >= next_line:
                next_line = loop.time() + self.config.progress_every
                self.print(self.progress_line())

    def progress_line(self) -> str:
        """One line: Games time, rate, refusals, latency, lag behind the schedule."""
        return progress_line(self.status())

    def report(self) -> dict[str, Any]:
        """The final report: the status plus what each kind sent and what was refused."""
        return {
            **self.status(),
            "by_kind": dict(self.counters.by_kind),
            "rejected_by_kind": dict(self.counters.rejected_by_kind),
            "problems": self.channels.problems[-5:],
            "incidents": self.incidents,
            "reconnects": 0 if self.watch.subscriber is None else self.watch.subscriber.reconnects,
        }

    async def _drain(self, timeout: float) -> None:
        await self._release_silences(force=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for lane in self.lanes:
            await lane.drain(max(0.0, deadline - loop.time()))
