"""The betting service's processors, registered in ``default_processors``.

Five processors, and the partitions they read (every input of a processor must have the same
partition count and key what must meet the same way):

=====================  ==========================================  ==========================
processor              inputs (partitions, key)                    emits
=====================  ==========================================  ==========================
``betting.health``     ``ops.health`` (4, source)                  ``betting.signals``
``betting.venues``     ``crowds.incidents`` (4, venue)             ``betting.signals``
``betting.trading``    ``results.units`` (8, unit RSC),            ``betting.odds``,
                       ``betting.signals`` (8, one copy per        ``betting.replies``
                       partition), ``betting.legs`` (8, event id)
``betting.tickets``    ``betting.bets`` (8, operator/customer),    ``betting.decisions``,
                       ``betting.replies`` (8, operator/customer)  ``betting.legs``,
                                                                   ``payments.requests``
``betting.stakes``     ``payments.transfers`` (8, ledger)          ``betting.replies``
``betting.offers``     ``betting.odds`` (8, event id)              ``betting.offers`` (keyed
                                                                   ``<jurisdiction>/<channel>``)
=====================  ==========================================  ==========================

The event id of a market is its unit's RSC, so a unit's snapshots and the legs bet on it meet
in one trading partition. ``ops.health`` (4 partitions, keyed by source) cannot line up with
the 8 event partitions, and a source feeds events in every one of them, so the relay
``betting.health`` (:func:`flambeau.processing.relay`) copies each up/down change of a results
feed, and each of its keep-alives (which move the partitions' clock on while the feed is
quiet), to every partition of ``betting.signals``, at the source's own event time (never the
time Flambeau heard it: see :func:`_signal`). ``betting.venues`` copies the opening and
closing of each venue-system outage incident of the crowds service the same way
(:mod:`.venue_outages`). ``results.schedule``
(4 partitions, keyed by day and venue) is not read: the same schedule facts arrive per unit
as ``unit_schedule`` on ``results.units``, already keyed by unit. The ledger's decisions on
``payments.transfers`` are keyed by ledger, not by customer, so ``betting.stakes`` relays those
on stake holds to the ticket's partition of ``betting.replies`` (see :mod:`.stakes`).

See :mod:`.trading` and :mod:`.tickets` for what each half does, and :mod:`.messages` for
the internal streams.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from flambeau.events import Record
from flambeau.processing import Processor, default_processors, relay
from flambeau.services.betting.config import DEFAULT_CONFIG, BettingConfig
from flambeau.services.betting.messages import (
    LEGS_STREAM,
    PARTITIONS,
    REPLIES_STREAM,
    SIGNALS_STREAM,
    UNTIMED,
    FeedTick,
    SignalMessage,
    SourceSignal,
)
from flambeau.services.betting.money import PAYMENTS_STREAM
from flambeau.services.betting.offer_feed import offers_processor
from flambeau.services.betting.schemas import BETS_STREAM, DECISIONS_STREAM, ODDS_STREAM
from flambeau.services.betting.stakes import stake_decided, stake_key
from flambeau.services.betting.ticket_records import TICKET_PREFIX
from flambeau.services.betting.tickets import Tickets
from flambeau.services.betting.trading import Trading
from flambeau.services.betting.venue_outages import venue_relay
from flambeau.services.ops.schemas import (
    HEALTH,
    Feed,
    KeepAlive,
    SourceDown,
    SourceKind,
    SourceUp,
)
from flambeau.services.results.schemas import UNITS

__all__ = ["OFFERS", "PROCESSORS", "BettingProcessors", "betting_processors"]

PAYMENT_DECISIONS = "payments.transfers"
"""The payments ledger's decisions (registered by :mod:`flambeau.services.payments.schemas`)."""


class BettingProcessors(NamedTuple):
    """The five processors of one configuration of the service."""

    health: Processor
    trading: Processor
    tickets: Processor
    stakes: Processor
    venues: Processor


def _signal(record: Record[Any]) -> SignalMessage | None:
    """What the trading partitions hear of an ``ops.health`` event: results feeds only.

    A keep-alive's or source-up's ``seen_at`` is when Flambeau heard the source (liveness runs
    on our clock), but its record's event time is the source document's: that is the time the
    copy carries, so a replayed day or a source whose clock differs from ours moves the trading
    partitions' clock, and the cut-offs, on its own time.
    """
    data = record.data
    if data.feed is not Feed.PRODUCTION or data.kind is not SourceKind.RESULTS_FEED:
        return None
    match data:
        case KeepAlive():
            return FeedTick(source=data.source, at=record.time)
        case SourceUp():
            return SourceSignal(source=data.source, up=True, at=record.time)
        case SourceDown():
            return SourceSignal(source=data.source, up=False, at=data.detected_at)
    return None


def _signal_time(signal: SignalMessage) -> datetime:
    """The event time of a copy: the source's; none for a source-down (detected on our clock)."""
    if isinstance(signal, SourceSignal) and not signal.up:
        return UNTIMED
    return signal.at


def betting_processors(config: BettingConfig = DEFAULT_CONFIG) -> BettingProcessors:
    """Build the service's processors with ``config`` (not registered anywhere).

    Tests and benchmarks build their own; the module registers one set with the defaults.
    """
    health = relay(
        "betting.health",
        source=HEALTH,
        target=SIGNALS_STREAM,
        every_partition=True,
        convert=_signal,
        time=_signal_time,
        processors=None,
    )
    trading = Processor(
        "betting.trading",
        inputs=[UNITS, SIGNALS_STREAM, LEGS_STREAM],
        outputs=[ODDS_STREAM, REPLIES_STREAM],
    )
    trader = Trading(config, PARTITIONS)
    trading.on_batch(trader.on_batch)
    trading.on_timer(trader.on_timer)
    # every ticket stays in state for its settlement and any rollback: on disk, not in memory
    tickets = Processor(
        "betting.tickets",
        inputs=[BETS_STREAM, REPLIES_STREAM],
        outputs=[DECISIONS_STREAM, LEGS_STREAM, PAYMENTS_STREAM],
        cold=[TICKET_PREFIX],
    )
    desk = Tickets(config)
    tickets.on_batch(desk.on_batch)
    stakes = relay(
        "betting.stakes",
        source=PAYMENT_DECISIONS,
        target=REPLIES_STREAM,
        key=stake_key,
        convert=stake_decided,
        processors=None,
    )
    return BettingProcessors(health, trading, tickets, stakes, venue_relay())


PROCESSORS = betting_processors()
"""The registered processors, with :data:`~.config.DEFAULT_CONFIG`."""
OFFERS = offers_processor(DEFAULT_CONFIG)
"""The registered ``betting.offers`` processor (:mod:`.offer_feed`): the odds feed per
jurisdiction and channel. Not one of :class:`BettingProcessors`: tests and benchmarks that
build their own set run it only when they ask for it."""
for _processor in (*PROCESSORS, OFFERS):
    default_processors.register(_processor)
