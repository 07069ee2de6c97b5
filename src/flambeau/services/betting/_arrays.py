"""The numpy array types of the betting service's vectorised pricing."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
"""Probabilities, rates, odds and weights."""
IntArray: TypeAlias = npt.NDArray[np.int64]
"""Indexes, counts and goal tallies."""
