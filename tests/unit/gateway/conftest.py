"""Fixtures of the gateway tests: a memory log over the test streams, and a served gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flambeau.events import Registry
from flambeau.log import open_log
from flambeau.log.base import Log
from tests.unit.gateway.schemas import make_registry
from tests.unit.gateway.served import Served, serve


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
async def log(registry: Registry) -> AsyncIterator[Log]:
    opened = await open_log("memory://", registry)
    yield opened
    await opened.aclose()


@pytest.fixture
async def served(log: Log, tmp_path: Path) -> AsyncIterator[Served]:
    async with serve(log, tmp_path) as running:
        yield running
