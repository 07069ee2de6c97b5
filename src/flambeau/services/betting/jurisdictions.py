"""What each jurisdiction lets a customer bet on: one table, used to decide and to list offers.

:data:`RULES` holds one rule per row, each with its source. :func:`jurisdiction_table` folds the
rows into one :class:`Jurisdiction` per code; the bet engine decides every leg with it
(:func:`check_jurisdiction`, in :func:`~.rules.evaluate_leg`), the ticket half refuses a
cash-out with it, and ``GET /v1/betting/markets?jurisdiction=..&channel=..`` lists only the
markets it allows, so the offer and the decision cannot disagree. A jurisdiction without a row
of some kind allows it (no rule found is no restriction). Operators load their own table in
:attr:`~.config.BettingConfig.jurisdictions`; this one is the service's default.

==========  =========================  ===================================================
code        rule                       source
==========  =========================  ===================================================
``FR``      in play: allowed           ANJ: only the sports, competitions and bet types on
                                       its list, in play included
``FR``      no two-way handicap        ANJ's list of bet types has no Asian (half-line,
                                       two-way) handicap; French sites do not offer it
``GB``      in play: allowed           UK Gambling Commission: in-play broadly allowed
``DE``      in play: final result and  GlüStV 2021, § 21 (4) sentence 2: live bets only on
            next goal only             the final result and the next event (next goal)
``IT``      in play: allowed           ADM licences cover fixed-odds sports bets, live
                                       included
``ES``      in play: allowed           Ley 13/2011; DGOJ general licence for bets covers
                                       pre-match and live sports bets
``US-NJ``   in play: allowed           NJ DGE: in-game wagering allowed (N.J.A.C. 13:69N)
``AU``      in play: retail only       Interactive Gambling Act 2001: no online in-play;
                                       "click-to-call" banned in 2016
==========  =========================  ===================================================
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from flambeau.services.betting.markets import MarketKind
from flambeau.services.betting.schemas import Channel, ReasonCode

__all__ = [
    "JURISDICTIONS",
    "RULES",
    "Jurisdiction",
    "Rule",
    "RuleKind",
    "check_jurisdiction",
    "jurisdiction_table",
]


@dataclass(frozen=True)
class Jurisdiction:
    """What one jurisdiction allows.

    Attributes:
        code: ISO 3166 code, as on tickets (``"AU"``, ``"US-NJ"``).
        in_play: Whether in-play betting is allowed at all.
        in_play_channels: When set, in-play bets are allowed only through these channels.
        forbidden_markets: Market kinds no one may bet on here, in play or not.
        in_play_markets: When set, the only market kinds allowed in play.
        sports: When set, the only sports (canonical names, ``football``) one may bet on.
        cash_out: Whether a ticket may be cashed out.
    """

    code: str
    in_play: bool = True
    in_play_channels: frozenset[Channel] | None = None
    forbidden_markets: frozenset[MarketKind] = frozenset()
    in_play_markets: frozenset[MarketKind] | None = None
    sports: frozenset[str] | None = None
    cash_out: bool = True

    def allows_sport(self, sport: str | None) -> bool:
        """Whether bets on ``sport`` are allowed (an unknown sport is not restricted)."""
        return sport is None or self.sports is None or sport in self.sports

    def allows_in_play(self, channel: Channel) -> bool:
        """Whether an in-play bet through ``channel`` is allowed."""
        if not self.in_play:
            return False
        return self.in_play_channels is None or channel in self.in_play_channels


def check_jurisdiction(
    jurisdiction: Jurisdiction,
    kind: MarketKind,
    *,
    in_play: bool,
    channel: Channel,
    sport: str | None = None,
) -> ReasonCode | None:
    """Why ``jurisdiction`` forbids a bet on a market of ``kind`` (of ``sport``) now, if it does."""
    if not jurisdiction.allows_sport(sport):
        return ReasonCode.JURISDICTION_FORBIDS_MARKET
    if kind in jurisdiction.forbidden_markets:
        return ReasonCode.JURISDICTION_FORBIDS_MARKET
    if in_play and not jurisdiction.allows_in_play(channel):
        return ReasonCode.JURISDICTION_FORBIDS_IN_PLAY
    allowed = jurisdiction.in_play_markets
    if in_play and allowed is not None and kind not in allowed:
        return ReasonCode.JURISDICTION_FORBIDS_MARKET
    return None


class RuleKind(enum.Enum):
    """What a row of the table sets (the :class:`Jurisdiction` field of the same name)."""

    IN_PLAY = "in_play"
    IN_PLAY_CHANNELS = "in_play_channels"
    FORBIDDEN_MARKETS = "forbidden_markets"
    IN_PLAY_MARKETS = "in_play_markets"
    SPORTS = "sports"
    CASH_OUT = "cash_out"


RuleValue = bool | frozenset[Channel] | frozenset[MarketKind] | frozenset[str]


@dataclass(frozen=True)
class Rule:
    """One row: ``jurisdiction`` sets ``kind`` to ``value``, because of ``source``."""

    jurisdiction: str
    kind: RuleKind
    value: RuleValue
    source: str


_K = MarketKind
RULES: tuple[Rule, ...] = (
    Rule("FR", RuleKind.IN_PLAY, True,
         "ANJ: only sports, competitions and bet types on its list may be offered, in play "
         "included (loi n° 2010-476, art. 12; the ANJ's list of sports and bet types)"),
    Rule("FR", RuleKind.FORBIDDEN_MARKETS, frozenset({_K.HANDICAP}),
         "ANJ's list of bet types: no Asian (half-line, two-way) handicap on French sites"),
    Rule("GB", RuleKind.IN_PLAY, True,
         "UK Gambling Commission: in-play betting broadly allowed (Gambling Act 2005)"),
    Rule("DE", RuleKind.IN_PLAY_MARKETS,
         frozenset({_K.MATCH_1X2, _K.MATCH_WINNER, _K.NEXT_GOAL}),
         "GlüStV 2021, § 21 (4) sentence 2: live bets only on the final result and on the "
         "next event such as the next goal"),
    Rule("IT", RuleKind.IN_PLAY, True,
         "ADM (Agenzia delle Dogane e dei Monopoli): licensed fixed-odds sports bets, live "
         "included"),
    Rule("ES", RuleKind.IN_PLAY, True,
         "Ley 13/2011 de regulación del juego; DGOJ general licence for bets: pre-match and "
         "live sports bets"),
    Rule("US-NJ", RuleKind.IN_PLAY, True,
         "New Jersey DGE: in-game sports wagering allowed (N.J.A.C. 13:69N); no New Jersey "
         "college teams (N.J.S.A. 5:12A-10), none in the Games"),
    Rule("AU", RuleKind.IN_PLAY_CHANNELS, frozenset({Channel.RETAIL}),
         "Interactive Gambling Act 2001: no online in-play betting; 'click-to-call' banned "
         "in 2016, so only a bet placed in a shop may be in play"),
)  # fmt: skip
"""The default table, one rule per row (see the module docstring)."""


def jurisdiction_table(rules: Iterable[Rule]) -> Mapping[str, Jurisdiction]:
    """One :class:`Jurisdiction` per code named in ``rules``, each row applied in order.

    Raises:
        ValueError: two rows set the same field of the same jurisdiction.
    """
    table: dict[str, Jurisdiction] = {}
    seen: set[tuple[str, RuleKind]] = set()
    for rule in rules:
        if (rule.jurisdiction, rule.kind) in seen:
            raise ValueError(f"{rule.jurisdiction}: two rows set {rule.kind.value}")
        seen.add((rule.jurisdiction, rule.kind))
        current = table.get(rule.jurisdiction) or Jurisdiction(rule.jurisdiction)
        setting: dict[str, Any] = {rule.kind.value: rule.value}
        table[rule.jurisdiction] = replace(current, **setting)
    return MappingProxyType(table)


JURISDICTIONS = jurisdiction_table(RULES)
"""The default jurisdictions: FR, GB, DE, IT, ES, US-NJ and AU."""
