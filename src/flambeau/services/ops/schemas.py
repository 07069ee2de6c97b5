"""The liveness contract every source shares: heartbeats in, ``source_down`` / ``source_up`` out.

Streams (each keyed by source id, 4 partitions, so one source's liveness lives in one
partition):

- ``ops.heartbeats`` (private, producer-writable): :class:`Heartbeat`, a source saying "I am
  here, expect me again within ``interval_ms``", or reporting its own failure
  (``status: "failed"``). Any key is accepted: the service re-keys by ``source``. A producer
  posts, for example::

      {"key": "STA-ENC-1", "data": {"type": "heartbeat", "source": "STA-ENC-1",
       "kind": "broadcast_encoder", "interval_ms": 5000, "venue": "STA"}}

- ``ops.signs`` (private, internal): :class:`Sign`, each sign of life the service hears,
  re-keyed by source: every heartbeat, and the events sources send on watched streams (a gate
  count is a sign of life of its gate counter; see :mod:`.processors`).
- ``ops.health`` (private, derived): :class:`KeepAlive` for each sign of life (at most one per
  source and second for implicit signs), and exactly one :class:`SourceDown` or
  :class:`SourceUp` per transition, for every kind of source. The results service publishes
  its feeds' liveness here too, with the same events (``kind: "results_feed"``).

A source is down when it has been silent for ``misses`` (2) of its expected intervals, or
reported ``failed``; it is up again on its first fresh sign of life that is not a failure.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry

__all__ = [
    "HEALTH",
    "HEARTBEATS",
    "SIGNS",
    "DownReason",
    "Feed",
    "HealthEvent",
    "Heartbeat",
    "KeepAlive",
    "Reported",
    "Sign",
    "SourceDown",
    "SourceKind",
    "SourceUp",
]

HEARTBEATS = "ops.heartbeats"
SIGNS = "ops.signs"
HEALTH = "ops.health"
PARTITIONS = 4

SourceId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$",
        description="a source's stable id, e.g. STA-ENC-1 (letters, digits, . _ : / -)",
    ),
]
VenueCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,8}$", description="venue code, e.g. STA")
]
IntervalMs = Annotated[
    int,
    msgspec.Meta(
        ge=100, le=3_600_000, description="expected time between heartbeats, in milliseconds"
    ),
]
Count = Annotated[int, msgspec.Meta(ge=0)]
Moment = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with a zone")]
Text = Annotated[str, msgspec.Meta(max_length=256)]


class Feed(StrEnum):
    """Production data, or a test feed (ODF ``FeedFlag``) that never reaches public streams."""

    PRODUCTION = "production"
    TEST = "test"


class SourceKind(StrEnum):
    """What kind of system a source is; consumers pick the kinds they act on."""

    RESULTS_FEED = "results_feed"
    GATE_COUNTER = "gate_counter"
    PAYMENT_TERMINAL = "payment_terminal"
    BROADCAST_ENCODER = "broadcast_encoder"
    VENUE_POWER = "venue_power"
    VENUE_NETWORK = "venue_network"
    SCOREBOARD = "scoreboard"
    PUBLIC_ADDRESS = "public_address"
    STADIUM_SYSTEM = "stadium_system"
    PARTNER_FEED = "partner_feed"


class Reported(StrEnum):
    """What a heartbeat says of its source."""

    OK = "ok"
    FAILED = "failed"


class DownReason(StrEnum):
    """Why a source is down."""

    SILENT = "silent"
    """Nothing heard for longer than allowed."""
    FAILED = "failed"
    """The source reported its own failure."""


class Heartbeat(Event, frozen=True, kw_only=True, tag="heartbeat"):
    """A source is alive (or reports a failure) and will send again within ``interval_ms``.

    Attributes:
        source: The source's id, unique across kinds.
        kind: What it is.
        interval_ms: How often it sends; it is down after ``misses`` intervals of silence.
        venue: The venue it serves, if any (an outage then concerns that venue).
        status: ``ok``, or ``failed`` when the source reports that it does not work.
        detail: A short human explanation of a failure.
    """

    source: SourceId
    kind: SourceKind
    interval_ms: IntervalMs
    venue: VenueCode | None = None
    status: Reported = Reported.OK
    detail: Text = ""


class Sign(Event, frozen=True, kw_only=True, tag="sign"):
    """A sign of life heard at ``seen_at`` (when Flambeau received it), keyed by source.

    ``source`` is a heartbeat's id, or an id the watch of a stream builds (a gate counter's is
    ``<venue>/<gate>``).
    """

    source: Text
    kind: SourceKind
    interval_ms: IntervalMs
    seen_at: Moment
    venue: VenueCode | None = None
    status: Reported = Reported.OK
    detail: Text = ""


class KeepAlive(Event, frozen=True, kw_only=True, tag="keep_alive"):
    """A source was heard from at ``seen_at``.

    The results service also takes it as a native document (an ODF ``DT_KA``); results feeds
    leave ``kind`` out.
    """

    source: Text
    seen_at: Moment
    feed: Feed = Feed.PRODUCTION
    kind: SourceKind = SourceKind.RESULTS_FEED
    venue: VenueCode | None = None


class SourceDown(Event, frozen=True, kw_only=True, tag="source_down"):
    """A source has been silent longer than allowed, or reported a failure."""

    source: Text
    last_seen: Moment
    detected_at: Moment
    silence_ms: Count
    feed: Feed = Feed.PRODUCTION
    kind: SourceKind = SourceKind.RESULTS_FEED
    venue: VenueCode | None = None
    reason: DownReason = DownReason.SILENT
    detail: Text = ""


class SourceUp(Event, frozen=True, kw_only=True, tag="source_up"):
    """A source is heard from: for the first time, or again after being down."""

    source: Text
    seen_at: Moment
    down_since: Moment | None = None
    feed: Feed = Feed.PRODUCTION
    kind: SourceKind = SourceKind.RESULTS_FEED
    venue: VenueCode | None = None


HealthEvent = KeepAlive | SourceDown | SourceUp

default_registry.register(
    HEARTBEATS,
    Heartbeat,
    partitions=PARTITIONS,
    description="heartbeats and failure reports of any source (re-keyed by source)",
)
default_registry.register(
    SIGNS,
    Sign,
    partitions=PARTITIONS,
    description="Internal: every sign of life heard, keyed by source",
)
default_registry.register(
    HEALTH,
    HealthEvent,
    partitions=PARTITIONS,
    description="source liveness: keep-alives, down, up (every kind of source)",
    # the shared contract: ops' liveness and the results feeds' own write it, nobody else
    writer=Writer.shared_by("ops.liveness", "results.liveness"),
)
