"""The feature stream: each zone's state per 10-second window, in a schema models consume.

Windows are aligned on the clock (event time). A zone's window is published as a
:class:`~.schemas.ZoneFeatures` on ``crowds.features`` when the zone's first update of a later
window arrives, with the state the zone had at the end of it; a window in which nothing
reached the zone publishes nothing. ``trend`` is the density change per minute since the
previous published window, ``counted`` the people through the zone's gate in the window, and
``minutes_to_end`` the minutes left to the venue's session end (its units' ``estimated_end``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from flambeau.services.crowds.schemas import ZoneFeatures
from flambeau.services.crowds.zones import ZoneState

__all__ = ["WINDOW", "roll"]

WINDOW = timedelta(seconds=10)
"""The feature window."""
_WINDOW_US = WINDOW // timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def roll(
    before: ZoneState,
    after: ZoneState,
    at_us: int,
    counted: int,
    end_us: int | None,
    names: tuple[str, str],
) -> tuple[ZoneState, ZoneFeatures | None]:
    """The zone after an update at ``at_us``, and the features of the window it closes, if any.

    ``counted`` is the people the update counted through the zone's gate; ``end_us`` the
    venue's session end; ``names`` the venue and zone.
    """
    window = at_us // _WINDOW_US
    if window <= before.window:
        total = before.window_counted + counted
        return msgspec.structs.replace(after, window=before.window, window_counted=total), None
    rolled = msgspec.structs.replace(after, window=window, window_counted=counted)
    if before.window == 0:
        return rolled, None
    density = before.people / max(before.area_m2, 1)
    end = _EPOCH + timedelta(microseconds=(before.window + 1) * _WINDOW_US)
    trend = 0.0
    if before.last_window:
        minutes = (before.window - before.last_window) * WINDOW.total_seconds() / 60
        trend = round((density - before.last_density) / minutes, 4)
    to_end = None if end_us is None else round((end_us - _us(end)) / 60_000_000, 2)
    features = ZoneFeatures(
        venue=names[0],
        zone=names[1],
        role=before.role,
        window_end=end,
        people=before.people,
        density=round(density, 4),
        flow=before.flow,
        counted=before.window_counted,
        trend=trend,
        minutes_to_end=to_end,
    )
    rolled = msgspec.structs.replace(
        rolled, last_window=before.window, last_density=round(density, 4)
    )
    return rolled, features


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)
