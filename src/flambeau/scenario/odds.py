"""What a bettor's screen shows: the last odds seen on ``betting.odds``, per event and market.

The driver follows the odds stream and folds each message into an :class:`OddsBook`. When a
bettor places a bet, :meth:`OddsBook.quote` finds the market and outcome the bet is about and
the odds last shown for it, which the ticket carries as the odds the customer saw. A market
that a ``bet_stop`` suspended keeps its last odds: bettors who press "place" in the seconds
after a goal are exactly the late bets the bet engine must refuse.

Scenario markets map to UOF market ids (see the betting service's market catalogue):

=================  ==========================  ===================================
scenario market    UOF market                  selections to outcome ids
=================  ==========================  ===================================
match_winner       1 ``1x2``, else 186         home 1, draw 2, away 3; or home 4, away 5
total              18 ``total=<line>``         over 12, under 13 (the nearest line)
next_score         8 ``goalnr=<n>``            home 6, none 7, away 8
=================  ==========================  ===================================
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from flambeau.scenario.generators.bettors import BetPlacement, Market
from flambeau.services.betting.schemas import (
    BetCancel,
    BetSettlement,
    BetStop,
    OddsChange,
    OddsMessage,
    Selection,
)

__all__ = ["MarketQuote", "OddsBook"]

_WINNER_1X2 = {"home": "1", "draw": "2", "away": "3"}
_WINNER_2WAY = {"home": "4", "away": "5"}
_TOTAL = {"over": "12", "under": "13"}
_NEXT = {"home": "6", "none": "7", "away": "8"}


@dataclass
class MarketQuote:
    """One market as last shown: its status and each outcome's odds (``None``: not offered)."""

    status: str
    odds: dict[str, float | None] = field(default_factory=dict)


MarketKey = tuple[int, str]


class OddsBook:
    """The latest odds per event, for at most ``max_events`` events (least recently updated
    events are forgotten first, so a day of matches never grows it without bound)."""

    def __init__(self, max_events: int = 2_000) -> None:
        self.max_events = max_events
        self.events: OrderedDict[str, dict[MarketKey, MarketQuote]] = OrderedDict()

    def apply(self, message: OddsMessage) -> None:
        """Fold one ``betting.odds`` message."""
        match message:
            case OddsChange():
                markets = self._event(message.event_id)
                for market in message.markets:
                    quote = markets.setdefault((market.id, market.specifiers), MarketQuote(""))
                    quote.status = market.status.value
                    for outcome in market.outcomes:
                        quote.odds[outcome.id] = outcome.odds if outcome.active else None
            case BetStop():
                markets = self._event(message.event_id)
                named = {(ref.id, ref.specifiers) for ref in message.markets}
                for key, quote in markets.items():
                    if not named or key in named:
                        quote.status = message.market_status.value
            case BetSettlement() | BetCancel():
                markets = self.events.get(message.event_id, {})
                for settled in message.markets:
                    markets.pop((settled.id, settled.specifiers), None)
                if not markets:
                    self.events.pop(message.event_id, None)
            case _:
                pass

    def _event(self, event_id: str) -> dict[MarketKey, MarketQuote]:
        markets = self.events.get(event_id)
        if markets is None:
            markets = self.events[event_id] = {}
            while len(self.events) > self.max_events:
                self.events.popitem(last=False)
        else:
            self.events.move_to_end(event_id)
        return markets

    def quote(self, bet: BetPlacement) -> Selection | None:
        """The selection ``bet`` makes at the odds last shown, or ``None`` when the bettor has
        seen no odds for it (no such market offered, or the outcome is not bettable)."""
        markets = self.events.get(bet.unit)
        if not markets:
            return None
        found = self._find(markets, bet)
        if found is None:
            return None
        (market_id, specifiers), outcome = found
        odds = markets[(market_id, specifiers)].odds.get(outcome)
        if odds is None or odds <= 1.0:
            return None
        return Selection(
            event_id=bet.unit,
            market_id=market_id,
            specifiers=specifiers,
            outcome_id=outcome,
            odds=odds,
        )

    @staticmethod
    def _find(
        markets: dict[MarketKey, MarketQuote], bet: BetPlacement
    ) -> tuple[MarketKey, str] | None:
        match bet.market:
            case Market.MATCH_WINNER:
                if (1, "") in markets and bet.selection in _WINNER_1X2:
                    return (1, ""), _WINNER_1X2[bet.selection]
                if (186, "") in markets and bet.selection in _WINNER_2WAY:
                    return (186, ""), _WINNER_2WAY[bet.selection]
                return None
            case Market.TOTAL:
                lines = [key for key in markets if key[0] == 18]
                wanted = _line(bet.specifier)
                if not lines or wanted is None or bet.selection not in _TOTAL:
                    return None
                nearest = min(lines, key=lambda key: (abs((_line(key[1]) or 0.0) - wanted), key))
                return nearest, _TOTAL[bet.selection]
            case Market.NEXT_SCORE:
                goals = [key for key in markets if key[0] == 8]
                if not goals or bet.selection not in _NEXT:
                    return None
                open_first = sorted(goals, key=lambda key: (markets[key].status != "active", key))
                return open_first[0], _NEXT[bet.selection]
        return None  # pragma: no cover - every scenario market is matched above


def _line(specifiers: str) -> float | None:
    for pair in specifiers.split("|"):
        name, _, value = pair.partition("=")
        if name == "total":
            try:
                return float(value)
            except ValueError:
                return None
    return None
