"""The rehearsal's connection to a gateway: HTTP requests that retry, and live subscriptions.

The simulator is a producer like any other, so all it knows of Flambeau is its HTTP and
WebSocket API and an API key:

- :class:`GatewayClient` posts JSON, XML or event batches. A network error, a 5xx and a 429
  are retried with capped exponential backoff (a 429's ``Retry-After`` is honoured); a refusal
  (any other 4xx) is final and reported in the :class:`Reply`, never raised. A request that
  keeps failing with 5xx for ``give_up_s`` seconds is given up as ``failed``; a network that
  stays down is retried until the client is stopped.
- :class:`Subscriber` holds one ``/v1/ws`` connection with several subscriptions and resumes
  each from the cursor of the last frame it received when the connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import websockets

from flambeau.scenario.errors import Stopped

__all__ = ["GatewayClient", "Reply", "Subscriber", "WireEvent"]

logger = logging.getLogger("flambeau.scenario")

_encode = msgspec.json.Encoder().encode
MIN_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


@dataclass(frozen=True)
class Reply:
    """What became of one request.

    Attributes:
        status: The HTTP status (0 when the request was given up without an answer).
        accepted: Events the platform stored.
        duplicates: Events it already had.
        rejected: Events it refused.
        ids: Ids the platform reported for what it stored, in request order where it says.
        problem: The detail of a refusal, or of the first per-event error.
        body: The decoded JSON reply (``None`` when it was not JSON).
        failed: The request was given up after repeated server errors.
    """

    status: int
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    ids: tuple[str, ...] = ()
    problem: str = ""
    body: Any = None
    failed: bool = False


def _reply(status: int, body: Any, count: int) -> Reply:
    """Read an answer: an ingest reply counts each event; anything else counts the request."""
    if status >= 400:
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
            errors = body.get("errors") or []
            if errors and isinstance(errors[0], dict):
                first = errors[0]
                where = ".".join(str(p) for p in (first.get("index"), first.get("field")) if p)
                detail = f"{detail} [{where}: {first.get('message', '')}]"
        return Reply(status, rejected=count, problem=detail or f"HTTP {status}", body=body)
    if isinstance(body, dict) and {"accepted", "duplicates", "rejected"} <= body.keys():
        placed = tuple(str(r["id"]) for r in body.get("results", ()) if isinstance(r, dict))
        errors = body.get("errors") or []
        problem = str(errors[0].get("message", "")) if errors else ""
        return Reply(
            status,
            int(body["accepted"]),
            int(body["duplicates"]),
            int(body["rejected"]),
            placed,
            problem,
            body,
        )
    ids: tuple[str, ...] = ()
    duplicate = False
    if isinstance(body, dict):
        found = body.get("id") or body.get("event_id") or body.get("request_id")
        ids = (str(found),) if found else ()
        duplicate = bool(body.get("duplicate") or body.get("replayed"))
    if duplicate:
        return Reply(status, duplicates=count, ids=ids, body=body)
    return Reply(status, accepted=count, ids=ids, body=body)


class _Shared:
    """What a client and its forks share: the stop signal and the retry count."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.retries = 0


class GatewayClient:
    """HTTP requests to a gateway with one API key, retried as the module docstring says.

    ``base`` may list several gateways, comma-separated (``http://a:8000,http://b:8000``): a
    request that fails on the network goes to the next one (fail-over; gateways are stateless).

    :meth:`fork` gives another client with its own connections (and the same key, stop
    signal and retry count): httpx's pool scans all its connections for every request, so a
    few small pools, one per lane, cost much less than one large shared pool.
    """

    def __init__(
        self,
        base: str,
        key: str,
        *,
        timeout: float = 30.0,
        give_up_s: float = 60.0,
        connections: int = 4,
        _shared: _Shared | None = None,
    ) -> None:
        self.bases = [one.strip().rstrip("/") for one in base.split(",") if one.strip()]
        self.base = self.bases[0]
        self.key = key
        self.timeout = timeout
        self.give_up_s = give_up_s
        self._shared = _shared or _Shared()
        self._forks: list[GatewayClient] = []
        self._http = httpx.AsyncClient(
            base_url=self.base,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    @property
    def retries(self) -> int:
        """Requests tried again, by this client and its forks."""
        return self._shared.retries

    @property
    def stopping(self) -> asyncio.Event:
        """Set once :meth:`stop` is called (on this client or any of its forks)."""
        return self._shared.stopping

    def fork(self, connections: int = 1) -> GatewayClient:
        """A client with ``connections`` connections of its own, closed with this one."""
        forked = GatewayClient(
            ",".join(self.bases),
            self.key,
            timeout=self.timeout,
            give_up_s=self.give_up_s,
            connections=connections,
            _shared=self._shared,
        )
        self._forks.append(forked)
        return forked

    async def aclose(self) -> None:
        """Close the connections (and those of every fork)."""
        for forked in self._forks:
            await forked.aclose()
        await self._http.aclose()

    def stop(self) -> None:
        """Stop retrying: waiting requests raise :class:`Stopped`."""
        self._shared.stopping.set()

    async def paths(self) -> set[str]:
        """The route templates the gateway serves (from its OpenAPI document)."""
        reply = await self.request("GET", "/schema/openapi.json")
        body = reply.body if isinstance(reply.body, dict) else {}
        return set(body.get("paths", {}))

    async def ingest(self, stream: str, envelopes: Sequence[Any]) -> Reply:
        """Append ``envelopes`` (dicts or Structs with ``data``) to ``stream`` in one request."""
        return await self.request(
            "POST",
            f"/v1/streams/{stream}/events",
            content=_encode(list(envelopes)),
            content_type="application/json",
            count=len(envelopes),
        )

    async def post_json(
        self, path: str, body: Any, *, count: int = 1, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """POST ``body`` (anything msgspec encodes) as JSON."""
        return await self.request(
            "POST",
            path,
            content=_encode(body),
            content_type="application/json",
            count=count,
            headers=headers,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | str | None = None,
        content_type: str | None = None,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request until it is answered (see the module docstring).

        Raises:
            Stopped: :meth:`stop` was called while the request waited for a retry.
        """
        sent_headers = dict(headers or {})
        if content_type is not None:
            sent_headers["Content-Type"] = content_type
        backoff = MIN_BACKOFF_S
        loop = asyncio.get_running_loop()
        first_error: float | None = None
        while True:
            try:
                response = await self._http.request(
                    method, path, content=content, headers=sent_headers
                )
            except httpx.HTTPError as exc:
                logger.debug("%s %s on %s: %s; retrying", method, path, self.base, exc)
                wait = self._fail_over(exc, backoff)
            else:
                status = response.status_code
                if status == 429:
                    wait = _retry_after(response, backoff)
                elif status >= 500:
                    now = loop.time()
                    first_error = now if first_error is None else first_error
                    if now - first_error >= self.give_up_s:
                        return Reply(status, problem=f"HTTP {status}", failed=True)
                    wait = backoff
                else:
                    return _reply(status, _json(response), count)
            self._shared.retries += 1
            await self._sleep(wait * random.uniform(0.8, 1.2))
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _fail_over(self, exc: httpx.HTTPError, backoff: float) -> float:
        """After a network error, move on to the next gateway: at once, unless all were tried."""
        if len(self.bases) == 1 or not isinstance(exc, httpx.TransportError):
            return backoff
        self.base = self.bases[(self.bases.index(self.base) + 1) % len(self.bases)]
        self._http.base_url = httpx.URL(self.base)
        logger.info("gateway unreachable; failing over to %s", self.base)
        return MIN_BACKOFF_S / 10

    async def _sleep(self, seconds: float) -> None:
        if self.stopping.is_set():
            raise Stopped
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
        if self.stopping.is_set():
            raise Stopped


def _retry_after(response: httpx.Response, backoff: float) -> float:
    try:
        return min(MAX_BACKOFF_S, max(0.05, float(response.headers.get("retry-after", backoff))))
    except ValueError:
        return backoff


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class WireEvent(msgspec.Struct, frozen=True):
    """An event as a subscriber receives it; the payload stays raw until someone needs it."""

    stream: str
    partition: int
    offset: int
    id: str
    key: str
    causation_id: str | None
    data: msgspec.Raw


class _Frame(msgspec.Struct, frozen=True):
    op: str
    sub: str | None = None
    position: str | None = None
    positions: dict[str, str] | None = None
    events: list[WireEvent] = []
    problem: Any = None


_frame = msgspec.json.Decoder(_Frame)


@dataclass
class Subscriber:
    """One WebSocket connection following ``streams`` (name to first ``from``) until stopped.

    ``on_events(stream, events)`` is called with every frame's events, in order per partition.
    A dropped connection is reopened with backoff, on the next of ``urls`` (several gateways:
    fail-over); each subscription resumes from the cursor of the last frame received, so
    nothing is lost or repeated across reconnects.
    """

    urls: Sequence[str]
    key: str
    streams: dict[str, str]
    on_events: Callable[[str, list[WireEvent]], None]
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the streams until ``stop`` is set."""
        backoff = MIN_BACKOFF_S
        positions = dict(self.streams)
        attempt = 0
        while not stop.is_set():
            url = self.urls[attempt % len(self.urls)]
            attempt += 1
            try:
                async with websockets.connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {self.key}"},
                    open_timeout=10,
                    close_timeout=2,
                    max_size=None,
                ) as socket:
                    for stream, start in positions.items():
                        await socket.send(_encode({"op": "subscribe", "sub": stream,
                                                   "stream": stream, "from": start}))  # fmt: skip
                    backoff = MIN_BACKOFF_S
                    await self._read(socket, positions, stop)
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                logger.debug("subscription connection lost: %s", exc)
            self.connected.clear()
            if stop.is_set():
                return
            self.reconnects += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def _read(self, socket: Any, positions: dict[str, str], stop: asyncio.Event) -> None:
        closing = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receiving = asyncio.ensure_future(socket.recv())
                done, _ = await asyncio.wait(
                    {receiving, closing}, return_when=asyncio.FIRST_COMPLETED
                )
                if receiving not in done:
                    receiving.cancel()
                    return
                frame = _frame.decode(receiving.result())
                self._apply(frame, positions)
        finally:
            closing.cancel()

    def _apply(self, frame: _Frame, positions: dict[str, str]) -> None:
        match frame.op:
            case "events" if frame.sub is not None:
                if frame.position:
                    positions[frame.sub] = frame.position
                self.on_events(frame.sub, frame.events)
            case "subscribed" if frame.sub is not None:
                if frame.position:
                    positions[frame.sub] = frame.position
                if all(sub in positions for sub in self.streams):
                    self.connected.set()
            case "overflow" | "closing" if frame.positions:
                positions.update(frame.positions)
            case "error":
                self.errors.append(str(frame.problem))
                del self.errors[:-10]
            case _:
                pass
