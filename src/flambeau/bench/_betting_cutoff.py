"""The cut-off scenario of ``flambeau bench betting``: changes and cash-outs at scale.

Every betting processor and the payments ledger run in one :class:`~flambeau.processing.Worker`
over one log, as ``flambeau up`` runs them:

1. 300 football matches are live, on a match clock of their own (4 August 2024, as a replay);
   each customer's wallet is funded, then the open tickets are placed (50,000; 5,000 with
   ``--quick``), one home-win single each, and decided (stakes held and posted by the ledger).
2. A keep-alive brings the match clock to 5 minutes before the cut-off. Changes (a raised
   stake, held by the ledger) and cash-outs, half and half, on distinct tickets, are appended
   in batches of 500; a subscriber of ``betting.decisions`` times each from its batch's append
   to its decision, less the live delay (1 s here; the customer's wait, which MTS's 25 ms
   budget excludes): ``decision_p99_ms``; ``decisions_per_s`` is this wave's requests over the
   time from its first append to its last decision (the delay included).
3. The last batch is appended when the match clock is 1 ms before the cut-off, and a keep-alive
   1 ms past it right after: those requests wait their live delay while the clock passes the
   cut-off (``params.queued_at_cutoff`` and how many were refused ``cutoff_passed``).
4. After a settling second, another wave is appended: every one of them must be refused.
   ``late_accepted`` counts the changes and cash-outs accepted after the cut-off: this wave's
   acceptances (the goal is 0).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flambeau.bench._betting_shared import StreamFollower, football_result
from flambeau.bench._common import percentiles_ms
from flambeau.events import NewEvent, Record
from flambeau.log import Log
from flambeau.processing import Worker
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.processors import betting_processors
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    CashOutAccepted,
    CashOutRequest,
    Channel,
    CustomerDeposit,
    OddsPolicy,
    Selection,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketRejected,
    TicketSubmitted,
    customer_key,
)
from flambeau.services.payments.processors import ledger
from flambeau.services.results.processors import unit_clock
from flambeau.services.results.schemas import (
    HEALTH,
    UNITS,
    KeepAlive,
)

__all__ = ["cutoff_scenario", "run_scenario"]

EVENTS = 300
KICK_OFF = datetime(2024, 8, 4, 17, 0, tzinfo=UTC)
END = KICK_OFF + timedelta(minutes=115)
CUTOFF = END - timedelta(minutes=5)
SOURCE = "bench-cutoff-timing"
OPERATOR = "op-bench"
BATCH = 500
TICKETS_PER_CUSTOMER = 10
DELAY = timedelta(seconds=1)
"""Football's live delay in the scenario (5 s by default), subtracted from each latency."""


def _unit(number: int) -> str:
    return f"FBLMTEAM11------------QFNL{number:06d}--"


def _snapshot(number: int, version: int, live: bool) -> NewEvent:
    unit = _unit(number)
    result = football_result(unit, version, KICK_OFF, SOURCE, (0, 0) if live else None)
    at = KICK_OFF if live else KICK_OFF - timedelta(hours=1)  # on time: the cut-off stays put
    return NewEvent(result, key=unit, time=at)


def _tick(at: datetime) -> list[NewEvent]:
    return [NewEvent(KeepAlive(source=SOURCE, seen_at=at), key=SOURCE, time=at)]


class _Decisions(StreamFollower):
    """Follows ``betting.decisions``: when each ticket, change and cash-out was decided."""

    def __init__(self, log: Log) -> None:
        super().__init__(log, DECISIONS_STREAM, 2000)
        self.decided: dict[str, tuple[float, bool, str]] = {}

    def seen(self, record: Record[Any], now: float) -> None:
        data = self.log.registry.decode(DECISIONS_STREAM, record).data
        request = getattr(data, "change_id", None) or getattr(data, "request_id", None)
        if request is None and isinstance(data, TicketAccepted | TicketRejected):
            request = data.ticket_id
        if request is not None and request not in self.decided:
            accepted = isinstance(data, TicketAccepted | TicketChanged | CashOutAccepted)
            reason = getattr(data, "reason", None)
            self.decided[request] = (now, accepted, "" if reason is None else reason.value)

    async def until(self, ids: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(i in self.decided for i in ids):
            if time.monotonic() > deadline:
                missing = sum(i not in self.decided for i in ids)
                raise TimeoutError(f"{missing} of {len(ids)} requests were not decided in time")
            await asyncio.sleep(0.01)


def _requests(tickets: Sequence[TicketSubmitted], wave: str) -> list[tuple[str, NewEvent]]:
    """A stake raise or a cash-out on each ticket, alternately."""
    made: list[tuple[str, NewEvent]] = []
    for n, ticket in enumerate(tickets):
        key = customer_key(OPERATOR, ticket.customer_id)
        request_id = f"{wave}-{n}"
        data: TicketChange | CashOutRequest
        if n % 2:
            data = CashOutRequest(request_id=request_id, ticket_id=ticket.ticket_id,
                                  operator=OPERATOR, customer_id=ticket.customer_id)  # fmt: skip
        else:
            data = TicketChange(change_id=request_id, ticket_id=ticket.ticket_id,
                                operator=OPERATOR, customer_id=ticket.customer_id,
                                stake_cents=200, odds_policy=OddsPolicy.ANY)  # fmt: skip
        made.append((request_id, NewEvent(data, key=key, time=CUTOFF)))
    return made


async def _send(log: Log, requests: list[tuple[str, NewEvent]]) -> dict[str, float]:
    sent: dict[str, float] = {}
    for start in range(0, len(requests), BATCH):
        chunk = requests[start : start + BATCH]
        now = time.perf_counter()
        await log.append(BETS_STREAM, [event for _, event in chunk])
        sent.update((request_id, now) for request_id, _ in chunk)
        await asyncio.sleep(0)
    return sent


async def _open_tickets(log: Log, decisions: _Decisions, count: int) -> list[TicketSubmitted]:
    customers = max(count // TICKETS_PER_CUSTOMER, 1)
    deposits = [
        NewEvent(CustomerDeposit(deposit_id="funds", operator=OPERATOR, customer_id=f"c-{c}",
                                 amount_cents=10_000_000), key=customer_key(OPERATOR, f"c-{c}"))
        for c in range(customers)
    ]  # fmt: skip
    for start in range(0, len(deposits), BATCH):
        await log.append(BETS_STREAM, deposits[start : start + BATCH])
    tickets = [
        TicketSubmitted(
            ticket_id=f"t-{n}", operator=OPERATOR, customer_id=f"c-{n % customers}",
            jurisdiction="GB", channel=Channel.INTERNET, stake_cents=100,
            odds_policy=OddsPolicy.ANY,
            selections=(Selection(event_id=_unit(n % EVENTS), market_id=1, outcome_id="1",
                                  odds=2.0),),
        )
        for n in range(count)
    ]  # fmt: skip
    for start in range(0, count, BATCH):
        chunk = tickets[start : start + BATCH]
        events = [NewEvent(t, key=customer_key(OPERATOR, t.customer_id)) for t in chunk]
        await log.append(BETS_STREAM, events)
    await decisions.until([t.ticket_id for t in tickets], 600.0)
    return [t for t in tickets if decisions.decided[t.ticket_id][1]]


async def run_scenario(log: Log, tickets_count: int, requests_count: int) -> dict[str, Any]:
    """The scenario with ``tickets_count`` open tickets and waves of ``requests_count``
    changes and cash-outs before and after the cut-off (and 500 queued across it)."""
    config = BettingConfig(
        drift_every=timedelta(hours=2), delays={"football": timedelta(seconds=1)}
    )
    decisions = _Decisions(log)
    await log.info(DECISIONS_STREAM)
    await decisions.start()
    following = asyncio.create_task(decisions.follow())
    worker = Worker(log, [*betting_processors(config), ledger, unit_clock])
    running = asyncio.create_task(worker.run())
    try:
        await log.append(UNITS, [_snapshot(n, 1, False) for n in range(EVENTS)])
        await log.append(UNITS, [_snapshot(n, 2, True) for n in range(EVENTS)])
        await log.append(HEALTH, _tick(KICK_OFF + timedelta(minutes=1)))
        await asyncio.sleep(1.0)  # the markets open
        open_ = await _open_tickets(log, decisions, tickets_count)
        await log.append(HEALTH, _tick(CUTOFF - timedelta(minutes=5)))
        await asyncio.sleep(0.5)
        before = _requests(open_[:requests_count], "before")
        queued = _requests(open_[requests_count : requests_count + BATCH], "queued")
        late = _requests(open_[requests_count + BATCH : 2 * requests_count + BATCH], "late")
        started = time.perf_counter()
        sent = await _send(log, before)
        await decisions.until([r for r, _ in before], 600.0)
        finished = time.perf_counter()
        await log.append(HEALTH, _tick(CUTOFF - timedelta(milliseconds=1)))
        sent |= await _send(log, queued)
        await log.append(HEALTH, _tick(CUTOFF + timedelta(milliseconds=1)))
        await decisions.until([r for r, _ in queued], 600.0)
        await asyncio.sleep(1.0)  # the cut-off has reached every trading partition
        sent |= await _send(log, late)
        await decisions.until([r for r, _ in late], 600.0)
    finally:
        worker.stop()
        await running
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    # The live delay is the customer's wait, not the engine's: MTS's 25 ms budget excludes it.
    waited = DELAY.total_seconds()
    latency = percentiles_ms([decisions.decided[r][0] - sent[r] - waited for r in sent])
    return {
        "figures": {
            "decisions_per_s": round(len(before) / (finished - started)),
            "decision_p50_ms": latency["p50_ms"],
            "decision_p99_ms": latency["p99_ms"],
            "late_accepted": sum(decisions.decided[r][1] for r, _ in late),
        },
        "params": {
            "cutoff_events": EVENTS,
            "open_tickets": len(open_),
            "changes_and_cash_outs": len(before) + len(queued) + len(late),
            "accepted_before_cutoff": sum(decisions.decided[r][1] for r, _ in before),
            "queued_at_cutoff": len(queued),
            "queued_refused_cutoff_passed": sum(
                decisions.decided[r][2] == "cutoff_passed" for r, _ in queued
            ),
            "after_cutoff": len(late),
            "live_delay_ms": DELAY // timedelta(milliseconds=1),
        },
    }


async def cutoff_scenario(log: Log, quick: bool) -> dict[str, Any]:
    """Run the scenario on ``log`` (see the module docstring)."""
    if quick:
        return await run_scenario(log, 5_000, 1_000)
    return await run_scenario(log, 50_000, 10_000)
