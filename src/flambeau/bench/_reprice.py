"""A micro-measurement of the betting service's repricing throughput, run by hand.

``python -m flambeau.bench._reprice`` prints outcome prices per second for
repricing 500 live football events (19 markets, 40 outcomes each): fair probabilities for
every outcome, then odds with the multiplicative margin, rounded onto the ladder.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from flambeau.services.betting.feed import odds_changes
from flambeau.services.betting.fixtures import Competitor, Fixture, LiveState
from flambeau.services.betting.margins import MarginMethod, to_odds
from flambeau.services.betting.markets import markets_for
from flambeau.services.betting.pricing import price_events

__all__ = ["live_events", "reprice_throughput"]


def live_events(count: int, *, seed: int = 0) -> list[tuple[Fixture, LiveState]]:
    """``count`` football matches in play at random minutes and scores."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 7, 30, 19, 0, tzinfo=UTC)
    events = []
    for i in range(count):
        ratings = rng.normal(1500.0, 150.0, size=2)
        fixture = Fixture(
            f"fbl-{i}",
            "football",
            (
                Competitor("home", rating=float(ratings[0])),
                Competitor("away", rating=float(ratings[1])),
            ),
            start,
        )
        home, away = (int(g) for g in rng.poisson(1.2, size=2))
        events.append((fixture, LiveState(fixture.event_id, home, away, float(rng.random()), True)))
    return events


def _best_seconds(run: object, rounds: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(rounds):
            run()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


def reprice_throughput(
    events: int = 500, *, rounds: int = 20, repeats: int = 5
) -> dict[str, float]:
    """Time one full reprice of ``events`` live events; the best of ``repeats`` runs.

    Returns:
        ``outcomes`` per reprice, ``reprice_ms`` (probabilities and odds),
        ``prices_per_s`` (outcome prices per second), ``shin_ms`` (odds with Shin instead),
        and ``messages_ms`` (building the ``odds_change`` messages from the prices).
    """
    batch = live_events(events)
    markets = [markets_for(fixture, state) for fixture, state in batch]
    now = datetime(2024, 7, 30, 19, 30, tzinfo=UTC)

    def reprice() -> None:
        sheet = price_events(batch)
        to_odds(sheet.probabilities)

    sheet = price_events(batch)
    odds = to_odds(sheet.probabilities)
    reprice_s = _best_seconds(reprice, rounds, repeats)
    shin_s = _best_seconds(
        lambda: to_odds(sheet.probabilities, sheet.market_index, method=MarginMethod.SHIN),
        rounds,
        repeats,
    )
    messages_s = _best_seconds(
        lambda: odds_changes(sheet, odds, markets, timestamp=now), max(1, rounds // 4), repeats
    )
    outcomes = int(sheet.probabilities.size)
    return {
        "events": float(events),
        "markets": float(sheet.market_offsets.size - 1),
        "outcomes": float(outcomes),
        "reprice_ms": reprice_s * 1e3,
        "prices_per_s": outcomes / reprice_s,
        "shin_ms": shin_s * 1e3,
        "messages_ms": messages_s * 1e3,
    }


if __name__ == "__main__":
    figures = reprice_throughput()
    print(
        f"{int(figures['events'])} events, {int(figures['markets'])} markets, "
        f"{int(figures['outcomes'])} outcomes per reprice\n"
        f"reprice (probabilities + odds): {figures['reprice_ms']:.2f} ms "
        f"= {figures['prices_per_s']:,.0f} outcome prices/s\n"
        f"odds with Shin instead: {figures['shin_ms']:.2f} ms\n"
        f"building the odds_change messages: {figures['messages_ms']:.2f} ms"
    )
