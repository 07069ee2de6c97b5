"""One log suite for every registered backend.

The parameters come from the production backend registry, as quix-streams does for its stores:
registering a backend adds it here, and a backend without a URL factory below fails loudly
instead of going untested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from flambeau.events import Registry
from flambeau.log import Log, backends, open_log
from tests.conformance.schemas import make_registry

UrlFactory = Callable[[Path, pytest.FixtureRequest], str]


def _memory(tmp: Path, request: pytest.FixtureRequest) -> str:
    return "memory://"


def _sqlite(tmp: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite:///{tmp / 'log.db'}"


def _nats(tmp: Path, request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("nats_url")
    return url


URL_FACTORIES: dict[str, UrlFactory] = {"memory": _memory, "sqlite": _sqlite, "nats": _nats}
PERSISTENT = {"sqlite", "nats"}


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    scheme: str = request.param
    if scheme not in URL_FACTORIES:
        pytest.fail(f"backend {scheme!r} is registered but has no URL factory in the suite")
    return scheme


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def log_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return URL_FACTORIES[backend](tmp_path, request)


OpenLog = Callable[[], Awaitable[Log]]


@pytest.fixture
async def open_test_log(log_url: str, registry: Registry) -> AsyncIterator[OpenLog]:
    opened: list[Log] = []

    async def opener() -> Log:
        log = await open_log(log_url, registry)
        opened.append(log)
        return log

    yield opener
    for log in opened:
        await log.aclose()


@pytest.fixture
async def log(open_test_log: OpenLog) -> Log:
    return await open_test_log()
