"""HTTP routes of customers' wallets: where a customer's money is, and deposits into it.

=====================================================  ===========================  ============
route                                                  scope                        answers
=====================================================  ===========================  ============
``GET /v1/betting/customers/{id}[?currency=EUR]``      read ``betting.decisions``   the wallet
``POST /v1/betting/customers/{id}/deposits[?wait=]``   write ``betting.bets``       the deposit
``POST /v1/betting/customers``                         write ``betting.bets``       the profile
=====================================================  ===========================  ============

A profile (:class:`~.schemas.CustomerProfile`: confidence factor, stake and liability limits,
self-exclusion, deposit and loss limits per day, week and month; see :mod:`.profiles`) goes
through ``betting.bets`` under the customer's key, so it applies to every later ticket,
change and deposit of that customer; the last one sent replaces the previous one.

A customer's wallet is an account of the payments ledger of its currency, opened by the betting
service before the customer's first deposit or ticket, with ``debits_must_not_exceed_credits``:
a stake the wallet cannot cover is refused ``insufficient_funds``. The ``GET`` answers the
wallet's ledger account id (for the payments routes) and its balance, from the payments
ledger's own decisions (:mod:`.wallets`); a customer without a wallet in that currency is a 404.
A deposit (money the operator received from the customer) goes through ``betting.bets``, so it
reaches the ledger before any later ticket of the same customer.

The operator is the API key's tenant (an admin key may name another in ``operator``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from flambeau.events import NewEvent
from flambeau.gateway import (
    FieldError,
    ProblemError,
    ProblemKind,
    gateway_of,
)
from flambeau.services.betting.money import (
    LEDGERS,
    WalletCurrency,
    account_id,
    transfer_id,
)
from flambeau.services.betting.schemas import (
    BETS_STREAM,
    DECISIONS_STREAM,
    Cents,
    ConfidenceFactor,
    CustomerDeposit,
    CustomerProfile,
    Id,
    PeriodLimits,
    PositiveCents,
    bets_event_id,
    customer_key,
)
from flambeau.services.betting.views import ticket_book
from flambeau.services.betting.wallets import wallet_book
from flambeau.services.betting.web import (
    WAIT_TIMEOUT_S,
    conflict,
    read_route,
    synced,
    tenant,
    write_request,
    write_route,
)

__all__ = [
    "MAX_DEPOSIT_CENTS",
    "CustomerView",
    "DepositBody",
    "DepositView",
    "ProfileBody",
    "routes",
]

MAX_DEPOSIT_CENTS = 10**11
"""The largest single deposit, in minor units (a billion units of the currency)."""


class CustomerView(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's wallet: its ledger account and what it holds, in minor units."""

    customer_id: str
    operator: str
    currency: str
    ledger: int
    account_id: str
    balance_cents: int
    held_cents: int
    available_cents: int


class DepositBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A deposit: ``deposit_id`` is the operator's idempotency id (per customer)."""

    deposit_id: Id
    amount_cents: Annotated[int, msgspec.Meta(gt=0, le=MAX_DEPOSIT_CENTS)]
    currency: WalletCurrency = WalletCurrency.EUR
    operator: Id | None = None


class ProfileBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A customer's profile, as the operator sets it (see :class:`~.schemas.CustomerProfile`)."""

    customer_id: Id
    confidence_factor: ConfidenceFactor = 1.0
    max_stake_cents: PositiveCents | None = None
    max_liability_cents: Cents | None = None
    self_excluded: bool = False
    deposit_limits: PeriodLimits = PeriodLimits()
    loss_limits: PeriodLimits = PeriodLimits()
    operator: Id | None = None


class DepositView(msgspec.Struct, frozen=True, kw_only=True):
    """A deposit and the ledger's result (``pending`` until it has decided).

    ``result`` is ``refused`` when a deposit limit refused it (``reason``, ``detail``).
    """

    deposit_id: str
    customer_id: str
    operator: str
    currency: str
    amount_cents: int
    account_id: str
    transfer_id: str
    result: str = "pending"
    reason: str | None = None
    detail: str = ""


@read_route(
    "/v1/betting/customers/{customer_id:str}",
    "A customer's wallet",
    not_found="No wallet for this customer in this currency",
    bad_request="A currency without a payments ledger",
)
async def read_customer(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    currency: Annotated[
        WalletCurrency, QueryParameter(description="ISO 4217 currency of a payments ledger.")
    ] = WalletCurrency.EUR,
    operator: Annotated[str | None, QueryParameter(description="Admin keys only.")] = None,
) -> CustomerView:
    """The customer's wallet account id in the payments ledger, and its balance."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "read", DECISIONS_STREAM)
    owner = tenant(principal, operator)
    ledger = LEDGERS[currency]
    account = account_id(ledger, owner, customer_id)
    view, book = wallet_book(gateway.log)
    wallet = await synced(view, lambda: book.wallets.get(account))
    if wallet is None:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND,
            f"operator {owner!r} has no customer {customer_id!r} with a {currency} wallet: "
            "a wallet opens with the customer's first deposit or ticket",
        )
    return CustomerView(
        customer_id=customer_id,
        operator=owner,
        currency=currency,
        ledger=ledger,
        account_id=account,
        balance_cents=wallet.balance,
        held_cents=wallet.debits_pending,
        available_cents=wallet.available,
    )


@write_route(
    "/v1/betting/customers/{customer_id:str}/deposits",
    DepositBody,
    "Deposit into a customer's wallet",
    pending=DepositView,
)
async def deposit(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    wait: Annotated[bool, QueryParameter(description="Wait for the ledger.")] = False,
) -> Response[DepositView]:
    """Credit the customer's wallet (opening it first); 200 once the ledger decided it."""
    gateway, principal, body = await write_request(request, DepositBody)
    owner = tenant(principal, body.operator)
    ledger = LEDGERS[body.currency]
    if not 0 < len(customer_id) <= 128:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"customer id of {len(customer_id)} characters",
            [FieldError(message="1 to 128 characters", field="customer_id")],
        )
    event = CustomerDeposit(
        deposit_id=body.deposit_id,
        operator=owner,
        customer_id=customer_id,
        amount_cents=body.amount_cents,
        currency=body.currency,
    )
    tickets, book_of_bets = ticket_book(gateway.log)
    known_key = (owner, customer_id, body.deposit_id)
    known = await synced(tickets, lambda: book_of_bets.deposits.get(known_key))
    if known is None:
        appended = NewEvent(
            event,
            key=customer_key(owner, customer_id),
            id=bets_event_id("deposit", owner, f"{customer_id}\x1f{body.deposit_id}"),
        )
        await gateway.log.append(BETS_STREAM, [appended])
    elif known != event:
        raise conflict("deposit", body.deposit_id, "deposit_id")
    made = transfer_id(ledger, owner, "deposit", customer_id, body.deposit_id)
    view, book = wallet_book(gateway.log)
    key = f"betting:{made}"
    refusals = book_of_bets.deposits_refused

    def decided() -> bool:
        return key in book.outcomes or known_key in refusals

    # A refusal comes on betting.decisions, the ledger's result on payments.transfers.
    deadline = time.monotonic() + (WAIT_TIMEOUT_S if wait else 0.0)
    while not decided() and time.monotonic() < deadline:
        await view.wait_until(decided, 0.05)
        await tickets.wait_until(decided, 0.0)
    refused = refusals.get(known_key)
    result = "refused" if refused is not None else book.outcomes.get(key, "pending")
    shown = DepositView(
        deposit_id=body.deposit_id,
        customer_id=customer_id,
        operator=owner,
        currency=body.currency,
        amount_cents=body.amount_cents,
        account_id=account_id(ledger, owner, customer_id),
        transfer_id=made,
        result=result,
        reason=None if refused is None else refused.reason.value,
        detail="" if refused is None else refused.detail,
    )
    return Response(shown, status_code=202 if result == "pending" else 200)


@write_route(
    "/v1/betting/customers",
    ProfileBody,
    "Set a customer's profile: limits, confidence factor, self-exclusion",
)
async def set_profile(request: Request[Any, Any, Any]) -> CustomerProfile:
    """Set the customer's profile; it applies to every later ticket, change and deposit."""
    gateway, principal, body = await write_request(request, ProfileBody)
    owner = tenant(principal, body.operator)
    profile = CustomerProfile(
        operator=owner,
        customer_id=body.customer_id,
        confidence_factor=body.confidence_factor,
        max_stake_cents=body.max_stake_cents,
        max_liability_cents=body.max_liability_cents,
        self_excluded=body.self_excluded,
        deposit_limits=body.deposit_limits,
        loss_limits=body.loss_limits,
    )
    appended = NewEvent(profile, key=customer_key(owner, body.customer_id))
    await gateway.log.append(BETS_STREAM, [appended])
    return profile


routes = [read_customer, deposit, set_profile]
"""The customers' wallet routes, for the gateway."""
