"""The bench's cut-off scenario, small: hundreds of live events, changes and cash-outs before,
across and after the cut-off, through every betting processor and the ledger."""

from __future__ import annotations

import pytest

from flambeau.bench._betting_cutoff import run_scenario
from flambeau.log import open_log

pytestmark = pytest.mark.timeout(120)


async def test_no_change_nor_cash_out_is_accepted_after_the_cutoff_under_load() -> None:
    async with await open_log("memory://") as log:
        result = await run_scenario(log, 1_200, 200)
    figures, params = result["figures"], result["params"]
    assert params["open_tickets"] == 1_200  # every ticket's stake was collected
    assert params["accepted_before_cutoff"] == 200  # before the cut-off, changes go through
    # (the 500 queued across the cut-off are decided by the clock their partition has seen:
    # tests/unit/services/betting/test_cutoff.py pins that down without timing)
    assert params["after_cutoff"] == 200
    assert figures["late_accepted"] == 0
    assert {"decisions_per_s", "decision_p99_ms"} <= figures.keys()
