"""Sorting that scales linearly: what ALS's arrangement of the ratings and the readers' duplicate check need."""

from __future__ import annotations

import numpy as np


def stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """np.argsort(keys, kind="stable") for integer keys in 0..n_keys-1, as a radix sort of 16 bits a pass
    (numpy sorts 16-bit keys by radix, in linear time: 0.5 s for 10M ratings against 2.6 s)."""
    order = None
    for shift in range(0, max(int(n_keys - 1).bit_length(), 1), 16):
        digits = ((keys if order is None else keys[order]) >> shift).astype(np.uint16)  # the low 16 bits
        order = np.argsort(digits, kind="stable") if order is None else order[np.argsort(digits, kind="stable")]
    return order
