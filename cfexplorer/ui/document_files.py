"""What a document is, and how one is read: from a ratings file, a project or an example, with the one-line
errors the window shows. Threads, dialogs and the lifecycle are :mod:`.document`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.ratings import Ratings
from ..io.presets import PRESETS, load_preset
from ..io.project import SUFFIX as PROJECT_SUFFIX
from ..io.project import load_project
from ..io.readers import LoadResult, NoRatingsTable, RatingsFileError, read_any, share_of
from ..io.tables import TableSource
from .table_model import prepare_for_grid

_UNSAFE_FILE_NAME_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@dataclass(frozen=True)
class Document:
    """Everything the window shows that belongs to one file, example or lesson."""

    ratings: Ratings
    title: str
    path: Path | None = None              # the project Save writes to without asking, if any
    settings: dict = field(default_factory=dict)  # training settings, layout, preset name, source file
    model: object | None = None           # a trained model restored from a project
    warnings: tuple[str, ...] = ()
    source: Path | None = None            # the file it was read from (the recent-files list)
    kind: str = "file"                    # "file", "project", "preset", "lesson", "recovery", "new"
    status: str = ""                      # how the reader read it, for the status bar (a lab Y: "R was used")
    rows_token: object | None = None      # the grid's rows as they stood (RatingTableModel.rows_token), when put back
    earlier_runs: tuple = ()              # the loss plot's runs before the model's (SavedRuns), a project's
    model_run: object | None = None       # the model's run in the loss plot (a SavedRun: its number and settings)


@dataclass(frozen=True)
class TableQuestion:
    """A file read whose ratings a person must choose: what the reader found (``source``), what it would take
    itself (``guess``, None when nothing reads by itself) and, then, why (``error``, one line)."""

    path: Path
    source: TableSource
    guess: LoadResult | None = None
    error: str = ""


@dataclass(frozen=True)
class ZeroQuestion:
    """A headerless matrix of numbers read with 0 as "not rated" (the lab's Y without its R beside it): a person
    says whether 0 is a rating instead (io/dense.py)."""

    path: Path
    result: LoadResult


def file_document(path: Path, result: LoadResult, keep_guesses: bool = True) -> Document:
    """The document of ratings read from a file; ``keep_guesses`` False drops the reader's notes on what it
    guessed (a person chose instead)."""
    notes = result.warnings
    if not keep_guesses and result.question is not None:
        asked = result.question.question
        notes = [note for note in notes if not (note.startswith("rows were taken as")
                                                 or note.startswith(f"{asked}: read "))]
    return Document(result.ratings, path.name, None, {"source": str(path)}, None, tuple(notes), source=path,
                    kind="file", status=getattr(result, "status", ""))


def safe_file_stem(title: str) -> str:
    """A file name from a document title that every platform accepts (no ':' for Windows, no '/')."""
    stem = _UNSAFE_FILE_NAME_CHARACTERS.sub(" - ", str(title))
    stem = re.sub(r"(\s*-\s*){2,}", " - ", re.sub(r"\s+", " ", stem)).strip(" .-")
    return stem or "Untitled"


def read_document(path, cancelled=None, progress=None) -> Document | TableQuestion:
    """Read a ratings file or a project into a Document, or a TableQuestion when the file does not settle what
    its ratings are; RatingsFileError (one line) when it cannot be read. ``cancelled``, ``progress``: see
    read_ratings."""
    path = Path(path)
    try:
        if path.suffix.lower() == PROJECT_SUFFIX:
            project = load_project(path)  # its model rebuilt and checked against its ratings
            return Document(project.ratings, path.name, path, dict(project.settings), project.model, source=path,
                            kind="project", earlier_runs=tuple(project.earlier_runs), model_run=project.model_run)
        try:
            result = read_any(path, cancelled=cancelled, progress=progress)
        except NoRatingsTable as nothing:
            return TableQuestion(path, nothing.source, None, str(nothing))
        if result.question is not None:
            return TableQuestion(path, result.question, result)
        if getattr(result, "zero_question", False):
            return ZeroQuestion(path, result)
        return file_document(path, result)
    except MemoryError:
        raise RatingsFileError(path, f"not enough memory to open it ({describe_size(file_size(path))})") from None
    except RatingsFileError:
        raise
    except (OSError, ValueError) as error:
        message = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise RatingsFileError(path, message) from None


def read_for_window(path: Path, cancelled=None, progress=None) -> Document | TableQuestion:
    """:func:`read_document`, then, still in the background, the grid's index and counts of its ratings: sorting
    25 million ratings in the GUI thread would freeze the window for half a minute after the progress dialog.
    ``progress`` is told the share done where the reader tells it (see read_ratings)."""
    document = read_document(path, cancelled, share_of(progress, 0.0, 0.9))
    if isinstance(document, Document):
        prepare_for_grid(document.ratings, share_of(progress, 0.9, 1.0))
    return document


def preset_document(name: str, kind: str = "preset") -> Document:
    preset = PRESETS[name]
    return Document(load_preset(name), preset.title, settings={"preset": name}, kind=kind)


def describe_size(size: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_failure(path: Path, failure: BaseException) -> str:
    if isinstance(failure, RatingsFileError):
        return str(failure)
    if isinstance(failure, MemoryError):
        return f"{path}: not enough memory to open it"
    return f"{path}: {type(failure).__name__}: {failure}"


def save_failure(path: Path, failure: BaseException) -> str:
    if isinstance(failure, MemoryError):
        return f"{path}: not enough memory to save it"
    message = " ".join(str(failure).split()) or type(failure).__name__
    return message if str(path) in message else f"{path}: {message}"
