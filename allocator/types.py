"""Array aliases used in every numeric signature.

``NumArray`` accepts any numeric dtype for inputs that are converted inside the function.
"""

from __future__ import annotations

from typing import Any, NewType, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
NumArray: TypeAlias = npt.NDArray[Any]

Pence = NewType("Pence", int)


def group_sum(group: NumArray, weights: NumArray, size: int) -> FloatArray:
    """Sum ``weights`` by ``group`` position (a typed ``np.bincount``)."""
    total: FloatArray = np.bincount(
        np.asarray(group, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float64),
        minlength=size,
    ).astype(np.float64)
    return total
