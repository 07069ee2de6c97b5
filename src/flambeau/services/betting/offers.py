"""What a customer of one jurisdiction, on one channel, may bet: the markets listing's filter.

``GET /v1/betting/markets?jurisdiction=FR&channel=internet`` keeps, of each event, the markets
:func:`~.jurisdictions.check_jurisdiction` allows for the event's sport, in play or not (as the
event stands), and says whether cash-out is allowed. The bet engine decides every leg with the
same function and the same table, so nothing listed is refused for its jurisdiction and nothing
refused for it is listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from flambeau.gateway import FieldError, ProblemError, ProblemKind
from flambeau.services.betting.jurisdictions import Jurisdiction, check_jurisdiction
from flambeau.services.betting.markets import market_type
from flambeau.services.betting.schemas import Channel, EventPhase
from flambeau.services.betting.views import EventMarkets

__all__ = ["CHANNEL_ALIASES", "MAX_EVENTS", "Offers", "channel_named", "offered", "offers_for"]

MAX_EVENTS = 1_000
"""The most events one listing of every event answers (``limit``)."""
CHANNEL_ALIASES = {"online": Channel.INTERNET}
"""Channel names accepted besides :class:`~.schemas.Channel`'s values."""


class Offers(msgspec.Struct, frozen=True, kw_only=True):
    """The markets a customer of ``jurisdiction`` may bet on through ``channel``, per event."""

    jurisdiction: str
    channel: Channel
    cash_out_allowed: bool
    events: tuple[EventMarkets, ...] = ()


def channel_named(name: str) -> Channel | None:
    """The channel called ``name`` (``internet``, ``mobile``, ``retail``, ``phone``, ``online``)."""
    found = CHANNEL_ALIASES.get(name)
    if found is not None:
        return found
    try:
        return Channel(name)
    except ValueError:
        return None


def offered(event: EventMarkets, jurisdiction: Jurisdiction, channel: Channel) -> EventMarkets:
    """``event`` with only the markets ``jurisdiction`` lets a customer on ``channel`` bet now."""
    in_play = event.status is not None and event.status.phase is EventPhase.LIVE
    kept = []
    for market in event.markets:
        kind = market_type(market.id)
        if kind is None:
            continue  # no rule can allow a market the service does not describe
        reason = check_jurisdiction(
            jurisdiction, kind.kind, in_play=in_play, channel=channel, sport=event.sport or None
        )
        if reason is None:
            kept.append(market)
    return msgspec.structs.replace(event, markets=tuple(kept))


def offers_for(
    table: Mapping[str, Jurisdiction], code: str, channel_name: str, events: Iterable[EventMarkets]
) -> Offers:
    """What jurisdiction ``code`` lets a customer on ``channel_name`` bet, of ``events``.

    Raises:
        ProblemError: 400 naming ``jurisdiction`` or ``channel`` when either is unknown.
    """
    jurisdiction = table.get(code)
    if jurisdiction is None:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"no rules for jurisdiction {code!r}",
            [FieldError(message=f"one of {sorted(table)}", field="jurisdiction")],
        )
    channel = channel_named(channel_name)
    if channel is None:
        names = sorted([*(c.value for c in Channel), *CHANNEL_ALIASES])
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"no channel {channel_name!r}",
            [FieldError(message=f"one of {names}", field="channel")],
        )
    return Offers(
        jurisdiction=jurisdiction.code,
        channel=channel,
        cash_out_allowed=jurisdiction.cash_out,
        events=tuple(offered(event, jurisdiction, channel) for event in events),
    )
