"""Money of bets, as requests to the payments ledger on ``payments.requests``.

Each currency is its own ledger, numbered by ISO 4217 (EUR 978). Each operator has a *book*
account per currency (what it takes in stakes and pays out) and a *deposits* account (what its
customers paid in), and each of its customers a *wallet*, which carries
``debits_must_not_exceed_credits``: the ledger refuses any stake larger than what the wallet
holds. All three are created idempotently (the ledger answers ``exists`` to an identical
account) before the customer's first deposit or stake. Money moves as single transfers:

==============================  ==============  ================  ===============
what                            debit           credit            code
==============================  ==============  ================  ===============
deposit                         deposits        customer          ``top_up``
stake (or a stake increase)     customer        book              ``bet_stake``
stake decrease on a change      book            customer          ``bet_refund``
payout of a won ticket          book            customer          ``bet_payout``
refund of a void ticket         book            customer          ``bet_refund``
payout reversed (rollback)      customer        book              ``bet_payout``
cash-out                        book            customer          ``bet_payout``
==============================  ==============  ================  ===============

A stake is first a **hold** (a pending transfer, without timeout) asked for when the ticket or
the change arrives; it is posted when the bet is accepted and voided when it is refused. The
hold's request carries an idempotency key :func:`hold_route` reads back: the ticket partition
to send the ledger's decision to (see :mod:`.stakes`).

Ids are deterministic (a hash of what the transfer is for), so a replayed processor batch asks
for the same transfer again and the ledger answers ``exists`` instead of paying twice; the
request's idempotency key is derived from the same hash.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from types import MappingProxyType

import msgspec

from flambeau.services.payments.schemas import (
    Account,
    AccountFlags,
    CreateAccounts,
    CreateTransfers,
    Transfer,
    TransferCode,
    TransferFlags,
)

__all__ = [
    "BOOK_CODE",
    "CUSTOMER_CODE",
    "DEPOSITS_CODE",
    "HOLD_PREFIX",
    "LEDGERS",
    "ORIGIN",
    "PAYMENTS_STREAM",
    "WalletCurrency",
    "account_id",
    "accounts_request",
    "deposits_account_id",
    "hold_request",
    "hold_route",
    "ledger_of",
    "resolve_request",
    "transfer_id",
    "transfer_request",
]

PAYMENTS_STREAM = "payments.requests"
ORIGIN = "betting"
CUSTOMER_CODE = 100
"""Account code of a customer's betting account."""
BOOK_CODE = 101
"""Account code of an operator's book (what it takes in stakes and pays out)."""
DEPOSITS_CODE = 102
"""Account code of an operator's deposits account (what its customers paid into wallets)."""
HOLD_PREFIX = "betting:hold:"
"""Idempotency keys of stake holds start so: ``betting:hold:<ticket partition>:<hold id>``."""


class WalletCurrency(StrEnum):
    """The currencies a wallet may hold: those with a payments ledger (:data:`LEDGERS`)."""

    AUD = "AUD"
    CAD = "CAD"
    CHF = "CHF"
    DKK = "DKK"
    EUR = "EUR"
    GBP = "GBP"
    JPY = "JPY"
    NOK = "NOK"
    SEK = "SEK"
    USD = "USD"


_NUMERIC = {"AUD": 36, "CAD": 124, "CHF": 756, "DKK": 208, "EUR": 978, "GBP": 826, "JPY": 392,
            "NOK": 578, "SEK": 752, "USD": 840}  # fmt: skip
LEDGERS: MappingProxyType[str, int] = MappingProxyType(
    {currency.value: _NUMERIC[currency.value] for currency in WalletCurrency}
)
"""Ledger numbers by currency (ISO 4217 numeric codes)."""


def ledger_of(currency: str) -> int | None:
    """The ledger of ``currency``, or ``None`` when bets in it are not supported."""
    return LEDGERS.get(currency)


def _u128(*parts: str) -> str:
    # 120 bits of a hash, plus one: never 0 and never the reserved 2**128 - 1.
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=15).digest()
    return str(int.from_bytes(digest, "big") + 1)


def account_id(ledger: int, operator: str, customer_id: str | None = None) -> str:
    """The id of a customer's account, or of the operator's book when ``customer_id`` is None."""
    if customer_id is None:
        return _u128("betting", "book", str(ledger), operator)
    return _u128("betting", "customer", str(ledger), operator, customer_id)


def deposits_account_id(ledger: int, operator: str) -> str:
    """The id of the operator's deposits account (debited by each deposit into a wallet)."""
    return _u128("betting", "deposits", str(ledger), operator)


def accounts_request(ledger: int, operator: str, customer_id: str) -> CreateAccounts:
    """Create the operator's book and deposits accounts and the customer's wallet.

    Idempotent: the ledger answers ``exists`` to accounts already made. The wallet carries
    ``debits_must_not_exceed_credits``, so a stake above its balance is refused.
    """
    book = Account(id=account_id(ledger, operator), ledger=ledger, code=BOOK_CODE)
    deposits = Account(id=deposits_account_id(ledger, operator), ledger=ledger, code=DEPOSITS_CODE)
    customer = Account(
        id=account_id(ledger, operator, customer_id),
        ledger=ledger,
        code=CUSTOMER_CODE,
        flags=int(AccountFlags.debits_must_not_exceed_credits),
    )
    return CreateAccounts(
        idempotency_key=f"betting:accounts:{customer.id}",
        ledger=ledger,
        accounts=[book, deposits, customer],
    )


def transfer_id(ledger: int, *purpose: str) -> str:
    """The id of the transfer made for ``purpose`` (the same purpose, the same id)."""
    return _u128("betting", "transfer", str(ledger), *purpose)


def _single(ledger: int, transfer: Transfer, key: str) -> CreateTransfers:
    return CreateTransfers(idempotency_key=key, ledger=ledger, transfers=[transfer], origin=ORIGIN)


def transfer_request(
    ledger: int,
    *,
    purpose: tuple[str, ...],
    operator: str,
    customer_id: str,
    amount_cents: int,
    code: TransferCode,
    to_customer: bool,
) -> CreateTransfers:
    """One transfer between the operator's book and a customer's account.

    Args:
        ledger: The currency's ledger.
        purpose: What the transfer is for, such as ``("payout", ticket_key, "2")``; it makes
            the transfer id, so the same purpose always names the same transfer.
        operator: The operator.
        customer_id: The customer.
        amount_cents: A positive amount.
        code: Why the money moves; a ``top_up`` (a deposit) comes from the deposits account.
        to_customer: Whether the customer is credited (payouts) or debited (stakes).

    Raises:
        ValueError: ``amount_cents`` is not positive.
    """
    if amount_cents <= 0:
        raise ValueError(f"a transfer moves a positive amount, got {amount_cents}")
    if code is TransferCode.top_up:
        other = deposits_account_id(ledger, operator)
    else:
        other = account_id(ledger, operator)
    customer = account_id(ledger, operator, customer_id)
    debit, credit = (other, customer) if to_customer else (customer, other)
    made = transfer_id(ledger, *purpose)
    transfer = Transfer(
        id=made,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount_cents,
        ledger=ledger,
        code=int(code),
    )
    return _single(ledger, transfer, f"betting:{made}")


def hold_request(
    ledger: int,
    *,
    purpose: tuple[str, ...],
    operator: str,
    customer_id: str,
    amount_cents: int,
    partition: int,
) -> CreateTransfers:
    """Hold a stake on the customer's wallet (a pending transfer to the book, no timeout).

    Args:
        partition: The ticket partition the ledger's decision must reach (:func:`hold_route`).

    Raises:
        ValueError: ``amount_cents`` is not positive.
    """
    stake = transfer_request(
        ledger,
        purpose=purpose,
        operator=operator,
        customer_id=customer_id,
        amount_cents=amount_cents,
        code=TransferCode.bet_stake,
        to_customer=False,
    ).transfers[0]
    held = msgspec.structs.replace(stake, flags=int(TransferFlags.pending))
    return _single(ledger, held, f"{HOLD_PREFIX}{partition}:{held.id}")


def resolve_request(ledger: int, hold_id: str, *, post: bool) -> CreateTransfers:
    """Post (the bet is accepted) or void (it is refused) the stake hold ``hold_id``."""
    verb = "post" if post else "void"
    flag = TransferFlags.post_pending_transfer if post else TransferFlags.void_pending_transfer
    made = _u128("betting", verb, str(ledger), hold_id)
    transfer = Transfer(id=made, pending_id=hold_id, ledger=ledger, flags=int(flag))
    return _single(ledger, transfer, f"betting:{made}")


def hold_route(idempotency_key: str) -> tuple[int, str] | None:
    """The ticket partition and the hold id a hold request's key names; ``None`` otherwise."""
    if not idempotency_key.startswith(HOLD_PREFIX):
        return None
    partition, _, hold_id = idempotency_key[len(HOLD_PREFIX) :].partition(":")
    if not partition.isdigit() or not hold_id:
        return None
    return int(partition), hold_id
