"""No Python exception crosses into Qt: every override of a Qt method is guarded, and a guarded failure
becomes one report and a safe answer."""

import importlib
import inspect
import pkgutil
import sys

import cfexplorer
from cfexplorer.ui import qt_guard

# Methods that share a name with a Qt method Qt never calls on our objects: QLabel.clear is a plain slot
# (not virtual), QWidget.find a static function.
CALLED_ONLY_FROM_PYTHON = {"FormulaPanel.clear", "FactorSpaceView.find"}


def _cfexplorer_classes():
    names = ["cfexplorer.app"] + [
        f"cfexplorer.ui.{info.name}" for info in pkgutil.iter_modules(cfexplorer.ui.__path__)
    ]
    for name in names:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def _qt_method_overridden(cls, name):
    """The Qt (C++) class whose method ``cls.name`` overrides, or None."""
    for base in cls.__mro__[1:]:
        # pyqtgraph's classes are Python too: what they define in Python is Qt's only where a Qt class has it
        if base.__module__.startswith("PySide6.") and name in vars(base):
            return base
    return None


def test_every_override_of_a_qt_method_is_guarded():
    unguarded = []
    for cls in _cfexplorer_classes():
        for name, member in vars(cls).items():
            if name.startswith("__") or not callable(member) or f"{cls.__qualname__}.{name}" in CALLED_ONLY_FROM_PYTHON:
                continue
            base = _qt_method_overridden(cls, name)
            if base is not None and not getattr(member, "__qt_guarded__", False):
                unguarded.append(f"{cls.__module__}.{cls.__qualname__}.{name} (overrides {base.__name__})")
    assert not unguarded, "unguarded overrides of Qt methods:\n" + "\n".join(unguarded)


def test_a_failing_override_returns_its_fallback_and_is_reported_once_a_minute(monkeypatch):
    qt_guard.forget_reports()
    reports = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: reports.append(exc[1]))

    class Broken:
        @qt_guard.qt_virtual(fallback=-1)
        def data(self, row):
            return [10, 20][row]

    broken = Broken()
    assert broken.data(1) == 20
    assert [broken.data(5) for _ in range(100)] == [-1] * 100
    assert len(reports) == 1 and isinstance(reports[0], IndexError)
    key = next(iter(qt_guard._last_reported))
    assert qt_guard.should_report(key, now=qt_guard._last_reported[key] + 61)
    qt_guard.forget_reports()


def test_a_callable_fallback_gets_the_arguments(monkeypatch):
    qt_guard.forget_reports()
    monkeypatch.setattr(sys, "excepthook", lambda *exc: None)

    class Broken:
        @qt_guard.qt_virtual(fallback=lambda self, a, b: a < b)
        def lessThan(self, a, b):
            raise KeyError("stale key")

    assert Broken().lessThan(1, 2) is True
    qt_guard.forget_reports()
