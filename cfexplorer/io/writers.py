"""Write ratings to the formats the readers understand.

Every save is atomic (:func:`atomic_path`): the data goes to a temporary file beside the target,
which is flushed to disk and then renamed over it, so a failed or interrupted save leaves the old
file whole. A matrix (wide CSV/TSV/xlsx) is written only up to a sane number of cells; past it the
long format (one line per rating) is the way, and the error says so. A name with spaces at its ends keeps
them (quoted in a CSV, where a reader drops those at a cell's start), and reads back as it was when another
name differs from it only there (see :func:`.readers.strip_names`): a save never makes two users, or two
movies, one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
import stat
from pathlib import Path

import numpy as np

from ..core.ratings import Ratings
from ..lazy import lazy_import
from . import limits

pd = lazy_import("pandas")

# A temporary file of ours: ".NAME.<pid>.<random>.tmp" beside NAME.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


class SaveError(OSError):
    """A file could not be written; the previous file, if any, is untouched."""


class SaveCancelled(SaveError):
    """The user cancelled a save; the previous file, if any, is untouched."""


@contextlib.contextmanager
def atomic_path(path, cancelled=None):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    ``cancelled`` (a threading.Event, for saves in a worker thread) is looked at before the temporary
    file replaces anything: once it is set, the save ends in :class:`SaveCancelled` and the old file stays.

    The saved file gets the mode a plain write would give it (0o666 less the umask), or the mode of
    the file it replaces; a symbolic link is written through (its target is replaced, the link stays).
    The data is fsynced before the rename, and the folder after it where the system allows, so that a
    crash right after a save leaves the new file or the old one, never an empty one. Temporary files
    that a killed save left in the folder are removed (their process is gone)."""
    target = Path(os.path.realpath(path))
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise SaveError(f"{path}: not a regular file ({limits.describe_kind(existing.st_mode)}); choose another name")
    # A file nobody may write is not replaced (the rename would, the folder being writable), however
    # privileged the user: it was refused only because its mode, copied to the temporary file, made that
    # one read-only too.
    if existing is not None and (not existing.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
                                 or not os.access(target, os.W_OK)):
        raise SaveError(f"{path}: the file is read-only; save under another name, or make it writable first")
    if not target.parent.is_dir():
        raise SaveError(f"{path}: the folder {target.parent} does not exist")
    remove_abandoned_temporaries(target.parent)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: a name nobody else has; mode 0o666 goes through the umask as any new file's does.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
    except OSError as error:  # named by the file asked for, not by the hidden temporary beside it
        raise SaveError(f"{path}: cannot write in {target.parent} ({error.strerror or error})") from None
    try:
        yield temporary
        if cancelled is not None and cancelled.is_set():
            raise SaveCancelled(f"{path}: the save was cancelled; the file is as it was")
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        _fsync_file(temporary)
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, SaveError) and \
                str(temporary) in (str(error.filename), str(error.filename2)):
            # the rename refused (a file another program holds open): said of the file asked for
            raise SaveError(f"{path}: {error.strerror or error}") from None
        raise
    _fsync_folder(target.parent)


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; Windows cannot open a folder for this, and some file systems
    refuse: the file's own data is on disk either way."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def remove_abandoned_temporaries(folder: Path) -> list[Path]:
    """Remove temporary files of saves whose process no longer runs; the removed paths."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMPORARY.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            if _process_alive(int(match["pid"])):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a pid this system cannot look at: leave its file
    return True


def _windows_process_alive(pid: int) -> bool:
    try:
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.windll.kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    except (AttributeError, OSError):
        return True


def check_matrix_size(ratings: Ratings, max_cells: int, what: str) -> None:
    """Refuse (SaveError, one line) a matrix of more than ``max_cells`` before it is built."""
    cells = ratings.n_users * ratings.n_items
    if cells > max_cells:
        raise SaveError(f"{ratings.n_users:,} users × {ratings.n_items:,} movies is {cells:,} cells, more than the "
                        f"{max_cells:,} {what} may have; save as a long table (user,item,rating) or a project")


def _labelled(cells: np.ndarray, ratings: Ratings, items_as_rows: bool) -> pd.DataFrame:
    frame = pd.DataFrame(cells, index=list(ratings.user_labels), columns=list(ratings.item_labels), copy=False)
    if items_as_rows:
        frame = frame.T
        frame.index.name = "Movie"
    else:
        frame.index.name = "User"
    return frame


def shortest_text(value: float) -> str:
    """The shortest text that reads back as the same number ("4", "3.5", "0.30000000000000004"): ``:g`` kept six
    digits, and a rating of 3.14159265358979 came back as 3.14159."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _rating_texts(values: np.ndarray) -> np.ndarray:
    """Each rating as text (objects), formatted once per distinct value: a scale has a handful, and formatting
    a million ratings one by one took 0.7 s."""
    distinct, which = np.unique(values, return_inverse=True)
    return np.array([shortest_text(value) for value in distinct], dtype=object)[which.ravel()]


# Ratings written per piece of a long table: pandas' writer holds the GIL through a piece (about 2 µs a line),
# 30-50 ms here, and the save takes as long as with pieces eight times larger (25 million ratings: 18-20 s
# either way). Made as one frame, MovieLens 25M's shape held it for seconds at a time (the window froze behind
# the save's progress dialog, 0.12 s at a time already for 2 million ratings), and Cancel was seen only at the end.
LONG_ROWS_PER_PIECE = 2**14


def write_long(ratings: Ratings, path, sep: str = ",", cancelled=None, progress=None) -> None:
    """A line of user, item, rating per rating, written a piece at a time; ``cancelled`` is looked at between
    pieces, and ``progress`` (where given) told the share written so far. Where a name has spaces at its ends,
    every text is quoted (pandas' writer quotes all text or only what must be)."""
    quoting = csv.QUOTE_NONNUMERIC if _edge_spaced(ratings.user_labels) or _edge_spaced(ratings.item_labels) \
        else csv.QUOTE_MINIMAL
    with atomic_path(path, cancelled) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        for start in range(0, max(ratings.n_ratings, 1), LONG_ROWS_PER_PIECE):
            if cancelled is not None and cancelled.is_set():
                return  # atomic_path leaves the old file
            if progress is not None:
                progress(start / max(ratings.n_ratings, 1))
            piece = slice(start, start + LONG_ROWS_PER_PIECE)
            # each piece's ratings as text on their own: np.unique over all 25 million held the GIL 0.5 s
            frame = pd.DataFrame({"user": ratings.user_labels[ratings.users[piece]],
                                  "item": ratings.item_labels[ratings.items[piece]],
                                  "rating": _rating_texts(ratings.values[piece])})
            frame.to_csv(handle, sep=sep, index=False, header=start == 0, quoting=quoting)


def _spaced_at_an_end(label) -> bool:
    return isinstance(label, str) and label != label.strip()


def _edge_spaced(labels: np.ndarray) -> bool:
    """Whether a label has spaces (or other white space) at an end: a CSV reader drops those at the start of a
    cell unless it is quoted."""
    return any(_spaced_at_an_end(label) for label in labels.tolist())


def _label_cell_maker(sep: str):
    """A function giving a label as a cell of a CSV line: quoted as pandas quotes it (a separator, a quote, a line
    break in it), and also where it has spaces at an end."""
    buffer = io.StringIO()
    # (with the file's line end, which the csv module quotes a label for containing, then cut off; alone on its
    # line an empty label would be quoted, so it is written with an empty cell after it, cut off too)
    minimal = csv.writer(buffer, delimiter=sep, lineterminator=os.linesep)
    always = csv.writer(buffer, delimiter=sep, lineterminator=os.linesep, quoting=csv.QUOTE_ALL)

    def label_cell(label) -> str:
        buffer.seek(0)
        buffer.truncate()
        if _spaced_at_an_end(label):
            always.writerow([label])
            return buffer.getvalue()[:-len(os.linesep)]
        minimal.writerow([label, ""])
        return buffer.getvalue()[:-len(sep + os.linesep)]

    return label_cell


def write_wide(ratings: Ratings, path, sep: str = ",", items_as_rows: bool = True, cancelled=None,
               progress=None) -> None:
    """The matrix with labels, "?" where not rated, each rating as text as a CSV shows it; movies as rows like the
    course's tables (refused past MAX_MATRIX_CELLS before anything is made). Written as pandas' ``to_csv`` writes
    that matrix as a frame, a line at a time from each row's ratings: the frame of MovieLens latest-small (5.9
    million cells, almost all "?") took pandas 4.2 s with movies as rows and 26 s with users as rows, this 0.2 s
    either way. ``cancelled`` is looked at, and ``progress`` told the share written, every few thousand lines."""
    check_matrix_size(ratings, limits.MAX_MATRIX_CELLS, "a matrix")
    rows, columns = (ratings.items, ratings.users) if items_as_rows else (ratings.users, ratings.items)
    row_labels, column_labels = ((ratings.item_labels, ratings.user_labels) if items_as_rows
                                 else (ratings.user_labels, ratings.item_labels))
    texts = _rating_texts(ratings.values)
    order = np.lexsort((columns, rows))
    rows, columns, texts = rows[order], columns[order], texts[order]
    starts = np.searchsorted(rows, np.arange(len(row_labels) + 1))
    empty = np.full(len(column_labels), "?", dtype=object)
    with atomic_path(path, cancelled) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        # The labels through the csv module (_label_cell_maker); "?" and numbers need no quotes.
        label_cell = _label_cell_maker(sep)
        handle.write(sep.join(map(label_cell, ["Movie" if items_as_rows else "User", *column_labels])) + os.linesep)
        for row, label in enumerate(row_labels):
            if row % 4096 == 0:
                if cancelled is not None and cancelled.is_set():
                    return  # atomic_path leaves the old file
                if progress is not None:
                    progress(row / len(row_labels))
            cells = empty.copy()
            cells[columns[starts[row]:starts[row + 1]]] = texts[starts[row]:starts[row + 1]]
            handle.write(label_cell(label) + sep + sep.join(cells) + os.linesep)


def write_xlsx(ratings: Ratings, path, items_as_rows: bool = True, shape: str = "wide", cancelled=None,
               progress=None) -> None:
    """The ratings as the first sheet of a workbook: a matrix (up to MAX_XLSX_WIDE_CELLS cells, which openpyxl
    writes in about half a minute) or a long table of user, item, rating. Written a row at a time (openpyxl's
    write-only sheet): ``cancelled`` is looked at, and ``progress`` told the share written, every few thousand
    rows. A label is written as text where a number would change it (an id past 2^53, which Excel's doubles
    round onto its neighbour) or where openpyxl would take it for a formula (text starting with "=")."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    if shape == "long":
        if ratings.n_ratings + 1 > limits.XLSX_MAX_ROWS:
            raise SaveError(f"{ratings.n_ratings:,} ratings do not fit the {limits.XLSX_MAX_ROWS:,} rows of an Excel "
                            "sheet; save as a CSV long table or a project")
        user_cells, item_cells = _xlsx_labels(ratings.user_labels), _xlsx_labels(ratings.item_labels)
        header = ["user", "item", "rating"]
        n_rows = ratings.n_ratings
        values = ratings.values.tolist()

        def row_at(at):
            return [_xlsx_cell(sheet, user_cells[ratings.users[at]]), _xlsx_cell(sheet, item_cells[ratings.items[at]]),
                    values[at]]
    else:
        check_matrix_size(ratings, limits.MAX_XLSX_WIDE_CELLS, "an Excel matrix written here")
        rows, columns = (ratings.n_items, ratings.n_users) if items_as_rows else (ratings.n_users, ratings.n_items)
        if rows + 1 > limits.XLSX_MAX_ROWS or columns + 1 > limits.XLSX_MAX_COLUMNS:
            raise SaveError(f"{rows:,} rows × {columns:,} columns do not fit an Excel sheet "
                            f"({limits.XLSX_MAX_ROWS:,} × {limits.XLSX_MAX_COLUMNS:,}); save as CSV or a long table")
        row_labels, column_labels = ((ratings.item_labels, ratings.user_labels) if items_as_rows
                                     else (ratings.user_labels, ratings.item_labels))
        header = ["Movie" if items_as_rows else "User",
                  *(_xlsx_cell(sheet, label) for label in _xlsx_labels(column_labels))]
        row_cells = _xlsx_labels(row_labels)
        matrix = ratings.to_dense()  # checked against MAX_XLSX_WIDE_CELLS above
        matrix = matrix.T if items_as_rows else matrix
        n_rows = rows

        def row_at(at):
            return [_xlsx_cell(sheet, row_cells[at]),
                    *(None if value != value else value for value in matrix[at].tolist())]
    saved = False
    try:
        with atomic_path(path, cancelled) as temporary:
            sheet.append(header)
            for at in range(n_rows):
                if at % XLSX_ROWS_PER_LOOK == 0:
                    if cancelled is not None and cancelled.is_set():
                        return  # atomic_path leaves the old file
                    if progress is not None:
                        progress(at / max(n_rows, 1))
                sheet.append(row_at(at))
            workbook.save(temporary)
            saved = True
    finally:
        if not saved:
            _discard_sheet(sheet)


XLSX_ROWS_PER_LOOK = 4096


def _discard_sheet(sheet) -> None:
    """A write-only sheet given up (Cancel, an error): openpyxl streams its rows into a temporary file, removed
    only by a save or at the process's exit (a cancelled save of a million rows left some 100 MB behind)."""
    try:
        sheet.close()  # ends its XML and closes the file
    except Exception:  # noqa: BLE001 - half-written by the error that brought us here: removed all the same
        pass
    writer = getattr(sheet, "_writer", None)  # openpyxl's own, which knows the file
    if writer is not None and isinstance(getattr(writer, "out", None), str):
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


def _xlsx_labels(labels: np.ndarray) -> list:
    """Each label as the cell that keeps it: a whole number Excel holds exactly, else text (see write_xlsx)."""
    cells = []
    for label in labels.tolist():
        if isinstance(label, bool) or not isinstance(label, (int, float, str)):
            label = str(label)
        if isinstance(label, int) and abs(label) >= 2**53:
            label = str(label)
        if isinstance(label, str) and label.startswith("="):
            label = _FormulaLikeText(label)
        cells.append(label)
    return cells


class _FormulaLikeText(str):
    """A label openpyxl would write as a formula: given to it as a text cell of its own (see _xlsx_cell)."""


def _xlsx_cell(sheet, value):
    """``value`` as openpyxl appends it; a fresh cell for each _FormulaLikeText: openpyxl writes the plain values
    after a cell object in a row into that same object, so one shared between rows took a rating's value."""
    if not isinstance(value, _FormulaLikeText):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # text, not a formula
    return cell


def write_by_extension(ratings: Ratings, path, shape: str = "wide", items_as_rows: bool = True,
                       cancelled=None, progress=None) -> None:
    """Choose the writer from the file name: .xlsx, .tsv/.txt (tabs), else CSV; ``shape`` long or wide. Each
    writer tells ``progress`` (where given) the share written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if shape == "long" and ratings.n_ratings == 0:  # a header alone, which no reader (ours included) opens
        raise ValueError("there are no ratings to write as a long table (a line a rating); save the grid as a "
                         "matrix or a project (.cfx) instead")
    if suffix == ".xlsx":
        write_xlsx(ratings, path, items_as_rows, shape, cancelled, progress)
        return
    sep = "\t" if suffix in (".tsv", ".txt", ".data") else ","
    if shape == "long":
        write_long(ratings, path, sep, cancelled, progress)
    else:
        write_wide(ratings, path, sep, items_as_rows, cancelled, progress)
