"""The compiled kernels (core/_kernels.c), where the install could build them, else None.

Each user of a kernel keeps a numpy form of the same computation for ``None`` (a machine without a C
compiler), and the tests run both. ``CFEXPLORER_NO_KERNELS=1`` in the environment asks for the numpy
forms (to compare them, or to rule the kernels out when something looks wrong)."""

from __future__ import annotations

import importlib
import os

import numpy as np


def import_compiled(name: str):
    """The compiled module ``name`` (this one's kernels, io/_numbers.c's parser), or None where the install
    could not build it or ``CFEXPLORER_NO_KERNELS`` asks for the numpy and pandas forms."""
    if os.environ.get("CFEXPLORER_NO_KERNELS"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


compiled = import_compiled("cfexplorer.core._kernels")


# The copies of core/_kernels.c's loops, widest first, by the names compiled.vector_extensions() takes and gives,
# and as describe says them.
VECTOR_EXTENSIONS = {"avx512": "AVX-512 and AVX2", "avx2": "AVX2", "none": "no vector extensions"}


def describe() -> str:
    """One line for `cfexplorer --version` and the About box: which form the hot loops run in."""
    if compiled is not None:
        return f"compiled kernels (core/_kernels.c, {VECTOR_EXTENSIONS[compiled.vector_extensions()]})"
    return "numpy only (the compiled kernels were not built: no C compiler at install, or CFEXPLORER_NO_KERNELS)"


def bincount(indices: np.ndarray, minlength: int, weights: np.ndarray | None = None) -> np.ndarray:
    """np.bincount(indices, weights, minlength) for indices in 0..minlength-1. The ratings keep their index arrays
    read-only, and np.bincount copies such input first with the GIL held (40 ms of a frozen window for each of
    25 million ratings at a run's start); the compiled kernel reads them in place without it."""
    if compiled is None or indices.dtype != np.int64 or not indices.flags.c_contiguous or (
            weights is not None and (weights.dtype != np.float64 or not weights.flags.c_contiguous)):
        return np.bincount(indices, weights, minlength)
    out = np.zeros(minlength, dtype=np.int64 if weights is None else np.float64)
    compiled.bincount(indices, out, weights)
    return out
