"""``betting.offers``: the odds feed as a customer of one jurisdiction, on one channel, sees it.

The ``betting.offers`` processor reads ``betting.odds`` and writes, for every jurisdiction of
the service's table and every channel (an *audience*), a copy of each message keyed
``<jurisdiction>/<channel>`` (``FR/internet``, ``US-NJ/mobile``) that keeps only the markets
:func:`~.jurisdictions.check_jurisdiction` lets that audience bet: the same function and table
as the bet engine and ``GET /v1/betting/markets?jurisdiction=&channel=`` (:mod:`.offers`).
So a subscriber filters with the gateway's event key filter::

    GET /v1/streams/betting.offers/events?event_key=FR/internet          (SSE)
    {"op": "subscribe", "stream": "betting.offers", "key": "FR/internet"}  (WebSocket)

and receives only what a customer there may bet, in the order of ``betting.odds`` per event.

Per message: an ``odds_change`` keeps the markets allowed as the event stands (in play when
its ``event_status`` says live); a settlement, rollback or cancel keeps the markets allowed
before play (what such a customer could hold); a message left with no market, and every
message about a sport the jurisdiction forbids, is not copied. ``bet_stop`` and
``fixture_change`` are copied as they are; ``alive`` (keyed by producer) is not.

Each message is written once per audience (7 jurisdictions x 4 channels by default); a
deployment narrows that with :attr:`~.config.BettingConfig.offer_audiences`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from flambeau.processing import Batch, Processor, Transaction
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.errors import UnknownSportError
from flambeau.services.betting.jurisdictions import Jurisdiction, check_jurisdiction
from flambeau.services.betting.markets import market_type
from flambeau.services.betting.schemas import (
    ODDS_STREAM,
    OFFERS_STREAM,
    Alive,
    BetStop,
    Channel,
    EventPhase,
    FixtureChange,
    OddsChange,
    OddsMessage,
)
from flambeau.services.betting.sports import profile_for

__all__ = ["audience_key", "audiences", "for_audience", "offers_processor"]

Audience = tuple[Jurisdiction, Channel]


def audience_key(jurisdiction: str, channel: Channel) -> str:
    """The ``betting.offers`` key of an audience: ``"FR/internet"``."""
    return f"{jurisdiction}/{channel.value}"


def audiences(config: BettingConfig) -> tuple[Audience, ...]:
    """The audiences ``config`` writes offers for (every jurisdiction and channel by default).

    Raises:
        ValueError: an audience names a jurisdiction the table does not have.
    """
    table: Mapping[str, Jurisdiction] = config.jurisdictions
    if config.offer_audiences is None:
        return tuple((j, c) for j in table.values() for c in Channel)
    unknown = sorted({code for code, _ in config.offer_audiences} - set(table))
    if unknown:
        raise ValueError(f"offer_audiences: no rules for jurisdictions {unknown}")
    return tuple((table[code], channel) for code, channel in config.offer_audiences)


def _sport(event_id: str) -> str | None:
    try:
        return profile_for(event_id[:3]).name
    except UnknownSportError:
        return None


def for_audience(
    message: OddsMessage, jurisdiction: Jurisdiction, channel: Channel
) -> OddsMessage | None:
    """``message`` as a customer of ``jurisdiction`` on ``channel`` sees it, or ``None``."""
    if isinstance(message, Alive):
        return None
    sport = _sport(message.event_id)
    if not jurisdiction.allows_sport(sport):
        return None
    if isinstance(message, BetStop | FixtureChange):
        return message
    status = message.event_status if isinstance(message, OddsChange) else None
    in_play = status is not None and status.phase is EventPhase.LIVE
    kept: list[Any] = []
    for market in message.markets:
        mtype = market_type(market.id)
        if mtype is None:
            continue  # no rule can allow a market the service does not describe
        reason = check_jurisdiction(
            jurisdiction, mtype.kind, in_play=in_play, channel=channel, sport=sport
        )
        if reason is None:
            kept.append(market)
    if not kept:
        return None
    if len(kept) == len(message.markets):
        return message
    return msgspec.structs.replace(message, markets=tuple(kept))


def offers_processor(config: BettingConfig) -> Processor:
    """The ``betting.offers`` processor of ``config`` (not registered anywhere)."""
    chosen = audiences(config)
    processor = Processor("betting.offers", inputs=[ODDS_STREAM], outputs=[OFFERS_STREAM])

    def on_batch(batch: Batch[Any], tx: Transaction) -> None:
        for record in batch:
            for jurisdiction, channel in chosen:
                seen = for_audience(record.data, jurisdiction, channel)
                if seen is not None:
                    tx.emit(
                        OFFERS_STREAM,
                        seen,
                        key=audience_key(jurisdiction.code, channel),
                        causation_id=record.id,
                        time=record.time,
                    )

    processor.on_batch(on_batch)
    return processor
