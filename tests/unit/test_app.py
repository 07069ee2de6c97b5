"""The assembly module: what it hands the gateway from every service."""

from __future__ import annotations

import flambeau.app
from flambeau.log import open_log


async def test_gateway_gauges_collect_every_services_gauges() -> None:
    async with await open_log("memory://") as log:
        gauges = flambeau.app.gateway_gauges(log)
        text = "\n".join(line for gauge in gauges for line in gauge())
    assert "# TYPE flambeau_results_source_up gauge" in text
    assert "# TYPE flambeau_payments_invariant_violations gauge" in text
