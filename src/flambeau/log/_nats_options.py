"""The options a ``nats://`` log URL carries, parsed and checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import SplitResult

from flambeau.errors import InvalidLogURLError
from flambeau.log._registry import reject_unknown, take_window

DEFAULT_PORT = 4222


@dataclass(frozen=True)
class Options:
    """What a ``nats://`` URL configures.

    Attributes:
        servers: Server URLs to connect to (a cluster may list several, comma-separated).
        dedupe_window: JetStream's duplicate window for event ids (capped by ``max_age``).
        replicas: JetStream replicas of each stream and of the KV bucket (1 to 5; 3 in a
            cluster).
        memory: Keep streams in memory instead of files (tests and benchmarks only).
        timeout: Seconds a write or read may wait for the server across reconnects.
        open_timeout: Seconds to keep retrying, with back-off, when the server is down at open.
        creds: A NATS credentials file, for servers with authentication.
    """

    servers: list[str]
    dedupe_window: timedelta
    replicas: int = 1
    memory: bool = False
    timeout: float = 30.0
    open_timeout: float = 10.0
    creds: str | None = None


def _number(options: dict[str, str], name: str, default: float, url: SplitResult) -> float:
    raw = options.pop(name, None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidLogURLError(
            f"{name} must be a number of seconds, got {raw!r} in {url.geturl()!r}"
        ) from None
    if value <= 0:
        raise InvalidLogURLError(f"{name} must be positive in {url.geturl()!r}")
    return value


def parse_options(url: SplitResult, options: dict[str, str]) -> Options:
    """Read a ``nats://`` URL: hosts, then the options it may carry.

    Raises:
        InvalidLogURLError: a malformed host list or option, or an unknown option.
    """
    userinfo, _, hosts = url.netloc.rpartition("@")
    if not hosts or url.path not in ("", "/"):
        raise InvalidLogURLError(
            f"a NATS log URL is nats://host:port[,host:port...][?options], got {url.geturl()!r}"
        )
    servers = []
    for host in hosts.split(","):
        name, _, port = host.partition(":")
        if not name or (port and not port.isdigit()):
            raise InvalidLogURLError(f"bad NATS server address {host!r} in {url.geturl()!r}")
        auth = f"{userinfo}@" if userinfo else ""
        servers.append(f"nats://{auth}{name}:{port or DEFAULT_PORT}")
    window = take_window(options, url)
    raw_replicas = options.pop("replicas", "1")
    if not raw_replicas.isdigit() or not 1 <= int(raw_replicas) <= 5:
        raise InvalidLogURLError(
            f"replicas must be 1 to 5 (3 in a cluster), got {raw_replicas!r} in {url.geturl()!r}"
        )
    storage = options.pop("storage", "file")
    if storage not in ("file", "memory"):
        raise InvalidLogURLError(f"storage must be 'file' or 'memory', got {storage!r}")
    timeout = _number(options, "timeout", 30.0, url)
    open_timeout = _number(options, "open_timeout", 10.0, url)
    creds = options.pop("creds", None)
    reject_unknown(options, url)
    return Options(
        servers=servers,
        dedupe_window=window,
        replicas=int(raw_replicas),
        memory=storage == "memory",
        timeout=timeout,
        open_timeout=open_timeout,
        creds=creds,
    )
