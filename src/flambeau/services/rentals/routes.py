"""HTTP routes of the rentals service: inventory in (entitled per host), prices out.

Writes need ``write`` on ``rentals.inventory``; a listing belongs to the tenant of the key
that registered it, and only that tenant (or an ``admin`` key) may change it, book or cancel
it, or read its price. Searches and views are any writer's. Prices by area need ``read`` on
``rentals.prices`` (a platform's scope, not a host's); platforms follow ``rentals.prices``
live, with resume, over the gateway's subscriptions.

- ``POST /v1/rentals/listings``: register or update a listing.
- ``POST /v1/rentals/listings/{listing}/bookings``: a booking (a demand event).
- ``DELETE /v1/rentals/listings/{listing}/bookings/{booking}``: its cancellation.
- ``POST /v1/rentals/listings/{listing}/views``, ``POST /v1/rentals/searches``: lookups.
- ``GET /v1/rentals/listings/{listing}/price?date=``: the price and its explanation.
- ``GET /v1/rentals/prices?area=&date=``: an area's prices for one night.
- ``GET /v1/rentals/index``: each area's price index over time and the latest moves.

Every write takes the producer's event time, ``occurred_at`` (RFC 3339 with a zone; a body
field, or a query parameter of the cancellation), as the event's time, so a platform
replaying or catching up keeps its own clock: lead times count from it. Without it the
event is stamped with the gateway's clock; a time more than ``MAX_AHEAD`` ahead of that clock
is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, QueryParameter

from flambeau.events import Event, NewEvent, new_event_id, utc_now
from flambeau.gateway import (
    AUTH_PROBLEMS,
    RATE_PROBLEM,
    FieldError,
    Gateway,
    Principal,
    ProblemError,
    ProblemKind,
    caught_up,
    describe_validation_error,
    gateway_of,
    problem_specs,
    read_view,
)
from flambeau.services.rentals.schemas import (
    INVENTORY,
    LISTINGS_ROUTE,
    PRICES,
    Booked,
    Cancelled,
    ListingRegistered,
    Searched,
    Viewed,
)
from flambeau.services.rentals.views import IndexPoint, PricedNight, listings_view, prices_view

__all__ = [
    "MAX_AHEAD",
    "MAX_BODY_BYTES",
    "SYNC_S",
    "Accepted",
    "AreaIndex",
    "AreaPrices",
    "IndexReply",
    "routes",
]

SYNC_S = 1.0
"""How long a route waits for its view to reach the log's end (it answers anyway after)."""
MAX_BODY_BYTES = 16 * 1024
MAX_AHEAD = timedelta(minutes=5)
"""How far ahead of the gateway's clock an ``occurred_at`` may be (clock skew)."""
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
_TOKEN = re.compile(r"^(\w+) ")
_READ = problem_specs((400, "Bad parameter"), *AUTH_PROBLEMS, (404, "No such price"), RATE_PROBLEM)
_WRITE = problem_specs(
    (400, "Malformed body: the bad field is named"),
    *AUTH_PROBLEMS,
    (404, "No such listing or booking"),
    (409, "Conflicts with the listing as registered"),
    (413, "Body too large"),
    RATE_PROBLEM,
)
_OWNED = frozenset({"host", "type"})
_OCCURRED = "occurred_at"
"""Body fields the service sets itself."""


class Accepted(msgspec.Struct, frozen=True):
    """Where the event landed on ``rentals.inventory``; prices follow within a batch."""

    id: str
    partition: int
    offset: int


class Nights(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Nights from ``check_in`` to the night before ``check_out``."""

    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        if self.check_out <= self.check_in:
            raise ValueError(f"check_out {self.check_out} is not after check_in {self.check_in}")
        if (self.check_out - self.check_in).days > 366:
            raise ValueError(f"check_out {self.check_out} is more than 366 nights after check_in")


class BookingBody(Nights, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A booking of the listing."""

    booking: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


class SearchBody(Nights, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A search of an area."""

    area: str


class AreaPrices(msgspec.Struct, frozen=True):
    """The latest price of each listing of an area for one night."""

    area: str
    date: date
    prices: list[PricedNight]


def _bad(message: str, field: str) -> ProblemError:
    return ProblemError.of(ProblemKind.BAD_REQUEST, message, [FieldError(message, field)])


def _invalid(error: msgspec.ValidationError) -> ProblemError:
    field, message = describe_validation_error(error)
    if not field:  # a __post_init__ check: its message starts with the field it names
        named = _TOKEN.match(message)
        field = named.group(1) if named else ""
    return _bad(message, field)


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ProblemError.of(
            ProblemKind.BODY_TOO_LARGE, f"the body has {len(raw)} bytes, at most {MAX_BODY_BYTES}"
        )
    try:
        body = msgspec.json.decode(raw, type=dict[str, Any])
    except msgspec.ValidationError as error:
        raise _invalid(error) from None
    except msgspec.DecodeError as error:
        raise ProblemError.of(ProblemKind.MALFORMED_BODY, str(error)) from None
    return body


def _occurred(value: object) -> datetime | None:
    """The producer's event time (``occurred_at``), checked; ``None`` if not given."""
    if value is None:
        return None
    try:
        moment = msgspec.convert(value, Moment, strict=False)
    except msgspec.ValidationError as error:
        raise _bad(f"{_OCCURRED} is not an RFC 3339 time with a zone: {error}", _OCCURRED) from None
    if moment - utc_now() > MAX_AHEAD:
        raise _bad(
            f"{_OCCURRED} {moment.isoformat()} is more than {MAX_AHEAD} ahead of the clock",
            _OCCURRED,
        )
    return moment


async def _timed_body(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], datetime | None]:
    """The body without ``occurred_at``, and that time."""
    body = await _body(request)
    return body, _occurred(body.pop(_OCCURRED, None))


def _convert(data: dict[str, Any], kind: type[Any]) -> Any:
    known = {f.name for f in msgspec.structs.fields(kind)} | {"type"}
    for name in sorted(data.keys() - known):
        raise _bad(f"Object contains unknown field `{name}`", name)
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as error:
        raise _invalid(error) from None


def _tenant(principal: Principal) -> str:
    if principal.tenant is None:  # pragma: no cover - authorize() refuses anonymous callers
        raise ProblemError.of(ProblemKind.UNAUTHORIZED, "rentals routes need an API key")
    return principal.tenant


async def _owned(
    gateway: Gateway, principal: Principal, listing: FromPath[str]
) -> ListingRegistered:
    """The listing, if ``principal`` may act on it: its host's tenant, or an admin."""
    known = await _listing(gateway, listing)
    if known.host != principal.tenant and not principal.admin:
        raise ProblemError.of(
            ProblemKind.FORBIDDEN,
            f"listing {listing!r} belongs to another host than tenant {principal.tenant!r}",
        )
    return known


async def _listing(gateway: Gateway, listing: str) -> ListingRegistered:
    """The listing as registered, or a 404 problem."""
    fold = await caught_up(gateway.log, listings_view, SYNC_S)
    known = fold.listings.get(listing)
    if known is None:
        raise ProblemError.of(ProblemKind.NOT_FOUND, f"no listing {listing!r} on {INVENTORY}")
    return known


async def _append(gateway: Gateway, event: Event, area: str, at: datetime | None) -> Accepted:
    event_id = new_event_id()
    new = NewEvent(event, key=area, id=event_id, time=at or utc_now())
    (placed,) = await gateway.log.append(INVENTORY, [new])
    return Accepted(event_id, placed.partition, placed.offset)


@post(LISTINGS_ROUTE, status_code=202, tags=["rentals"], responses=_WRITE,
      summary="Register or update a listing of the key's tenant (a flat or a car)")  # fmt: skip
async def register_listing(request: Request[Any, Any, Any]) -> Accepted:
    """The body is a listing without ``host`` (the key's tenant); ``settings`` is optional."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", INVENTORY)
    body, at = await _timed_body(request)
    for name in sorted(_OWNED & body.keys()):
        raise _bad(f"{name} is set by the service, not the body", name)
    listing = _convert({**body, "type": "listing", "host": _tenant(principal)}, ListingRegistered)
    fold = await caught_up(gateway.log, listings_view, SYNC_S)
    known = fold.listings.get(listing.listing)
    if known is not None:
        await _owned(gateway, principal, listing.listing)
        if known.area != listing.area:
            raise ProblemError.of(
                ProblemKind.CONFLICT,
                f"listing {listing.listing!r} is in area {known.area!r}; an area never changes",
                [FieldError("must stay the registered area", "area")],
            )
        listing = msgspec.structs.replace(listing, host=known.host)
    return await _append(gateway, listing, listing.area, at)


@post(f"{LISTINGS_ROUTE}/{{listing:str}}/bookings", status_code=202, tags=["rentals"],
      responses=_WRITE, summary="A booking of a listing of the key's tenant")  # fmt: skip
async def book(request: Request[Any, Any, Any], listing: FromPath[str]) -> Accepted:
    """The nights booked: ``{"booking": "b1", "check_in": "...", "check_out": "..."}``."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", INVENTORY)
    raw, at = await _timed_body(request)
    body = _convert(raw, BookingBody)
    known = await _owned(gateway, principal, listing)
    event = Booked(listing=listing, area=known.area, booking=body.booking,
                   check_in=body.check_in, check_out=body.check_out)  # fmt: skip
    return await _append(gateway, event, known.area, at)


@delete(f"{LISTINGS_ROUTE}/{{listing:str}}/bookings/{{booking:str}}", status_code=202,
        tags=["rentals"], responses=_WRITE, summary="Cancel a booking")  # fmt: skip
async def cancel(
    request: Request[Any, Any, Any],
    listing: FromPath[str],
    booking: FromPath[str],
    occurred_at: Annotated[
        str | None, QueryParameter(description="The producer's event time, RFC 3339.")
    ] = None,
) -> Response[Accepted]:
    """Free the booking's nights again."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", INVENTORY)
    at = _occurred(occurred_at)
    known = await _owned(gateway, principal, listing)
    _, fold = listings_view(gateway.log)
    if booking not in fold.bookings.get(listing, {}):
        raise ProblemError.of(
            ProblemKind.NOT_FOUND, f"listing {listing!r} has no booking {booking!r}"
        )
    event = Cancelled(listing=listing, area=known.area, booking=booking)
    return Response(await _append(gateway, event, known.area, at), status_code=202)


@post(f"{LISTINGS_ROUTE}/{{listing:str}}/views", status_code=202, tags=["rentals"],
      responses=_WRITE, summary="Someone looked at a listing for some nights")  # fmt: skip
async def view_listing(request: Request[Any, Any, Any], listing: FromPath[str]) -> Accepted:
    """Any writer may report a view; it adds to the area's pressure."""
    gateway = gateway_of(request)
    gateway.authorize(request, "write", INVENTORY)
    raw, at = await _timed_body(request)
    body = _convert(raw, Nights)
    known = await _listing(gateway, listing)
    event = Viewed(listing=listing, area=known.area, check_in=body.check_in,
                   check_out=body.check_out)  # fmt: skip
    return await _append(gateway, event, known.area, at)


@post("/v1/rentals/searches", status_code=202, tags=["rentals"], responses=_WRITE,
      summary="Someone searched an area for some nights")  # fmt: skip
async def search(request: Request[Any, Any, Any]) -> Accepted:
    """``{"area": "lyon", "check_in": "...", "check_out": "..."}``."""
    gateway = gateway_of(request)
    gateway.authorize(request, "write", INVENTORY)
    body, at = await _timed_body(request)
    event = _convert({**body, "type": "search"}, Searched)
    return await _append(gateway, event, event.area, at)


@get(f"{LISTINGS_ROUTE}/{{listing:str}}/price", tags=["rentals"], responses=_READ,
     summary="A listing-night's price, its factors and what last moved it")  # fmt: skip
async def price_of(
    request: Request[Any, Any, Any],
    listing: FromPath[str],
    night: Annotated[date, QueryParameter(name="date", description="The night, YYYY-MM-DD.")],
) -> PricedNight:
    """The factors multiply to ``price_cents``; ``causation_id`` names the moving event."""
    gateway = gateway_of(request)
    principal = gateway.authorize(request, "write", INVENTORY)
    await _owned(gateway, principal, listing)
    fold = await caught_up(gateway.log, prices_view, SYNC_S)
    found = fold.nights.get((listing, night))
    if found is None:
        raise ProblemError.of(
            ProblemKind.NOT_FOUND, f"listing {listing!r} has no price for {night} (booked or off)"
        )
    return found


@get("/v1/rentals/prices", tags=["rentals"], responses=_READ,
     summary="Every listing's latest price in an area for one night")  # fmt: skip
async def area_prices(
    request: Request[Any, Any, Any],
    area: Annotated[str, QueryParameter(description="The area.", pattern=r"^[a-z0-9-]{1,32}$")],
    night: Annotated[date, QueryParameter(name="date", description="The night, YYYY-MM-DD.")],
) -> AreaPrices:
    """Needs ``read`` on ``rentals.prices``."""
    _, fold = await read_view(request, PRICES, prices_view, SYNC_S)
    return AreaPrices(area, night, fold.in_area(area, night))


class AreaIndex(msgspec.Struct, frozen=True):
    """An area's price index (mean price / base of its priced listing-nights) over time."""

    area: str
    index: float
    points: list[IndexPoint]


class IndexReply(msgspec.Struct, frozen=True):
    """Each area's price index, and the latest price moves with what caused them."""

    areas: list[AreaIndex]
    moves: list[PricedNight]


@get("/v1/rentals/index", tags=["rentals"], responses=_READ,
     summary="Each area's price index over time and the latest price moves")  # fmt: skip
async def price_index(request: Request[Any, Any, Any]) -> IndexReply:
    """Needs ``read`` on ``rentals.prices``."""
    _, fold = await read_view(request, PRICES, prices_view, SYNC_S)
    areas = [
        AreaIndex(area, points[-1].index, list(points))
        for area, points in sorted(fold.history.items())
        if points
    ]
    return IndexReply(areas, list(fold.moves))


routes = [register_listing, book, cancel, view_listing, search, price_of, area_prices, price_index]
"""The rentals routes, handed to the gateway by :mod:`flambeau.app`."""
