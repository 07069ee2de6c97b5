"""How the NATS publisher takes JetStream's answers: which refusals it resends, which are final.

The answers are the JSON a JetStream server sends; no server is needed to read them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from flambeau.log._nats_wire import JetStreamRefusedError, Publisher, _Batch


def _reply(publisher: Publisher, token: int, body: dict[str, Any]) -> Msg:
    subject = (publisher._prefix + str(token).encode()).decode()
    return Msg(cast(Client, None), subject=subject, data=json.dumps(body).encode())


async def _pending(publisher: Publisher) -> _Batch:
    """One message in flight, as token 1."""
    publisher._prefix = b"_INBOX.test."
    batch = _Batch([None], asyncio.get_running_loop().create_future(), 1, tokens=[1])
    publisher._entries[1] = (batch, 0, b"frame")
    return batch


@pytest.mark.parametrize(
    "error",
    [
        {"code": 503, "err_code": 10008, "description": "JetStream system temporarily unavailable"},
        {"code": 400, "err_code": 10158, "description": "duplicate message id is in process"},
    ],
)
async def test_a_transient_refusal_is_resent_and_then_acknowledged(error: dict[str, Any]) -> None:
    publisher = Publisher(cast(Client, None), "nats://test", 5.0)
    batch = await _pending(publisher)
    await publisher._on_reply(_reply(publisher, 1, {"error": error}))
    assert not batch.done.done()
    assert batch.retry_at is not None  # resent at the next pause
    assert publisher.in_flight == 1
    # the resend's answer: the first copy was stored, so it is a duplicate of it
    await publisher._on_reply(_reply(publisher, 1, {"stream": "s", "seq": 7, "duplicate": True}))
    assert batch.done.done()
    assert batch.error is None
    assert batch.acks[0] is not None
    assert batch.acks[0].seq == 7


async def test_a_final_refusal_fails_the_publish() -> None:
    publisher = Publisher(cast(Client, None), "nats://test", 5.0)
    batch = await _pending(publisher)
    error = {"code": 400, "err_code": 10071, "description": "wrong last sequence: 3"}
    await publisher._on_reply(_reply(publisher, 1, {"error": error}))
    assert batch.done.done()
    assert isinstance(batch.error, JetStreamRefusedError)
    assert "code 10071" in str(batch.error)
    assert publisher.in_flight == 0
