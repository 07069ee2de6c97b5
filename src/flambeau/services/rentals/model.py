"""The price of every listing-night of one area, computed at once with numpy.

::

    price = base * season_dow * demand * lead_time * last_minute * orphan, clamped to
            [floor, ceiling] and rounded to cents (``clamp`` = price / unclamped product)
    demand = occupancy * pace * pressure * games * transit, bounded to [demand_min, demand_max]

per listing ``i`` and night ``j``, with the listing's own :class:`PricingSettings`:

- ``season_dow`` = the month's season factor, times ``weekend`` on Friday and Saturday nights;
- ``occupancy`` = 1 + occupancy_weight * (area occupancy of the night - target_occupancy);
- ``pace`` = 1 + pace_weight * (occupancy - expected occupancy at this lead), where the
  expected occupancy grows linearly from 0 (``pace_horizon_days`` out) to the target (tonight);
- ``pressure`` = 1 + pressure_weight * min(1, searches and views of the night /
  (listings available * lookups_per_listing));
- ``games`` = 1 + min(games_cap, games_cap * fans of the night / fans_for_cap);
- ``transit`` = 1 - transit_weight * min(1, out-of-service share of the area's transit lines
  on the night);
- ``lead_time`` = 1 + far_out_premium * the ramp from ``far_out_start_days`` over
  ``far_out_ramp_days``;
- ``last_minute`` = 1 - last_minute_discount * (1 - lead / last_minute_days) when closer than
  ``last_minute_days``;
- ``orphan`` = 1 - orphan_discount for a free night whose neighbours are both booked.

Nights before today, booked or off the listing's calendar get no price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from flambeau.services.rentals.schemas import PricingSettings

__all__ = ["AreaPrices", "Settings", "area_prices", "settings_arrays"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

_FIELDS = (
    "weekend", "target_occupancy", "occupancy_weight", "pace_weight", "pace_horizon_days",
    "pressure_weight", "lookups_per_listing", "fans_for_cap", "games_cap", "transit_weight",
    "demand_min", "demand_max", "last_minute_days", "last_minute_discount", "far_out_start_days",
    "far_out_ramp_days", "far_out_premium", "orphan_discount",
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Per-listing settings as columns: ``values[name]`` has shape (listings, 1)."""

    values: dict[str, Floats]
    season: Floats
    """Shape (listings, 12)."""


def settings_arrays(settings: list[PricingSettings]) -> Settings:
    """Columns of ``settings``, one row per listing, interning identical settings."""
    unique: dict[PricingSettings, int] = {}
    rows = np.array([unique.setdefault(s, len(unique)) for s in settings], np.int64)
    table = list(unique)
    values = {
        name: np.array([float(getattr(s, name)) for s in table])[rows][:, None] for name in _FIELDS
    }
    season = np.array([s.season for s in table], np.float64).reshape(len(table), 12)[rows]
    return Settings(values, season)


@dataclass(frozen=True)
class AreaPrices:
    """Prices and factors of an area: arrays of shape (listings, nights).

    ``priced`` marks the cells that have a price (free, on the calendar, not in the past).
    """

    priced: Bools
    price_cents: npt.NDArray[np.int64]
    factors: dict[str, Floats]
    parts: dict[str, Floats]


def _season_dow(first: date, nights: int, s: Settings) -> Floats:
    days = [first + timedelta(days=j) for j in range(nights)]
    months = np.array([d.month - 1 for d in days], np.int64)
    weekend = np.array([d.weekday() in (4, 5) for d in days], bool)
    season: Floats = s.season[:, months]
    return np.where(weekend[None, :], season * s.values["weekend"], season)


def _orphans(free: Bools, booked: Bools) -> Bools:
    left = np.zeros_like(booked)
    left[:, 1:] = booked[:, :-1]
    right = np.zeros_like(booked)
    right[:, :-1] = booked[:, 1:]
    result: Bools = free & left & right
    return result


def _or_zeros(values: Floats | None, m: int) -> Floats:
    return np.zeros(m) if values is None else values


def area_prices(
    *,
    first: date,
    today: date,
    base: Floats,
    floor: Floats,
    ceiling: Floats,
    available: Bools,
    booked: Bools,
    lookups: Floats,
    fans: Floats,
    settings: Settings,
    out_of_service: Floats | None = None,
) -> AreaPrices:
    """Price every listing-night of an area whose nights start at ``first``.

    Args:
        first: The first night of the columns.
        today: Nights before it are not priced; lead times count from it.
        base, floor, ceiling: Per listing, cents, shape (listings,).
        available: The listing's calendar, shape (listings, nights).
        booked: Nights booked, shape (listings, nights).
        lookups: Searches and views per night, shape (nights,).
        fans: Travelling fans per night in the area, shape (nights,).
        settings: Per-listing settings (:func:`settings_arrays`).
        out_of_service: Share of the area's transit lines out of service per night, shape
            (nights,); none by default.
    """
    v = settings.values
    n, m = available.shape
    lead = (np.arange(m, dtype=np.float64) + (first - today).days)[None, :]
    on = available & (lead >= 0)
    free = on & ~booked
    count = np.maximum(on.sum(axis=0), 1)
    occupancy = ((on & booked).sum(axis=0) / count)[None, :]
    expected = v["target_occupancy"] * np.clip(1 - lead / v["pace_horizon_days"], 0, 1)
    parts: dict[str, Any] = {
        "occupancy": 1 + v["occupancy_weight"] * (occupancy - v["target_occupancy"]),
        "pace": 1 + v["pace_weight"] * (occupancy - expected),
        "pressure": 1
        + v["pressure_weight"]
        * np.minimum(1, lookups[None, :] / (count[None, :] * v["lookups_per_listing"])),
        "games": 1 + v["games_cap"] * np.minimum(1, fans[None, :] / v["fans_for_cap"]),
        "transit": 1 - v["transit_weight"] * np.minimum(1, _or_zeros(out_of_service, m)[None, :]),
    }
    parts = {k: np.broadcast_to(p, (n, m)) for k, p in parts.items()}
    demand = np.clip(np.prod(np.stack(list(parts.values())), axis=0), v["demand_min"],
                     v["demand_max"])  # fmt: skip
    ramp = np.clip((lead - v["far_out_start_days"]) / v["far_out_ramp_days"], 0, 1)
    close = np.clip(1 - lead / np.maximum(v["last_minute_days"], 1), 0, 1)
    factors: dict[str, Any] = {
        "season_dow": _season_dow(first, m, settings),
        "demand": demand,
        "lead_time": np.broadcast_to(1 + v["far_out_premium"] * ramp, (n, m)),
        "last_minute": np.broadcast_to(
            np.where(lead < v["last_minute_days"], 1 - v["last_minute_discount"] * close, 1.0),
            (n, m),
        ),
        "orphan": np.where(_orphans(free, booked), 1 - v["orphan_discount"], 1.0),
    }
    raw = base[:, None] * np.prod(np.stack(list(factors.values())), axis=0)
    price = np.clip(np.rint(raw), floor[:, None], ceiling[:, None]).astype(np.int64)
    factors["clamp"] = price / raw
    return AreaPrices(free, price, factors, parts)
