"""Continuous invariant checks of one ledger partition, cheap enough to run after every batch.

:mod:`.invariants` walks a whole state; doing that after each batch would cost more than the
batch. The :class:`Monitor` instead keeps a *shadow* of what it last saw (each account's four
balances, each open hold's amount, per-ledger sums) and, after a batch, looks only at what the
batch changed: it takes the difference between each changed account and its shadow, so the
sums it checks are read from the balances themselves, never from the transfer arithmetic that
produced them. After every batch it checks:

- per ledger, Σ ``debits_posted`` = Σ ``credits_posted`` and Σ ``debits_pending`` =
  Σ ``credits_pending`` = the amount of the holds still open;
- no changed account breaks its ``*_must_not_exceed_*`` flag or leaves ``[0, AMOUNT_MAX]``;
- each hold resolved in the batch (posted, voided or expired) was open before and is
  resolved once;
- each linked chain of a decided request succeeded or failed as a whole, and a decision
  carries exactly as many records as it has ``ok`` results.

When a partition is loaded, :meth:`Monitor.start` runs the full :func:`.invariants.check` once
and takes the shadow from it. Each check becomes a :class:`~.schemas.LedgerChecked` event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from flambeau.services.payments.decisions import Decisions
from flambeau.services.payments.invariants import Sums, balance, check, double_entry, sums
from flambeau.services.payments.results import TransferResult
from flambeau.services.payments.schemas import (
    AMOUNT_MAX,
    AccountFlags,
    CreateAccounts,
    CreateTransfers,
    InvariantViolation,
    LedgerChecked,
    TransferFlags,
    TransfersDecided,
    TransfersExpired,
)
from flambeau.services.payments.state import (
    ACCOUNT_PREFIX,
    HOLD_PREFIX,
    AccountRecord,
    LedgerState,
)
from flambeau.services.payments.status import TransferStatus

__all__ = ["MAX_REPORTED", "Monitor"]

MAX_REPORTED = 100
"""The most violations one :class:`~.schemas.LedgerChecked` lists (all are counted)."""

_LINKED = int(TransferFlags.linked)
_PENDING = int(TransferFlags.pending)
_RESOLVING = int(TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer)
_DMNEC = int(AccountFlags.debits_must_not_exceed_credits)
_CMNED = int(AccountFlags.credits_must_not_exceed_debits)
_OK = TransferResult.ok
_OPEN = TransferStatus.PENDING


class Monitor:
    """The invariant checker of one partition (see the module docstring).

    Attributes:
        partition: The processor partition, copied into each check.
        violations_total: Violations found since :meth:`start`.
    """

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.violations_total = 0
        self._accounts: dict[str, tuple[int, int, int, int, int]] = {}
        self._holds: dict[str, tuple[int, int]] = {}
        self._sums: dict[int, Sums] = {}
        self._found: list[InvariantViolation] = []
        self._requests = 0
        self._accepted = 0
        self._resolved: Counter[str] = Counter()
        self._created: set[str] = set()

    # -- loading ----------------------------------------------------------------------------

    def start(self, ledger: LedgerState) -> LedgerChecked:
        """Check the whole partition once and take the shadow from it."""
        self._accounts = {
            key: (a.ledger, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for key, a in ledger.accounts.items()
        }
        self._holds = {}
        for hold_id, status in ledger.holds.items():
            if status is _OPEN:
                pending = ledger.transfers[hold_id]
                self._holds[hold_id] = (pending.ledger, pending.amount)
        self._sums = sums(ledger)
        for violation in check(ledger):
            self._report(violation.rule, violation.subject, violation.detail)
        return self._finish(full=True)

    # -- per request -------------------------------------------------------------------------

    def observe(self, request: CreateAccounts | CreateTransfers, decided: Decisions) -> None:
        """Check one decided request: its chains, its record count, the holds it resolves."""
        self._requests += 1
        for event in decided.events:
            if isinstance(event, TransfersExpired):
                self._resolved.update(event.transfer_ids)
            elif isinstance(event, TransfersDecided) and not event.replayed:
                assert isinstance(request, CreateTransfers)
                self._decided(request, event)

    def _decided(self, request: CreateTransfers, event: TransfersDecided) -> None:
        results = event.results
        ok = sum(1 for result in results if result is _OK)
        if ok != len(event.transfers):
            self._report(
                "accepted_count_mismatch",
                f"request {event.idempotency_key}",
                f"{ok} ok results but {len(event.transfers)} accepted records",
            )
        self._accepted += len(event.transfers)
        for record in event.transfers:
            if record.flags & _PENDING:
                self._created.add(record.id)
            elif record.flags & _RESOLVING:
                self._resolved[record.pending_id] += 1
        start = -1
        last = len(request.transfers) - 1
        for index, transfer in enumerate(request.transfers):
            linked = transfer.flags & _LINKED
            if start < 0:
                if not linked:
                    continue
                start = index
            # a chain ends at its first unlinked transfer, or open at the end of the request
            if not linked or index == last:
                self._chain(event, results[start : index + 1], start)
                start = -1

    def _chain(self, event: TransfersDecided, results: Sequence[TransferResult], at: int) -> None:
        passed = {result is _OK for result in results}
        if len(passed) > 1:
            self._report(
                "chain_partially_applied",
                f"request {event.idempotency_key}",
                f"linked chain at index {at}: results {[str(r) for r in results]}",
            )

    # -- per batch ---------------------------------------------------------------------------

    def after_batch(
        self, ledger: LedgerState, changes: Mapping[str, bytes | None]
    ) -> LedgerChecked:
        """Check what the batch changed (``changes`` as :meth:`.LedgerState.changes` gave it)."""
        sums = self._sums
        shadow = self._accounts
        accounts = ledger.accounts
        touched: set[int] = set()
        for key in changes:
            if key.startswith(ACCOUNT_PREFIX):
                self._account(key[2:], accounts, shadow, sums, touched)
        self._check_holds(ledger, changes, touched)
        for number in touched:
            for violation in double_entry(number, sums[number]):
                self._report(violation.rule, violation.subject, violation.detail)
        return self._finish(full=False)

    def _account(
        self,
        key: str,
        accounts: Mapping[str, AccountRecord],
        shadow: dict[str, tuple[int, int, int, int, int]],
        sums: dict[int, Sums],
        touched: set[int],
    ) -> None:
        account = accounts.get(key)
        if account is None:
            return
        number = account.ledger
        dp, dpo = account.debits_pending, account.debits_posted
        cp, cpo = account.credits_pending, account.credits_posted
        flags = account.flags
        row = sums.get(number)
        if row is None:
            row = sums[number] = [0, 0, 0, 0, 0, 0]
        old = shadow.get(key)
        if old is None:
            row[0] += 1
            old = (number, 0, 0, 0, 0)
        row[1] += dp - old[1]
        row[2] += dpo - old[2]
        row[3] += cp - old[3]
        row[4] += cpo - old[4]
        shadow[key] = (number, dp, dpo, cp, cpo)
        touched.add(number)
        if not (0 <= dp <= AMOUNT_MAX and 0 <= dpo <= AMOUNT_MAX) or not (
            0 <= cp <= AMOUNT_MAX and 0 <= cpo <= AMOUNT_MAX
        ):
            self._report("balance_out_of_range", f"account {key}", f"balances {(dp, dpo, cp, cpo)}")
        if flags & _DMNEC and dp + dpo > cpo:
            self._report(
                "debits_exceed_credits",
                f"account {key}",
                f"debits {dp + dpo} > credits_posted {cpo}",
            )
        if flags & _CMNED and cp + cpo > dpo:
            self._report(
                "credits_exceed_debits",
                f"account {key}",
                f"credits {cp + cpo} > debits_posted {dpo}",
            )

    def _check_holds(
        self, ledger: LedgerState, changes: Mapping[str, bytes | None], touched: set[int]
    ) -> None:
        resolved, self._resolved = self._resolved, Counter()
        created, self._created = self._created, set()
        for hold_id, count in resolved.items():
            if count > 1:
                self._report("resolved_twice", f"transfer {hold_id}", f"resolved {count} times")
            elif hold_id not in self._holds and hold_id not in created:
                self._report(
                    "resolved_a_closed_hold", f"transfer {hold_id}", "it was not open before"
                )
        holds = self._holds
        for key in changes:
            if not key.startswith(HOLD_PREFIX):
                continue
            hold_id = key[2:]
            status = ledger.holds.get(hold_id)
            was = holds.get(hold_id)
            if status is _OPEN and was is None:
                pending = ledger.transfers[hold_id]
                was = holds[hold_id] = (pending.ledger, pending.amount)
                self._held(was[0], was[1], touched)
            elif status is not _OPEN and was is not None:
                del holds[hold_id]
                self._held(was[0], -was[1], touched)
                if hold_id not in resolved:
                    self._report(
                        "hold_closed_without_resolution", f"transfer {hold_id}", f"now {status}"
                    )

    def _held(self, number: int, amount: int, touched: set[int]) -> None:
        row = self._sums.get(number)
        if row is None:
            row = self._sums[number] = [0, 0, 0, 0, 0, 0]
        row[5] += amount
        touched.add(number)

    # -- reporting ---------------------------------------------------------------------------

    def _report(self, rule: str, subject: str, detail: str) -> None:
        self.violations_total += 1
        if len(self._found) < MAX_REPORTED:
            self._found.append(InvariantViolation(rule=rule, subject=subject, detail=detail))

    def _finish(self, *, full: bool) -> LedgerChecked:
        found, self._found = self._found, []
        requests, self._requests = self._requests, 0
        accepted, self._accepted = self._accepted, 0
        return LedgerChecked(
            partition=self.partition,
            requests=requests,
            transfers=accepted,
            ledgers=[balance(number, row) for number, row in sorted(self._sums.items())],
            violations=found,
            violations_total=self.violations_total,
            full=full,
        )
