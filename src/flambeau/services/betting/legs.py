"""The bet engine's half of a ticket that lives with the market: one leg, decided in place.

:class:`Legs` handles ``betting.legs`` in the trading processor's partitions, next to the
markets the legs bet on (see :mod:`.trading` for why the delay is a processing-time timer):

- a :class:`~.messages.LegCheck` on a market that does not exist, or whose outcome does not,
  is refused at once; a pre-match leg is decided at once; an in-play leg waits its sport's live
  delay (timer ``delay/<leg>``), then is refused ``market_suspended`` if any stop fell within
  the delay, else decided by :func:`~.rules.evaluate_leg` and the market's liability limit.
  An accepted leg is held (``l/<event>/<leg>``) until released or settled;
- a :class:`~.messages.LegRelease` drops a held leg and its liability;
- a :class:`~.messages.QuoteRequest` answers a leg's fair probability for a cash-out, or why
  there is none (the cut-off passed, the source is down, the market is not open).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import msgspec

from flambeau.events import Record
from flambeau.processing import Transaction
from flambeau.services.betting.book import (
    EventBook,
    HeldLeg,
    MarketRow,
    PendingLeg,
    leg_ids,
    leg_prefix,
    load_book,
    producer_up,
    reply,
    save_book,
)
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.markets import MarketStatus
from flambeau.services.betting.messages import (
    LegCheck,
    LegDecided,
    LegRelease,
    QuoteReply,
    QuoteRequest,
)
from flambeau.services.betting.rules import Quote, Verdict, evaluate_leg, live_delay
from flambeau.services.betting.schemas import ReasonCode

__all__ = ["DELAY_PREFIX", "Legs", "leg_id"]

DELAY_PREFIX = "delay/"
"""Timer keys of legs waiting out their live delay."""
_MOVED_UNDER = frozenset(
    {None, ReasonCode.MARKET_SUSPENDED, ReasonCode.ODDS_CHANGED, ReasonCode.OUTCOME_INACTIVE}
)


def leg_id(operator: str, ticket_id: str, request: str, index: int) -> str:
    """A short, stable name of one leg of one attempt of a ticket, for state and timer keys."""
    text = "\x1f".join((operator, ticket_id, request, str(index)))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class Legs:
    """Decides, holds, releases and quotes legs (see the module docstring)."""

    def __init__(self, config: BettingConfig) -> None:
        self.config = config

    def handle(self, record: Record[Any], data: Any, tx: Transaction) -> None:
        """Handle one message of ``betting.legs``."""
        match data:
            case LegCheck():
                self._leg_check(record, data, tx)
            case LegRelease():
                self._leg_release(data, tx)
            case QuoteRequest():
                self._quote(record, data, tx)

    def _leg_check(self, record: Record[Any], check: LegCheck, tx: Transaction) -> None:
        selection = check.selection
        book = load_book(tx, selection.event_id)
        row = None if book is None else book.find(selection.market_id, selection.specifiers)
        if book is None or row is None:
            self._decided(tx, check, record.id, ReasonCode.UNKNOWN_MARKET, "no such market")
            return
        if selection.outcome_id not in row.outcomes:
            self._decided(
                tx,
                check,
                record.id,
                ReasonCode.UNKNOWN_OUTCOME,
                f"no outcome {selection.outcome_id!r}",
            )
            return
        delay = live_delay(book.sport, in_play=book.in_play, overrides=self.config.delays)
        if delay <= timedelta(0):
            self._decide(tx, check, book, book.epoch, 0, record.id)
            return
        name = leg_id(check.operator, check.ticket_id, check.request, check.index)
        delay_ms = delay // timedelta(milliseconds=1)
        tx.state.put(f"p/{name}", PendingLeg(check=check, epoch=book.epoch, delay_ms=delay_ms))
        tx.timers.after(DELAY_PREFIX + name, delay, causation_id=record.id)

    def delayed(self, name: str, tx: Transaction) -> None:
        """Decide the leg ``name`` whose delay has passed."""
        pending = tx.state.get(f"p/{name}", PendingLeg)
        if pending is None:
            return
        tx.state.delete(f"p/{name}")
        book = load_book(tx, pending.check.selection.event_id)
        if book is None:
            return
        self._decide(tx, pending.check, book, pending.epoch, pending.delay_ms, None)

    def _decide(
        self,
        tx: Transaction,
        check: LegCheck,
        book: EventBook,
        epoch: int,
        delay_ms: int,
        cause: str | None,
    ) -> None:
        selection = check.selection
        row = book.find(selection.market_id, selection.specifiers)
        if row is None:
            self._decided(tx, check, cause, ReasonCode.UNKNOWN_MARKET, "no such market")
            return
        if check.check_cutoff and book.cutoff_passed:
            self._decided(
                tx, check, cause, ReasonCode.CUTOFF_PASSED, "changes closed at the cut-off"
            )
            return
        jurisdiction = self.config.jurisdictions.get(check.jurisdiction)
        if jurisdiction is None:
            self._decided(tx, check, cause, ReasonCode.UNKNOWN_JURISDICTION, check.jurisdiction)
            return
        odds, probabilities = book.quote_of(row)
        quote = Quote(
            book.market(row),
            book.sport,
            book.in_play,
            odds,
            probabilities,
            producer_up(tx, book),
        )
        verdict = evaluate_leg(
            selection,
            quote,
            jurisdiction=jurisdiction,
            channel=check.channel,
            policy=check.policy,
            index=check.index,
        )
        if epoch != book.epoch and verdict.reason in _MOVED_UNDER:
            # A stop happened while the leg waited: the game changed under it, even if the
            # repriced market has reopened since (with other odds).
            self._decided(
                tx,
                check,
                cause,
                ReasonCode.MARKET_SUSPENDED,
                "a bet stop fell within the live delay",
            )
            return
        if not verdict.accepted:
            assert verdict.reason is not None
            self._decided(tx, check, cause, verdict.reason, verdict.detail)
            return
        held = book.liability.get(row.label, 0)
        if held + check.liability_cents > self.config.limits.per_market_cents:
            self._decided(
                tx,
                check,
                cause,
                ReasonCode.LIABILITY_EXCEEDED,
                f"market {row.label} would hold {held + check.liability_cents} cents",
            )
            return
        self._hold(tx, check, book, row, held, verdict, delay_ms, cause)

    def _hold(
        self,
        tx: Transaction,
        check: LegCheck,
        book: EventBook,
        row: MarketRow,
        held: int,
        verdict: Verdict,
        delay_ms: int,
        cause: str | None,
    ) -> None:
        """Accept the checked leg: hold it on its event, add its liability to the market's
        (``held`` so far), and answer."""
        selection = check.selection
        name = leg_id(check.operator, check.ticket_id, check.request, check.index)
        tx.state.put(
            leg_prefix(book.event_id) + name,
            HeldLeg(
                **leg_ids(check),
                coordinator=check.coordinator,
                market_id=row.id,
                specifiers=row.specifiers,
                outcome_id=selection.outcome_id,
                liability_cents=check.liability_cents,
            ),
        )
        liability = {**book.liability, row.label: held + check.liability_cents}
        save_book(tx, msgspec.structs.replace(book, liability=liability))
        self._decided(
            tx,
            check,
            cause,
            None,
            "",
            odds=verdict.odds[0],
            in_play=verdict.in_play,
            delay_ms=delay_ms,
        )

    @staticmethod
    def _decided(
        tx: Transaction,
        check: LegCheck,
        cause: str | None,
        reason: ReasonCode | None,
        detail: str,
        *,
        odds: float = 0.0,
        in_play: bool = False,
        delay_ms: int = 0,
    ) -> None:
        decided = LegDecided(
            **leg_ids(check),
            event_id=check.selection.event_id,
            reason=reason,
            detail=detail,
            odds=odds,
            in_play=in_play,
            delay_ms=delay_ms,
        )
        reply(tx, check, decided, cause)

    def _leg_release(self, release: LegRelease, tx: Transaction) -> None:
        name = leg_id(release.operator, release.ticket_id, release.request, release.index)
        key = leg_prefix(release.event_id) + name
        leg = tx.state.get(key, HeldLeg)
        if leg is None:
            return
        tx.state.delete(key)
        book = load_book(tx, release.event_id)
        if book is None:
            return
        label = MarketRow(leg.market_id, leg.specifiers, (), MarketStatus.ACTIVE).label
        left = max(book.liability.get(label, 0) - leg.liability_cents, 0)
        save_book(tx, msgspec.structs.replace(book, liability={**book.liability, label: left}))

    def _quote(self, record: Record[Any], request: QuoteRequest, tx: Transaction) -> None:
        selection = request.selection
        book = load_book(tx, selection.event_id)
        row = None if book is None else book.find(selection.market_id, selection.specifiers)
        reason: ReasonCode | None = None
        detail = ""
        probability = 0.0
        if book is None or row is None:
            reason, detail = ReasonCode.UNKNOWN_MARKET, "no such market"
        elif book.cutoff_passed:
            reason, detail = ReasonCode.CUTOFF_PASSED, "cash-out closed at the cut-off"
        elif not producer_up(tx, book):
            reason, detail = ReasonCode.PRODUCER_DOWN, "the results source is down"
        elif row.status is MarketStatus.SUSPENDED:
            reason, detail = ReasonCode.MARKET_SUSPENDED, f"market {row.label} is suspended"
        elif row.status is not MarketStatus.ACTIVE:
            reason, detail = ReasonCode.MARKET_CLOSED, f"market {row.label} is {row.status.value}"
        else:
            _, probabilities = book.quote_of(row)
            probability = probabilities.get(selection.outcome_id, 0.0)
            if probability <= 0.0:
                reason, detail = ReasonCode.SELECTION_LOST, "the selection cannot win"
        quote = QuoteReply(
            **leg_ids(request), reason=reason, detail=detail, probability=probability
        )
        reply(tx, request, quote, record.id)
