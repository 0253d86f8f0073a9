"""What the tests of core/ share: each copy of the compiled kernels this CPU can run."""

from contextlib import contextmanager

import pytest

from cfexplorer.core import kernels

# core/_kernels.c keeps a copy of its loops for each: 'avx512' (the full batch's pass and the ALS half-step; the
# rest AVX2), 'avx2' and 'none' (any x86-64 or other CPU). A machine runs its widest; the others are tested here
# by limiting it.
KERNEL_COPIES = tuple(kernels.VECTOR_EXTENSIONS)


@contextmanager
def kernels_limited_to(widest: str):
    """The compiled kernels choosing copies no wider than ``widest`` (skipped where this CPU does not run it)."""
    compiled = kernels.compiled  # held: a test may set kernels.compiled to None meanwhile
    if compiled is None:
        pytest.skip(kernels.describe())
    try:
        used = compiled.vector_extensions(widest)
        if used != widest:
            pytest.skip(f"this CPU runs no {widest} copy of the kernels (its widest: {used})")
        yield used
    finally:
        compiled.vector_extensions(KERNEL_COPIES[0])  # the default: every copy the CPU runs


@pytest.fixture(params=KERNEL_COPIES)
def kernel_copy(request):
    """The compiled kernels limited, for the test, to each copy this CPU can run."""
    with kernels_limited_to(request.param) as used:
        yield used
