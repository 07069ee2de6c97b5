"""What the payments routes take and answer, and how a body becomes a request.

``POST /v1/payments/transfers`` takes one transfer (a JSON object), a JSON array of up to
:data:`~.schemas.MAX_BATCH` transfers, or an object ``{"transfers": [...], "contexts": [...],
"origin": "...", "ledger": 1}``; ``POST /v1/payments/accounts`` the same with accounts. Fields
are the stream schema's (:class:`~.schemas.Transfer`, :class:`~.schemas.Account`), decoded
strictly: an unknown field, a float or negative amount, or an id written as a number is refused
before anything reaches the log, with a problem naming the item's index and field.

Each request is keyed by one ledger: ``ledger`` when given, else the first nonzero ledger of its
items (for a post or void that names none, the ledger of its pending transfer, if the gateway
has seen it). Items of another ledger are decided ``ledger_must_match_request``.

The request's event id is derived from its idempotency key and its content, so sending the same
request twice appends it once (within the log's dedupe window) and both callers wait for the
same decision, while reusing a key for different content reaches the ledger and is refused
there with ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec

from flambeau.gateway import (
    FieldError,
    ProblemError,
    ProblemKind,
    decode_json,
    describe_validation_error,
    standalone_schema,
)
from flambeau.services.payments.schemas import (
    MAX_BATCH,
    Account,
    CreateAccounts,
    CreateTransfers,
    LedgerChecked,
    PaymentContext,
    Transfer,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_BODY_BYTES",
    "AccountIn",
    "AccountOut",
    "AccountTransfers",
    "AccountsBody",
    "Invariants",
    "ItemResult",
    "ListedTransfer",
    "Pending",
    "Reply",
    "TransferIn",
    "TransfersBody",
    "body_schema",
    "idempotency_key",
    "parse_accounts",
    "parse_transfers",
    "request_id",
]

MAX_BODY_BYTES = 4 << 20
"""The largest body these routes take: 8,000 transfers with long ids and user data."""
IDEMPOTENCY_HEADER = "Idempotency-Key"

Label = Annotated[str, msgspec.Meta(max_length=128)]
Ledger = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]


class TransferIn(Transfer, frozen=True, forbid_unknown_fields=True):
    """A transfer as a client sends it: the stream's shape, refusing unknown fields."""


class AccountIn(Account, frozen=True, forbid_unknown_fields=True):
    """An account as a client sends it: the stream's shape, refusing unknown fields."""


class TransfersBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The object form of a transfer batch."""

    transfers: list[TransferIn]
    contexts: Annotated[list[PaymentContext], msgspec.Meta(max_length=MAX_BATCH)] = []
    origin: Label = ""
    ledger: Ledger = 0
    at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """When the terminals asked (their clock): the request's event time; default: on arrival.
    A replayed day (the rehearsal) sends its own clock, so the ledger and the analytics count
    its payments in the day's minutes."""


class AccountsBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The object form of an account batch."""

    accounts: list[AccountIn]
    ledger: Ledger = 0


class ItemResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """The decision on one item of a request, by its position and id.

    ``id`` is absent only from a polled decision this gateway did not answer 202 itself.
    """

    index: int
    result: str
    id: str = ""


class Reply(msgspec.Struct, frozen=True):
    """A decided request: one result per item, in order (``ok`` for each one applied).

    A replay of the request (same idempotency key, same content) answers the same body, with
    the ``Idempotent-Replayed: true`` header.
    """

    request_id: str
    idempotency_key: str
    ledger: int
    results: list[ItemResult]


class Pending(msgspec.Struct, frozen=True):
    """A request in the log whose decision did not come within the wait (202).

    Poll ``GET /v1/payments/requests/{request_id}`` for the decision.
    """

    request_id: str
    idempotency_key: str
    ledger: int
    partition: int
    offset: int
    status: str = "pending"


class AccountOut(Account, frozen=True, omit_defaults=False):
    """An account as ``GET /v1/payments/accounts/{id}`` shows it: every field, zeros included."""


class ListedTransfer(Transfer, frozen=True, omit_defaults=False):
    """An accepted transfer with its status (``pending``, ``posted``, ``voided``, ``expired``)."""

    status: str


class AccountTransfers(msgspec.Struct, frozen=True):
    """An account's latest transfers, newest first (the gateway keeps ``kept`` per account)."""

    account_id: str
    transfers: list[ListedTransfer]
    kept: int


class Invariants(msgspec.Struct, frozen=True):
    """The ledger's invariant checks: ``ok`` unless a check found a violation, or requests wait
    unchecked (``unchecked``) while the latest check is older than ``stale_after_s``."""

    ok: bool
    violations_total: int
    partitions: list[LedgerChecked]
    checked_age_s: float | None = None
    """Seconds since the oldest of the partitions' latest checks (``None``: none yet)."""
    unchecked: int = 0
    """Requests written to ``payments.requests`` that the ledger has not processed yet."""
    stale_after_s: float = 0.0


_ITEM = re.compile(r"^(?:(?P<list>transfers|accounts|contexts))?\[(?P<index>\d+)\]\.?(?P<rest>.*)$")


def _problem(exc: msgspec.MsgspecError, items: str) -> ProblemError:
    """A 422 naming the item's index and field of a decode error."""
    path, message = describe_validation_error(exc)
    found = _ITEM.match(path)
    if found is not None and found.group("list") in (None, items):
        error = FieldError(message, found.group("rest"), int(found.group("index")))
    else:
        error = FieldError(message, path)
    kind = ProblemKind.INVALID_EVENTS
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        kind = ProblemKind.MALFORMED_BODY
    return ProblemError.of(kind, f"the {items} are not valid: {message}", [error])


def _decode(body: bytes, one: type[Any], many: type[Any], wrapper: type[Any], items: str) -> Any:
    """One item, an array of items, or the wrapper object."""
    try:
        shape = msgspec.json.decode(body, type=list[Any] | dict[str, msgspec.Raw])
        chosen = many if isinstance(shape, list) else wrapper if items in shape else one
        return decode_json(lambda data: msgspec.json.decode(data, type=chosen), body)
    except msgspec.MsgspecError as exc:
        raise _problem(exc, items) from None


def parse_transfers(
    body: bytes, key: str, holds: Mapping[str, Transfer]
) -> tuple[CreateTransfers, datetime | None]:
    """The :class:`~.schemas.CreateTransfers` a body asks for, and its ``at`` (event time) if
    the object form gives one.

    Args:
        body: The JSON body.
        key: The idempotency key.
        holds: The pending transfers the gateway knows, by id, to key a post or void that
            names no ledger.

    Raises:
        ProblemError: 400 or 422 naming the bad item and field, or 422 when no ledger can be
            told.
    """
    if not body.strip():
        raise ProblemError.of(ProblemKind.MALFORMED_BODY, "the body is empty; send transfers")
    found = _decode(body, TransferIn, list[TransferIn], TransfersBody, "transfers")
    if isinstance(found, TransfersBody):
        transfers: list[Transfer] = list(found.transfers)
        contexts, origin, ledger, at = found.contexts, found.origin, found.ledger, found.at
    else:
        transfers = [found] if isinstance(found, Transfer) else list(found)
        contexts, origin, ledger, at = [], "", 0, None
    _check_size(transfers, "transfers")
    if not ledger:
        ledger = next((t.ledger for t in transfers if t.ledger), 0)
    if not ledger:
        known = (holds.get(t.pending_id) for t in transfers)
        ledger = next((hold.ledger for hold in known if hold is not None), 0)
    if not ledger:
        raise ProblemError.of(
            ProblemKind.INVALID_EVENTS,
            "no ledger: give 'ledger' in the body or on a transfer",
            [FieldError("a transfer request is keyed by its ledger", "ledger")],
        )
    request = CreateTransfers(
        idempotency_key=key, ledger=ledger, transfers=transfers, contexts=contexts, origin=origin
    )
    return request, at


def parse_accounts(body: bytes, key: str) -> CreateAccounts:
    """The :class:`~.schemas.CreateAccounts` a body asks for.

    Raises:
        ProblemError: 400 or 422 naming the bad item and field, or 422 without a ledger.
    """
    if not body.strip():
        raise ProblemError.of(ProblemKind.MALFORMED_BODY, "the body is empty; send accounts")
    found = _decode(body, AccountIn, list[AccountIn], AccountsBody, "accounts")
    if isinstance(found, AccountsBody):
        accounts: list[Account] = list(found.accounts)
        ledger = found.ledger
    else:
        accounts = [found] if isinstance(found, Account) else list(found)
        ledger = 0
    _check_size(accounts, "accounts")
    ledger = ledger or next((a.ledger for a in accounts if a.ledger), 0)
    if not ledger:
        raise ProblemError.of(
            ProblemKind.INVALID_EVENTS,
            "no ledger: give 'ledger' in the body or on an account",
            [FieldError("an account request is keyed by its ledger", "ledger")],
        )
    return CreateAccounts(idempotency_key=key, ledger=ledger, accounts=accounts)


def _check_size(items: list[Any], name: str) -> None:
    if not items:
        raise ProblemError.of(ProblemKind.INVALID_EVENTS, f"no {name} in the body")
    if len(items) > MAX_BATCH:
        raise ProblemError.of(
            ProblemKind.BATCH_TOO_LARGE,
            f"{len(items)} {name} in one request; at most {MAX_BATCH}",
        )


def idempotency_key(header: str | None) -> str:
    """The request's idempotency key: the header's, or a fresh one when it has none.

    Raises:
        ProblemError: 400 when the header is empty or longer than 255 characters.
    """
    if header is None:
        return uuid.uuid4().hex
    if not 0 < len(header) <= 255:
        raise ProblemError.of(
            ProblemKind.BAD_REQUEST,
            f"the {IDEMPOTENCY_HEADER} header must be 1 to 255 characters",
            [FieldError("1 to 255 characters", IDEMPOTENCY_HEADER)],
        )
    return header


def request_id(request: CreateAccounts | CreateTransfers) -> str:
    """The event id of a request: the same key with the same content gives the same id."""
    digest = hashlib.blake2b(msgspec.msgpack.encode(request), digest_size=16).hexdigest()
    return f"pay-{digest}"


_KEYED = {"properties": {"ledger": {"minimum": 1}}, "required": ["ledger"]}
"""A request is keyed by a ledger: ``0`` is no ledger."""


def body_schema(one: type[Any], wrapper: type[Any]) -> dict[str, Any]:
    """The OpenAPI schema of a body: one item, an array of items, or the wrapper object.

    Each form names a ledger, as :func:`parse_transfers` and :func:`parse_accounts` require:
    the one item on itself, the array on some item, the wrapper on itself or on some item.
    """
    items = msgspec.structs.fields(wrapper)[0].encode_name
    schema = standalone_schema(one, list[one], wrapper)  # type: ignore[valid-type]
    single, many, whole = schema["anyOf"]
    many["contains"] = _KEYED
    for batch in (many, whole["properties"][items]):  # as _check_size takes them
        batch["minItems"], batch["maxItems"] = 1, MAX_BATCH
    some_item = {"properties": {items: {"contains": _KEYED}}}
    return {
        "anyOf": [
            {"allOf": [single, _KEYED]},
            many,
            {"allOf": [whole, {"anyOf": [_KEYED, some_item]}]},
        ]
    }
