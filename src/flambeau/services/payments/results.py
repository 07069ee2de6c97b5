"""Result codes of ledger requests, named as TigerBeetle names them.

Each enum lists its codes in descending precedence: when several apply to one event, the ledger
returns the first. Codes TigerBeetle does not have (because Python has no ``u128`` and Flambeau
routes ledgers to partitions, or screens card payments) are marked *Flambeau* below:

- ``id_must_be_u128``: the id is not the canonical decimal form of an unsigned 128-bit integer.
- ``amount_must_not_be_negative``: an amount below zero (TigerBeetle amounts are unsigned).
- ``ledger_must_match_request``: an event's ledger differs from the ledger its request is
  keyed by, which would put its accounts in the wrong partition.
- ``blocked_by_fraud_rule``: a fraud rule in ``block`` mode refused the transfer.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AccountResult", "TransferResult"]


class TransferResult(StrEnum):
    """The outcome of one transfer in a ``create_transfers`` request."""

    ok = "ok"
    linked_event_failed = "linked_event_failed"
    linked_event_chain_open = "linked_event_chain_open"
    timestamp_must_be_zero = "timestamp_must_be_zero"
    reserved_flag = "reserved_flag"
    id_must_not_be_zero = "id_must_not_be_zero"
    id_must_not_be_int_max = "id_must_not_be_int_max"
    exists_with_different_flags = "exists_with_different_flags"
    exists_with_different_pending_id = "exists_with_different_pending_id"
    exists_with_different_timeout = "exists_with_different_timeout"
    exists_with_different_debit_account_id = "exists_with_different_debit_account_id"
    exists_with_different_credit_account_id = "exists_with_different_credit_account_id"
    exists_with_different_amount = "exists_with_different_amount"
    exists_with_different_user_data_128 = "exists_with_different_user_data_128"
    exists_with_different_user_data_64 = "exists_with_different_user_data_64"
    exists_with_different_user_data_32 = "exists_with_different_user_data_32"
    exists_with_different_ledger = "exists_with_different_ledger"
    exists_with_different_code = "exists_with_different_code"
    exists = "exists"
    id_must_be_u128 = "id_must_be_u128"
    flags_are_mutually_exclusive = "flags_are_mutually_exclusive"
    debit_account_id_must_not_be_zero = "debit_account_id_must_not_be_zero"
    debit_account_id_must_not_be_int_max = "debit_account_id_must_not_be_int_max"
    credit_account_id_must_not_be_zero = "credit_account_id_must_not_be_zero"
    credit_account_id_must_not_be_int_max = "credit_account_id_must_not_be_int_max"
    accounts_must_be_different = "accounts_must_be_different"
    pending_id_must_be_zero = "pending_id_must_be_zero"
    pending_id_must_not_be_zero = "pending_id_must_not_be_zero"
    pending_id_must_not_be_int_max = "pending_id_must_not_be_int_max"
    pending_id_must_be_different = "pending_id_must_be_different"
    timeout_reserved_for_pending_transfer = "timeout_reserved_for_pending_transfer"
    closing_transfer_must_be_pending = "closing_transfer_must_be_pending"
    amount_must_not_be_negative = "amount_must_not_be_negative"
    amount_must_not_be_zero = "amount_must_not_be_zero"
    ledger_must_not_be_zero = "ledger_must_not_be_zero"
    code_must_not_be_zero = "code_must_not_be_zero"
    ledger_must_match_request = "ledger_must_match_request"
    debit_account_not_found = "debit_account_not_found"
    credit_account_not_found = "credit_account_not_found"
    accounts_must_have_the_same_ledger = "accounts_must_have_the_same_ledger"
    transfer_must_have_the_same_ledger_as_accounts = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    pending_transfer_not_found = "pending_transfer_not_found"
    pending_transfer_not_pending = "pending_transfer_not_pending"
    pending_transfer_has_different_debit_account_id = (
        "pending_transfer_has_different_debit_account_id"
    )
    pending_transfer_has_different_credit_account_id = (
        "pending_transfer_has_different_credit_account_id"
    )
    pending_transfer_has_different_ledger = "pending_transfer_has_different_ledger"
    pending_transfer_has_different_code = "pending_transfer_has_different_code"
    exceeds_pending_transfer_amount = "exceeds_pending_transfer_amount"
    pending_transfer_has_different_amount = "pending_transfer_has_different_amount"
    pending_transfer_already_posted = "pending_transfer_already_posted"
    pending_transfer_already_voided = "pending_transfer_already_voided"
    pending_transfer_expired = "pending_transfer_expired"
    overflows_debits_pending = "overflows_debits_pending"
    overflows_credits_pending = "overflows_credits_pending"
    overflows_debits_posted = "overflows_debits_posted"
    overflows_credits_posted = "overflows_credits_posted"
    overflows_debits = "overflows_debits"
    overflows_credits = "overflows_credits"
    overflows_timeout = "overflows_timeout"
    exceeds_credits = "exceeds_credits"
    exceeds_debits = "exceeds_debits"
    debit_account_already_closed = "debit_account_already_closed"
    credit_account_already_closed = "credit_account_already_closed"
    blocked_by_fraud_rule = "blocked_by_fraud_rule"


class AccountResult(StrEnum):
    """The outcome of one account in a ``create_accounts`` request."""

    ok = "ok"
    linked_event_failed = "linked_event_failed"
    linked_event_chain_open = "linked_event_chain_open"
    timestamp_must_be_zero = "timestamp_must_be_zero"
    reserved_flag = "reserved_flag"
    id_must_not_be_zero = "id_must_not_be_zero"
    id_must_not_be_int_max = "id_must_not_be_int_max"
    exists_with_different_flags = "exists_with_different_flags"
    exists_with_different_user_data_128 = "exists_with_different_user_data_128"
    exists_with_different_user_data_64 = "exists_with_different_user_data_64"
    exists_with_different_user_data_32 = "exists_with_different_user_data_32"
    exists_with_different_ledger = "exists_with_different_ledger"
    exists_with_different_code = "exists_with_different_code"
    exists = "exists"
    id_must_be_u128 = "id_must_be_u128"
    flags_are_mutually_exclusive = "flags_are_mutually_exclusive"
    debits_pending_must_be_zero = "debits_pending_must_be_zero"
    debits_posted_must_be_zero = "debits_posted_must_be_zero"
    credits_pending_must_be_zero = "credits_pending_must_be_zero"
    credits_posted_must_be_zero = "credits_posted_must_be_zero"
    ledger_must_not_be_zero = "ledger_must_not_be_zero"
    code_must_not_be_zero = "code_must_not_be_zero"
    ledger_must_match_request = "ledger_must_match_request"
