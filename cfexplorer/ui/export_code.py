"""File ▸ Export as Python Script… / Export as Notebook…: the window's current run as code
(cfexplorer/io/code_export.py writes it; this module decides what the run was and where its data is)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from ..core.models import kind_of
from ..io.code_export import NOTEBOOK_SUFFIX, SCRIPT_SUFFIX, RunRecipe, write_code
from ..io.presets import PRESETS
from ..io.readers import read_any
from .document import BACKGROUND_OPEN_BYTES, safe_file_stem
from .file_dialogs import save_file_name

FILTERS = {SCRIPT_SUFFIX: "Python script (*.py)", NOTEBOOK_SUFFIX: "Jupyter notebook (*.ipynb)"}


def recipe_for(window) -> RunRecipe:
    """The window's last run (or, before any, the run Train would start) as a RunRecipe."""
    panel = window.training_panel
    model, inputs, notes = panel.model, panel.run_inputs, []
    if model is not None and inputs is not None:
        ratings, kind = inputs.ratings, inputs.kind
        params = model.get_params()
        fraction, seed = inputs.validation_fraction, inputs.validation_seed
        history = getattr(model, "history_", [])
        # epochs trained: the last record's number (a matrix factorization's history starts at epoch 0)
        planned, done = int(params.get("n_epochs", 0)), history[-1].epoch if history else 0
        if params.get("warm_start"):
            # Step went on from the run before: its n_epochs are the continuation's. One run of all the epochs
            # trains the same model (a warm start goes on with the optimizer's state and the shuffles).
            params["warm_start"] = False
            planned = panel.progress.maximum() if panel.controller.is_active else done
            params["n_epochs"] = planned
            notes.append(f"The run in the window went on from an earlier one (Step); this trains its {planned} "
                         "epochs in one run.")
        if panel.controller.is_active:
            notes.append(f"The run was still going in the window ({done} of {planned} epochs); this trains all "
                         f"{planned}.")
        elif done < planned:
            params["n_epochs"] = done
            notes.append(f"The run in the window stopped after {done} of {planned} epochs; this trains {done}.")
    else:
        ratings, kind = window.table.ratings, panel.kind
        params = panel.model_params()
        if kind == "content" and (panel.user_features is not None or panel.item_features is not None):
            params["user_features"], params["item_features"] = panel.current_feature_tables()
        fraction, seed = panel.validation.value(), panel.seed.value()
        if model is not None:
            kind, params = kind_of(model), model.get_params()
            notes.append("The model in the window was restored from a project; this trains it again with its "
                         "settings and the panel's held-out share.")
        else:
            notes.append("The window had not trained yet: this is the run Train would start.")
    if params.get("init") == "given":  # Training ▸ Load Parameters…: the files are not part of the code
        params["init"] = "small"
        notes.append("The run in the window started from loaded parameters, which this code does not carry: it "
                     "starts from small random factors.")
    return RunRecipe(window.document_title, kind, params, ratings, data_source(window, ratings), fraction, seed,
                     " ".join(notes))


def data_source(window, ratings) -> tuple:
    """Where the exported code reads ``ratings`` from: the example or the file they came from when those
    give exactly these ratings, else ("embedded",)."""
    if ratings is not window.table.ratings or not window.undo_stack.isClean():
        return ("embedded",)  # edited since the file was opened or saved
    documents = window.documents
    if documents.path is not None and documents.path.exists():
        return ("project", documents.path)
    preset = documents.project_settings.get("preset")
    if documents.kind == "preset" and isinstance(preset, str) and preset in PRESETS:
        return ("example", preset)
    source = documents.project_settings.get("source")
    if documents.kind == "file" and isinstance(source, str):
        path = Path(source)
        if _reads_the_same(path, ratings):
            return ("file", path, ratings.binary)
    return ("embedded",)


def _reads_the_same(path: Path, ratings) -> bool:
    """Does reading ``path`` again give exactly ``ratings``? (A file opened with choices made in a preview,
    or changed on disk since, does not.) Large files are not read again: their ratings are written out."""
    try:
        if path.stat().st_size >= BACKGROUND_OPEN_BYTES:
            return False
        again = read_any(path, binary=ratings.binary).ratings
    except (OSError, ValueError, MemoryError):  # a reader's refusal is a ValueError
        return False
    return (again.n_users == ratings.n_users and again.n_items == ratings.n_items
            and np.array_equal(again.users, ratings.users) and np.array_equal(again.items, ratings.items)
            and np.array_equal(again.values, ratings.values)
            and list(again.user_labels) == list(ratings.user_labels)
            and list(again.item_labels) == list(ratings.item_labels))


def export_dialog(window, suffix: str) -> list[Path]:
    """Ask where, then write the run as a script or notebook; the files written (none when cancelled)."""
    suggested = safe_file_stem(Path(window.document_title).stem) + suffix
    what = "Python Script" if suffix == SCRIPT_SUFFIX else "Notebook"
    path, _ = save_file_name(window, window.settings, f"Export as {what}", FILTERS[suffix], suggested)
    if not path:
        return []
    path = Path(path)
    if path.suffix.lower() != suffix:
        path = path.with_name(path.name + suffix)
    return export_to(window, path)


def export_to(window, path) -> list[Path]:
    path = Path(path)
    try:
        recipe = recipe_for(window)
    except ValueError as error:  # settings a user typed that cannot train
        window.message_bar.show_message(f"Cannot export: {error}")
        return []
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        written = write_code(recipe, path)
    except OSError as error:
        window.show_error("Cannot export", f"{path}: {error.strerror or error}")
        return []
    finally:
        QGuiApplication.restoreOverrideCursor()
    how = f"python {path.name}" if path.suffix.lower() == SCRIPT_SUFFIX else f"jupyter notebook {path.name}"
    extra = f" and {written[1].name}" if len(written) > 1 else ""
    window.message_bar.show_message(f"Wrote {path.name}{extra}: `{how}` trains this run again.", kind="info")
    return written
