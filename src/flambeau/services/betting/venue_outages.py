"""Venue outages: the markets of a venue's events stop while one of its systems is down.

The crowds service opens a ``system_outage`` incident on ``crowds.incidents`` (4 partitions,
keyed by venue) when a venue system (power, network, broadcast encoder, scoreboard, public
address, stadium system) goes silent or reports a failure, and resolves it (``recovered``)
when the system is back, or when an operator resolves it. Betting reads that published stream
only (``flambeau.services.crowds.schemas``), through the relay ``betting.venues``: each outage
incident opening or resolving becomes a :class:`~.messages.VenueSignal` copied to every
partition of ``betting.signals``, where the trading half keeps, per venue, the outage
incidents still open (state ``venue/<venue>``).

The first outage of a venue suspends every ACTIVE market of its events not yet over
(``bet_stop`` with reason ``venue_outage``, caused by the incident); while any outage of the
venue stays open, a reprice shows the prices but keeps the markets suspended. When the last
one is resolved the events are repriced, and the ``odds_change`` that reopens them names the
resolving incident as its cause.

A copy carries no event time worth the name (:data:`~.messages.UNTIMED`): the incident's
time is the crowds service's, and the trading partitions' clock must stay the results feed's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flambeau.events import Record
from flambeau.processing import Processor, Transaction, relay
from flambeau.services.betting.messages import SIGNALS_STREAM, UNTIMED, VenueSignal
from flambeau.services.crowds.schemas import (
    INCIDENTS,
    Incident,
    IncidentChange,
    IncidentStatus,
    IncidentType,
)

__all__ = ["outage_changed", "venue_key", "venue_relay", "venue_signal", "venue_up"]


def venue_key(venue: str) -> str:
    """The trading state key of a venue's open outage incidents."""
    return f"venue/{venue}"


def venue_signal(record: Record[Any]) -> VenueSignal | None:
    """What the trading partitions hear of an incident: outages opening and resolving only."""
    incident = record.data
    if not isinstance(incident, Incident) or incident.kind is not IncidentType.SYSTEM_OUTAGE:
        return None
    if incident.change is IncidentChange.OPENED:
        at = incident.opened_at
        return VenueSignal(venue=incident.venue, incident=incident.id, up=False, at=at)
    if incident.status is IncidentStatus.RESOLVED:
        at = incident.resolved_at or incident.opened_at
        return VenueSignal(venue=incident.venue, incident=incident.id, up=True, at=at)
    return None  # acknowledged: the system is still down


def _untimed(_: VenueSignal) -> datetime:
    return UNTIMED


def venue_relay() -> Processor:
    """The relay ``betting.venues`` (``crowds.incidents`` → every ``betting.signals`` partition).

    Not registered: :func:`~.processors.betting_processors` builds it with the others.
    """
    return relay(
        "betting.venues",
        source=INCIDENTS,
        target=SIGNALS_STREAM,
        every_partition=True,
        convert=venue_signal,
        time=_untimed,
        processors=None,
    )


def venue_up(tx: Transaction, venue: str | None) -> bool:
    """Whether ``venue`` has no outage incident open (an unknown venue has none)."""
    if venue is None:
        return True
    return not tx.state.get(venue_key(venue), list[str], [])


def outage_changed(tx: Transaction, signal: VenueSignal) -> bool:
    """Fold ``signal`` into its venue's open outages; whether the venue went down or came up.

    A repeated copy changes nothing; a second system down keeps the venue down, and the
    venue comes back with the last one.
    """
    key = venue_key(signal.venue)
    before: list[str] = tx.state.get(key, list[str], [])
    if signal.up:
        after = [incident for incident in before if incident != signal.incident]
    elif signal.incident in before:
        after = before
    else:
        after = [*before, signal.incident]
    if after == before:
        return False
    if after:
        tx.state.put(key, after)
    else:
        tx.state.delete(key)
    return bool(before) != bool(after)
