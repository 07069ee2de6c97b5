"""The payments HTTP API: accounts and transfers in, balances, transfers and checks out.

============================================  ================================================
``POST /v1/payments/accounts``                create accounts (one, an array, or a batch)
``POST /v1/payments/transfers``               create up to 8,000 transfers, in order
``GET  /v1/payments/accounts/{id}``           an account and its four balance sums
``GET  /v1/payments/accounts/{id}/transfers`` its latest transfers, newest first
``GET  /v1/payments/requests/{request_id}``   the decision of a request answered 202
``GET  /v1/payments/invariants``              the ledger's latest invariant checks
============================================  ================================================

A ``POST`` appends one request to ``payments.requests`` and, by default, answers once the
ledger's durable decision is in ``payments.transfers`` (``?wait=false`` answers 202 at once;
after ``?timeout=`` seconds, 10 by default, a 202 names the request to poll). The reply lists
one result per item, ``ok`` or the ledger's code (``exceeds_credits``, ``debit_account_not_found``,
``pending_transfer_already_voided``, ``linked_event_chain_open``, ...).

``Idempotency-Key`` works as Stripe's: the same key with the same body returns the first
result (with ``Idempotent-Replayed: true``) and applies nothing again; the same key with a
different body is a 409 problem. Transfer ids are idempotent on their own too: a transfer id
already applied answers ``exists``, or ``exists_with_different_<field>``.

Bad input never reaches the ledger: a malformed body, an unknown field, a float, negative or
out-of-range amount, or a transfer between accounts the gateway knows to be on different ledgers
is a problem+json naming the item's ``index`` and ``field``.

Every route needs a key: ``write:payments.requests`` to post, ``read:payments.transfers`` to read
accounts and decisions, ``read:payments.checks`` for the invariants.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import FromPath, QueryParameter

from flambeau.events import NewEvent, utc_now
from flambeau.gateway import (
    AUTH_PROBLEMS,
    FieldError,
    Gateway,
    ProblemError,
    ProblemKind,
    gateway_of,
    json_body_operation,
    problem_specs,
    read_view,
)
from flambeau.services.payments.api import (
    IDEMPOTENCY_HEADER,
    MAX_BODY_BYTES,
    AccountIn,
    AccountOut,
    AccountsBody,
    AccountTransfers,
    Invariants,
    ItemResult,
    ListedTransfer,
    Pending,
    Reply,
    TransferIn,
    TransfersBody,
    body_schema,
    idempotency_key,
    parse_accounts,
    parse_transfers,
    request_id,
)
from flambeau.services.payments.memo import Memo
from flambeau.services.payments.metrics import gauges
from flambeau.services.payments.schemas import (
    CreateAccounts,
    CreateTransfers,
    RequestRejected,
    TransferFlags,
)
from flambeau.services.payments.state import is_u128
from flambeau.services.payments.views import RECENT_PER_ACCOUNT, checks_view, ledger_view

__all__ = ["gauges", "routes"]

REQUESTS = "payments.requests"
DECISIONS = "payments.transfers"
CHECKS = "payments.checks"
DEFAULT_WAIT_S = 10.0
MAX_WAIT_S = 60.0
SYNC_S = 5.0
LEDGER = "payments.ledger"
CHECKS_STALE_S = 30.0
"""``/v1/payments/invariants`` answers ``ok: false`` when requests wait on a partition whose
latest invariant check is older than this."""
ASKED_IDS_KEPT = 100_000
"""Item ids of requests answered 202 that this gateway remembers, all requests together, for
their later poll; the oldest requests are forgotten first."""

_RESOLVING = int(TransferFlags.post_pending_transfer | TransferFlags.void_pending_transfer)

Wait = Annotated[bool, QueryParameter(description="Wait for the ledger's decision (default).")]
Timeout = Annotated[
    float, QueryParameter(ge=0, le=MAX_WAIT_S, description="Seconds to wait for the decision.")
]
Limit = Annotated[
    int, QueryParameter(ge=1, le=RECENT_PER_ACCOUNT, description="Most transfers to list.")
]


_asked: Memo[list[str]] = Memo(ASKED_IDS_KEPT, ASKED_IDS_KEPT, len)


_POST_PROBLEMS = problem_specs(
    (400, "Malformed body or header"),
    *AUTH_PROBLEMS,
    (409, "The idempotency key was first used for a different request"),
    (413, "Body too large or more than 8,000 items"),
    (422, "An item failed validation (index and field named)"),
)


def _operation(one: type[Any], wrapper: type[Any]) -> type[Operation]:
    return json_body_operation(body_schema(one, wrapper))


# -- posting ----------------------------------------------------------------------------------


def _posting(path: str, summary: str, one: type[Any], wrapper: type[Any]) -> post:
    """The route decorator of a ``POST`` of up to 8,000 items (``one`` each, in ``wrapper``):
    200 with the decision, or 202 when it is not decided in time."""
    return post(
        path,
        status_code=200,
        summary=summary,
        tags=["payments"],
        operation_class=_operation(one, wrapper),
        request_max_body_size=MAX_BODY_BYTES,
        responses={202: ResponseSpec(Pending, description="Not decided yet"), **_POST_PROBLEMS},
    )


def _writer(request: Request[Any, Any, Any]) -> tuple[Gateway, str]:
    """The gateway, once the caller may ``write`` requests, and the request's idempotency key."""
    gateway = gateway_of(request)
    gateway.authorize(request, "write", REQUESTS)
    return gateway, idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))


@_posting("/v1/payments/accounts", "Create accounts", AccountIn, AccountsBody)
async def create_accounts(
    request: Request[Any, Any, Any], wait: Wait = True, timeout: Timeout = DEFAULT_WAIT_S
) -> Response[Any]:
    """Create up to 8,000 accounts of one ledger; one result per account."""
    gateway, key = _writer(request)
    payload = parse_accounts(await request.body(), key)
    return await _submit(gateway, payload, [a.id for a in payload.accounts], wait, timeout)


@_posting("/v1/payments/transfers", "Create transfers", TransferIn, TransfersBody)
async def create_transfers(
    request: Request[Any, Any, Any], wait: Wait = True, timeout: Timeout = DEFAULT_WAIT_S
) -> Response[Any]:
    """Create up to 8,000 transfers of one ledger, applied in order; one result per transfer."""
    gateway, key = _writer(request)
    _, book = ledger_view(gateway.log)
    payload, at = parse_transfers(await request.body(), key, book.holds)
    _refuse_cross_ledger(payload, book.accounts)
    ids = [t.id for t in payload.transfers]
    return await _submit(gateway, payload, ids, wait, timeout, at)


def _refuse_cross_ledger(payload: CreateTransfers, accounts: dict[str, Any]) -> None:
    """A 422 for transfers between accounts the gateway knows to be on another ledger."""
    errors = []
    for index, transfer in enumerate(payload.transfers):
        if transfer.flags & _RESOLVING:
            continue  # a post or void takes its accounts from the pending transfer
        ledger = transfer.ledger or payload.ledger
        for field in ("debit_account_id", "credit_account_id"):
            account_id = getattr(transfer, field)
            account = accounts.get(account_id)
            if account is not None and account.ledger != ledger:
                errors.append(
                    FieldError(
                        f"account {account_id} is on ledger {account.ledger}, not {ledger}; "
                        "money moves within one ledger",
                        field,
                        index,
                    )
                )
    if errors:
        raise ProblemError.of(
            ProblemKind.INVALID_EVENTS,
            f"{len(errors)} account(s) on another ledger than their transfer",
            errors,
        )


async def _submit(
    gateway: Gateway,
    payload: CreateAccounts | CreateTransfers,
    ids: list[str],
    wait: bool,
    timeout: float,
    at: datetime | None = None,
) -> Response[Any]:
    view, book = ledger_view(gateway.log)
    rid = request_id(payload)
    event = NewEvent(payload, key=str(payload.ledger), id=rid, time=at or utc_now())
    (placed,) = await gateway.log.append(REQUESTS, [event])
    if wait:
        await view.wait_until(lambda: rid in book.decisions, timeout)
    decision = book.decisions.get(rid)
    if decision is None:
        _asked.remember(rid, ids)
        pending = Pending(
            rid, payload.idempotency_key, payload.ledger, placed.partition, placed.offset
        )
        return Response(
            pending, status_code=202, headers={"Location": f"/v1/payments/requests/{rid}"}
        )
    return _answer(rid, decision, ids, replayed=placed.duplicate)


def _answer(rid: str, decision: Any, ids: list[str], *, replayed: bool) -> Response[Any]:
    if isinstance(decision, RequestRejected):
        raise ProblemError.of(ProblemKind.CONFLICT, decision.detail or decision.reason)
    results = [
        ItemResult(index, str(result), ids[index] if index < len(ids) else "")
        for index, result in enumerate(decision.results)
    ]
    reply = Reply(rid, decision.idempotency_key, decision.ledger, results)
    headers = {"Idempotent-Replayed": "true"} if replayed or decision.replayed else {}
    return Response(reply, status_code=200, headers=headers)


# -- reading ----------------------------------------------------------------------------------

_READ_PROBLEMS = problem_specs(*AUTH_PROBLEMS, (404, "No such account or request"))


@get(
    "/v1/payments/accounts/{account_id:str}",
    summary="An account and its balances",
    tags=["payments"],
    responses=_READ_PROBLEMS,
)
async def get_account(request: Request[Any, Any, Any], account_id: FromPath[str]) -> AccountOut:
    """The account with its four balance sums, as of every decision in the log now."""
    _, book = await read_view(request, DECISIONS, ledger_view, SYNC_S)
    record = book.accounts.get(account_id)
    if record is None:
        raise _no_account(account_id)
    return AccountOut(**msgspec.structs.asdict(record))


@get(
    "/v1/payments/accounts/{account_id:str}/transfers",
    summary="An account's latest transfers",
    tags=["payments"],
    responses=_READ_PROBLEMS,
)
async def get_account_transfers(
    request: Request[Any, Any, Any], account_id: FromPath[str], limit: Limit = 100
) -> AccountTransfers:
    """The latest transfers debiting or crediting the account, newest first, with status."""
    _, book = await read_view(request, DECISIONS, ledger_view, SYNC_S)
    if account_id not in book.accounts:
        raise _no_account(account_id)
    listed: list[ListedTransfer] = []
    for transfer in reversed(book.recent.get(account_id, ())):
        if len(listed) == limit:
            break
        fields = msgspec.structs.asdict(transfer)
        listed.append(ListedTransfer(**fields, status=str(book.status(transfer))))
    return AccountTransfers(account_id, listed, RECENT_PER_ACCOUNT)


def _no_account(account_id: str) -> ProblemError:
    hint = "" if is_u128(account_id) else " (ids are canonical decimal strings)"
    return ProblemError.of(ProblemKind.NOT_FOUND, f"no account {account_id!r}{hint}")


@get(
    "/v1/payments/requests/{rid:str}",
    summary="The decision of a request",
    tags=["payments"],
    responses={202: ResponseSpec(Pending, description="Not decided yet"), **_READ_PROBLEMS},
)
async def get_request(request: Request[Any, Any, Any], rid: FromPath[str]) -> Response[Any]:
    """The reply a ``POST`` would have given once its request is decided."""
    _, book = await read_view(request, DECISIONS, ledger_view, SYNC_S)
    decision = book.decisions.get(rid)
    if decision is None:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND, f"no decision for request {rid!r} (yet, or any more)"
        )
    return _answer(rid, decision, _asked.get(rid) or [], replayed=False)


@get(
    "/v1/payments/invariants",
    summary="The ledger's invariant checks",
    tags=["payments"],
    responses=problem_specs(*AUTH_PROBLEMS),
)
async def get_invariants(request: Request[Any, Any, Any]) -> Invariants:
    """The latest check of each ledger partition; ``ok`` unless one found a violation, or a
    partition has requests waiting and its latest check is older than ``CHECKS_STALE_S``
    (the ledger is not keeping up, or not running: its last word is no longer news)."""
    _, checks = await read_view(request, CHECKS, checks_view, SYNC_S)
    gateway = gateway_of(request)
    latest = [checks.latest[p] for p in sorted(checks.latest)]
    total = sum(check.violations_total for check in latest)
    ends = await gateway.log.end_offsets(REQUESTS)
    done = await gateway.log.committed(LEDGER, REQUESTS)
    waiting = {p: end - done.get(p, 0) for p, end in ends.items() if end > done.get(p, 0)}
    now = utc_now()
    ages = {p: (now - at).total_seconds() for p, at in checks.checked_at.items()}
    stale = [p for p in waiting if ages.get(p, CHECKS_STALE_S) >= CHECKS_STALE_S]
    return Invariants(
        total == 0 and not stale,
        total,
        latest,
        checked_age_s=round(max(ages.values()), 3) if ages else None,
        unchecked=sum(waiting.values()),
        stale_after_s=CHECKS_STALE_S,
    )


# ``gauges`` (the invariants on /metrics) is re-exported for the assembly module, beside routes.

routes = [
    create_accounts,
    create_transfers,
    get_account,
    get_account_transfers,
    get_request,
    get_invariants,
]
"""The payments route handlers, for the gateway."""
