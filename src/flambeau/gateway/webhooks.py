"""Partner webhooks: the gateway pushes a stream to an HTTP endpoint, signed, at least once.

Registrations, acknowledged positions and removals are events of the internal stream
``admin.webhooks``; events given up on are kept on ``admin.webhook_dead``. Every gateway reads
``admin.webhooks`` at startup and runs one :class:`Deliverer` per webhook, so a restarted gateway
resumes each webhook from its last acknowledged position (events after it are sent again: the
receiver de-duplicates by ``webhook-id``, which is the event id).

A delivery is one POST per event, signed the Standard Webhooks way (``standardwebhooks``
library: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``). Its JSON body is
``{"id", "stream", "partition", "offset", "time", "causation_id", "data"}``. Any 2xx
acknowledges it; anything else, or no answer within ``webhook_timeout_s``, is retried with
exponential backoff (``webhook_backoff_s`` doubling up to ``webhook_backoff_max_s``); after
``webhook_max_attempts`` the event goes to the dead letters and delivery moves on. Each
webhook has its own task, HTTP client and in-flight budget, so a slow or dead endpoint slows
only itself. Up to ``webhook_in_flight`` events are in flight at once (a sliding window: the
next event starts as soon as any delivery ends), so order is not kept per event; a position is
acknowledged once every event before it has been delivered or dead-lettered.

Targets: every connection goes to an address checked by
:func:`~flambeau.gateway.webhook_targets.check_target` (public only, unless
``webhook_allow_networks`` allows it), resolved again every ``webhook_resolve_s``; the URL's
host stays the ``Host`` header and the TLS server name. A host that now resolves to a refused
address gets no request: the event goes to the dead letters at once. The client ignores proxy
variables and follows no redirect (a redirect is a non-2xx answer, retried).

Entitlement: a record whose payload has a ``tenant`` field is delivered only to webhooks of
that tenant (or registered by an admin key), as :func:`entitled` decides for reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections import Counter, deque
from datetime import datetime
from typing import Any

import httpx
import msgspec
from standardwebhooks import Webhook

from flambeau.events import Event, NewEvent, Record, Registry, Writer, default_registry, utc_now
from flambeau.gateway.config import GatewayConfig
from flambeau.gateway.errors import WebhookTargetRefusedError
from flambeau.gateway.tenancy import entitled
from flambeau.gateway.webhook_targets import Target, check_target
from flambeau.log import Log

__all__ = [
    "DEAD_STREAM",
    "WEBHOOKS_STREAM",
    "Deliverer",
    "WebhookAcked",
    "WebhookDeadLetter",
    "WebhookRegistered",
    "WebhookRemoved",
    "Webhooks",
    "Window",
    "register_webhook_streams",
]

WEBHOOKS_STREAM = "admin.webhooks"
DEAD_STREAM = "admin.webhook_dead"
ACK_EVERY_S = 0.5
"""How often a deliverer records its acknowledged positions while it makes progress."""
_log = logging.getLogger("flambeau.webhooks")
_encode = msgspec.json.Encoder().encode


class WebhookRegistered(Event, frozen=True, kw_only=True, tag="webhook_registered"):
    """A webhook: who registered it, which stream to which URL, from where.

    ``secret`` is the signing secret (``whsec_...``), kept so any gateway can sign; the stream
    is never public and readable by admin keys only.
    """

    webhook_id: str
    tenant: str
    key_id: str
    admin: bool
    stream: str
    url: str
    secret: str
    positions: list[int]
    created_at: datetime


class WebhookAcked(Event, frozen=True, kw_only=True, tag="webhook_acked"):
    """Every event before ``positions[p]`` of partition ``p`` is delivered or dead-lettered."""

    webhook_id: str
    positions: list[int]


class WebhookRemoved(Event, frozen=True, kw_only=True, tag="webhook_removed"):
    """The webhook is removed; nothing more is delivered."""

    webhook_id: str


class WebhookDeadLetter(Event, frozen=True, kw_only=True, tag="webhook_dead_letter"):
    """An event given up on after ``attempts`` failed deliveries."""

    webhook_id: str
    event_id: str
    stream: str
    partition: int
    offset: int
    attempts: int
    error: str


def register_webhook_streams(registry: Registry) -> None:
    """Register ``admin.webhooks`` and ``admin.webhook_dead`` in ``registry``.

    A gateway whose log's registry lacks them runs without webhooks (``POST /v1/webhooks``
    answers 404), as tests with a registry of their own do.
    """
    registry.register(
        WEBHOOKS_STREAM,
        WebhookRegistered | WebhookAcked | WebhookRemoved,
        partitions=1,
        description="webhook registrations, acknowledged positions and removals",
        writer=Writer.gateway("POST /v1/webhooks", "DELETE /v1/webhooks/{webhook_id}"),
    )
    registry.register(
        DEAD_STREAM,
        WebhookDeadLetter,
        partitions=1,
        description="webhook deliveries given up on after every retry",
        writer=Writer.gateway("POST /v1/webhooks"),
    )


register_webhook_streams(default_registry)


def new_secret() -> str:
    """A fresh Standard Webhooks signing secret (``whsec_`` + base64 of 24 random bytes)."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Window:
    """One webhook's events in flight, per partition: where to read next, where it stands.

    ``read_at[p]`` is the next offset to read from partition ``p``; the position of ``p`` is
    its oldest event still in flight (delivered events after it wait for it), or ``read_at[p]``
    when nothing is in flight.
    """

    def __init__(self, positions: list[int]) -> None:
        self.read_at = list(positions)
        self._pending: list[deque[int]] = [deque() for _ in positions]
        self._done: list[set[int]] = [set() for _ in positions]

    @property
    def positions(self) -> list[int]:
        """Every event before ``positions[p]`` is delivered or dead-lettered."""
        return [q[0] if q else at for q, at in zip(self._pending, self.read_at, strict=True)]

    def open(self, partition: int, offset: int) -> None:
        self._pending[partition].append(offset)

    def close(self, partition: int, offset: int) -> None:
        pending, done = self._pending[partition], self._done[partition]
        done.add(offset)
        while pending and pending[0] in done:
            done.remove(pending.popleft())


class Deliverer:
    """Delivers one webhook's stream, in its own task.

    Events are read ahead while fewer than ``webhook_in_flight`` are in flight, each delivered
    in a task of its own: a slow delivery holds back the acknowledged position, never the
    deliveries behind it (a sliding window, not batches). Connections are kept alive and
    reused, up to one per event in flight.
    """

    def __init__(self, log: Log, config: GatewayConfig, hook: WebhookRegistered,
                 positions: list[int]) -> None:  # fmt: skip
        self.log = log
        self.config = config
        self.hook = hook
        self.signer = Webhook(hook.secret)
        self.counts: Counter[str] = Counter()
        self._window = Window(positions)
        self._acked = list(positions)
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()
        self._resolving = asyncio.Lock()
        self._checked: tuple[float, Target] | None = None
        self._host_header = httpx.URL(hook.url).netloc.decode("ascii")
        connections = config.webhook_connections
        self._sending = asyncio.Semaphore(connections)
        self._client = httpx.AsyncClient(
            timeout=config.webhook_timeout_s,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            trust_env=False,
            follow_redirects=False,
        )

    @property
    def positions(self) -> list[int]:
        """Per partition, the first event not yet delivered or dead-lettered."""
        return self._window.positions

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"webhook {self.hook.webhook_id}"
        )

    async def stop(self) -> None:
        """Stop reading and delivering; record the position (what was in flight is resent)."""
        for task in [self._task, *self._tasks]:
            if task is not None:
                task.cancel()
        for task in [self._task, *self._tasks]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            await self._ack()
        await self._client.aclose()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_ack = loop.time()
        room = self.config.webhook_in_flight
        while True:
            progressed = False
            for partition, offset in enumerate(self._window.read_at):
                if len(self._tasks) >= room:
                    break
                raws = await self.log.read(
                    self.hook.stream, partition, offset, room - len(self._tasks)
                )
                if raws:
                    self._launch(partition, raws)
                    progressed = True
            if loop.time() - last_ack >= ACK_EVERY_S:
                await self._ack()
                last_ack = loop.time()
            if progressed:
                continue
            if len(self._tasks) >= room:
                self._freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), ACK_EVERY_S)
            else:
                await self._ack()
                after = dict(enumerate(self._window.read_at))
                await self.log.wait(self.hook.stream, after, timeout=ACK_EVERY_S)

    async def _ack(self) -> None:
        positions = self.positions
        if positions == self._acked:
            return
        event = WebhookAcked(webhook_id=self.hook.webhook_id, positions=positions)
        await self.log.append(WEBHOOKS_STREAM, [NewEvent(event, key=self.hook.webhook_id)])
        self._acked = positions

    def _launch(self, partition: int, raws: list[Record[msgspec.Raw]]) -> None:
        """Start a delivery task per entitled record; skip the others."""
        loop = asyncio.get_running_loop()
        for raw in raws:
            record = self.log.registry.decode(self.hook.stream, raw)
            if not entitled(self.hook.admin, self.hook.tenant, record.data):
                self.counts["filtered"] += 1
                continue
            self._window.open(partition, record.offset)
            task = loop.create_task(self._deliver(record))
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._finished, partition, record.offset))
        self._window.read_at[partition] = raws[-1].offset + 1

    def _finished(self, partition: int, offset: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._freed.set()
        if task.cancelled():
            return
        if (error := task.exception()) is not None:
            # Not marked done: the position stays before it, and a restart sends it again.
            _log.error("webhook %s: delivery of %s/%d@%d failed: %r", self.hook.webhook_id,
                       self.hook.stream, partition, offset, error)  # fmt: skip
            return
        self._window.close(partition, offset)

    def _body(self, record: Record[Any]) -> bytes:
        return _encode(
            {
                "id": record.id,
                "stream": record.stream,
                "partition": record.partition,
                "offset": record.offset,
                "time": record.time,
                "causation_id": record.causation_id,
                "data": record.data,
            }
        )

    async def _target(self) -> Target:
        """The checked address of the webhook's host, resolved again every few seconds."""
        async with self._resolving:
            now = asyncio.get_running_loop().time()
            if self._checked is None or now - self._checked[0] >= self.config.webhook_resolve_s:
                target = await check_target(self.hook.url, self.config.webhook_allow_networks)
                self._checked = (now, target)
            return self._checked[1]

    async def _post(self, record: Record[Any], body: bytes) -> httpx.Response:
        target = await self._target()
        now = utc_now()
        headers = {
            "host": self._host_header,
            "content-type": "application/json",
            "webhook-id": record.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signer.sign(record.id, now, body.decode()),
        }
        async with self._sending:
            return await self._client.post(
                target.request_url(), content=body, headers=headers,
                extensions=target.extensions(),
            )  # fmt: skip

    async def _deliver(self, record: Record[Any]) -> None:
        body = self._body(record)
        delay = self.config.webhook_backoff_s
        error = ""
        for attempt in range(1, self.config.webhook_max_attempts + 1):
            try:
                reply = await self._post(record, body)
                if 200 <= reply.status_code < 300:
                    self.counts["delivered"] += 1
                    return
                error = f"HTTP {reply.status_code}"
            except WebhookTargetRefusedError as exc:
                self.counts["refused"] += 1
                await self._dead(record, f"refused, nothing sent: {exc}", attempt)
                return
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:256]
            self.counts["retries"] += 1
            if attempt < self.config.webhook_max_attempts:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.webhook_backoff_max_s)
        await self._dead(record, error, self.config.webhook_max_attempts)

    async def _dead(self, record: Record[Any], error: str, attempts: int) -> None:
        self.counts["dead"] += 1
        letter = WebhookDeadLetter(
            webhook_id=self.hook.webhook_id, event_id=record.id, stream=record.stream,
            partition=record.partition, offset=record.offset,
            attempts=attempts, error=error,
        )  # fmt: skip
        await self.log.append(DEAD_STREAM, [NewEvent(letter, key=self.hook.webhook_id)])
        _log.warning(
            "webhook %s gave up on %s/%d@%d after %d attempts: %s",
            self.hook.webhook_id, record.stream, record.partition, record.offset,
            self.config.webhook_max_attempts, error,
        )  # fmt: skip


class Webhooks:
    """Every webhook of a gateway: their registrations and running deliverers."""

    def __init__(self, log: Log, config: GatewayConfig) -> None:
        self.log = log
        self.config = config
        self.hooks: dict[str, WebhookRegistered] = {}
        self.running: dict[str, Deliverer] = {}

    @property
    def enabled(self) -> bool:
        """Whether the log's registry has the webhook streams."""
        return WEBHOOKS_STREAM in self.log.registry and DEAD_STREAM in self.log.registry

    async def start(self) -> None:
        """Read ``admin.webhooks`` and start a deliverer per webhook at its last position."""
        if not self.enabled:
            return
        positions: dict[str, list[int]] = {}
        offset = 0
        while raws := await self.log.read(WEBHOOKS_STREAM, 0, offset, 1000):
            for raw in raws:
                match self.log.registry.decode(WEBHOOKS_STREAM, raw).data:
                    case WebhookRegistered() as hook:
                        self.hooks[hook.webhook_id] = hook
                        positions[hook.webhook_id] = hook.positions
                    case WebhookAcked() as acked:
                        positions[acked.webhook_id] = acked.positions
                    case WebhookRemoved() as removed:
                        self.hooks.pop(removed.webhook_id, None)
            offset = raws[-1].offset + 1
        for webhook_id, hook in self.hooks.items():
            self._run(hook, positions[webhook_id])

    def _run(self, hook: WebhookRegistered, positions: list[int]) -> None:
        deliverer = Deliverer(self.log, self.config, hook, positions)
        self.running[hook.webhook_id] = deliverer
        deliverer.start()

    async def register(self, hook: WebhookRegistered) -> None:
        await self.log.append(WEBHOOKS_STREAM, [NewEvent(hook, key=hook.webhook_id)])
        self.hooks[hook.webhook_id] = hook
        self._run(hook, hook.positions)

    async def remove(self, webhook_id: str) -> None:
        deliverer = self.running.pop(webhook_id, None)
        if deliverer is not None:
            await deliverer.stop()
        self.hooks.pop(webhook_id, None)
        event = WebhookRemoved(webhook_id=webhook_id)
        await self.log.append(WEBHOOKS_STREAM, [NewEvent(event, key=webhook_id)])

    async def aclose(self) -> None:
        """Stop every deliverer, recording where each got to."""
        running = list(self.running.values())
        self.running.clear()
        await asyncio.gather(*(d.stop() for d in running), return_exceptions=True)
