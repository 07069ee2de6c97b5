"""Seeded randomness that is stable across processes.

Every generator draws from its own :class:`random.Random`, derived from the run's seed and a
name (a venue, a unit code...). Python's ``hash()`` of a string changes per process, so the
derivation uses BLAKE2b instead: the same seed gives the same day in every process.
"""

from __future__ import annotations

import hashlib
import math
import random

__all__ = ["derive_seed", "poisson", "rng_for", "stable_token"]


def derive_seed(seed: int, *names: object) -> int:
    """A 64-bit seed derived from ``seed`` and ``names``, identical in every process."""
    text = "\x1f".join([str(seed), *(str(name) for name in names)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def rng_for(seed: int, *names: object) -> random.Random:
    """An independent random generator for one part of the scenario."""
    return random.Random(derive_seed(seed, *names))


def stable_token(seed: int, *names: object, length: int = 12) -> str:
    """A short hex token, deterministic for ``seed`` and ``names`` (ids of cards, tickets...)."""
    text = "\x1f".join([str(seed), *(str(name) for name in names)])
    return hashlib.blake2b(text.encode(), digest_size=(length + 1) // 2).hexdigest()[:length]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw with mean ``lam``.

    Knuth's product method is exact but linear in ``lam``; above 30 the normal approximation is
    within a fraction of a percent and keeps a busy minute cheap.
    """
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
