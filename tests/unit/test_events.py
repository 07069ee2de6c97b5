"""``pack_array``: already-encoded items joined into one MessagePack array, decoded at once."""

from __future__ import annotations

import msgspec
import pytest

from flambeau.events import pack_array


@pytest.mark.parametrize("count", [0, 1, 15, 16, 65_535, 65_536])
def test_every_header_size_decodes_to_the_items_in_order(count: int) -> None:
    items = [msgspec.msgpack.encode(n) for n in range(count)]
    assert msgspec.msgpack.decode(pack_array(items)) == list(range(count))


def test_raw_payloads_are_packed_without_a_decode() -> None:
    raws = [msgspec.Raw(msgspec.msgpack.encode({"n": n})) for n in range(20)]
    assert msgspec.msgpack.decode(pack_array(raws)) == [{"n": n} for n in range(20)]
