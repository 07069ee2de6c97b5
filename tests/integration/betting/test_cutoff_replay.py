"""A match dated August 2024, replayed today over HTTP: the cut-off follows the match's clock.

The results are POSTed as native documents carrying the source's own time (``generated_at``,
a keep-alive's ``seen_at``), more than two years behind the wall clock. Changes to a ticket are
accepted until 5 minutes before the match's estimated end on that clock, refused after it, and
accepted again when extra time moves the estimated end. The gateway, the worker and the log are
the ``platform`` fixture's (``conftest``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from flambeau.processing import processor_lag
from flambeau.services.betting.processors import PROCESSORS as BETTING
from flambeau.services.results.processors import PROCESSORS as RESULTS
from flambeau.services.results.schemas import EndAdjustment, UnitEndEstimated

from .conftest import KICK_OFF, Platform

pytestmark = pytest.mark.timeout(120)

END = KICK_OFF + timedelta(minutes=115)
"""The scheduled end; the cut-off is 5 minutes before it."""


async def idle(platform: Platform) -> None:
    """Wait until every results and betting processor has read everything appended so far."""
    async with asyncio.timeout(20):
        while True:
            lags = await processor_lag(platform.log, [*RESULTS, *BETTING])
            if all(lag.committed >= lag.end for lag in lags):
                return
            await asyncio.sleep(0.02)


async def snapshot(platform: Platform, at: datetime, period: str) -> None:
    """The next live snapshot of the match at 0-0, made by the source at ``at``."""
    fields = {"unit_status": "running", "current_period": period, "generated_at": at.isoformat()}
    await platform.unit("live", (0, 0), **fields)


async def keep_alive(platform: Platform, at: datetime) -> None:
    """The source's keep-alive, sent at ``at`` by its clock."""
    body = {"type": "keep_alive", "source": "FBL-PDP", "seen_at": at.isoformat()}
    reply = await platform.client.post("/v1/results/documents", json=body, headers=platform.timing)
    assert reply.status_code == 200, reply.text


async def change(platform: Platform, change_id: str, stake_cents: int) -> Any:
    """Change the ticket's stake and wait for the decision."""
    body = {
        "change_id": change_id, "customer_id": "alice", "stake_cents": stake_cents,
        "odds_policy": "any",
    }  # fmt: skip
    reply = await platform.client.post(
        "/v1/betting/tickets/home/changes",
        params={"wait": "true"},
        json=body,
        headers=platform.operator,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_a_replayed_day_changes_a_bet_until_the_cutoff_on_the_match_clock(
    platform: Platform,
) -> None:
    await platform.deposit("alice", 10_000)
    before = KICK_OFF - timedelta(hours=1)
    await keep_alive(platform, before)
    await platform.unit("start_list", None, generated_at=before.isoformat())
    opening = await platform.markets("not_started")
    winner = next(m for m in opening["markets"] if m["id"] == 1)
    home_odds = next(o["odds"] for o in winner["outcomes"] if o["id"] == "1")
    assert (await platform.bet("home", "1", home_odds, "alice"))["status"] == "accepted"

    await snapshot(platform, KICK_OFF, "H1")
    await platform.markets("live", period="H1")
    await snapshot(platform, END - timedelta(minutes=12), "H2")
    await keep_alive(platform, END - timedelta(minutes=10))
    await platform.markets("live", period="H2")
    await idle(platform)  # the keep-alive has reached every trading partition
    early = await change(platform, "ch-early", 3000)  # 10 minutes before the end
    assert (early["status"], early["reason"]) == ("accepted", None)

    await snapshot(platform, END - timedelta(minutes=4), "H2")
    await idle(platform)
    late = await change(platform, "ch-late", 4000)
    assert (late["status"], late["reason"]) == ("rejected", "cutoff_passed")

    # 0-0: extra time (the 1X2 market, on regulation time, still has two minutes to run)
    await snapshot(platform, END - timedelta(minutes=2), "ET1")
    await platform.markets("live", period="ET1")
    await idle(platform)
    estimates = [
        r.data
        for r in await platform.records("results.units")
        if isinstance(r.data, UnitEndEstimated)
    ]
    assert estimates[0].estimated_end == END
    assert estimates[-1].estimated_end == END + timedelta(minutes=37)
    assert estimates[-1].adjustments == (EndAdjustment.EXTRA_TIME,)
    extra = await change(platform, "ch-extra", 4000)  # the cut-off moved 37 minutes on
    assert (extra["status"], extra["reason"]) == ("accepted", None)
