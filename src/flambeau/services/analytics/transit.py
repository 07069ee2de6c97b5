"""Transit service near each venue, from the line states on ``mobility.transit``.

Mobility publishes each transit line's state (:class:`LineStatus`: ``open``, ``disrupted``,
``closed``; a strike is ``closed``) and which lines serve which venue
(:data:`~flambeau.services.mobility.schemas.VENUE_LINES`). :class:`Lines` keeps each line's
state changes in event time, so that the forecast can ask what the service of a venue was at
any minute: :meth:`Lines.service` is the share of the venue's usual arrivals its lines still
carry, ``1 - TRANSIT_SHARE * closed / serving``. A venue no line serves keeps 1.0.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from flambeau.services.mobility.schemas import VENUE_LINES, LineState, LineStatus

__all__ = ["MAX_CHANGES", "TRANSIT_SHARE", "Lines"]

TRANSIT_SHARE = 0.6
"""Share of a venue's spectators who come by its serving lines (spread evenly over them); the
rest walk, cycle or drive. A closed line takes its part of them away, and of their spending."""
MAX_CHANGES = 1_000
"""State changes kept per line (the oldest go first)."""


@dataclass
class Lines:
    """Every line's state changes, in event time."""

    changes: dict[str, list[tuple[datetime, LineState]]] = field(default_factory=dict)

    def fold(self, time: datetime, status: LineStatus) -> None:
        """Record ``status`` as the state of its line from ``time`` on."""
        history = self.changes.setdefault(status.route_id, [])
        bisect.insort(history, (time, status.state), key=lambda change: change[0])
        if len(history) > MAX_CHANGES:
            del history[0]

    def state(self, route_id: str, at: datetime) -> LineState:
        """The line's state at ``at`` (``open`` before any alert)."""
        history = self.changes.get(route_id, [])
        index = bisect.bisect_right(history, at, key=lambda change: change[0])
        return history[index - 1][1] if index else LineState.OPEN

    def closed(self, venue: str, at: datetime) -> list[str]:
        """The lines serving ``venue`` that are closed at ``at``."""
        serving = VENUE_LINES.get(venue, ())
        return [line for line in serving if self.state(line, at) is LineState.CLOSED]

    def service(self, venue: str, at: datetime) -> float:
        """The share of ``venue``'s usual arrivals its lines carry at ``at`` (1.0: all open)."""
        serving = VENUE_LINES.get(venue, ())
        if not serving:
            return 1.0
        return 1.0 - TRANSIT_SHARE * len(self.closed(venue, at)) / len(serving)
