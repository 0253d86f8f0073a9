"""Copies of unsaved edits that survive a crash: one recovery file per running window, offered again by the
next start once its window's process is gone."""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QLockFile

from ..io.project import SUFFIX as PROJECT_SUFFIX
from ..io.project import Project, save_project


class RecoveryStore:
    """Copies of unsaved edits, one file per running instance, offered again after a crash.

    Each window writes ``recovery-<pid>-<n>.cfx`` beside the settings and holds ``recovery-<pid>-<n>.lock``
    while it runs; a recovery file whose lock nobody holds was left by an instance that died (QLockFile
    knows a lock whose process is gone). A second instance therefore never offers, reads or deletes the
    file of one that is still running."""

    _numbers = itertools.count(1)

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        name = f"recovery-{os.getpid()}-{next(self._numbers)}"
        self.path = self.folder / f"{name}{PROJECT_SUFFIX}"
        self._lock = QLockFile(str(self.folder / f"{name}.lock"))
        self._lock.setStaleLockTime(0)  # a lock is stale only when its process is gone, never by age
        self._writer: threading.Thread | None = None
        self.last_write_seconds = 0.0
        self.last_error: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock.tryLock(0)
        except OSError:
            pass  # no writable settings folder: recovery copies fail later with a message

    def write(self, project: Project, on_done=None) -> bool:
        """Write ``project`` in a background thread (an immutable snapshot; big documents take seconds).
        False when a write is still under way (the caller tries again later)."""
        if self._writer is not None and self._writer.is_alive():
            return False

        def run():
            started = time.perf_counter()
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                save_project(self.path, project)
                self.last_error = None
            except (OSError, ValueError) as error:
                self.last_error = f"Could not write the recovery file {self.path}: {error}"
            except MemoryError:
                self.last_error = f"Not enough memory to write the recovery file {self.path}"
            self.last_write_seconds = time.perf_counter() - started
            if on_done is not None:
                on_done()

        self._writer = threading.Thread(target=run, name="cfexplorer-recovery", daemon=True)
        self._writer.start()
        return True

    def wait(self, timeout: float = 30.0):
        if self._writer is not None:
            self._writer.join(timeout)

    def remove(self):
        self.wait()
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a stale copy is offered once more at the next start, nothing worse

    def orphans(self) -> list[Path]:
        """Recovery files of instances that are no longer running, newest first. Locks such instances left with
        no recovery file beside them (killed with nothing unsaved) are deleted: they piled up by the dozen."""
        for lock_path in self.folder.glob("recovery-*.lock"):
            if not lock_path.with_suffix(PROJECT_SUFFIX).exists() and lock_path != Path(self._lock.fileName()):
                _nobody_holds(lock_path)  # and a lock nobody holds is deleted on the way
        found = [path for path in self.folder.glob(f"recovery-*{PROJECT_SUFFIX}")
                 if path != self.path and _nobody_holds(path.with_suffix(".lock"))]
        return sorted(found, key=lambda p: _mtime(p), reverse=True)

    def set_aside(self, path: Path) -> Path:
        aside = path.with_suffix(".unreadable")
        try:
            path.replace(aside)
        except OSError:
            pass
        return aside

    def release(self):
        self.wait()
        self._lock.unlock()


def _nobody_holds(lock_path: Path) -> bool:
    """Whether no running instance holds this lock (QLockFile checks its pid). A lock nobody holds is taken and
    given up, which deletes its file."""
    lock = QLockFile(str(lock_path))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
    if not lock.tryLock(0):
        return False
    lock.unlock()
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
