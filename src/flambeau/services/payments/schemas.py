"""Payloads of the payments streams, and the records the ledger keeps.

Streams (each keyed by the ledger id as a decimal string, so one ledger has one writer):

- ``payments.requests`` (8 partitions): :class:`CreateAccounts` and :class:`CreateTransfers`.
  Settlement hooks are ordinary transfer requests: a bet stake, a bet payout or a venue purchase
  is a :class:`CreateTransfers` whose ``origin`` names the producer and whose transfers carry a
  :class:`TransferCode`.
- ``payments.transfers`` (8 partitions): the durable decisions, :class:`AccountsDecided`,
  :class:`TransfersDecided`, :class:`TransfersExpired` and :class:`RequestRejected`.
- ``payments.alerts`` (8 partitions): :class:`FraudAlert`.
- ``payments.checks`` (1 partition, kept a day): :class:`LedgerChecked`, the ledger
  processor's invariant checks after each batch, keyed by processor partition.

Identifiers (account, transfer and pending ids, ``user_data_128``) are unsigned 128-bit integers
written as canonical **decimal strings**: ``"0"`` or digits without a leading zero, at most
2**128 - 1. Strings, because JSON numbers above 2**53 lose precision in browsers and MessagePack
holds no integer above 2**64 - 1. The ledger rejects a non-canonical new id with
``id_must_be_u128`` and simply finds no account or pending transfer for one.

Amounts and balances are integer minor units from 0 to 2**63 - 1 (:data:`AMOUNT_MAX`), as are
``user_data_64`` and timestamps: TigerBeetle allows 128 (or 64 unsigned) bits, but msgspec can
only bound integers that fit a signed 64-bit value, SQLite stores no wider integer, and 9.2e18
cents is far beyond any real balance. Flags are TigerBeetle's bit sets (:class:`TransferFlags`,
:class:`AccountFlags`), with the same bit positions. Timestamps are nanoseconds since the Unix
epoch (UTC, so they last until 2262), assigned by the ledger from the batch's event time;
clients send 0.
"""

from __future__ import annotations

from datetime import timedelta
from enum import IntEnum, IntFlag, StrEnum
from typing import Annotated

import msgspec

from flambeau.events import Event, Writer, default_registry
from flambeau.services.payments.results import AccountResult, TransferResult

__all__ = [
    "AMOUNT_MAX",
    "MAX_BATCH",
    "U128_MAX",
    "Account",
    "AccountFlags",
    "AccountsDecided",
    "CreateAccounts",
    "CreateTransfers",
    "FraudAlert",
    "FraudMode",
    "InvariantViolation",
    "LedgerBalance",
    "LedgerChecked",
    "PaymentContext",
    "RequestRejected",
    "Transfer",
    "TransferCode",
    "TransferFlags",
    "TransfersDecided",
    "TransfersExpired",
]

U128_MAX = 2**128 - 1
"""The largest id; TigerBeetle reserves it, so ids equal to it are refused."""
AMOUNT_MAX = 2**63 - 1
"""The largest amount or balance, in minor units (also the largest timestamp)."""
MAX_BATCH = 8_000
"""The most accounts or transfers one request may carry."""

U128 = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=39,
        description='unsigned 128-bit integer as a decimal string, e.g. "1"',
    ),
]
Amount = Annotated[int, msgspec.Meta(ge=0, le=AMOUNT_MAX, description="integer minor units")]
U64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
U32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
U16 = Annotated[int, msgspec.Meta(ge=0, le=2**16 - 1)]
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Label = Annotated[str, msgspec.Meta(max_length=128)]


class TransferFlags(IntFlag):
    """Bits of :attr:`Transfer.flags`, at TigerBeetle's positions (no balancing, no import)."""

    linked = 1 << 0
    pending = 1 << 1
    post_pending_transfer = 1 << 2
    void_pending_transfer = 1 << 3
    closing_debit = 1 << 6
    closing_credit = 1 << 7


class AccountFlags(IntFlag):
    """Bits of :attr:`Account.flags`, at TigerBeetle's positions (no history, no import)."""

    linked = 1 << 0
    debits_must_not_exceed_credits = 1 << 1
    credits_must_not_exceed_debits = 1 << 2
    closed = 1 << 5


class TransferCode(IntEnum):
    """Conventional values of :attr:`Transfer.code`: why money moved, for settlement hooks."""

    purchase = 1
    refund = 2
    top_up = 3
    bet_stake = 10
    bet_payout = 11
    bet_refund = 12
    supplier_invoice = 20
    fee = 30


class FraudMode(StrEnum):
    """What a firing fraud rule does: refuse the transfer, flag it for a person, or only log."""

    block = "block"
    review = "review"
    shadow = "shadow"


class Account(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """An account, as created (balances 0, timestamp 0) and as reported by the ledger.

    A balance is ``credits_posted - debits_posted`` or the reverse, depending on the kind of
    account; the ledger only keeps the four sums.
    """

    id: U128
    ledger: U32
    code: U16
    flags: U16 = 0
    debits_pending: Amount = 0
    debits_posted: Amount = 0
    credits_pending: Amount = 0
    credits_posted: Amount = 0
    user_data_128: U128 = "0"
    user_data_64: U64 = 0
    user_data_32: U32 = 0
    timestamp: U64 = 0


class Transfer(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A transfer of ``amount`` from ``debit_account_id`` to ``credit_account_id``.

    A pending transfer (``flags.pending``) holds the amount; a later transfer with
    ``post_pending_transfer`` or ``void_pending_transfer`` and ``pending_id`` resolves it. For
    post and void, zero fields mean "as in the pending transfer", and a post ``amount`` of 0
    posts the whole hold. ``timeout`` is in seconds and only valid on pending transfers.
    """

    id: U128
    debit_account_id: U128 = "0"
    credit_account_id: U128 = "0"
    amount: Amount = 0
    pending_id: U128 = "0"
    user_data_128: U128 = "0"
    user_data_64: U64 = 0
    user_data_32: U32 = 0
    timeout: U32 = 0
    ledger: U32 = 0
    code: U16 = 0
    flags: U16 = 0
    timestamp: U64 = 0


class PaymentContext(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who is paying where, for the fraud rules and the analytics: tokens, never a card number.

    ``venue`` is the venue code of the terminal (empty away from a venue) and ``category``
    what was bought (``drink``, ``food``, ``merchandise``, ``transport``; free text up to 128
    characters, or an ISO 18245 merchant category code such as ``"5814"``).
    """

    transfer_id: U128
    card: Label = ""
    device: Label = ""
    terminal: Label = ""
    venue: Label = ""
    category: Label = ""


class CreateAccounts(Event, frozen=True, tag="create_accounts"):
    """Create up to :data:`MAX_BATCH` accounts of one ledger."""

    idempotency_key: IdempotencyKey
    ledger: U32
    accounts: Annotated[list[Account], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class CreateTransfers(Event, frozen=True, tag="create_transfers"):
    """Create up to :data:`MAX_BATCH` transfers of one ledger, in order.

    ``idempotency_key`` has Stripe's semantics: replaying the same request returns the first
    decision; reusing the key for different transfers is refused. ``origin`` names the producer
    of a settlement (``"betting"``, ``"venues"``) for audit.
    """

    idempotency_key: IdempotencyKey
    ledger: U32
    transfers: Annotated[list[Transfer], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]
    contexts: Annotated[list[PaymentContext], msgspec.Meta(max_length=MAX_BATCH)] = []
    origin: Label = ""


class AccountsDecided(Event, frozen=True, tag="accounts_decided"):
    """The result of each account of a request, and the accounts it created.

    ``replayed`` marks the answer to a repeated idempotency key: the results are the first
    ones, and ``accounts`` is empty because nothing new was created.
    """

    idempotency_key: IdempotencyKey
    ledger: U32
    results: list[AccountResult]
    accounts: list[Account] = []
    replayed: bool = False


class TransfersDecided(Event, frozen=True, tag="transfers_decided"):
    """The result of each transfer of a request, and the transfers it created, in order.

    ``replayed`` marks the answer to a repeated idempotency key: the results are the first
    ones, and ``transfers`` is empty because nothing new was applied.
    """

    idempotency_key: IdempotencyKey
    ledger: U32
    results: list[TransferResult]
    transfers: list[Transfer] = []
    replayed: bool = False


class TransfersExpired(Event, frozen=True, tag="transfers_expired"):
    """Pending transfers of ``ledger`` whose timeout passed; their holds were released."""

    ledger: U32
    transfer_ids: list[U128]


class RequestRejected(Event, frozen=True, tag="request_rejected"):
    """A whole request was refused before any event in it was looked at.

    ``reason`` is a stable code: ``idempotency_key_reused`` when the key was first used for a
    different request.
    """

    idempotency_key: IdempotencyKey
    ledger: U32
    reason: str
    detail: str = ""


class FraudAlert(Event, frozen=True, tag="fraud_alert"):
    """A fraud or velocity rule fired on a transfer.

    ``count``, ``amount`` and ``distinct_cards`` are the window's figures when the rule fired,
    including this transfer; ``threshold`` is what the rule compared them with. ``blocked`` is
    true when this alert refused the transfer.
    """

    rule_id: str
    mode: FraudMode
    transfer_id: U128
    ledger: U32
    window: str
    count: int
    amount: int
    threshold: int
    distinct_cards: int = 0
    card: str = ""
    device: str = ""
    terminal: str = ""
    blocked: bool = False
    venue: str = ""


class LedgerBalance(msgspec.Struct, frozen=True, kw_only=True):
    """The balance sums of one ledger over its accounts, and the amount of its open holds.

    Double entry holds when ``debits_posted == credits_posted`` and
    ``debits_pending == credits_pending == held``.
    """

    ledger: int
    accounts: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    held: int


class InvariantViolation(msgspec.Struct, frozen=True, kw_only=True):
    """One broken ledger invariant: the rule, what it concerns, and the figures."""

    rule: str
    subject: str
    detail: str


class LedgerChecked(Event, frozen=True, tag="ledger_checked"):
    """The invariant checks of one ledger processor partition after a batch.

    ``full`` marks the check of the whole partition made when the processor loads it; the
    others check what the batch changed. ``violations`` lists what this check found (at most
    100); ``violations_total`` counts every violation found since the partition was loaded.
    """

    partition: int
    requests: int
    transfers: int
    ledgers: list[LedgerBalance]
    violations: list[InvariantViolation] = []
    violations_total: int = 0
    full: bool = False


default_registry.register(
    "payments.requests",
    CreateAccounts | CreateTransfers,
    partitions=8,
    description="Account and transfer requests, keyed by ledger id",
    # the routes check a request before it is appended; betting's processor submits its own
    writer=Writer.route(
        "POST /v1/payments/accounts", "POST /v1/payments/transfers", takes_processors=True
    ),
)
default_registry.register(
    "payments.transfers",
    AccountsDecided | TransfersDecided | TransfersExpired | RequestRejected,
    partitions=8,
    description="Durable ledger decisions, keyed by ledger id",
)
default_registry.register(
    "payments.alerts",
    FraudAlert,
    partitions=8,
    description="Fraud and velocity alerts, keyed by ledger id",
)
default_registry.register(
    "payments.checks",
    LedgerChecked,
    partitions=1,
    max_age=timedelta(days=1),
    description="Ledger invariant checks after each processed batch, keyed by partition",
)
