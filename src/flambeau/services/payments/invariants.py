"""Invariant checks over a ledger state, for tests, recovery checks and metrics.

Each check walks the whole state, so callers run it after a batch in tests and periodically
(not per transfer) in production. The guarantees checked:

1. Per ledger, the sum of ``debits_posted`` equals the sum of ``credits_posted``, and the sum of
   ``debits_pending`` equals the sum of ``credits_pending`` (double entry).
2. Per ledger, the pending sums equal the amounts of the holds still PENDING.
3. No account breaks its own flags: with ``debits_must_not_exceed_credits``,
   ``debits_pending + debits_posted <= credits_posted``, and symmetrically.
4. No balance is negative or above ``AMOUNT_MAX``.
5. Each pending transfer resolves at most once: at most one post or void names it, and its
   status agrees (POSTED with a post, VOIDED with a void, PENDING or EXPIRED with neither).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import msgspec

from flambeau.services.payments.schemas import (
    AMOUNT_MAX,
    AccountFlags,
    LedgerBalance,
    TransferFlags,
)
from flambeau.services.payments.state import LedgerState
from flambeau.services.payments.status import TransferStatus

__all__ = [
    "LedgerTotals",
    "Sums",
    "Violation",
    "balance",
    "check",
    "double_entry",
    "sums",
    "totals",
]

_DMNEC = AccountFlags.debits_must_not_exceed_credits
_CMNED = AccountFlags.credits_must_not_exceed_debits
_POST = TransferFlags.post_pending_transfer
_VOID = TransferFlags.void_pending_transfer


LedgerTotals = LedgerBalance
"""The four balance sums of one ledger, and the amount of its open holds: the
:class:`~.schemas.LedgerBalance` a ledger check publishes."""

Sums = list[int]
"""One ledger's sums as :func:`sums` counts them: accounts, debits_pending, debits_posted,
credits_pending, credits_posted, held."""


class Violation(msgspec.Struct, frozen=True):
    """One broken invariant: which rule, and the ledger, account or transfer it concerns."""

    rule: str
    subject: str
    detail: str


def totals(state: LedgerState) -> dict[int, LedgerTotals]:
    """Per ledger, the balance sums and open holds (also what metrics export)."""
    return {ledger: balance(ledger, row) for ledger, row in sorted(sums(state).items())}


def balance(ledger: int, row: Sums) -> LedgerBalance:
    """The :class:`~.schemas.LedgerBalance` of ``ledger`` whose :data:`Sums` are ``row``."""
    accounts, debits_pending, debits_posted, credits_pending, credits_posted, held = row
    return LedgerBalance(
        ledger=ledger,
        accounts=accounts,
        debits_pending=debits_pending,
        debits_posted=debits_posted,
        credits_pending=credits_pending,
        credits_posted=credits_posted,
        held=held,
    )


def sums(state: LedgerState) -> dict[int, Sums]:
    """Per ledger, its :data:`Sums` over the accounts and open holds of ``state``."""
    out: dict[int, Sums] = {}
    for account in state.accounts.values():
        row = out.setdefault(account.ledger, [0, 0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += account.debits_pending
        row[2] += account.debits_posted
        row[3] += account.credits_pending
        row[4] += account.credits_posted
    for hold_id, status in state.holds.items():
        if status is TransferStatus.PENDING:
            pending = state.transfers[hold_id]
            out.setdefault(pending.ledger, [0, 0, 0, 0, 0, 0])[5] += pending.amount
    return out


def check(state: LedgerState) -> list[Violation]:
    """Every invariant violation in ``state``; an empty list means the ledger is sound."""
    return [*_double_entry(state), *_account_limits(state), *_single_resolution(state)]


def _double_entry(state: LedgerState) -> Iterator[Violation]:
    for ledger, row in sorted(sums(state).items()):
        yield from double_entry(ledger, row)


def double_entry(ledger: int, row: Sums) -> Iterator[Violation]:
    """What breaks double entry (guarantees 1 and 2) in ``ledger``, whose :data:`Sums` are
    ``row``: the whole-state check and the monitor's per-batch check both ask this."""
    _, debits_pending, debits_posted, credits_pending, credits_posted, held = row
    subject = f"ledger {ledger}"
    if debits_posted != credits_posted:
        yield Violation(
            "posted_sums_differ",
            subject,
            f"debits_posted {debits_posted} != credits_posted {credits_posted}",
        )
    if debits_pending != credits_pending:
        yield Violation(
            "pending_sums_differ",
            subject,
            f"debits_pending {debits_pending} != credits_pending {credits_pending}",
        )
    if debits_pending != held:
        yield Violation(
            "pending_sums_differ_from_holds",
            subject,
            f"debits_pending {debits_pending} != open holds {held}",
        )


def _account_limits(state: LedgerState) -> Iterator[Violation]:
    for account in state.accounts.values():
        subject = f"account {account.id}"
        balances = (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        if any(value < 0 or value > AMOUNT_MAX for value in balances):
            yield Violation("balance_out_of_range", subject, f"balances {balances}")
        debits = account.debits_pending + account.debits_posted
        credits = account.credits_pending + account.credits_posted
        if account.flags & _DMNEC and debits > account.credits_posted:
            yield Violation(
                "debits_exceed_credits",
                subject,
                f"debits {debits} > credits_posted {account.credits_posted}",
            )
        if account.flags & _CMNED and credits > account.debits_posted:
            yield Violation(
                "credits_exceed_debits",
                subject,
                f"credits {credits} > debits_posted {account.debits_posted}",
            )


def _single_resolution(state: LedgerState) -> Iterator[Violation]:
    posts: Counter[str] = Counter()
    voids: Counter[str] = Counter()
    for transfer in state.transfers.values():
        if transfer.flags & _POST:
            posts[transfer.pending_id] += 1
        elif transfer.flags & _VOID:
            voids[transfer.pending_id] += 1
    expected = {
        (1, 0): TransferStatus.POSTED,
        (0, 1): TransferStatus.VOIDED,
    }
    for hold_id, status in state.holds.items():
        seen = (posts[hold_id], voids[hold_id])
        subject = f"transfer {hold_id}"
        if sum(seen) > 1:
            yield Violation("resolved_twice", subject, f"{seen[0]} posts, {seen[1]} voids")
            continue
        want = expected.get(seen)
        if want is None and status not in (TransferStatus.PENDING, TransferStatus.EXPIRED):
            yield Violation(
                "status_without_resolution", subject, f"status {status} but no post/void"
            )
        elif want is not None and status is not want:
            yield Violation("status_disagrees", subject, f"status {status}, expected {want}")
    for pending_id in (posts | voids).keys() - state.holds.keys():
        yield Violation("resolves_unknown_hold", f"transfer {pending_id}", "no such hold")
