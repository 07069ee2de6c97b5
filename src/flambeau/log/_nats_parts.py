"""Values larger than one NATS message in the groups KV bucket, split into parts.

A NATS message carries at most the server's ``max_payload`` (1 MB by default); one processor
state value may be larger (the payments ledger keeps megabytes of transfers under one key).
Such a value is written as its parts and a *pointer*, all in one atomic batch::

    <group>.sp.<partition>.<key>.<i>   part i of the value      (header Flambeau-Part: <token>)
    <group>.st.<partition>.<key>       "<parts>:<token>"        (header Flambeau-Parts: 1)

The token is a digest of the value, so writing the same value again (a redo) writes the same
parts. Readers that meet a pointer fetch its parts from the stream leader and check each one's
token: parts and pointer are stored together or not at all, so a mismatch means a write landed
between the two reads, and the read is tried again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping

import nats.js.errors
from nats.js.client import JetStreamContext

from flambeau.log._nats_wire import ClusterCatchingUpError

PARTS_HEADER = "Flambeau-Parts"
PART_HEADER = "Flambeau-Part"

Item = tuple[bytes, bytes, bytes]
"""``(subject, header lines, payload)``, as :class:`~flambeau.log._nats_wire.AtomicBatches`
publishes them."""


def split(data: bytes, limit: int) -> list[bytes]:
    """``data`` in pieces of at most ``limit`` bytes (one empty piece for empty data)."""
    return [data[i : i + limit] for i in range(0, len(data), limit)] or [b""]


def value_items(subject: str, parts: str, value: bytes, limit: int) -> list[Item]:
    """The messages writing ``value`` at ``subject``: itself when it fits in ``limit`` bytes,
    else its parts at ``<parts>.<i>`` followed by a pointer at ``subject``."""
    if len(value) <= limit:
        return [(subject.encode(), b"", value)]
    token = hashlib.sha256(value).hexdigest()[:32]
    pieces = split(value, limit)
    part_header = f"{PART_HEADER}: {token}\r\n".encode()
    items = [
        (f"{parts}.{index}".encode(), part_header, piece) for index, piece in enumerate(pieces)
    ]
    items.append(
        (subject.encode(), f"{PARTS_HEADER}: 1\r\n".encode(), f"{len(pieces)}:{token}".encode())
    )
    return items


def is_pointer(headers: Mapping[str, str]) -> bool:
    """Whether a stored state value is a pointer to parts."""
    return PARTS_HEADER in headers


async def assemble(js: JetStreamContext, stream: str, parts: str, pointer: bytes) -> bytes:
    """The value a pointer stands for, from its parts at ``<parts>.<i>`` in ``stream``.

    Raises:
        ClusterCatchingUpError: a part is missing or belongs to another value (written
            meanwhile): read again.
    """
    count, _, token = pointer.decode().partition(":")

    async def part(index: int) -> bytes:
        try:
            msg = await js.get_last_msg(stream, f"{parts}.{index}")
        except nats.js.errors.NotFoundError:
            raise ClusterCatchingUpError(f"part {index} of {parts} is missing") from None
        if (msg.headers or {}).get(PART_HEADER) != token:
            raise ClusterCatchingUpError(f"part {index} of {parts} was written meanwhile")
        return msg.data or b""

    return b"".join(await asyncio.gather(*(part(i) for i in range(int(count)))))
