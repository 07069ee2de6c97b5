"""Money of bets, as requests to the payments ledger on ``payments.requests``.

Each currency is its own ledger, numbered by ISO 4217 (EUR 978). Each operator has a *book*
account per currency and each of its customers an account; both are created idempotently (the
ledger answers ``exists`` to an identical account) before the customer's first stake. Money
moves as single transfers:

==============================  ==============  ================  ===============
what                            debit           credit            code
==============================  ==============  ================  ===============
stake (or a stake increase)     customer        book              ``bet_stake``
stake decrease on a change      book            customer          ``bet_refund``
payout of a won ticket          book            customer          ``bet_payout``
refund of a void ticket         book            customer          ``bet_refund``
payout reversed (rollback)      customer        book              ``bet_payout``
cash-out                        book            customer          ``bet_payout``
==============================  ==============  ================  ===============

Ids are deterministic (a hash of what the transfer is for), so a replayed processor batch asks
for the same transfer again and the ledger answers ``exists`` instead of paying twice; the
request's idempotency key is derived from the same hash. Customer accounts carry no balance
constraint: they record what the customer staked and won with this operator, whose own wallet
(and its limits) is outside the ledger here.
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType

from flambeau.services.payments.schemas import (
    Account,
    CreateAccounts,
    CreateTransfers,
    Transfer,
    TransferCode,
)

__all__ = [
    "BOOK_CODE",
    "CUSTOMER_CODE",
    "LEDGERS",
    "ORIGIN",
    "PAYMENTS_STREAM",
    "account_id",
    "accounts_request",
    "ledger_of",
    "transfer_request",
]

PAYMENTS_STREAM = "payments.requests"
ORIGIN = "betting"
CUSTOMER_CODE = 100
"""Account code of a customer's betting account."""
BOOK_CODE = 101
"""Account code of an operator's book (what it takes in stakes and pays out)."""

LEDGERS: MappingProxyType[str, int] = MappingProxyType(
    {
        "AUD": 36,
        "CAD": 124,
        "CHF": 756,
        "DKK": 208,
        "EUR": 978,
        "GBP": 826,
        "JPY": 392,
        "NOK": 578,
        "SEK": 752,
        "USD": 840,
    }
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


def accounts_request(ledger: int, operator: str, customer_id: str) -> CreateAccounts:
    """Create the operator's book and the customer's account (idempotent: ``exists`` if made)."""
    book = Account(id=account_id(ledger, operator), ledger=ledger, code=BOOK_CODE)
    customer = Account(
        id=account_id(ledger, operator, customer_id), ledger=ledger, code=CUSTOMER_CODE
    )
    return CreateAccounts(
        idempotency_key=f"betting:accounts:{customer.id}", ledger=ledger, accounts=[book, customer]
    )


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
        code: Why the money moves.
        to_customer: Whether the customer is credited (payouts) or debited (stakes).

    Raises:
        ValueError: ``amount_cents`` is not positive.
    """
    if amount_cents <= 0:
        raise ValueError(f"a transfer moves a positive amount, got {amount_cents}")
    book = account_id(ledger, operator)
    customer = account_id(ledger, operator, customer_id)
    debit, credit = (book, customer) if to_customer else (customer, book)
    transfer_id = _u128("betting", "transfer", str(ledger), *purpose)
    return CreateTransfers(
        idempotency_key=f"betting:{transfer_id}",
        ledger=ledger,
        transfers=[
            Transfer(
                id=transfer_id,
                debit_account_id=debit,
                credit_account_id=credit,
                amount=amount_cents,
                ledger=ledger,
                code=int(code),
            )
        ],
        origin=ORIGIN,
    )
