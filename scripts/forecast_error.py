"""Measure the next-hour forecast's error against a recorded rehearsal.

Record a rehearsal with ``flambeau up`` (its log stays in the data directory), then replay the
forecast over it (see :mod:`flambeau.services.analytics.accuracy`)::

    flambeau up --data /tmp/rehearsal --duration 900 --start 06:50 --end 14:00 --seed 7
    .venv/bin/python scripts/forecast_error.py --data /tmp/rehearsal

It prints one JSON object: per series (``sales``, ``entries``) the forecast's ``mae``,
``wape`` and ``hour_mape`` and the same for the pace-only baseline, with how many forecasts
were replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import msgspec

from flambeau.events import default_registry
from flambeau.log import open_log
from flambeau.services.analytics.accuracy import load, measure


async def _main(url: str, step: int) -> dict[str, object]:
    log = await open_log(url, default_registry)
    try:
        history = await load(log, default_registry)
    finally:
        await log.aclose()
    venues = sorted(set(history.sales) | set(history.entries))
    errors = measure(history, step)
    return {"log": url, "venues": len(venues), "step_minutes": step,
            "series": [msgspec.to_builtins(e) for e in errors]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data directory of a `flambeau up` run")
    parser.add_argument("--log", help="log URL (default: sqlite:///<data>/log.db)")
    parser.add_argument("--step", type=int, default=1, help="minutes between replayed forecasts")
    args = parser.parse_args()
    if args.log is None and args.data is None:
        parser.error("give --data or --log")
    url = args.log or f"sqlite:///{args.data.resolve()}/log.db"
    print(json.dumps(asyncio.run(_main(url, args.step)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
