"""``flambeau bench betting``: bet-stop latency and repricing throughput through the processors.

One process, one event loop, one log, and the real ``betting.health`` and ``betting.trading``
processors run by a :class:`~flambeau.processing.Worker`, as ``flambeau up`` runs them:

1. 500 football matches go live (a start list, then a kick-off snapshot each): about 20
   markets and 40 outcomes per match, all priced and open.
2. **Bet stop.** Score snapshots are appended one at a time, at a steady rate, each to a random
   match. A subscriber follows ``betting.odds`` with the log's reader (the same reads a gateway
   subscription makes) and times, for each score event, from just before its append to the
   moment it reads the ``bet_stop`` that the event caused (matched by ``causation_id``).
   Figures: ``bet_stop_p50_ms`` and ``bet_stop_p99_ms``.
3. **Repricing.** A keep-alive of the matches' source moves the feed's clock on; each trading
   partition then reprices all its live matches in one vectorised pass (the drift repricing
   as the clock runs down). The time runs from the append to the last of the 500
   ``odds_change`` messages the subscriber reads, and every outcome of those messages counts as
   one price: ``prices_per_s`` is the median over the rounds. It includes the pricing,
   building and encoding the UOF messages, the commits and the subscriber's reads.
   ``prices_per_cpu_s`` divides the same prices by the CPU time this process spent, which
   tells the code's cost apart from a machine shared with other work
   (``params.load_average_1m``).
4. **Goal bursts.** Every match scores at once (one batch of 500 snapshots): 500 stops, then
   the repricing of all 500 matches; ``burst_prices_per_s`` counts the prices as above.

5. **Changes and cash-outs at the cut-off** (:mod:`._betting_cutoff`, on a fresh log, with
   every betting processor and the payments ledger): 300 live events, 50,000 open tickets,
   then changes and cash-outs up to, across and after the cut-off: ``decisions_per_s``,
   ``decision_p99_ms`` and ``late_accepted`` (the goal is 0).

The log is ``memory://`` by default: the figures are the processors' and the log's in-process
path. ``run(quick, log_url="sqlite")`` runs the same over a SQLite log, whose writer thread adds
its hand-offs to every commit.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from flambeau.bench._betting_cutoff import cutoff_scenario
from flambeau.bench._betting_shared import StreamFollower, football_result
from flambeau.bench._common import percentiles_ms
from flambeau.events import NewEvent, Record, utc_now
from flambeau.log import Log, open_log
from flambeau.processing import Worker
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import ODDS_STREAM
from flambeau.services.results.schemas import HEALTH, UNITS, KeepAlive

EVENTS = 500
SCORE_RATE_PER_S = 200.0
DRIFT = timedelta(hours=1)
FEED_SOURCE = "bench-timing"


def _unit(number: int) -> str:
    return f"FBLMTEAM11------------GPA-{number:06d}--"


class _Match:
    """One match's snapshots, with ascending versions and a running score."""

    def __init__(self, number: int) -> None:
        self.code = _unit(number)
        self.start = utc_now()
        self.version = 0
        self.home = 0
        self.away = 0

    def snapshot(self, *, running: bool, event_id: str | None = None) -> NewEvent:
        self.version += 1
        score = (self.home, self.away) if running else None
        result = football_result(self.code, self.version, self.start, FEED_SOURCE, score)
        return NewEvent(result, key=self.code, id=event_id, time=utc_now())

    def goal(self, rng: random.Random, event_id: str) -> NewEvent:
        if rng.random() < 0.5:
            self.home += 1
        else:
            self.away += 1
        return self.snapshot(running=True, event_id=event_id)


class _ProbeMarket(msgspec.Struct):
    outcomes: list[msgspec.Raw] = []


class _ProbeStatus(msgspec.Struct):
    phase: str = ""


class _Probe(msgspec.Struct):
    type: str
    event_id: str = ""
    markets: list[_ProbeMarket] = []
    event_status: _ProbeStatus | None = None


class _Subscriber(StreamFollower):
    """Follows ``betting.odds`` from its current end, as a gateway subscription would."""

    def __init__(self, log: Log) -> None:
        super().__init__(log, ODDS_STREAM, 1000)
        self.stops: dict[str, float] = {}
        self.changes: list[tuple[float, str | None, int]] = []
        self.live: set[str] = set()
        self.waiters: dict[str, asyncio.Future[float]] = {}
        # Like a gateway forwarding raw payloads, it decodes only what it counts: the type, the
        # event, its status, and how many outcomes each market has (left undecoded).
        self._decode = msgspec.msgpack.Decoder(_Probe).decode

    def expect(self, cause: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[cause] = future
        return future

    def seen(self, record: Record[Any], now: float) -> None:
        data = self._decode(record.data)
        cause = record.causation_id
        if data.type == "bet_stop" and cause is not None:
            self.stops[cause] = now
            waiter = self.waiters.pop(cause, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        elif data.type == "odds_change":
            outcomes = sum(len(m.outcomes) for m in data.markets)
            self.changes.append((now, cause, outcomes))
            if data.event_status is not None and data.event_status.phase == "live":
                self.live.add(data.event_id)


async def _wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the betting processors did not keep up within the time limit")
        await asyncio.sleep(0.01)


async def _latencies(
    log: Log, subscriber: _Subscriber, matches: list[_Match], goals: int, rng: random.Random
) -> list[float]:
    """One score event at a time, at a steady rate: seconds from append to its bet_stop."""
    latencies: list[float] = []
    interval = 1.0 / SCORE_RATE_PER_S
    next_at = time.perf_counter()
    for _ in range(goals):
        match = matches[rng.randrange(len(matches))]
        event_id = f"goal-{match.code}-{match.version + 1}"
        event = match.goal(rng, event_id)
        waiter = subscriber.expect(event_id)
        started = time.perf_counter()
        await log.append(UNITS, [event])
        latencies.append(await asyncio.wait_for(waiter, 30.0) - started)
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            next_at = time.perf_counter()
    return latencies


async def _round(log: Log, subscriber: _Subscriber, stream: str, events: list[NewEvent],
                 expected: int) -> tuple[float, float]:  # fmt: skip
    """Append ``events``; (prices/s, prices per CPU-second) until ``expected`` odds changes."""
    await asyncio.sleep(0.05)  # let earlier reprices land
    before = len(subscriber.changes)
    target = before + expected
    started, cpu = time.perf_counter(), time.process_time()
    await log.append(stream, events)
    await _wait_for(lambda: len(subscriber.changes) >= target, 60.0)
    spent = time.process_time() - cpu
    priced = subscriber.changes[before:target]
    prices = sum(outcomes for _, _, outcomes in priced)
    return prices / (priced[-1][0] - started), prices / spent


async def _bench(url: str, quick: bool) -> dict[str, Any]:
    goals = 300 if quick else 3000
    rounds = 3 if quick else 10
    rng = random.Random(7)
    # The minute drift is stretched to an hour: no drift reprices during the latency phase,
    # and each keep-alive an hour on makes exactly one in the repricing phase.
    config = BettingConfig(drift_every=DRIFT)
    processors = betting_processors(config)
    async with await open_log(url) as log:
        subscriber = _Subscriber(log)
        await log.info(ODDS_STREAM)
        await subscriber.start()
        following = asyncio.create_task(subscriber.follow())
        worker = Worker(log, [processors.health, processors.trading])
        running = asyncio.create_task(worker.run())
        try:
            matches = [_Match(i) for i in range(EVENTS)]
            await log.append(UNITS, [m.snapshot(running=False) for m in matches])
            await log.append(UNITS, [m.snapshot(running=True) for m in matches])
            await _wait_for(lambda: len(subscriber.live) == EVENTS, 120.0)
            outcomes_per_event = subscriber.changes[-1][2]
            latencies = await _latencies(log, subscriber, matches, goals, rng)
            drift: list[tuple[float, float]] = []
            clock = utc_now()
            for _ in range(rounds):
                clock += DRIFT + timedelta(seconds=1)
                tick = KeepAlive(source=FEED_SOURCE, seen_at=clock)
                events = [NewEvent(tick, key=FEED_SOURCE, time=clock)]
                drift.append(await _round(log, subscriber, HEALTH, events, EVENTS))
            bursts: list[tuple[float, float]] = []
            for number in range(rounds):
                burst = [m.goal(rng, f"burst-{number}-{i}") for i, m in enumerate(matches)]
                bursts.append(await _round(log, subscriber, UNITS, burst, EVENTS))
        finally:
            worker.stop()
            await running
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
    latency = percentiles_ms(latencies)

    def median(values: list[tuple[float, float]], which: int) -> int:
        return round(statistics.median(v[which] for v in values))

    return {
        "figures": {
            "bet_stop_p50_ms": latency["p50_ms"],
            "bet_stop_p99_ms": latency["p99_ms"],
            "bet_stop_max_ms": latency["max_ms"],
            "prices_per_s": median(drift, 0),
            "prices_per_s_best": round(max(v[0] for v in drift)),
            "prices_per_cpu_s": median(drift, 1),
            "burst_prices_per_s": median(bursts, 0),
            "burst_prices_per_cpu_s": median(bursts, 1),
        },
        "baseline": {},
        "ratio": None,
        "params": {
            "log": url.split(":", 1)[0],
            "events": EVENTS,
            "markets_per_event": 20,
            "outcomes_per_event": outcomes_per_event,
            "score_events": goals,
            "score_rate_per_s": SCORE_RATE_PER_S,
            "reprice_rounds": rounds,
            "processors": [processors.health.name, processors.trading.name],
            "partitions": 8,
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
    }


def run(quick: bool, *, log_url: str = "memory://") -> dict[str, Any]:
    """Run the benchmark; see the module docstring.

    Args:
        quick: Fewer score events and repricing rounds (under 30 s).
        log_url: The log to run on: ``memory://`` (the default) or ``sqlite`` for a fresh
            SQLite log in a temporary directory.
    """
    if log_url != "sqlite":
        return _with_cutoff(asyncio.run(_bench(log_url, quick)), log_url, quick)
    with tempfile.TemporaryDirectory(prefix="flambeau-bench-betting-") as directory:
        result = asyncio.run(_bench(f"sqlite:///{Path(directory) / 'log.db'}", quick))
        return _with_cutoff(result, f"sqlite:///{Path(directory) / 'cutoff.db'}", quick)


def _with_cutoff(result: dict[str, Any], url: str, quick: bool) -> dict[str, Any]:
    """``result`` with the cut-off scenario's figures and parameters, run on a fresh log."""

    async def scenario() -> dict[str, Any]:
        async with await open_log(url) as log:
            return await cutoff_scenario(log, quick)

    cutoff = asyncio.run(scenario())
    result["figures"].update(cutoff["figures"])
    result["params"].update(cutoff["params"])
    return result
