"""The betting service's internal streams: how its two halves talk across partitions.

The service runs two co-partitioned halves (see ``processors``):

- the **trading** half, keyed by event (the unit's RSC), owns markets, prices, stops, the live
  delay, market liability, cut-offs and settlement of each event;
- the **ticket** half, keyed by ``<operator>/<customer>``, owns tickets, customer liability and
  money.

A ticket may have legs on events that live in different partitions, so the ticket half asks each
leg's event partition (``betting.legs``, keyed by event id) and collects the answers
(``betting.replies``, keyed by the ticket's customer). ``ops.health`` has 4 partitions keyed by
source, which cannot line up with 8 event partitions, so a relay (:func:`flambeau.processing.relay`)
copies each source status change to every partition of ``betting.signals``, and another
(``betting.venues``) each venue-system outage incident of ``crowds.incidents`` opening or
closing. The payments
ledger's decisions on stake holds (``payments.transfers``, keyed by ledger) come back the same
way: ``betting.stakes`` relays each to the ticket's partition of ``betting.replies``
(:class:`StakeDecided`), keyed by one of :func:`~flambeau.processing.broadcast_keys`.

None of these streams is public; operators read ``betting.odds`` and ``betting.decisions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

from flambeau.events import Event, default_registry
from flambeau.services.betting.schemas import (
    Channel,
    Id,
    OddsPolicy,
    ReasonCode,
    Selection,
    SettledOutcome,
    customer_key,
)

__all__ = [
    "LEGS_STREAM",
    "PARTITIONS",
    "REPLIES_STREAM",
    "SIGNALS_STREAM",
    "UNTIMED",
    "FeedTick",
    "LegCheck",
    "LegDecided",
    "LegMessage",
    "LegRelease",
    "LegSettled",
    "LegSettlementRolledBack",
    "QuoteReply",
    "QuoteRequest",
    "ReplyMessage",
    "SignalMessage",
    "SourceSignal",
    "StakeDecided",
    "VenueSignal",
    "customer_key",
]

SIGNALS_STREAM = "betting.signals"
LEGS_STREAM = "betting.legs"
REPLIES_STREAM = "betting.replies"
UNTIMED = datetime(1970, 1, 1, tzinfo=UTC)
"""The event time of the legs the ticket half sends: none worth the name, on purpose.

A trading partition's clock (its watermark, which fires the cut-offs and the drift repricing)
must be the results feed's clock only. A ticket's time is the operator's; were it to reach the
trading partition, an operator whose clock runs ahead would close every cut-off early."""
PARTITIONS = 8
"""Every stream the trading and ticket halves read has this many partitions (as
``results.units`` and ``betting.bets``), so what must meet lands in the same partition."""


# --------------------------------------------------------------------------- betting.signals


class SourceSignal(Event, tag="source_signal", frozen=True, kw_only=True, gc=False):
    """A results source went down or came back, copied to every trading partition."""

    source: str
    up: bool
    at: datetime


class FeedTick(Event, tag="feed_tick", frozen=True, kw_only=True, gc=False):
    """A source's keep-alive, copied to every trading partition at the source's time.

    It carries no news; it moves the partitions' clock on when the feed is quiet, so a
    cut-off falls when the match's clock passes it even if no score or period changes.
    """

    source: str
    at: datetime


class VenueSignal(Event, tag="venue_signal", frozen=True, kw_only=True, gc=False):
    """A venue system's outage incident opened (``up`` false) or closed, copied to every
    trading partition (see :mod:`.venue_outages`)."""

    venue: str
    incident: str
    up: bool
    at: datetime
    """When the incident opened or was resolved (the crowds service's clock)."""


SignalMessage: TypeAlias = SourceSignal | FeedTick | VenueSignal


# ------------------------------------------------------------------------------ betting.legs


class _LegAsk(Event, frozen=True, kw_only=True, gc=False):
    """What the ticket half's question about one leg starts with: the attempt (``request``),
    its ticket and customer, where the answer goes (``coordinator``) and the leg's position."""

    request: Id
    ticket_id: Id
    operator: Id
    customer_id: Id
    coordinator: str
    index: int


class _LegRef(Event, frozen=True, kw_only=True, gc=False):
    """What a message about one leg held by a trading partition starts with: the attempt
    (``request``), its ticket, the leg's position and its event."""

    request: Id
    ticket_id: Id
    operator: Id
    index: int
    event_id: Id


class LegCheck(_LegAsk, tag="leg_check", frozen=True, kw_only=True, gc=False):
    """Decide one leg of a ticket (or of a change to it) against its market, after the delay.

    Attributes:
        request: The ticket id for a new ticket, the change id for a change.
        coordinator: Where the answer goes (:func:`customer_key`).
        index: The leg's position in the ticket.
        legs: How many legs the ticket has.
        liability_cents: What the book loses if the whole ticket wins, at the odds seen; held
            against the market's limit once the leg is accepted.
        check_cutoff: Whether the event's change cut-off applies (changes, not new tickets).
    """

    legs: int
    selection: Selection
    jurisdiction: str
    channel: Channel
    policy: OddsPolicy
    liability_cents: int
    check_cutoff: bool = False


class LegRelease(_LegRef, tag="leg_release", frozen=True, kw_only=True, gc=False):
    """Forget a leg accepted earlier: its ticket was refused, changed or cashed out."""


class QuoteRequest(_LegAsk, tag="quote_request", frozen=True, kw_only=True, gc=False):
    """Ask a leg's event partition for the current probability of the leg, for a cash-out."""

    selection: Selection


LegMessage: TypeAlias = LegCheck | LegRelease | QuoteRequest


# --------------------------------------------------------------------------- betting.replies


class LegDecided(_LegRef, tag="leg_decided", frozen=True, kw_only=True, gc=False):
    """The verdict on one leg: accepted at ``odds``, or refused for ``reason``."""

    reason: ReasonCode | None = None
    detail: str = ""
    odds: float = 0.0
    in_play: bool = False
    delay_ms: int = 0


class QuoteReply(Event, tag="quote_reply", frozen=True, kw_only=True, gc=False):
    """A leg's current fair probability, or why it cannot be cashed out now."""

    request: Id
    ticket_id: Id
    operator: Id
    index: int
    reason: ReasonCode | None = None
    detail: str = ""
    probability: float = 0.0


class LegSettled(_LegRef, tag="leg_settled", frozen=True, kw_only=True, gc=False):
    """A leg's market settled (or was cancelled: the outcome is then void)."""

    outcome: SettledOutcome


class LegSettlementRolledBack(
    _LegRef, tag="leg_settlement_rolled_back", frozen=True, kw_only=True, gc=False
):
    """A leg's settlement was undone (a corrected result follows)."""


class StakeDecided(Event, tag="stake_decided", frozen=True, kw_only=True, gc=False):
    """The payments ledger's decision on a stake hold, relayed to the ticket's partition.

    ``result`` is the ledger's result code (``ok``, ``exceeds_credits``...), or the reason a
    whole request was refused; ``collected`` is whether the hold stands.
    """

    hold_id: str
    collected: bool
    result: str


ReplyMessage: TypeAlias = (
    LegDecided | QuoteReply | LegSettled | LegSettlementRolledBack | StakeDecided
)


default_registry.register(
    SIGNALS_STREAM,
    SignalMessage,
    partitions=PARTITIONS,
    description="Internal: results sources and venue outages up/down, one copy per partition",
)
default_registry.register(
    LEGS_STREAM,
    LegMessage,
    partitions=PARTITIONS,
    description="Internal: ticket legs to decide, release or quote, keyed by event id",
)
default_registry.register(
    REPLIES_STREAM,
    ReplyMessage,
    partitions=PARTITIONS,
    description="Internal: leg verdicts, quotes, settlements and stake holds, keyed by customer",
)
