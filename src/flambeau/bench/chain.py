"""``flambeau bench chain``: reaction chains of the whole platform, measured from the wire.

Three processes, as a results provider, a betting operator and a client would see Flambeau:

- the platform: ``flambeau up --no-sim`` itself (gateway and every service's processors in one
  process over an embedded SQLite log), in a fresh data directory;
- a producer (:mod:`._chain_feed`) that POSTs a day of the Paris 2024 rehearsal's results as
  ODF documents to ``/v1/adapters/odf`` at :data:`DOCUMENTS_PER_S` per second: the day's
  ``DT_SCHEDULE`` documents first (markets open on them), then the live play-by-play with its
  goals, the OFFICIAL results and the ``DT_MEDALLISTS`` they call for, while the rehearsal's
  bettors place in-play tickets through ``/v1/betting/bets``; it notes the wall time just
  before each POST with the event id the adapter answers;
- a subscriber on ``/v1/ws`` following :data:`FOLLOWED`, noting when each event arrives.

Each derived event is matched to the document that caused it by following ``causation_id``
back through the events seen (a ``bet_stop`` to the ``unit_result`` to the ODF message; a
payout decision to its ledger request to the ticket's leg settlement to the unit result to
the ODF message), and its delay is receipt time minus the POST's send time. Figures:

- ``goal_to_bet_stop``: a live result in which a side's score went up → the ``bet_stop`` on
  ``betting.odds`` it caused. A goal that stops nothing (its markets were still suspended by
  the previous one, or the match has no markets) is counted in ``goals_without_bet_stop``.
- ``official_to_medals``: an OFFICIAL medal result → each ``results.medals`` event caused by
  the ``DT_MEDALLISTS`` sent right after it (measured from the result's send).
- ``official_to_settlement``: an OFFICIAL result → its ``bet_settlement``.
- ``official_to_payout``: an OFFICIAL result → each payout decision (``transfers_decided`` on
  ``payments.transfers`` for a ``bet_payout`` request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from flambeau.bench._chain_feed import (
    Bettors,
    Feed,
    Sent,
    Step,
    channels_for,
    odds_follower,
    play,
    script,
    send_schedules,
)
from flambeau.bench._common import percentiles_ms
from flambeau.bench.fanout import run_loop

if TYPE_CHECKING:
    from flambeau.scenario.timeline import Timeline

__all__ = ["FOLLOWED", "Platform", "Seen", "Wire", "run", "start_platform", "trace"]

DOCUMENTS_PER_S = 200.0
DAY = date(2024, 8, 10)
SEED = 3
BET_MULTIPLIER = 0.065
"""The bettors' share: at 200 documents/s the bench plays a busy Games hour in about 4 s,
about 15 times the rehearsal's default speed (60), so a fifteenth of the rehearsal's bettors
bet at about its default wall rate."""
QUICK_WINDOW = ("09:30", "15:00")
"""Paris times of the quick run's window (the full run plays the whole day)."""
QUICK_PLAY_S = 20.0
"""A quick run stops posting after this long (the rest of its window is counted as unsent)."""
FOLLOWED = (
    "results.units",
    "results.medals",
    "betting.odds",
    "betting.replies",
    "payments.requests",
    "payments.transfers",
)
"""What the subscriber follows: the derived streams measured, and those a chain passes."""
QUIET_S = 5.0
"""After the producer ends, the subscriber stops once nothing arrived for this long."""
CONNECTIONS = 32
"""The producer's connections for documents (bets have 8 more)."""
MAX_CHAIN = 12
PAYOUT_CODE = 11  # payments' TransferCode.bet_payout


class Seen(msgspec.Struct, array_like=True, frozen=True):
    """One event as the subscriber received it (``at``: wall time of receipt)."""

    id: str
    cause: str | None
    stream: str
    type: str
    at: float
    payout: bool = False


class _Transfer(msgspec.Struct):
    code: int = 0


class _Tag(msgspec.Struct):
    type: str = ""
    transfers: list[_Transfer] = []


_tag = msgspec.json.Decoder(_Tag)


@dataclass
class Wire:
    """Keeps every event of the followed streams (a ``Subscriber`` callback)."""

    seen: list[Seen] = field(default_factory=list)

    def take(self, stream: str, events: Sequence[Any]) -> None:
        now = time.time()
        for event in events:
            try:
                tag = _tag.decode(event.data)
            except msgspec.DecodeError:
                tag = _Tag()
            payout = any(t.code == PAYOUT_CODE for t in tag.transfers)
            self.seen.append(
                Seen(event.id, event.causation_id, event.stream, tag.type, now, payout)
            )


@dataclass
class Platform:
    """A running ``flambeau up --no-sim`` (its URL and admin key)."""

    process: subprocess.Popen[bytes]
    url: str
    key: str
    output: Path

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)

    def tail(self) -> str:
        return self.output.read_text(errors="replace")[-3000:]


def start_platform(directory: Path, timeout: float = 90.0) -> Platform:
    """Start ``flambeau up --no-sim --port 0`` with its data in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / "up.out"
    env = {**os.environ, "FLAMBEAU_DATA": str(directory)}
    command = [sys.executable, "-m", "flambeau.cli.main", "up", "--no-sim", "--port", "0"]
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    platform = Platform(process, "", "", output)
    run_file = directory / "gateway.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            platform.url = str(json.loads(run_file.read_text())["url"])
            platform.key = (directory / "admin.key").read_text().strip()
            return platform
        time.sleep(0.1)
    platform.stop()
    raise RuntimeError(f"flambeau up did not serve within {timeout} s:\n{platform.tail()}")


# -- matching --------------------------------------------------------------------------------


def _root(event: Seen, docs: dict[str, Sent], by_id: dict[str, Seen]) -> tuple[Sent | None, bool]:
    """The document at the root of ``event``'s causation chain, and whether the chain passes
    a payout request."""
    payout = event.payout
    cause = event.cause
    for _ in range(MAX_CHAIN):
        if cause is None:
            return None, payout
        if cause in docs:
            return docs[cause], payout
        step = by_id.get(cause)
        if step is None:
            return None, payout
        payout = payout or step.payout
        cause = step.cause
    return None, payout


def trace(sent: Iterable[Sent], seen: Iterable[Seen]) -> dict[str, Any]:
    """Match each derived event of ``seen`` to the document of ``sent`` that caused it."""
    sent = list(sent)
    seen = list(seen)
    docs = {s.id: s for s in sent if s.id}
    by_message = {s.message: s for s in sent}
    by_id = {s.id: s for s in seen}
    delays: dict[str, list[float]] = {
        "goal_to_bet_stop": [], "official_to_medals": [],
        "official_to_settlement": [], "official_to_payout": [],
    }  # fmt: skip
    stopped: set[str] = set()
    priced: set[str] = set()  # units with odds caused by their documents
    untraced: Counter[str] = Counter()
    for event in seen:
        measured = _measured(event)
        if measured is None:
            continue
        doc, payout = _root(event, docs, by_id)
        if doc is None:
            if measured not in ("decision", "odds"):  # stakes start at a ticket, drift at a timer
                untraced[measured] += 1
            continue
        if event.stream == "betting.odds":
            priced.add(doc.code)
        if measured == "bet_stop":
            stopped.add(doc.id)
            if doc.goal:
                delays["goal_to_bet_stop"].append(event.at - doc.at)
        elif measured == "medals" and doc.kind == "medallists":
            origin = by_message.get(doc.origin, doc)
            delays["official_to_medals"].append(event.at - origin.at)
        elif measured == "settlement" and doc.official:
            delays["official_to_settlement"].append(event.at - doc.at)
        elif measured == "decision" and payout and doc.official:
            delays["official_to_payout"].append(event.at - doc.at)
    figures: dict[str, Any] = {}
    for name, samples in delays.items():
        shown = percentiles_ms(samples)
        figures |= {f"{name}_p50_ms": shown["p50_ms"], f"{name}_p99_ms": shown["p99_ms"],
                    f"{name}_max_ms": shown["max_ms"], f"{name}_count": len(samples)}  # fmt: skip
    goals = [s for s in sent if s.goal]
    figures["goals_sent"] = len(goals)
    figures["goals_without_bet_stop"] = sum(1 for s in goals if s.id not in stopped)
    figures["goals_without_bet_stop_on_priced_matches"] = sum(
        1 for s in goals if s.id not in stopped and s.code in priced
    )
    figures["untraced"] = dict(untraced)
    return figures


def _measured(event: Seen) -> str | None:
    """Which figure ``event`` may count in."""
    if event.stream == "betting.odds":
        return {"bet_stop": "bet_stop", "bet_settlement": "settlement"}.get(event.type, "odds")
    if event.stream == "results.medals":
        return "medals"
    if event.stream == "payments.transfers" and event.type == "transfers_decided":
        return "decision"
    return None


# -- processes -------------------------------------------------------------------------------


def subscribe(url: str, key: str, ready: Any, stop: Any, out: Any) -> None:
    """The subscriber process: follow :data:`FOLLOWED` until ``stop`` and a quiet spell."""
    from flambeau.scenario.client import Subscriber

    async def main() -> None:
        wire = Wire()
        ws = "ws" + url[len("http") :] + "/v1/ws"
        subscriber = Subscriber([ws], key, dict.fromkeys(FOLLOWED, "latest"), wire.take)
        done = asyncio.Event()
        following = asyncio.get_running_loop().create_task(subscriber.run(done))
        await asyncio.wait_for(subscriber.connected.wait(), 60)
        ready.set()
        await asyncio.to_thread(stop.wait)
        count, since, began = -1, time.monotonic(), time.monotonic()
        while time.monotonic() - since < QUIET_S and time.monotonic() - began < 60:
            if len(wire.seen) != count:
                count, since = len(wire.seen), time.monotonic()
            await asyncio.sleep(0.2)
        done.set()
        await following
        out.put((wire.seen, subscriber.reconnects))

    run_loop(main())


def window(quick: bool) -> tuple[datetime | None, datetime | None]:
    """The games-time window played (Paris times of :data:`QUICK_WINDOW`; all day if full)."""
    if not quick:
        return None, None
    from flambeau.scenario.stats import PARIS

    first, last = (
        datetime.combine(DAY, datetime.strptime(t, "%H:%M").time(), tzinfo=PARIS)
        for t in QUICK_WINDOW
    )
    return first, last


def produce(quick: bool, where: Any, out: Any) -> None:
    """The producer process: prepare the window's documents and bets, then (given the
    platform's ``(url, key)`` on ``where``) post schedules, results and bets (module doc)."""
    from flambeau.scenario.timeline import ScenarioConfig, Timeline

    start, end = window(quick)
    config = ScenarioConfig(day=DAY, seed=SEED, start=start, end=end,
                            random_incidents=False, rate_multiplier=BET_MULTIPLIER)  # fmt: skip
    timeline = Timeline(config)
    steps = script(timeline, start, end, BET_MULTIPLIER)
    out.put(len(steps))
    url, key = where.get()
    limit = QUICK_PLAY_S if quick else None
    out.put(run_loop(_produce(url, key, timeline, steps, limit)))


async def _produce(
    url: str, key: str, timeline: Timeline, steps: list[Step], limit: float | None
) -> dict[str, Any]:
    from flambeau.scenario.client import GatewayClient

    sources = {unit.venue: unit.discipline for unit in timeline.schedule.units}
    client = GatewayClient(url, key, connections=2)
    stop = asyncio.Event()
    try:
        bettors = Bettors(channels_for(client.fork(8), await client.paths()))
        feed = Feed(client.fork(CONNECTIONS), DOCUMENTS_PER_S)
        follower = odds_follower(url, key, bettors)
        following = asyncio.get_running_loop().create_task(follower.run(stop))
        await asyncio.wait_for(follower.connected.wait(), 60)
        await send_schedules(feed, timeline)
        keep_alives, left = await play(steps, feed, bettors, sources, limit)
        seconds = feed.elapsed()
        stop.set()
        await following
    finally:
        stop.set()
        client.stop()
        await client.aclose()
    counters = bettors.channels.counters
    return {
        "sent": feed.sent,
        "documents": feed.documents,
        "achieved_documents_per_s": round(feed.documents / max(seconds, 1e-9), 1),
        "seconds": round(seconds, 1),
        "documents_by_kind": dict(Counter(s.kind for s in feed.sent)),
        "keep_alives": keep_alives,
        "steps_left_unsent": left,
        "producer_waited_for_answers_s": round(feed.waited, 1),
        "adapter_refusals": {str(k): v for k, v in feed.refused.items()},
        "events_with_odds": len(bettors.odds.events),
        "bets_offered": bettors.placed + bettors.shed + bettors.without_odds,
        "bets_posted": counters.by_kind.get("bet", 0),
        "bets_refused_by_route": counters.rejected_by_kind.get("bet", 0),
        "bets_without_odds": bettors.without_odds,
        "bets_shed": bettors.shed,
    }


def run(quick: bool) -> dict[str, Any]:
    """Run the platform, the producer and the subscriber; match and report the chains."""
    load_before = round(os.getloadavg()[0], 2)
    ctx = mp.get_context("spawn")
    where, results = ctx.Queue(), ctx.Queue()
    producer = ctx.Process(target=produce, args=(quick, where, results))
    producer.start()  # it prepares its documents while the platform starts
    processes: list[Any] = [producer]
    with tempfile.TemporaryDirectory(prefix="flambeau-chain-") as directory:
        ready, stop, records = ctx.Event(), ctx.Event(), ctx.Queue()
        try:
            platform = start_platform(Path(directory))
            subscriber = ctx.Process(
                target=subscribe, args=(platform.url, platform.key, ready, stop, records)
            )
            processes.append(subscriber)
            subscriber.start()
            if not ready.wait(90):
                raise RuntimeError("the subscriber did not connect")
            steps = results.get(timeout=300)
            where.put((platform.url, platform.key))
            produced = results.get(timeout=900)
            stop.set()
            seen, reconnects = records.get(timeout=120)
        finally:
            stop.set()
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.kill()
            exit_code = platform.stop() if "platform" in locals() else None
    sent = produced.pop("sent")
    return {
        "figures": trace(sent, seen),
        "baseline": None,
        "ratio": None,
        "params": {
            "documents_per_s": DOCUMENTS_PER_S,
            "steps_prepared": steps,
            **produced,
            "day": DAY.isoformat(),
            "seed": SEED,
            "window_paris": list(QUICK_WINDOW) if quick else "whole day",
            "bet_multiplier": BET_MULTIPLIER,
            "events_seen": len(seen),
            "subscriber_reconnects": reconnects,
            "platform": "flambeau up --no-sim (sqlite, gateway and every processor in one process)",
            "platform_exit_code": exit_code,
            "load_avg_1m_before": load_before,
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
            "quick": quick,
        },
    }
