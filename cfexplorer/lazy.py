"""Modules loaded on first use rather than at import.

pandas and scipy.sparse take about half a second to import, half of the one-second budget for showing the
window, and the window does not need them until a file is opened or a model is trained. ``lazy_import``
returns a module object whose code runs the first time one of its attributes is read (the standard
library's ``importlib.util.LazyLoader``). Before Python 3.12 that first load is not safe to race from two
threads, so the app loads them in the GUI thread right after the window is shown (:func:`load_now`),
before any worker thread can start.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

# scipy.spatial (0.1 s) is the factor plot's hover index: loaded at its first hover, it was that hover's stall.
LAZY_MODULES = ("pandas", "scipy.sparse", "scipy.spatial")


def lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def is_loaded(name: str) -> bool:
    """Whether the module's code has run (False for a lazy module not yet touched or one never imported)."""
    module = sys.modules.get(name)
    # type(), not isinstance(): reading __class__ would itself load the module.
    return module is not None and type(module) is ModuleType


def load_now(names=LAZY_MODULES) -> None:
    """Run the code of lazily imported modules now, in this thread."""
    for name in names:
        module = sys.modules.get(name)
        if module is not None:
            module.__name__  # reading any attribute runs a lazy module's code
