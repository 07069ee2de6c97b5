"""Markets: the catalogue of market types, their status machine, and creation from a fixture.

Market status follows the Unified Odds Feed (UOF) ``MarketStatus``. Every move goes through
:func:`transition`, which raises :class:`IllegalMarketTransitionError` on a move not drawn here::

      ┌──────────── bet_stop ────────────┐
      │                                  ▼
    ACTIVE ◀────── odds_change ────── SUSPENDED      odds shown in both; bets only ACTIVE
      │  │                               │  │
      │  └──────▶ HANDED_OVER ◀──────────┘  │        handed to the live producer, who takes
      │           (back to ACTIVE or        │        it back to ACTIVE or SUSPENDED; or it
      │            SUSPENDED, or CANCELLED) │        is CANCELLED
      ▼                                     ▼
    DEACTIVATED ◀───────────────────────────┘        closed; may be reactivated
      │
      ├──▶ SETTLED ─────── rollback ──▶ DEACTIVATED
      └──▶ CANCELLED ───── rollback ──▶ DEACTIVATED
    (ACTIVE and SUSPENDED may also settle or cancel directly)

Allowed moves, all others raise:

=============  =============================================================================
from           to
=============  =============================================================================
ACTIVE         ACTIVE, SUSPENDED, DEACTIVATED, HANDED_OVER, SETTLED, CANCELLED
SUSPENDED      ACTIVE, SUSPENDED, DEACTIVATED, HANDED_OVER, SETTLED, CANCELLED
DEACTIVATED    DEACTIVATED, ACTIVE, SUSPENDED, SETTLED, CANCELLED
HANDED_OVER    ACTIVE, SUSPENDED, CANCELLED
SETTLED        DEACTIVATED (rollback_bet_settlement: closed, awaiting settlement again)
CANCELLED      DEACTIVATED (rollback of the cancel)
=============  =============================================================================

Repeating ACTIVE, SUSPENDED or DEACTIVATED is a no-op (every ``odds_change`` restates the
status). Settling or cancelling twice is illegal: a corrected result rolls back first.

Market and outcome ids follow the UOF market descriptions: 1 ``1x2`` (outcomes 1, 2, 3),
186 ``winner`` (4, 5), 11 ``draw no bet`` (4, 5), 8 ``{!goalnr} goal`` (6 home, 7 none,
8 away), 18 ``total`` (13 under, 12 over), 19 and 20 home and away totals, 16 ``handicap``
(1714 home, 1715 away). UOF has no race markets for these sports; races use Flambeau ids 90001
(winner) and 90002 (``top=3``), whose outcome ids are the competitor ids. Scorer markets use
90003 (next goalscorer, ``goalnr=…``: the players' athlete codes, then ``none``) and 90004
(anytime goalscorer: the players' codes).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import NamedTuple

from flambeau.machine import Machine
from flambeau.services.betting.errors import (
    IllegalMarketTransitionError,
    InvalidSpecifiersError,
)
from flambeau.services.betting.fixtures import Fixture, LiveState
from flambeau.services.betting.sports import PricingModel

__all__ = [
    "MARKET_TYPES",
    "NO_GOAL",
    "Market",
    "MarketKey",
    "MarketKind",
    "MarketStatus",
    "MarketType",
    "format_specifiers",
    "market_type",
    "markets_for",
    "parse_specifiers",
    "reopen_suspended",
    "suspend_active",
    "transition",
]


class MarketStatus(enum.Enum):
    """The status of one market, as in UOF (``uof_code`` gives UOF's integer)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"

    @property
    def uof_code(self) -> int:
        """UOF's integer for this status (Active 1, Suspended -1, Deactivated 0, ...)."""
        return _UOF_CODES[self]


_UOF_CODES = {
    MarketStatus.ACTIVE: 1,
    MarketStatus.SUSPENDED: -1,
    MarketStatus.DEACTIVATED: 0,
    MarketStatus.HANDED_OVER: -2,
    MarketStatus.SETTLED: -3,
    MarketStatus.CANCELLED: -4,
}

_S = MarketStatus


def _explain(current: MarketStatus | None, target: MarketStatus, market: str) -> str:
    assert current is not None  # a market always has a status
    where = f"market {market}: " if market else ""
    allowed = ", ".join(sorted(s.name for s in _MOVES.allowed(current)))
    return f"{where}illegal status move {current.name} -> {target.name} (allowed: {allowed})"


_FROM_OPEN = {_S.ACTIVE, _S.SUSPENDED, _S.DEACTIVATED, _S.HANDED_OVER, _S.SETTLED, _S.CANCELLED}
_MOVES = Machine(
    "market",
    {
        _S.ACTIVE: _FROM_OPEN,
        _S.SUSPENDED: _FROM_OPEN,
        _S.DEACTIVATED: {_S.DEACTIVATED, _S.ACTIVE, _S.SUSPENDED, _S.SETTLED, _S.CANCELLED},
        _S.HANDED_OVER: {_S.ACTIVE, _S.SUSPENDED, _S.CANCELLED},
        _S.SETTLED: {_S.DEACTIVATED},
        _S.CANCELLED: {_S.DEACTIVATED},
    },
    error=IllegalMarketTransitionError,
    explain=_explain,
)


def transition(current: MarketStatus, target: MarketStatus, *, market: str = "") -> MarketStatus:
    """Move a market from ``current`` to ``target``.

    Args:
        current: The market's status now.
        target: The status asked for.
        market: A label for the error message, such as ``"sr:match:1 18 total=2.5"``.

    Returns:
        ``target``.

    Raises:
        IllegalMarketTransitionError: the diagram in this module's docstring has no such move.
    """
    return _MOVES.transition(current, target, subject=market)


class MarketKind(enum.Enum):
    """What a market is about; jurisdiction rules forbid markets by kind."""

    MATCH_1X2 = "1x2"
    MATCH_WINNER = "winner"
    DRAW_NO_BET = "draw_no_bet"
    NEXT_GOAL = "next_goal"
    TOTAL = "total"
    HOME_TOTAL = "home_total"
    AWAY_TOTAL = "away_total"
    HANDICAP = "handicap"
    RACE_WINNER = "race_winner"
    RACE_PODIUM = "race_podium"
    NEXT_SCORER = "next_scorer"
    ANYTIME_SCORER = "anytime_scorer"


@dataclass(frozen=True)
class MarketType:
    """A market description.

    Attributes:
        id: UOF market id (Flambeau's own above 90000).
        kind: What the market is about.
        name: UOF-style name template.
        outcome_ids: Fixed outcome ids, in pricing order; empty when outcomes are competitors.
        specifier: The specifier key (``total``, ``hcp``, ``goalnr``, ``top``), if any.
        groups: UOF market groups, which a ``bet_stop`` may name.
    """

    id: int
    kind: MarketKind
    name: str
    outcome_ids: tuple[str, ...] = ()
    specifier: str = ""
    groups: tuple[str, ...] = ("all", "score", "regular_play")


_K = MarketKind
MARKET_TYPES: MappingProxyType[MarketKind, MarketType] = MappingProxyType(
    {
        t.kind: t
        for t in (
            MarketType(1, _K.MATCH_1X2, "1x2", ("1", "2", "3")),
            MarketType(186, _K.MATCH_WINNER, "Winner", ("4", "5")),
            MarketType(11, _K.DRAW_NO_BET, "Draw no bet", ("4", "5")),
            MarketType(8, _K.NEXT_GOAL, "{!goalnr} goal", ("6", "7", "8"), "goalnr"),
            MarketType(18, _K.TOTAL, "Total", ("13", "12"), "total"),
            MarketType(19, _K.HOME_TOTAL, "{$competitor1} total", ("13", "12"), "total"),
            MarketType(20, _K.AWAY_TOTAL, "{$competitor2} total", ("13", "12"), "total"),
            MarketType(16, _K.HANDICAP, "Handicap", ("1714", "1715"), "hcp"),
            MarketType(90001, _K.RACE_WINNER, "Winner", groups=("all", "outright")),
            MarketType(90002, _K.RACE_PODIUM, "Top {top}", (), "top", ("all", "outright")),
            MarketType(
                90003, _K.NEXT_SCORER, "{!goalnr} goalscorer", (), "goalnr", ("all", "player")
            ),
            MarketType(90004, _K.ANYTIME_SCORER, "Anytime goalscorer", groups=("all", "player")),
        )
    }
)
"""Every market type Flambeau offers, by kind."""

_BY_ID = {t.id: t for t in MARKET_TYPES.values()}

NO_GOAL = "none"
"""The next-goalscorer outcome "no further goal" (the others are athlete codes)."""


class MarketKey(NamedTuple):
    """What identifies a market: the event, the UOF market id and the specifiers."""

    event_id: str
    market_id: int
    specifiers: str = ""


@dataclass(frozen=True, slots=True)
class Market:
    """One market of one event.

    Attributes:
        event_id: The event it belongs to.
        type: Its description.
        specifiers: Canonical specifier string (``"total=2.5"``), empty when none.
        outcomes: Outcome ids, in the order pricing fills them.
        status: Current status; change it with :meth:`moved`.
    """

    event_id: str
    type: MarketType
    specifiers: str
    outcomes: tuple[str, ...]
    status: MarketStatus = MarketStatus.ACTIVE

    @property
    def id(self) -> int:
        """The UOF market id."""
        return self.type.id

    @property
    def kind(self) -> MarketKind:
        """What the market is about."""
        return self.type.kind

    @property
    def key(self) -> MarketKey:
        """The market's identity."""
        return MarketKey(self.event_id, self.type.id, self.specifiers)

    def moved(self, target: MarketStatus) -> Market:
        """This market with status ``target``.

        Raises:
            IllegalMarketTransitionError: the move is not allowed.
        """
        if target is self.status and target in _MOVES.allowed(target):
            return self
        label = f"{self.event_id} {self.type.id} {self.specifiers}".rstrip()
        return replace(self, status=transition(self.status, target, market=label))


_SPECIFIER = re.compile(r"^[a-z][a-z0-9_]*=[^|= \t\n\r\f\v]+$")  # as odds_schemas.Specifiers


def parse_specifiers(text: str) -> dict[str, str]:
    """Split ``"total=2.5|goalnr=1"`` into ``{"total": "2.5", "goalnr": "1"}``.

    Raises:
        InvalidSpecifiersError: a part is not ``key=value`` or a key repeats.
    """
    if not text:
        return {}
    result: dict[str, str] = {}
    for part in text.split("|"):
        if not _SPECIFIER.match(part):
            raise InvalidSpecifiersError(
                f"specifiers {text!r}: {part!r} is not key=value (lower-case key, no spaces)"
            )
        key, value = part.split("=", 1)
        if key in result:
            raise InvalidSpecifiersError(f"specifiers {text!r}: key {key!r} repeats")
        result[key] = value
    return result


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_specifiers(**values: float | str) -> str:
    """The canonical specifier string, keys in the order given: ``total=2.5``, ``hcp=-1.5``."""
    return "|".join(
        f"{key}={value if isinstance(value, str) else _number(value)}"
        for key, value in values.items()
    )


def markets_for(fixture: Fixture, state: LiveState | None = None) -> tuple[Market, ...]:
    """Create the markets of a schedule entry, in the order pricing fills their outcomes.

    Head-to-head Poisson sports get 1X2 (or a two-way winner when the sport cannot draw), draw
    no bet, next goal, totals, team totals and handicaps at the profile's lines, then, when
    the sport has scorer markets and the start list named the squads, the next goalscorer and
    the anytime goalscorer. Other
    head-to-head sports get the two-way winner. Races get winner and podium (``top=3``), the
    podium only when more than three compete.

    Args:
        fixture: The schedule entry.
        state: The live state; it sets the next-goal market's ``goalnr`` (goals so far + 1).

    Returns:
        New markets, all ACTIVE.
    """
    profile = fixture.profile
    event = fixture.event_id

    def make(kind: MarketKind, specifiers: str = "", outcomes: tuple[str, ...] = ()) -> Market:
        mtype = MARKET_TYPES[kind]
        return Market(event, mtype, specifiers, outcomes or mtype.outcome_ids)

    if profile.model is PricingModel.RACE:
        field = tuple(c.id for c in fixture.competitors)
        made = [make(_K.RACE_WINNER, outcomes=field)]
        if len(field) > profile.podium_places:
            made.append(make(_K.RACE_PODIUM, format_specifiers(top=profile.podium_places), field))
        return tuple(made)
    if profile.model is PricingModel.ELO:
        return (make(_K.MATCH_WINNER),)
    goals = state.total if state is not None else 0
    made = [make(_K.MATCH_1X2) if profile.can_draw else make(_K.MATCH_WINNER)]
    if profile.can_draw:
        made.append(make(_K.DRAW_NO_BET))
    made.append(make(_K.NEXT_GOAL, format_specifiers(goalnr=goals + 1)))
    made.extend(make(_K.TOTAL, format_specifiers(total=line)) for line in profile.total_lines)
    made.extend(make(_K.HOME_TOTAL, format_specifiers(total=line)) for line in profile.team_lines)
    made.extend(make(_K.AWAY_TOTAL, format_specifiers(total=line)) for line in profile.team_lines)
    made.extend(make(_K.HANDICAP, format_specifiers(hcp=hcp)) for hcp in profile.handicap_lines)
    squad = tuple(player.id for player in fixture.scorers)
    if squad:
        made.append(make(_K.NEXT_SCORER, format_specifiers(goalnr=goals + 1), (*squad, NO_GOAL)))
        made.append(make(_K.ANYTIME_SCORER, outcomes=squad))
    return tuple(made)


def market_type(market_id: int) -> MarketType | None:
    """The market type with UOF id ``market_id``, if Flambeau offers it."""
    return _BY_ID.get(market_id)


def suspend_active(markets: Iterable[Market]) -> tuple[tuple[Market, ...], tuple[Market, ...]]:
    """Suspend every ACTIVE market, as a ``bet_stop`` does; other statuses stay as they are.

    Returns:
        ``(all markets after the stop, the markets that moved)``: when nothing moved, there is
        no ``bet_stop`` to send.
    """
    after: list[Market] = []
    moved: list[Market] = []
    for market in markets:
        if market.status is MarketStatus.ACTIVE:
            market = market.moved(MarketStatus.SUSPENDED)
            moved.append(market)
        after.append(market)
    return tuple(after), tuple(moved)


def reopen_suspended(markets: Iterable[Market]) -> tuple[Market, ...]:
    """Reopen every SUSPENDED market, as the repriced ``odds_change`` after a stop does."""
    return tuple(
        m.moved(MarketStatus.ACTIVE) if m.status is MarketStatus.SUSPENDED else m for m in markets
    )
