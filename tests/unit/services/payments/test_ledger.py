"""Ledger semantics: holds, chains, closing, idempotency, time, and stored state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from flambeau.services.payments.errors import LedgerStateError
from flambeau.services.payments.ledger import apply_transfers, expire
from flambeau.services.payments.results import TransferResult as R
from flambeau.services.payments.schemas import U128_MAX, TransferFlags
from flambeau.services.payments.state import LedgerState, event_time_ns, is_u128, segment_key
from flambeau.services.payments.status import TransferStatus as S

from .ledgers import (
    CLOSED,
    DMNEC,
    LINKED,
    NOW,
    account,
    apply,
    balances,
    ledger_with,
    pending,
    post,
    transfer,
    void,
)

CLOSING_DEBIT = int(TransferFlags.closing_debit)


@pytest.fixture
def state() -> LedgerState:
    return ledger_with(account(1), account(2), account(3, flags=DMNEC), account(4))


def test_a_single_phase_transfer_moves_posted_balances(state: LedgerState) -> None:
    assert apply(state, transfer(10, amount=250)) == [R.ok]
    assert balances(state, 1) == (0, 250, 0, 0)
    assert balances(state, 2) == (0, 0, 0, 250)
    assert state.status("10") is S.POSTED


def test_a_partial_post_moves_part_and_releases_the_rest(state: LedgerState) -> None:
    assert apply(state, pending(10, amount=100)) == [R.ok]
    assert balances(state, 1) == (100, 0, 0, 0)
    assert apply(state, post(11, 10, amount=30)) == [R.ok]
    assert balances(state, 1) == (0, 30, 0, 0)
    assert balances(state, 2) == (0, 0, 0, 30)
    assert state.status("10") is S.POSTED
    recorded = state.transfer("11")
    assert recorded is not None
    assert (recorded.amount, recorded.debit_account_id, recorded.ledger) == (30, "1", 1)


def test_a_post_of_zero_posts_the_whole_hold(state: LedgerState) -> None:
    apply(state, pending(10, amount=100))
    assert apply(state, post(11, 10)) == [R.ok]
    assert balances(state, 2) == (0, 0, 0, 100)


def test_a_void_releases_the_whole_hold(state: LedgerState) -> None:
    apply(state, pending(10, amount=100))
    assert apply(state, void(11, 10)) == [R.ok]
    assert balances(state, 1) == (0, 0, 0, 0)
    assert state.status("10") is S.VOIDED


def test_a_hold_counts_against_a_guarded_balance(state: LedgerState) -> None:
    apply(state, transfer(10, debit=4, credit=3, amount=100))
    assert apply(state, pending(11, debit=3, credit=1, amount=80)) == [R.ok]
    assert apply(state, transfer(12, debit=3, credit=1, amount=30)) == [R.exceeds_credits]
    assert apply(state, void(13, 11), transfer(14, debit=3, credit=1, amount=30)) == [R.ok, R.ok]


def test_holds_expire_by_event_time_only(state: LedgerState) -> None:
    apply(state, pending(10, amount=100, timeout=60))
    # NOW is in 2024: the wall clock is long past the deadline, yet nothing expires early.
    assert expire(state, NOW + timedelta(seconds=30)) == []
    assert state.status("10") is S.PENDING
    expired = expire(state, NOW + timedelta(seconds=61))
    assert [hold.id for hold in expired] == ["10"]
    assert state.status("10") is S.EXPIRED
    assert balances(state, 1) == (0, 0, 0, 0)
    assert apply(state, post(11, 10)) == [R.pending_transfer_expired]
    assert expire(state, NOW + timedelta(days=1)) == []


def test_a_hold_without_timeout_never_expires(state: LedgerState) -> None:
    apply(state, pending(10, amount=100))
    assert expire(state, NOW + timedelta(days=3650)) == []


def test_a_failed_chain_undoes_holds_and_posts_and_frees_their_ids(state: LedgerState) -> None:
    apply(state, pending(10, amount=100))
    batch = [
        pending(20, amount=5, flags=LINKED, timeout=10),
        post(21, 10, amount=40, flags=LINKED),
        transfer(22, debit=3, credit=1, amount=1),  # 3 has no funds: the chain fails here
    ]
    assert apply(state, *batch) == [R.linked_event_failed, R.linked_event_failed, R.exceeds_credits]
    assert state.status("10") is S.PENDING
    assert state.transfer("20") is None
    assert state.transfer("21") is None
    assert balances(state, 1) == (100, 0, 0, 0)
    assert balances(state, 2) == (0, 0, 100, 0)
    # The rolled-back hold's deadline must not release anything later.
    assert expire(state, NOW + timedelta(seconds=20)) == []
    assert apply(state, post(21, 10, amount=40)) == [R.ok]


def test_chains_are_independent_and_unlinked_neighbours_unaffected(state: LedgerState) -> None:
    batch = [
        transfer(10),
        transfer(11, flags=LINKED),
        transfer(12, amount=0),
        transfer(13, flags=LINKED),
        transfer(14),
        transfer(15),
    ]
    assert apply(state, *batch) == [
        R.ok,
        R.linked_event_failed,
        R.amount_must_not_be_zero,
        R.ok,
        R.ok,
        R.ok,
    ]
    assert balances(state, 1) == (0, 40, 0, 0)


def test_events_after_the_failure_in_a_chain_are_not_tried(state: LedgerState) -> None:
    batch = [transfer(10, amount=0, flags=LINKED), transfer(11, flags=LINKED), transfer(12)]
    assert apply(state, *batch) == [
        R.amount_must_not_be_zero,
        R.linked_event_failed,
        R.linked_event_failed,
    ]
    assert apply(state, transfer(11)) == [R.ok]


def test_a_chain_left_open_fails_whole(state: LedgerState) -> None:
    batch = [transfer(10, flags=LINKED), transfer(11, flags=LINKED)]
    assert apply(state, *batch) == [R.linked_event_failed, R.linked_event_chain_open]
    assert balances(state, 1) == (0, 0, 0, 0)
    broken_and_open = [transfer(12, amount=0, flags=LINKED), transfer(13, flags=LINKED)]
    assert apply(state, *broken_and_open) == [
        R.amount_must_not_be_zero,
        R.linked_event_chain_open,
    ]


def test_a_chain_sees_its_own_earlier_effects(state: LedgerState) -> None:
    batch = [
        transfer(10, debit=4, credit=3, amount=50, flags=LINKED),
        transfer(11, debit=3, credit=1, amount=50),
    ]
    assert apply(state, *batch) == [R.ok, R.ok]


def test_the_same_id_twice_in_one_batch_applies_once(state: LedgerState) -> None:
    assert apply(state, transfer(10), transfer(10)) == [R.ok, R.exists]
    assert balances(state, 1) == (0, 10, 0, 0)


def test_a_failed_id_may_be_retried(state: LedgerState) -> None:
    assert apply(state, transfer(10, debit=3, credit=1)) == [R.exceeds_credits]
    assert apply(state, transfer(10, debit=1, credit=3)) == [R.ok]


def test_a_closing_hold_closes_and_its_void_reopens(state: LedgerState) -> None:
    assert apply(state, pending(10, amount=1, flags=CLOSING_DEBIT)) == [R.ok]
    assert state.accounts["1"].flags & CLOSED
    assert apply(state, transfer(11)) == [R.debit_account_already_closed]
    assert apply(state, transfer(12, debit=2, credit=1)) == [R.credit_account_already_closed]
    assert apply(state, void(13, 10)) == [R.ok]
    assert not state.accounts["1"].flags & CLOSED
    assert apply(state, transfer(11)) == [R.ok]


def test_posting_a_closing_hold_keeps_the_account_closed(state: LedgerState) -> None:
    apply(state, pending(10, amount=1, flags=CLOSING_DEBIT))
    assert apply(state, post(11, 10)) == [R.ok]
    assert state.accounts["1"].flags & CLOSED


def test_an_expired_closing_hold_reopens(state: LedgerState) -> None:
    apply(state, pending(10, amount=1, flags=CLOSING_DEBIT, timeout=5))
    expire(state, NOW + timedelta(seconds=6))
    assert not state.accounts["1"].flags & CLOSED


def test_another_hold_on_a_closed_account_cannot_be_posted(state: LedgerState) -> None:
    apply(state, pending(10, amount=1))
    apply(state, pending(11, amount=1, flags=CLOSING_DEBIT))
    assert apply(state, post(12, 10)) == [R.debit_account_already_closed]
    assert apply(state, post(13, 11)) == [R.ok]


def test_timestamps_increase_even_when_event_time_goes_back(state: LedgerState) -> None:
    apply(state, transfer(10), transfer(11))
    apply(state, transfer(12), now=NOW - timedelta(hours=1))
    stamps = [state.transfers[i].timestamp for i in ("10", "11", "12")]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3
    assert stamps[0] == event_time_ns(NOW) + 4  # four accounts were created at NOW before


def test_naive_event_time_is_refused(state: LedgerState) -> None:
    with pytest.raises(ValueError, match="timezone"):
        apply_transfers(state, [transfer(10)], datetime(2024, 7, 26, 20, 0))


def test_changes_name_only_touched_keys_then_nothing(state: LedgerState) -> None:
    apply(state, transfer(10, debit=1, credit=2), pending(11, debit=4, credit=2))
    # both transfers are stored in one segment, named by the first one's timestamp
    stamp = state.transfers["10"].timestamp
    segment = "t/" + segment_key(stamp)
    assert set(state.changes()) == {"a/1", "a/2", "a/4", segment, "h/11", "clock"}
    assert state.changes() == {}
    book = state.transfers
    assert book.names == [segment[2:]]
    assert book.index.candidates("10") == book.index.candidates("11") == [0]
    assert not book.fresh  # written: only the segment's name and an index entry from now on
    assert state.transfers["11"] == pending(11, debit=4, credit=2, timestamp=stamp + 1)


def test_stored_state_round_trips_and_keeps_working(state: LedgerState) -> None:
    apply(state, transfer(10), pending(11, amount=7, timeout=60), pending(12, amount=3))
    restored = LedgerState.from_items(state.to_items())
    assert restored.to_items() == state.to_items()
    assert [hold.id for hold in expire(restored, NOW + timedelta(minutes=2))] == ["11"]
    assert apply(restored, post(13, 12)) == [R.ok]
    assert apply(restored, transfer(10)) == [R.exists]


def test_applying_changes_to_a_copy_reproduces_the_state(state: LedgerState) -> None:
    stored = state.to_items()
    for number in range(3):
        apply(state, transfer(100 + number), pending(200 + number, timeout=1))
        expire(state, NOW + timedelta(seconds=2 + number))
        for key, value in state.changes().items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
    assert stored == state.to_items()


def test_unknown_stored_keys_are_refused() -> None:
    with pytest.raises(LedgerStateError, match="'x/1'"):
        LedgerState.from_items({"x/1": b"\x00"})
    with pytest.raises(LedgerStateError, match="does not decode"):
        LedgerState.from_items({"a/1": b"\xc1"})


def test_transfers_of_an_account_are_listed_oldest_first(state: LedgerState) -> None:
    apply(state, transfer(10, debit=1, credit=2), transfer(11, debit=4, credit=2), transfer(12))
    assert [t.id for t in state.transfers_of("1")] == ["10", "12"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0", True),
        ("1", True),
        (str(U128_MAX), True),
        (str(U128_MAX + 1), False),
        ("01", False),
        ("-1", False),
        ("1.0", False),
        ("١٢", False),  # Arabic-Indic digits are digits, but not ASCII ones
        ("9" * 40, False),
    ],
)
def test_u128_ids_must_be_canonical_decimal(value: str, valid: bool) -> None:
    assert is_u128(value) is valid
