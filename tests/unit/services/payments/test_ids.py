"""The index of accepted transfer ids: exact once candidates are checked, collisions included."""

from __future__ import annotations

import random

import numpy as np
import pytest

from flambeau.services.payments import ids as ids_module
from flambeau.services.payments.ids import IdIndex


def _fill(index: IdIndex, batches: int, size: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    expected: dict[str, int] = {}
    for location in range(batches):
        fresh = [f"{rng.getrandbits(96):x}" for _ in range(size)]
        fresh = [key for key in dict.fromkeys(fresh) if key not in expected]
        index.add(fresh, location)
        expected.update(dict.fromkeys(fresh, location))
    return expected


def test_every_id_finds_its_location_and_unknown_ids_find_none() -> None:
    index = IdIndex()
    expected = _fill(index, batches=60, size=500, seed=1)  # grows past 1,024 slots many times
    assert len(index) == len(expected) == 30_000
    assert all(index.candidates(key) == [location] for key, location in expected.items())
    unknown = [f"unknown-{n}" for n in range(2_000)]
    assert all(index.candidates(key) == [] for key in unknown)
    assert index.maybe_many([*unknown, *expected]) == [False] * 2_000 + [True] * 30_000
    assert index.nbytes <= 12 * 4 * len(index)  # at least a quarter full


def test_ids_sharing_a_hash_keep_every_location(monkeypatch: pytest.MonkeyPatch) -> None:
    # a hash with 13 values: almost every id collides, within a batch and across batches
    monkeypatch.setattr(ids_module, "_hash", lambda key: hash(key) % 13 + 1)
    monkeypatch.setattr(
        ids_module, "_hashes", lambda keys: np.array([hash(k) % 13 + 1 for k in keys], np.int64)
    )
    index = IdIndex()
    expected = _fill(index, batches=30, size=40, seed=2)
    assert len(index.collided) == len(expected) - 13
    for key, location in expected.items():
        assert location in index.candidates(key)
    # a candidate is a place to look, never a promise: unknown ids get some too
    assert index.candidates("unknown") != []
    assert index.maybe_many(list(expected)) == [True] * len(expected)
