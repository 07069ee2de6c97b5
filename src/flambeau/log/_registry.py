"""Backends by URL scheme, as faust picks its stores: ``open_log("sqlite:///data/log.db")``."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import SplitResult, parse_qs, urlsplit

from flambeau.errors import InvalidLogURLError, UnknownBackendError
from flambeau.events import Registry, default_registry
from flambeau.log.base import Log

Opener = Callable[[SplitResult, dict[str, str], Registry], Awaitable[Log]]

_BACKENDS: dict[str, Opener | str] = {
    "memory": "flambeau.log.memory",
    "nats": "flambeau.log.nats",
    "sqlite": "flambeau.log.sqlite",
}
"""Scheme -> opener, or the module whose ``open_backend`` is the opener (imported on first use)."""


def register_backend(scheme: str, opener: Opener) -> None:
    """Make ``open_log`` open URLs of ``scheme`` with ``opener``."""
    _BACKENDS[scheme] = opener


def backends() -> list[str]:
    """The registered URL schemes, sorted; the conformance suite runs over each one."""
    return sorted(_BACKENDS)


async def open_log(url: str, registry: Registry | None = None) -> Log:
    """Open the log at ``url``; the scheme picks the backend.

    ``memory://``, ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``
    (options: ``sync=normal|full``, ``dedupe_window=SECONDS``), ``nats://host:port``.

    Raises:
        UnknownBackendError: no backend is registered for the URL's scheme.
        InvalidLogURLError: an option is unknown or malformed.
    """
    parts = urlsplit(url)
    opener = _BACKENDS.get(parts.scheme)
    if isinstance(opener, str):
        opener = _BACKENDS[parts.scheme] = importlib.import_module(opener).open_backend
    if opener is None:
        known = ", ".join(f"{s}://" for s in backends())
        raise UnknownBackendError(
            f"no log backend for scheme {parts.scheme or '(none)'!r} in {url!r}; known: {known}"
        )
    options: dict[str, str] = {}
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if len(values) != 1:
            raise InvalidLogURLError(f"option {name!r} is given {len(values)} times in {url!r}")
        options[name] = values[0]
    return await opener(parts, options, registry or default_registry)


def take_window(options: dict[str, str], url: SplitResult) -> timedelta:
    """Pop and parse the ``dedupe_window`` option (seconds, default 300)."""
    raw = options.pop("dedupe_window", "300")
    try:
        seconds = float(raw)
    except ValueError:
        raise InvalidLogURLError(
            f"dedupe_window must be a number of seconds, got {raw!r} in {url.geturl()!r}"
        ) from None
    if seconds < 0:
        raise InvalidLogURLError(f"dedupe_window must not be negative in {url.geturl()!r}")
    return timedelta(seconds=seconds)


def reject_unknown(options: dict[str, str], url: SplitResult) -> None:
    """Raise for options no one consumed, naming them."""
    if options:
        raise InvalidLogURLError(
            f"unknown option(s) {', '.join(sorted(options))} in log URL {url.geturl()!r}"
        )
