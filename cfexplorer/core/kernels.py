"""The compiled kernels (core/_kernels.c), where the install could build them, else None.

Each user of a kernel keeps a numpy form of the same computation for ``None`` (a machine without a C
compiler), and the tests run both. ``CFEXPLORER_NO_KERNELS=1`` in the environment asks for the numpy
forms (to compare them, or to rule the kernels out when something looks wrong)."""

from __future__ import annotations

import os

try:
    if os.environ.get("CFEXPLORER_NO_KERNELS"):
        raise ImportError("CFEXPLORER_NO_KERNELS is set")
    from . import _kernels as compiled
except ImportError:
    compiled = None


def describe() -> str:
    """One line for `cfexplorer --version` and the About box: which form the hot loops run in."""
    if compiled is not None:
        return "compiled kernels (core/_kernels.c)"
    return "numpy only (the compiled kernels were not built: no C compiler at install, or CFEXPLORER_NO_KERNELS)"
