"""Every limit and option of the gateway, in one frozen value.

Each limit is explicit so an operator can read, in one place, what the gateway will refuse:
bodies, batches, request rates, connections and subscriptions, and the slow-consumer buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flambeau.gateway.webhook_targets import networks

__all__ = ["GatewayConfig"]


@dataclass(frozen=True)
class GatewayConfig:
    """How one gateway behaves.

    Attributes:
        data_dir: Where the admin key file (``admin.key``, mode 0600) is kept. ``None`` keeps no
            file and generates no admin key (tests that create keys through :class:`KeyStore`).
        public_streams: fnmatch patterns of streams anyone may read without a key. ``None``
            means the streams the registry marks ``public=True``.
        public_metrics: Serve ``GET /metrics`` without a key (Prometheus scrapers rarely carry
            one); when ``False`` it needs the ``admin`` scope.
        max_body_bytes: Largest request body; bigger bodies get 413.
        max_batch_events: Most events in one ingest request or WebSocket message; more get 413.
        rate_per_key: Tokens per second refilled in each key's bucket. A request costs one token
            and an ingest request costs one token per event.
        rate_burst: Bucket capacity; must be at least ``max_batch_events``.
        max_connections_per_key: Live WebSocket and SSE connections per key (anonymous clients
            are counted per remote address).
        max_subscriptions_per_connection: Subscriptions one WebSocket may hold at once.
        buffer_bytes: Bytes of events queued for one connection before it is closed as a slow
            consumer (with a resumable position).
        heartbeat_s: Seconds of silence before an SSE comment keeps proxies from timing out.
        ingest_window: WebSocket ingest messages processed concurrently per socket; acks still
            go out in order.
        read_batch: Records one shared partition reader takes from the log per read.
        recent_records: Recently read records each partition reader keeps encoded, so a
            subscriber that resumes a little behind is served without touching the log.
        recent_bytes: The same ring's bound in bytes of encoded JSON (it holds about twice
            that in memory); whichever bound is reached first drops the oldest batch.
        key_cache_s: Not used for security decisions; how often (seconds) the key store checks
            the ``admin.keys`` stream when no notification arrives (a safety net for backends
            whose other writers live in other processes).
        webhook_in_flight: Deliveries one webhook has in flight at once (its own budget: a
            slow endpoint slows only itself).
        webhook_connections: Requests one webhook has on the wire at once, each on a kept-alive
            connection of its own (beyond ``webhook_in_flight`` unused); the other events in flight
            wait for one, or for their retry. More connections cost the client more per request
            (its pool scans them all).
        webhook_timeout_s: How long one delivery waits for the endpoint's answer.
        webhook_backoff_s: First retry delay; it doubles on each failure of the same event.
        webhook_backoff_max_s: Longest retry delay.
        webhook_max_attempts: Attempts before an event goes to the webhook's dead letters.
        webhook_allow_networks: Networks (CIDR, e.g. ``"127.0.0.0/8"``, ``"10.1.0.0/16"``) a
            webhook may send to although they are not public. Empty by default: every address
            a webhook's host is or resolves to must be public (no loopback, private,
            link-local, multicast, reserved or unspecified address; see
            :mod:`flambeau.gateway.webhook_targets`). Plain ``http://`` is allowed only to these
            networks (local receivers, tests); every other endpoint must be ``https://``.
        webhook_resolve_s: How long a deliverer reuses a checked address of its webhook's host
            before resolving and checking it again (it always connects to the checked address).
    """

    data_dir: Path | None = None
    public_streams: tuple[str, ...] | None = None
    public_metrics: bool = True
    max_body_bytes: int = 1 << 20
    max_batch_events: int = 1000
    rate_per_key: float = 50_000.0
    rate_burst: int = 100_000
    max_connections_per_key: int = 1000
    max_subscriptions_per_connection: int = 64
    buffer_bytes: int = 4 << 20
    heartbeat_s: float = 15.0
    ingest_window: int = 32
    read_batch: int = 1000
    recent_records: int = 4096
    recent_bytes: int = 256 << 10
    key_cache_s: float = 1.0
    webhook_in_flight: int = 64
    webhook_connections: int = 8
    webhook_timeout_s: float = 5.0
    webhook_backoff_s: float = 0.05
    webhook_backoff_max_s: float = 5.0
    webhook_max_attempts: int = 25
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_resolve_s: float = 5.0

    def __post_init__(self) -> None:
        positive = {
            "max_body_bytes": self.max_body_bytes,
            "max_batch_events": self.max_batch_events,
            "rate_per_key": self.rate_per_key,
            "rate_burst": self.rate_burst,
            "max_connections_per_key": self.max_connections_per_key,
            "max_subscriptions_per_connection": self.max_subscriptions_per_connection,
            "buffer_bytes": self.buffer_bytes,
            "heartbeat_s": self.heartbeat_s,
            "ingest_window": self.ingest_window,
            "read_batch": self.read_batch,
            "key_cache_s": self.key_cache_s,
            "recent_bytes": self.recent_bytes,
            "webhook_in_flight": self.webhook_in_flight,
            "webhook_connections": self.webhook_connections,
            "webhook_timeout_s": self.webhook_timeout_s,
            "webhook_backoff_s": self.webhook_backoff_s,
            "webhook_backoff_max_s": self.webhook_backoff_max_s,
            "webhook_max_attempts": self.webhook_max_attempts,
            "webhook_resolve_s": self.webhook_resolve_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"gateway option {name} must be positive, got {value!r}")
        if self.recent_records < 0:
            raise ValueError(
                f"gateway option recent_records must be >= 0, got {self.recent_records}"
            )
        networks(self.webhook_allow_networks)
        if self.rate_burst < self.max_batch_events:
            raise ValueError(
                f"rate_burst ({self.rate_burst}) must be at least max_batch_events "
                f"({self.max_batch_events}), or a full batch could never be accepted"
            )
