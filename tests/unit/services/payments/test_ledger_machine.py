"""A hypothesis state machine: the transfer state rules against a small explicit model."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from flambeau.services.payments import invariants
from flambeau.services.payments.ledger import expire
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import Transfer
from flambeau.services.payments.state import LedgerState, event_time_ns
from flambeau.services.payments.status import TransferStatus as S

from .ledgers import (
    CMNED,
    DMNEC,
    LINKED,
    NOW,
    account,
    apply,
    ledger_with,
    pending,
    post,
    transfer,
    void,
)

GUARDED = {"3": DMNEC, "4": CMNED}
ACCOUNT_IDS = st.sampled_from(["1", "2", "3", "4"])
AMOUNTS = st.integers(0, 40)


@dataclass
class Hold:
    debit: str
    credit: str
    amount: int
    deadline: int | None
    status: S = S.PENDING


@dataclass
class Model:
    """What the ledger should hold: four sums per account and each hold's status."""

    balances: dict[str, list[int]] = field(
        default_factory=lambda: {i: [0, 0, 0, 0] for i in ("1", "2", "3", "4")}
    )
    holds: dict[str, Hold] = field(default_factory=dict)

    def move(self, t: Transfer, timestamp: int) -> R:
        """Expected result of a new single-phase or pending transfer; applies it when ok."""
        if t.debit_account_id == t.credit_account_id:
            return R.accounts_must_be_different
        if t.amount == 0:
            return R.amount_must_not_be_zero
        dr, cr = self.balances[t.debit_account_id], self.balances[t.credit_account_id]
        if GUARDED.get(t.debit_account_id) == DMNEC and dr[0] + dr[1] + t.amount > dr[3]:
            return R.exceeds_credits
        if GUARDED.get(t.credit_account_id) == CMNED and cr[2] + cr[3] + t.amount > cr[1]:
            return R.exceeds_debits
        if t.flags & 2:
            dr[0] += t.amount
            cr[2] += t.amount
            deadline = timestamp + t.timeout * 10**9 if t.timeout else None
            self.holds[t.id] = Hold(t.debit_account_id, t.credit_account_id, t.amount, deadline)
        else:
            dr[1] += t.amount
            cr[3] += t.amount
        return R.ok

    def resolve(self, t: Transfer, timestamp: int, posting: bool) -> R:
        hold = self.holds[t.pending_id]
        if posting and t.amount > hold.amount:
            return R.exceeds_pending_transfer_amount
        if not posting and t.amount not in (0, hold.amount):
            return R.pending_transfer_has_different_amount
        if hold.status is S.POSTED:
            return R.pending_transfer_already_posted
        if hold.status is S.VOIDED:
            return R.pending_transfer_already_voided
        if hold.status is S.EXPIRED or (hold.deadline is not None and hold.deadline <= timestamp):
            return R.pending_transfer_expired
        dr, cr = self.balances[hold.debit], self.balances[hold.credit]
        dr[0] -= hold.amount
        cr[2] -= hold.amount
        if posting:
            dr[1] += t.amount or hold.amount
            cr[3] += t.amount or hold.amount
        hold.status = S.POSTED if posting else S.VOIDED
        return R.ok

    def expire(self, now_ns: int) -> set[str]:
        gone = set()
        for hold_id, hold in self.holds.items():
            if hold.status is S.PENDING and hold.deadline is not None and hold.deadline <= now_ns:
                self.balances[hold.debit][0] -= hold.amount
                self.balances[hold.credit][2] -= hold.amount
                hold.status = S.EXPIRED
                gone.add(hold_id)
        return gone


class LedgerMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    accepted = Bundle("accepted")

    def __init__(self) -> None:
        super().__init__()
        self.state = ledger_with(*(account(i, flags=GUARDED.get(i, 0)) for i in "1234"))
        self.model = Model()
        self.now: datetime = NOW
        self.next_id = 100

    @initialize(funds=st.integers(0, 60))
    def fund_the_guarded_accounts(self, funds: int) -> None:
        # Give 3 credits and 4 debits to spend, so their limits bind at interesting moments.
        self._new(transfer(self._id(), "1", "3", funds))
        self._new(transfer(self._id(), "4", "1", funds))

    def _id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def _next_timestamp(self) -> int:
        return max(event_time_ns(self.now), self.state.clock + 1)

    def _new(self, t: Transfer) -> R:
        expected = self.model.move(t, self._next_timestamp())
        assert apply(self.state, t, now=self.now) == [expected]
        return expected

    @rule(target=accepted, debit=ACCOUNT_IDS, credit=ACCOUNT_IDS, amount=AMOUNTS)
    def single_phase(self, debit: str, credit: str, amount: int) -> Transfer | None:
        t = transfer(self._id(), debit, credit, amount)
        return t if self._new(t) is R.ok else None

    @rule(
        target=holds,
        debit=ACCOUNT_IDS,
        credit=ACCOUNT_IDS,
        amount=AMOUNTS,
        timeout=st.sampled_from([0, 10, 60]),
    )
    def hold(self, debit: str, credit: str, amount: int, timeout: int) -> str:
        t = pending(self._id(), debit, credit, amount, timeout=timeout)
        self._new(t)
        return t.id

    @rule(hold_id=holds, amount=AMOUNTS)
    def post_hold(self, hold_id: str, amount: int) -> None:
        self._resolve(post(self._id(), hold_id, amount=amount), posting=True)

    @rule(hold_id=holds, whole=st.booleans())
    def void_hold(self, hold_id: str, whole: bool) -> None:
        known = self.model.holds.get(hold_id)
        amount = known.amount if whole and known else 0
        self._resolve(void(self._id(), hold_id, amount=amount), posting=False)

    def _resolve(self, t: Transfer, posting: bool) -> None:
        if t.pending_id not in self.model.holds:
            assert apply(self.state, t, now=self.now) == [R.pending_transfer_not_found]
            return
        expected = self.model.resolve(t, self._next_timestamp(), posting)
        assert apply(self.state, t, now=self.now) == [expected]

    @rule(t=accepted)
    def replay(self, t: Transfer | None) -> None:
        if t is not None:
            assert apply(self.state, t, now=self.now) == [R.exists]

    @rule(debit=ACCOUNT_IDS, credit=ACCOUNT_IDS, first=AMOUNTS, second=AMOUNTS)
    def linked_pair(self, debit: str, credit: str, first: int, second: int) -> None:
        a = transfer(self._id(), debit, credit, first, flags=LINKED)
        b = transfer(self._id(), credit, debit, second)
        trial = copy.deepcopy(self.model)
        timestamp = self._next_timestamp()
        ra = trial.move(a, timestamp)
        rb = trial.move(b, timestamp + 1) if ra is R.ok else R.linked_event_failed
        if ra is R.ok and rb is R.ok:
            self.model = trial
            expected = [R.ok, R.ok]
        elif ra is not R.ok:
            expected = [ra, R.linked_event_failed]
        else:
            expected = [R.linked_event_failed, rb]
        assert apply(self.state, a, b, now=self.now) == expected

    @rule(seconds=st.integers(1, 40))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        released = {hold.id for hold in expire(self.state, self.now)}
        assert released == self.model.expire(max(event_time_ns(self.now), self.state.clock))

    @rule()
    def restart(self) -> None:
        self.state = LedgerState.from_items(self.state.to_items())

    @invariant()
    def balances_match_the_model(self) -> None:
        for account_id, sums in self.model.balances.items():
            a = self.state.accounts[account_id]
            assert [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted] == sums

    @invariant()
    def statuses_match_the_model(self) -> None:
        for hold_id, hold in self.model.holds.items():
            assert self.state.status(hold_id) is hold.status

    @invariant()
    def ledger_invariants_hold(self) -> None:
        assert invariants.check(self.state) == []


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
