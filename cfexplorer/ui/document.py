"""What is open in the window, and its lifecycle: opening, saving, recovering after a crash.

A :class:`Document` (ratings with their labels, the settings a project stored, a trained model restored from
it, where it came from) is built whole, off to the side — in a worker thread for large files — and only then
handed to the window in one call, ``MainWindow.install_document``. A failure anywhere before that, a
``MemoryError`` included, changes nothing: not the data, the title, the path Save writes to, the undo
history, the settings or the trained model.

The lifecycle lives in :class:`DocumentController`, in one place::

    idle ──open──▶ opening ──built──▶ switching ──▶ idle      the window shows the new document
                      │   └──asked──┘                            a file that does not settle its table
                      └──failed / cancelled──────────▶ idle      nothing changed
    idle ──save──▶ saving ──▶ idle

A file whose reader could not settle what its ratings are (which of a workbook's tables, which way round a
crosstab is) comes back from reading as a :class:`TableQuestion`: the window asks (a preview, in the GUI thread,
after the reading and before anything switches), and the chosen table is read from the cells already in memory.

While a document is opening or saving, another open or save is refused (a drop or a recent-file click
arriving from the progress dialog's event loop). The window does not read files, write recovery copies or
keep the recent-files list itself; it asks the controller.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressBar, QProgressDialog

from ..core import memory
from ..core.ratings import Ratings
from ..io.presets import PRESETS
from ..io.project import SUFFIX as PROJECT_SUFFIX
from ..io.project import load_project, save_project
from ..io.movie_info import attach_movie_info
from ..io.readers import RatingsFileError
from ..io.writers import write_by_extension
from ..lazy import load_now
from .document_files import (Document, TableQuestion, ZeroQuestion, describe_size, file_document, file_size,
                             preset_document, read_document, read_failure, read_for_window, safe_file_stem,
                             save_failure)
from .file_dialogs import last_folder, remember_folder
from .recovery import RecoveryStore

IDLE, OPENING, SWITCHING, SAVING = "idle", "opening", "switching", "saving"
# Files at least this large are read in a worker thread behind a progress dialog with Cancel (a million
# ratings are about 20 MB of CSV and take a second or two); smaller ones open at once.
BACKGROUND_OPEN_BYTES = 4 * 2**20
# Saves of at least this many ratings (a second or more), and Excel sheets of this many cells (openpyxl writes
# about 30,000 a second), run in a worker thread behind a progress dialog with Cancel.
BACKGROUND_SAVE_RATINGS = 500_000
BACKGROUND_XLSX_CELLS = 20_000
# A CSV/TSV matrix of this many cells, "?" or rated (25 million, the most written, take a second).
BACKGROUND_TEXT_MATRIX_CELLS = 10_000_000
MAX_RECENT = 8
# What a document's title may end with when it is the name of a file it was read from.
DOCUMENT_SUFFIXES = {PROJECT_SUFFIX, ".csv", ".tsv", ".txt", ".data", ".dat", ".xlsx", ".xlsm"}
# Unsaved edits reach the recovery file this long after they were made (and at least this many write times
# apart, so that copying a large document never takes more than a twentieth of the time).
RECOVERY_DELAY_MS = 2_000
RECOVERY_COST_FACTOR = 20


def _read_waiting(read, out_of_memory: str):
    """(what ``read()`` returns, None) or (None, its one-line error), with the wait cursor while it reads: the
    reads a preview's answer asks for are short enough for the GUI thread."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return read(), None
    except RatingsFileError as failure:
        return None, str(failure)
    except MemoryError:
        return None, out_of_memory
    finally:
        QGuiApplication.restoreOverrideCursor()


def _slow_to_write(ratings: Ratings, path: Path, shape: str | None) -> bool:
    """Whether writing takes long enough to need the background and a Cancel button."""
    if path.suffix.lower() == ".xlsx":
        cells = 3 * ratings.n_ratings if shape == "long" else ratings.n_users * ratings.n_items
        return cells >= BACKGROUND_XLSX_CELLS
    if shape != "long" and path.suffix.lower() != PROJECT_SUFFIX:
        if ratings.n_users * ratings.n_items >= BACKGROUND_TEXT_MATRIX_CELLS:
            return True
    return ratings.n_ratings >= BACKGROUND_SAVE_RATINGS


# What a recovery file says of the document it is a copy of (DocumentController.write_recovery): not settings of the
# document, which a project saved from it must not carry on.
RECOVERY_KEYS = ("recovered_from", "recovered_path")

# How often the progress dialog looks at how far a save is.
SHARE_POLL_MS = 100


class ShareDone:
    """How far a long operation in another thread is, as a share of 0..1, or None until it says; the worker
    calls it, the GUI thread reads it (a float assigned whole: no lock)."""

    def __init__(self):
        self.share: float | None = None

    def __call__(self, share: float | None):
        """The share done; None: not known (again: a reader that gave up part-way for a slower one)."""
        self.share = None if share is None else min(max(float(share), 0.0), 1.0)

    def show_in(self, dialog):
        """On the dialog's bar itself: QProgressDialog.setValue runs the event loop (a modal dialog's does),
        and its last value closes the dialog while the file is still being finished."""
        bar = dialog.findChild(QProgressBar)
        if bar is None:
            return
        if self.share is None:
            if bar.maximum() != 0:
                bar.setRange(0, 0)  # moving again: it stood still at the share last told
            return
        if bar.maximum() != 1000:
            bar.setRange(0, 1000)
        bar.setValue(min(round(self.share * 1000), 999))


class _BackgroundJob(QObject):
    """One long file operation (a read, a save) in a worker thread. ``work(cancelled)`` gets a
    threading.Event that Cancel sets; its result is delivered only while it is still the job the controller
    waits for: a cancelled job finishes in the background and is forgotten."""

    sig_done = Signal(object, object)  # result or None, one-line error or None

    def __init__(self, work, describe_failure):
        super().__init__()
        self.work, self.describe_failure = work, describe_failure
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cfexplorer-file", daemon=True)

    def _run(self):
        try:
            result, error = self.work(self.cancelled), None
        except (RatingsFileError, OSError, ValueError, MemoryError) as failure:
            result, error = None, self.describe_failure(failure)
        except Exception as failure:  # a bug: reported like any other, the window keeps its document
            result, error = None, self.describe_failure(failure)
            sys.excepthook(type(failure), failure, failure.__traceback__)
        self.sig_done.emit(result, error)


def _left_out_of_ratings_file(window, ratings: Ratings, shape: str) -> str:
    """What a ratings file (CSV, TSV, Excel) written in ``shape`` leaves out of the window's document, in words;
    "" for nothing. A long table has a line a rating: users and movies without one are not in it."""
    parts, many = [], False  # (many: the verb's number)
    if window.saves_a_model():
        parts.append("the trained model")
    if shape == "long":
        for counts, word in ((ratings.user_counts(), "user"), (ratings.item_counts(), "movie")):
            empty = int(np.count_nonzero(counts == 0))
            if empty:
                parts.append(f"{empty:,} {word}{'s' if empty != 1 else ''} without ratings")
                many |= empty != 1
    if not parts:
        return ""
    return f"{' and '.join(parts)} {'are' if many or len(parts) > 1 else 'is'} not in it"


class RecentFiles:
    def __init__(self, settings: QSettings):
        self.settings = settings

    def files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add(self, path: Path):
        files = [str(path)] + [f for f in self.files() if f != str(path)]
        self.settings.setValue("recent_files", files[:MAX_RECENT])


class DocumentController(QObject):
    """The one owner of the open document's lifecycle (see the module's docstring)."""

    sig_state_changed = Signal(str)
    sig_switched = Signal()  # the window shows another document; title and path are its own
    sig_recent_changed = Signal()
    sig_message = Signal(str, str)  # kind ("error"/"info"), text

    def __init__(self, window, settings: QSettings):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.state = IDLE
        self._save_note = ""  # what the message bar last said of a save
        self.title = "Untitled"
        self.path: Path | None = None  # where Save writes without asking
        self.project_settings: dict = {}
        self.kind = "preset"
        self.recent = RecentFiles(settings)
        self.opened_status = ""  # how the reader read the file opened last (Document.status)
        self.recovery = RecoveryStore(Path(settings.fileName()).parent)
        self._job: _BackgroundJob | None = None
        self._recovery_timer = QTimer(self, singleShot=True)
        self._recovery_timer.timeout.connect(self.write_recovery)

    # --- state ------------------------------------------------------------------------------------------
    def _set_state(self, state: str):
        if state != self.state:
            self.state = state
            self.sig_state_changed.emit(state)

    @property
    def busy(self) -> bool:
        return self.state != IDLE

    # --- opening -----------------------------------------------------------------------------------------
    def open_file(self, path) -> bool:
        """Read ``path`` (a large one in the background, with progress and Cancel) and switch to it.
        On any failure the window keeps its document and the error is shown in one line."""
        if self.busy:
            self.sig_message.emit("error", f"Still busy {self.state} a document; try again when it is done.")
            return False
        path = Path(path)
        self._set_state(OPENING)
        try:
            if file_size(path) >= BACKGROUND_OPEN_BYTES:
                read = ShareDone()  # how far the read is, where the reader can tell (a large numeric table)
                document, error = self._in_background(
                    lambda cancelled: read_for_window(path, cancelled, read),
                    lambda failure: read_failure(path, failure),
                    "Opening", f"Reading {path.name} ({describe_size(file_size(path))})…", share_done=read)
                if document is None and error is None:
                    self.sig_message.emit("info", f"Opening {path.name} was cancelled; nothing changed.")
            else:
                QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
                try:
                    document, error = read_document(path), None
                except RatingsFileError as failure:
                    document, error = None, str(failure)
                finally:
                    QGuiApplication.restoreOverrideCursor()
            if isinstance(document, TableQuestion):  # still opening: no other open or save meanwhile
                document, error = self._answer(document)
            elif isinstance(document, ZeroQuestion):
                document, error = self._answer_zeros(document)
        finally:
            self._set_state(IDLE)
        if document is None:
            if error:
                self.window.show_error("Cannot open this file", error)
            return False
        if not self.switch_to(document):
            return False
        self.opened_status = document.status
        self.recent.add(path)
        remember_folder(self.settings, path)
        self.sig_recent_changed.emit()
        return True

    def _answer(self, question: TableQuestion) -> tuple[Document | None, str | None]:
        """Ask the window which table of the file holds the ratings, and read it from the cells in memory:
        (document, None), (None, error), or (None, None) when the person cancelled."""
        path = question.path
        choice = self.window.choose_table(question)
        if choice is None:
            if question.guess is None:
                return None, question.error
            self.sig_message.emit("info", f"Opening {path.name} was cancelled; nothing changed.")
            return None, None
        candidate, rows_are_items = choice.candidate, choice.rows_are_items
        guess = question.guess
        guessed_orientation = guess.orientation.rows_are_items if guess is not None and guess.orientation else None
        if guess is not None and candidate is question.source.chosen and rows_are_items in (None, guessed_orientation):
            return file_document(path, guess, keep_guesses=not choice.by_person), None
        from ..io.workbook import read_candidate

        result, error = _read_waiting(
            lambda: attach_movie_info(read_candidate(question.source, candidate, rows_are_items=rows_are_items), path),
            f"{path}: not enough memory to read the chosen table")
        return (None, error) if error else (file_document(path, result, keep_guesses=False), None)

    def _answer_zeros(self, question: ZeroQuestion) -> tuple[Document | None, str | None]:
        """Ask the window whether the matrix's zeros are "not rated" (as read) or ratings (read again so)."""
        zero_unrated = self.window.ask_zero_meaning(question)
        if zero_unrated is None:
            self.sig_message.emit("info", f"Opening {question.path.name} was cancelled; nothing changed.")
            return None, None
        if zero_unrated:
            return file_document(question.path, question.result), None
        from ..io.dense import read_dense_matrix

        result, error = _read_waiting(lambda: read_dense_matrix(question.path, zero_is_rating=True),
                                      f"{question.path}: not enough memory to read the matrix")
        return (None, error) if error else (file_document(question.path, result), None)

    def _in_background(self, work, describe_failure, title: str, text: str, share_done: "ShareDone | None" = None):
        """Run ``work`` in a worker thread behind a window-modal progress dialog with Cancel (no edit can
        slip in meanwhile); (result, None), (None, error), or (None, None) when the user cancelled. With
        ``share_done``, which the work tells how far it is, the dialog's bar shows the percentage once known
        (else it moves to say the work goes on)."""
        load_now()  # lazy modules load here, in the GUI thread, never racing the worker's first use
        job = self._job = _BackgroundJob(work, describe_failure)
        loop = QEventLoop()
        outcome = {}

        def done(result, error):
            if self._job is job:  # a cancelled job's result is forgotten
                outcome["result"] = (result, error)
                loop.quit()

        job.sig_done.connect(done, Qt.ConnectionType.QueuedConnection)
        dialog = QProgressDialog(text, "Cancel", 0, 0, self.window)
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(loop.quit)
        dialog.canceled.connect(job.cancelled.set)
        self.progress_dialog = dialog
        poll = QTimer()
        if share_done is not None:
            poll.setInterval(SHARE_POLL_MS)
            poll.timeout.connect(lambda: share_done.show_in(dialog))
            poll.start()
        job.thread.start()
        dialog.show()
        loop.exec()
        poll.stop()
        self._job = None
        # The connection holds ``done``, which holds the job (and ``outcome`` the result): a cycle through Qt
        # that Python's collector cannot see, which kept every document opened this way alive for good.
        job.sig_done.disconnect(done)
        dialog.close()
        dialog.deleteLater()
        self.progress_dialog = None
        return outcome.pop("result", (None, None))

    def cancel_job(self):
        """Cancel a background open or save (what the progress dialog's Cancel does)."""
        dialog = getattr(self, "progress_dialog", None)
        if dialog is not None:
            dialog.canceled.emit()  # QProgressDialog.cancel() only resets the dialog

    def open_preset(self, name: str, kind: str = "preset") -> bool:
        if name not in PRESETS:
            self.sig_message.emit("error", f"There is no example called {name!r}.")
            return False
        return self.switch_to(preset_document(name, kind))

    def switch_to(self, document: Document) -> bool:
        """Hand a whole document to the window. Should the window fail half-way, it is put back on the
        document it had, so that nothing (Save above all) ever works on a half-switched window."""
        if self.state not in (IDLE,):
            self.sig_message.emit("error", f"Still busy {self.state} a document; try again when it is done.")
            return False
        previous = self.current_document()
        self._set_state(SWITCHING)
        try:
            self.window.install_document(document)
        except (Exception, MemoryError) as error:
            try:
                self.window.install_document(previous, keep_history=True)
            except (Exception, MemoryError):
                pass  # reported below; the previous data is still the table's if installing it failed early
            self._set_state(IDLE)
            self.window.show_error("Cannot open this document",
                                   f"{document.title}: {type(error).__name__}: {error}")
            sys.excepthook(type(error), error, error.__traceback__)
            return False
        self.title, self.path, self.kind = document.title, document.path, document.kind
        self.project_settings = dict(document.settings)
        self._recovery_timer.stop()
        self._set_state(IDLE)
        self.sig_switched.emit()
        # What the process kept of freed memory (core.memory) served the document before, which is gone once
        # this returns: hand it back rather than hold up to 2 GB for a small document.
        QTimer.singleShot(0, memory.return_freed_memory)
        return True

    def current_document(self) -> Document:
        """The window's document as it stands (to put back should a switch fail)."""
        window = self.window
        model = window.training_panel.model
        earlier_runs, model_run = window.training_panel.runs_of(model)
        return Document(window.table.ratings, self.title, self.path, window.current_settings(), model, kind=self.kind,
                        rows_token=window.table.rows_token, earlier_runs=tuple(earlier_runs), model_run=model_run)

    # --- saving -----------------------------------------------------------------------------------------
    def suggested_save_path(self) -> Path:
        """A project beside the last folder used, named after the document: "ratings.csv" suggests
        "ratings.cfx" (not "ratings.csv.cfx")."""
        recovered_path = self.project_settings.get("recovered_path")
        if self.kind == "recovery" and isinstance(recovered_path, str):  # the project the recovered edits were of
            return Path(recovered_path)
        start = last_folder(self.settings)
        title = Path(self.title)
        stem = title.stem if title.suffix.lower() in DOCUMENT_SUFFIXES else self.title
        return start / (safe_file_stem(stem) + PROJECT_SUFFIX)

    def save_to(self, path, shape: str | None = None) -> bool:
        """Write the document; a project (.cfx) becomes the file Save writes to from then on. A large save
        runs in the background behind a progress dialog with Cancel; a cancelled or failed one leaves the
        file as it was."""
        if self.busy:
            self.sig_message.emit("error", f"Still busy {self.state} a document; try again when it is done.")
            return False
        path = Path(path)
        window = self.window
        # what the last save said (refused, cancelled) no longer holds once another is under way
        window.message_bar.dismiss_if(self._save_note)
        ratings = window.table.ratings  # immutable: what is saved is what the window showed at Save
        saved_step = window.undo_stack.index()
        left_out = ""
        written = ShareDone()  # what the writer has written, for the progress dialog
        if path.suffix.lower() == PROJECT_SUFFIX:
            project = window.project_to_save(window.current_settings())
            left_out = window.model_left_out()

            def write(cancelled):
                save_project(path, project, cancelled)
        else:
            rows_are_items = window.table.rows_are_items

            def write(cancelled):
                write_by_extension(ratings, path, shape or "wide", items_as_rows=rows_are_items, cancelled=cancelled,
                                   progress=written)
        self._set_state(SAVING)
        try:
            if _slow_to_write(ratings, path, shape):
                done, error = self._in_background(lambda cancelled: write(cancelled) or True,
                                                  lambda failure: save_failure(path, failure), "Saving",
                                                  f"Writing {path.name} ({ratings.n_ratings:,} ratings)…",
                                                  share_done=written)
                if not done and error is None:
                    self._save_note = f"Saving {path.name} was cancelled; the file is as it was."
                    self.sig_message.emit("info", self._save_note)
                    return False
            else:
                try:
                    write(None)
                    error = None
                except (OSError, ValueError, MemoryError) as failure:
                    error = save_failure(path, failure)
        finally:
            self._set_state(IDLE)
        if error:
            said = str(error) if str(error).endswith(".") else f"{error}."
            self._save_note = f"{said} The previous file, if any, is unchanged."
            window.show_error("Could not save", f"{said}\nThe previous file, if any, is unchanged.")
            return False
        project = path.suffix.lower() == PROJECT_SUFFIX
        if project:
            self.path = path
            self.kind = "project"  # no longer the recovered copy of another (see suggested_save_path)
        else:
            left_out = _left_out_of_ratings_file(window, ratings, shape or "wide")
        if self.path is None or self.path == path:  # the title names the file Save writes (or would ask about)
            self.title = path.name
        # Written whole, the document is saved; a ratings file that leaves part of it out, or one written beside
        # the project Save writes, is a copy, and closing must still ask (it said nothing, and a trained model or
        # users without ratings were gone, or the project stayed behind the window).
        copy = not project and (bool(left_out) or self.path is not None)
        if window.undo_stack.index() == saved_step and not copy:
            window.undo_stack.setClean()
        self.recent.add(path)
        remember_folder(self.settings, path)
        self.sig_recent_changed.emit()
        if left_out or copy:
            self._save_note = f"Saved {path.name}{f'; {left_out}' if left_out else ''}."
            if copy and not window.undo_stack.isClean():
                self._save_note += (f" The changes are still unsaved: Save writes {self.path.name}." if self.path
                                    else " The changes are still unsaved: a project (.cfx) holds everything.")
            self.sig_message.emit("info", self._save_note)
        return True

    # --- crash recovery -------------------------------------------------------------------------------
    def follow_edits(self, undo_stack):
        """Copy unsaved edits to the recovery file within seconds of each edit; drop it once they are saved
        (or undone). The slots keep the stack's clean state themselves: they are also called while the
        window and its stack are being destroyed."""
        self._clean = undo_stack.isClean()
        undo_stack.cleanChanged.connect(self._on_clean_changed)
        undo_stack.indexChanged.connect(self._on_undo_index_changed)

    def _on_clean_changed(self, clean: bool):
        self._clean = clean
        if clean:
            self.on_clean()
        else:
            self.on_unsaved_change()

    def _on_undo_index_changed(self, index: int):
        if not self._clean:
            self.on_unsaved_change()

    def on_unsaved_change(self):
        """An edit made the document differ from its file: copy it to the recovery file soon."""
        if not self._recovery_timer.isActive():
            delay = max(RECOVERY_DELAY_MS, int(1000 * RECOVERY_COST_FACTOR * self.recovery.last_write_seconds))
            self._recovery_timer.start(delay)

    def on_clean(self):
        """The document equals its file again (saved, or undone to it): nothing to recover."""
        self._recovery_timer.stop()
        self.recovery.remove()

    def write_recovery(self) -> bool:
        """Copy unsaved edits to this instance's recovery file (in the background); True when started."""
        window = self.window
        if not window.has_unsaved_changes:
            return False
        settings = {**window.current_settings(), "recovered_from": self.title}
        if self.path is not None:
            settings["recovered_path"] = str(self.path)
        elif self.kind == "recovery":  # recovered once and crashed again: still a copy of the same document
            settings.update({key: self.project_settings[key] for key in RECOVERY_KEYS if key in self.project_settings})
        # the trained model too (training it again could take minutes): the one a project saved now would keep
        project = window.project_to_save(settings)
        started = self.recovery.write(project, on_done=self._on_recovery_written)
        if not started:
            self._recovery_timer.start(RECOVERY_DELAY_MS)  # the previous copy is still being written
        return started

    def _on_recovery_written(self):  # in the writer thread: only report through a queued signal
        if self.recovery.last_error:
            self.sig_message.emit("error", self.recovery.last_error)

    def recovery_candidates(self) -> list[Path]:
        return self.recovery.orphans()

    def open_recovery(self, path: Path) -> Document | None:
        """The document in a recovery file, or None after setting an unreadable one aside with a message."""
        try:
            project = load_project(path)
        except (RatingsFileError, OSError, ValueError, MemoryError) as error:
            aside = self.recovery.set_aside(path)
            self.sig_message.emit("error", f"A recovery file could not be read ({error}); it was set aside as "
                                           f"{aside.name}.")
            return None
        title = str(project.settings.get("recovered_from", "untitled"))
        return Document(project.ratings, f"Recovered {title}", None, dict(project.settings), project.model,
                        kind="recovery", earlier_runs=tuple(project.earlier_runs), model_run=project.model_run)

    def shutdown(self):
        self._recovery_timer.stop()
        self.recovery.release()


__all__ = ["Document", "DocumentController", "TableQuestion", "read_document", "preset_document",
           "safe_file_stem"]
