"""The ticket half of the betting service: tickets, changes, cash-outs, settlement and money.

:class:`Tickets` is the handler of the ``betting.tickets`` processor. It reads ``betting.bets``
and ``betting.replies``, both keyed by ``<operator>/<customer>``, so a customer's tickets, their
liability and every answer about them meet in one partition. (A producer that keys tickets
otherwise still gets answers: they come back under the key the ticket came with; only its
changes and cash-outs must then use that key, and its customer's liability is counted per key.)

A ticket, a change and a cash-out are each an *attempt* on the ticket: the ticket half sends
one message per leg to the leg's event partition (``betting.legs``), which decides it after the
live delay (or quotes it, for a cash-out) and answers on ``betting.replies``. A ticket, and a
change that raises the stake, also ask the payments ledger to hold the stake on the customer's
wallet (:mod:`.stakes`). Once every leg has answered and the ledger has decided the hold, the
attempt is decided: the first refused leg (by position) gives the reason; else a refused hold
(``insufficient_funds``); else the customer's liability limit (``customer_liability_exceeded``,
with a reoffer). The decision goes to
``betting.decisions``; the hold is posted if the bet stands and voided if not. Legs accepted for
an attempt that fails are released.

Before any leg is asked, the customer's profile (:mod:`.profiles`) may refuse a ticket or a
change: self-exclusion, the stake limit (with a reoffer), the loss limits. A refusal by a limit
carries a **reoffer**, the largest stake that would pass, which a new ticket naming this one in
``reoffer_of`` (same selections, at most that stake) may take within
:attr:`~.config.BettingConfig.reoffer_ttl`.

The ticket's state machine and stored record are in :mod:`.ticket_records`; settlement and
money in :mod:`.payouts`; cash-outs in :mod:`.cash_outs`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import msgspec

from flambeau.processing import Batch, Transaction
from flambeau.services.betting.cash_outs import CashOuts
from flambeau.services.betting.config import BettingConfig
from flambeau.services.betting.leg_requests import ask_legs, release_legs
from flambeau.services.betting.messages import (
    LegDecided,
    LegSettled,
    LegSettlementRolledBack,
    QuoteReply,
    StakeDecided,
    customer_key,
)
from flambeau.services.betting.money import ledger_of
from flambeau.services.betting.payouts import Payouts
from flambeau.services.betting.profiles import (
    Refusal,
    deposit_refusal,
    liability_limit,
    liability_reoffer,
    load_profile,
    record_movement,
    save_profile,
    stake_refusal,
)
from flambeau.services.betting.rules import (
    potential_payout_cents,
    same_event_refusal,
    ticket_liability_cents,
)
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    CashOutRequest,
    ChangeRejected,
    CustomerDeposit,
    CustomerProfile,
    DepositRejected,
    ReasonCode,
    Selection,
    TicketAccepted,
    TicketChange,
    TicketChanged,
    TicketRejected,
    TicketSubmitted,
    ticket_ids,
)
from flambeau.services.betting.stakes import deposit, hold_stake, resolve_stake, stake_owner
from flambeau.services.betting.ticket_records import (
    Attempt,
    AttemptKind,
    Cause,
    LegAnswer,
    TicketRecord,
    TicketState,
    add_liability,
    customer_liability,
    emit_decision,
    first_refusal,
    load_ticket,
    open_or_refuse,
    save_ticket,
    transition,
)
from flambeau.services.payments.schemas import TransferCode

__all__ = ["Tickets"]


class _Verdict(NamedTuple):
    """Why an attempt is refused (``reason`` ``None``: it stands), and what it stands at."""

    reason: ReasonCode | None
    detail: str = ""
    selection: int | None = None
    odds: tuple[float, ...] = ()
    liability: int = 0
    reoffer: int | None = None


def _refusal(found: Refusal | None) -> _Verdict | None:
    return (
        None if found is None else _Verdict(found.reason, found.detail, reoffer=found.reoffer_cents)
    )


def _same_bet(a: tuple[Selection, ...], b: tuple[Selection, ...]) -> bool:
    """Whether two tickets bet the same outcomes (the odds seen may differ)."""

    def legs(s: tuple[Selection, ...]) -> list[tuple[str, int, str, str]]:
        return [(x.event_id, x.market_id, x.specifiers, x.outcome_id) for x in s]

    return legs(a) == legs(b)


def _held(ticket: TicketRecord, attempt: Attempt) -> int:
    """What ``attempt`` asked the ledger to hold: a ticket's stake, a change's increase."""
    if attempt.kind is AttemptKind.CHANGE:
        return attempt.stake_cents - ticket.stake_cents
    return attempt.stake_cents


def _reject_change(
    tx: Transaction,
    change_id: str,
    ticket: TicketRecord | TicketChange,
    reason: ReasonCode,
    detail: str,
    cause: Cause,
) -> None:
    """Refuse change ``change_id`` of ``ticket`` (or of the ticket the change names)."""
    emit_decision(
        tx,
        ChangeRejected(change_id=change_id, **ticket_ids(ticket), reason=reason, detail=detail),
        cause,
    )


class Tickets:
    """Handlers of the ticket processor (see the module docstring)."""

    def __init__(self, config: BettingConfig) -> None:
        self.config = config
        self.payouts = Payouts()
        self.cash_outs = CashOuts(config, self.payouts)

    def on_batch(self, batch: Batch[Any], tx: Transaction) -> None:
        """Handle submitted tickets, changes, cash-outs, deposits and profiles, or answers."""
        from_bets = batch.stream == BETS_STREAM
        for record in batch:
            data = record.data
            if from_bets:
                cause = Cause(record.id, record.time)
                match data:
                    case TicketSubmitted():
                        self._submitted(cause, data, tx, record.key)
                    case TicketChange():
                        self._change(cause, data, tx)
                    case CashOutRequest():
                        self.cash_outs.request(cause, data, tx)
                    case CustomerDeposit():
                        self._deposit(cause, data, tx)
                    case CustomerProfile():
                        save_profile(tx, data)
            else:
                # Replies carry no time of their own; what they decide happens now.
                self._reply(Cause(record.id, tx.now()), data, tx)

    def _deposit(self, cause: Cause, data: CustomerDeposit, tx: Transaction) -> None:
        """Credit the wallet unless the customer's deposit limits refuse it."""
        profile = load_profile(tx, data.operator, data.customer_id)
        refused = deposit_refusal(tx, profile, data.amount_cents)
        if refused is None:
            record_movement(tx, data.operator, data.customer_id, deposited=data.amount_cents)
            deposit(tx, data, cause)
            return
        rejected = DepositRejected(
            deposit_id=data.deposit_id,
            operator=data.operator,
            customer_id=data.customer_id,
            reason=refused.reason,
            detail=refused.detail,
        )
        key = customer_key(data.operator, data.customer_id)
        tx.emit(DECISIONS_STREAM, rejected, key=key, causation_id=cause.id, time=cause.at)

    # ------------------------------------------------------------------ new tickets

    def _submitted(self, cause: Cause, ticket: TicketSubmitted, tx: Transaction, key: str) -> None:
        if load_ticket(tx, ticket.operator, ticket.ticket_id) is not None:
            return  # the same ticket id again: the gateway answers with the first decision
        record_ = TicketRecord(
            **ticket_ids(ticket),
            jurisdiction=ticket.jurisdiction,
            channel=ticket.channel,
            currency=ticket.currency,
            selections=ticket.selections,
            stake_cents=ticket.stake_cents,
            request=ticket.ticket_id,
            coordinator=key or customer_key(ticket.operator, ticket.customer_id),
        )
        refused = self._static_reason(
            ticket.jurisdiction, ticket.currency, ticket.selections
        ) or self._person_refusal(tx, ticket)
        if refused is not None:
            self._reject_ticket(tx, record_, refused, cause)
            return
        attempt = Attempt(
            kind=AttemptKind.TICKET,
            request=ticket.ticket_id,
            selections=ticket.selections,
            stake_cents=ticket.stake_cents,
            policy=ticket.odds_policy,
        )
        hold_id = hold_stake(tx, record_, attempt, ticket.stake_cents, cause)
        record_movement(tx, ticket.operator, ticket.customer_id, staked=ticket.stake_cents)
        attempt = msgspec.structs.replace(attempt, hold_id=hold_id)
        record_ = msgspec.structs.replace(record_, pending=attempt)
        save_ticket(tx, record_)
        ask_legs(tx, record_, attempt, cause, check_cutoff=False)

    def _static_reason(
        self, jurisdiction: str, currency: str, selections: tuple[Selection, ...]
    ) -> _Verdict | None:
        """Refusals no delay can change: unknown jurisdiction or currency, combined legs."""
        if jurisdiction not in self.config.jurisdictions:
            return _Verdict(ReasonCode.UNKNOWN_JURISDICTION, f"no rules for {jurisdiction!r}")
        if ledger_of(currency) is None:
            return _Verdict(ReasonCode.UNSUPPORTED_CURRENCY, f"no ledger for {currency!r}")
        combined = same_event_refusal(selections)
        if combined is not None:
            reason, index, detail = combined
            return _Verdict(reason, detail, index)
        return None

    def _person_refusal(self, tx: Transaction, ticket: TicketSubmitted) -> _Verdict | None:
        """What the customer's profile refuses: a reoffer taken wrongly, or a profile rule."""
        if ticket.reoffer_of is not None:
            found = self._reoffer_refusal(tx, ticket, ticket.reoffer_of)
            if found is not None:
                return found
        profile = load_profile(tx, ticket.operator, ticket.customer_id)
        found_rule = stake_refusal(
            tx,
            profile,
            stake_cents=ticket.stake_cents,
            added_cents=ticket.stake_cents,
            default_stake_cents=self.config.stake_limit_cents,
        )
        return _refusal(found_rule)

    def _reoffer_refusal(
        self, tx: Transaction, ticket: TicketSubmitted, reoffered: str
    ) -> _Verdict | None:
        """Whether ``ticket`` may take the reoffer made on ``reoffered``; uses it up if so."""
        original = load_ticket(tx, ticket.operator, reoffered)
        mismatch = ReasonCode.REOFFER_MISMATCH
        if (
            original is None
            or original.customer_id != ticket.customer_id
            or original.reoffer_cents is None
        ):
            return _Verdict(mismatch, f"no open reoffer on ticket {reoffered!r} to this customer")
        if not _same_bet(original.selections, ticket.selections):
            return _Verdict(mismatch, f"the selections are not those of ticket {reoffered!r}")
        if ticket.stake_cents > original.reoffer_cents:
            return _Verdict(mismatch, f"stake above the {original.reoffer_cents} cents reoffered")
        until = original.reoffer_until
        if until is None or tx.now() > until:
            return _Verdict(ReasonCode.REOFFER_EXPIRED, f"the reoffer expired at {until}")
        save_ticket(tx, msgspec.structs.replace(original, reoffer_cents=None))
        return None

    def _reject_ticket(
        self, tx: Transaction, ticket: TicketRecord, verdict: _Verdict, cause: Cause
    ) -> None:
        """Refuse a new ticket, keeping its reoffer if it has one."""
        assert verdict.reason is not None
        until = tx.now() + self.config.reoffer_ttl if verdict.reoffer else None
        rejected = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.REJECTED),
            reoffer_cents=verdict.reoffer,
            reoffer_until=until,
        )
        save_ticket(tx, rejected)
        emit_decision(
            tx,
            TicketRejected(
                **ticket_ids(ticket),
                reason=verdict.reason,
                selection=verdict.selection,
                detail=verdict.detail,
                reoffer_cents=verdict.reoffer,
                reoffer_expires_at=until,
            ),
            cause,
        )

    # ------------------------------------------------------------------ changes

    def _change_refusal(
        self, tx: Transaction, change: TicketChange
    ) -> tuple[TicketRecord | None, _Verdict | None, tuple[Selection, ...]]:
        """The ticket, why the change is refused at once (if so), and its selections."""
        ticket, reason, detail = open_or_refuse(
            tx, change.operator, change.ticket_id, change.customer_id
        )
        if ticket is None or reason is not None:
            return ticket, _Verdict(reason or ReasonCode.TICKET_NOT_FOUND, detail), ()
        selections = change.selections
        if selections is None:
            # Only the stake changes: the legs are asked again at the odds they stand at.
            selections = tuple(
                msgspec.structs.replace(s, odds=o)
                for s, o in zip(ticket.selections, ticket.odds, strict=True)
            )
        else:
            found = self._static_reason(ticket.jurisdiction, ticket.currency, selections)
            if found is not None:
                return ticket, found, selections
        stake = change.stake_cents or ticket.stake_cents
        found_rule = stake_refusal(
            tx,
            load_profile(tx, ticket.operator, ticket.customer_id),
            stake_cents=stake,
            added_cents=max(stake - ticket.stake_cents, 0),
            default_stake_cents=self.config.stake_limit_cents,
        )
        return ticket, _refusal(found_rule), selections

    def _change(self, cause: Cause, change: TicketChange, tx: Transaction) -> None:
        ticket, refused, selections = self._change_refusal(tx, change)
        if ticket is None or refused is not None:
            verdict = refused or _Verdict(ReasonCode.TICKET_NOT_FOUND)
            assert verdict.reason is not None
            _reject_change(tx, change.change_id, change, verdict.reason, verdict.detail, cause)
            return
        attempt = Attempt(
            kind=AttemptKind.CHANGE,
            request=change.change_id,
            selections=selections,
            stake_cents=change.stake_cents or ticket.stake_cents,
            policy=change.odds_policy,
        )
        raised = attempt.stake_cents - ticket.stake_cents
        if raised > 0:  # the difference is held like a new stake
            hold_id = hold_stake(tx, ticket, attempt, raised, cause)
            record_movement(tx, ticket.operator, ticket.customer_id, staked=raised)
            attempt = msgspec.structs.replace(attempt, hold_id=hold_id)
        ticket = msgspec.structs.replace(ticket, pending=attempt)
        save_ticket(tx, ticket)
        ask_legs(tx, ticket, attempt, cause, check_cutoff=True)

    # ------------------------------------------------------------------ answers

    def _reply(self, cause: Cause, data: Any, tx: Transaction) -> None:
        if isinstance(data, StakeDecided):
            self._stake_decided(tx, data, cause)
            return
        ticket = load_ticket(tx, data.operator, data.ticket_id)
        if ticket is None:
            return
        match data:
            case LegDecided():
                answer = LegAnswer(
                    reason=data.reason,
                    detail=data.detail,
                    odds=data.odds,
                    in_play=data.in_play,
                    delay_ms=data.delay_ms,
                )
                self._answered(tx, ticket, data.request, data.index, answer, cause)
            case QuoteReply():
                answer = LegAnswer(
                    reason=data.reason, detail=data.detail, probability=data.probability
                )
                self._answered(tx, ticket, data.request, data.index, answer, cause)
            case LegSettled():
                self.payouts.leg_settled(tx, ticket, data, cause)
            case LegSettlementRolledBack():
                self.payouts.leg_rolled_back(tx, ticket, data, cause)

    def _answered(
        self,
        tx: Transaction,
        ticket: TicketRecord,
        request: str,
        index: int,
        answer: LegAnswer,
        cause: Cause,
    ) -> None:
        attempt = ticket.pending
        if attempt is None or attempt.request != request or index in attempt.answers:
            return  # an answer to an attempt already decided
        attempt = msgspec.structs.replace(attempt, answers={**attempt.answers, index: answer})
        self._progress(tx, ticket, attempt, cause)

    def _stake_decided(self, tx: Transaction, data: StakeDecided, cause: Cause) -> None:
        owner = stake_owner(tx, data.hold_id)
        ticket = None if owner is None else load_ticket(tx, *owner)
        if ticket is None:
            return  # a decision relayed again: the first one was used
        attempt = ticket.pending
        if attempt is None or attempt.hold_id != data.hold_id:  # pragma: no cover - defensive
            if data.collected:  # no attempt waits for it: never keep the money held
                resolve_stake(tx, ticket, data.hold_id, post=False, cause=cause)
            return
        attempt = msgspec.structs.replace(attempt, collected=data.collected, funds=data.result)
        self._progress(tx, ticket, attempt, cause)

    def _progress(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        """Keep ``attempt``; decide it once its legs and its stake hold have all answered."""
        if not attempt.complete():
            save_ticket(tx, msgspec.structs.replace(ticket, pending=attempt))
            return
        ticket = msgspec.structs.replace(ticket, pending=None)
        match attempt.kind:
            case AttemptKind.TICKET:
                self._decide_ticket(tx, ticket, attempt, cause)
            case AttemptKind.CHANGE:
                self._decide_change(tx, ticket, attempt, cause)
            case AttemptKind.CASH_OUT:
                self.cash_outs.decide(tx, ticket, attempt, cause)

    def _liability_refusal(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, odds: tuple[float, ...]
    ) -> _Verdict | None:
        """The customer's liability limit (their profile's, else the service's), with a reoffer
        of the largest stake that fits, for a new ticket."""
        liability = ticket_liability_cents(attempt.stake_cents, odds)
        current = customer_liability(tx, ticket.operator, ticket.customer_id)
        profile = load_profile(tx, ticket.operator, ticket.customer_id)
        limit = liability_limit(profile, self.config.limits.per_customer_cents)
        reached = current + liability - ticket.liability_cents
        if reached <= limit:
            return None
        room = limit - current + ticket.liability_cents
        reoffer = liability_reoffer(room, odds) if attempt.kind is AttemptKind.TICKET else None
        detail = f"customer liability would reach {reached} cents, over {limit}"
        return _Verdict(ReasonCode.CUSTOMER_LIABILITY_EXCEEDED, detail, None, odds, 0, reoffer)

    def _verdict(self, tx: Transaction, ticket: TicketRecord, attempt: Attempt) -> _Verdict:
        """Why ``attempt`` is refused (reason, detail, leg), its odds and its liability.

        In order: the first refused leg, the stake hold the ledger refused, the customer's
        liability limit (counting the ticket's current liability as released, for a change).
        """
        refusal = first_refusal(attempt)
        odds = tuple(attempt.answers[i].odds for i in range(len(attempt.selections)))
        if refusal is not None:
            index, answer = refusal
            return _Verdict(answer.reason, answer.detail, index, odds)
        if math.prod(odds) > self.config.max_ticket_odds:
            detail = f"combined odds {math.prod(odds):.2f} above {self.config.max_ticket_odds}"
            return _Verdict(ReasonCode.ODDS_ABOVE_MAXIMUM, detail, None, odds)
        if attempt.collected is False:
            detail = f"the wallet could not cover {_held(ticket, attempt)} cents ({attempt.funds})"
            return _Verdict(ReasonCode.INSUFFICIENT_FUNDS, detail, None, odds)
        over = self._liability_refusal(tx, ticket, attempt, odds)
        if over is not None:
            return over
        return _Verdict(None, "", None, odds, ticket_liability_cents(attempt.stake_cents, odds))

    def _refused(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        """Undo what a refused attempt holds: its accepted legs and its stake hold."""
        release_legs(tx, ticket, attempt.request, attempt.selections, attempt.answers, cause)
        if attempt.hold_id:  # the stake counted against the loss limits is not taken
            record_movement(tx, ticket.operator, ticket.customer_id, staked=-_held(ticket, attempt))
        if attempt.collected:
            resolve_stake(tx, ticket, attempt.hold_id, post=False, cause=cause)

    def _decide_ticket(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        verdict = self._verdict(tx, ticket, attempt)
        if verdict.reason is not None:
            self._refused(tx, ticket, attempt, cause)
            self._reject_ticket(tx, ticket, verdict, cause)
            return
        odds, liability = verdict.odds, verdict.liability
        answers = attempt.answers.values()
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.OPEN),
            odds=odds,
            liability_cents=liability,
            results=dict(attempt.settled),
        )
        add_liability(tx, ticket, liability)
        emit_decision(
            tx,
            TicketAccepted(
                **ticket_ids(ticket),
                stake_cents=ticket.stake_cents,
                odds=odds,
                potential_payout_cents=potential_payout_cents(ticket.stake_cents, odds),
                in_play=any(a.in_play for a in answers),
                delay_ms=max(a.delay_ms for a in answers),
            ),
            cause,
        )
        resolve_stake(tx, ticket, attempt.hold_id, post=True, cause=cause)
        self.payouts.maybe_settle(tx, ticket, cause)

    def _decide_change(
        self, tx: Transaction, ticket: TicketRecord, attempt: Attempt, cause: Cause
    ) -> None:
        reason, detail, _, odds, liability, _ = self._verdict(tx, ticket, attempt)
        if reason is not None:
            self._refused(tx, ticket, attempt, cause)
            save_ticket(tx, ticket)
            _reject_change(tx, attempt.request, ticket, reason, detail, cause)
            return
        release_legs(tx, ticket, ticket.request, ticket.selections, None, cause)
        difference = attempt.stake_cents - ticket.stake_cents
        add_liability(tx, ticket, liability - ticket.liability_cents)
        ticket = msgspec.structs.replace(
            ticket,
            state=transition(ticket.state, TicketState.OPEN),
            request=attempt.request,
            selections=attempt.selections,
            stake_cents=attempt.stake_cents,
            odds=odds,
            liability_cents=liability,
            results=dict(attempt.settled),
        )
        emit_decision(
            tx,
            TicketChanged(
                change_id=attempt.request,
                **ticket_ids(ticket),
                stake_cents=ticket.stake_cents,
                odds=odds,
                potential_payout_cents=potential_payout_cents(ticket.stake_cents, odds),
            ),
            cause,
        )
        if attempt.hold_id:
            resolve_stake(tx, ticket, attempt.hold_id, post=True, cause=cause)
        elif difference < 0:
            self.payouts.pay(
                tx,
                ticket,
                ("stake", attempt.request),
                -difference,
                TransferCode.bet_refund,
                to_customer=True,
                cause=cause,
            )
        self.payouts.maybe_settle(tx, ticket, cause)
