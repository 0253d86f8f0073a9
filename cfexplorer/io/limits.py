"""What a file may ask of this machine, checked before anything is allocated for it.

Every reader comes here first: the path must be a regular file (a FIFO or /dev/zero would block or
never end), and what reading it will cost (its size times the measured overhead of the reader, the
bytes an array header declares, the cells a sheet declares) must fit in the memory the machine has
free now. A refusal is one line naming the file, raised through the caller's error type (``error``
is called as ``error(path, problem)``).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import stat

from ..core.memory import available_memory, describe_bytes  # noqa: F401 - used by the readers too
from .errors import RatingsFileError

# A delimited text's first line may have at most this many columns. MovieLens 25M written as a wide
# matrix has 59,047 movie columns, the widest real rating matrix we know of; Excel stops at 16,384.
# A wider "header" is a long file written on one line or not a table at all, and pandas needs minutes
# for it: it is refused in milliseconds, before pandas sees it.
MAX_COLUMNS = 100_000

# A matrix (a wide text or sheet read, a wide file written) may have at most this many cells:
# MovieLens 1M as a matrix is 6,040 × 3,706 = 22.4 million. Reading or writing one cell costs
# 20-60 bytes and a microsecond or more, so this bounds a read at about a gigabyte and a minute.
MAX_MATRIX_CELLS = 25_000_000
# Writing a matrix to .xlsx goes through openpyxl, about 30,000 cells a second: a million is half a minute
# (MovieLens latest-small as a matrix, 5.9 million cells, took 3-4 minutes and 2.4 GB, and is not a sheet
# anyone reads); past it, the long table. Excel itself stops at XLSX_MAX_ROWS × XLSX_MAX_COLUMNS.
MAX_XLSX_WIDE_CELLS = 1_000_000
XLSX_MAX_ROWS, XLSX_MAX_COLUMNS = 1_048_576, 16_384

# Peak memory of reading a text file over its size, measured with benchmarks/bench_read_limits.py
# (a fresh process): long tables peak at 11-15 times the file (1M lines of "1,2,3": 15.3), matrices
# at 22 (2% rated, as MovieLens) to 57 times (every cell rated: 2 bytes of file per rating). Rounded
# up, so that the estimate errs towards refusing rather than towards the OOM killer.
LONG_TEXT_OVERHEAD = 20
WIDE_TEXT_OVERHEAD = 64
WIDE_FIRST_LINE_COLUMNS = 5  # a first line with more columns than this is read as a matrix

# Arrays (.npy, .npz, .cfx): their bytes, twice (the array and what is built from it), must fit in
# free memory, and never more than this in one file: no project or factor table of ours comes near
# (MovieLens 25M's ratings and a 64-factor model are under 1 GB).
MAX_ARRAY_BYTES = 8 * 2**30
# An array with no bytes of data (a zero dimension, or zero-byte items) may still declare entries that readers
# name one by one: more than this many are refused (MovieLens 25M has 162,541 users; (1_825_000_000, 0) passed
# the byte bound, 8 GB counted at 8 bytes an entry, and hung the factor reader for minutes naming its rows).
MAX_EMPTY_ARRAY_ENTRIES = 50_000_000
ARRAY_OVERHEAD = 2

# A zip member (.xlsx part) may declare at most this many bytes; a worksheet's XML is streamed, but
# shared strings and styles are read whole. Deflate reaches ~1000:1 on constant data; real sheets
# compress 5-20:1, so a large member past 200:1 is a zip bomb, not a workbook.
MAX_ZIP_MEMBER_BYTES = 2 * 2**30
MAX_ZIP_RATIO = 200
ZIP_RATIO_MIN_BYTES = 1 * 2**20

def check_memory(path, needed: float, what: str, error=RatingsFileError) -> None:
    """Refuse when ``needed`` bytes (what reading ``what`` will take) exceed the free memory."""
    available = available_memory()
    if needed > available:
        raise error(path, f"{what} needs about {describe_bytes(needed)} of memory; "
                          f"{describe_bytes(available)} is free")


def check_array_bytes(path, nbytes: int, what: str, error=RatingsFileError) -> None:
    """Refuse arrays past MAX_ARRAY_BYTES or, with what is built from them, past the free memory."""
    if nbytes > MAX_ARRAY_BYTES:
        raise error(path, f"{what} declares {describe_bytes(nbytes)} of arrays, more than the "
                          f"{describe_bytes(MAX_ARRAY_BYTES)} a file may hold")
    check_memory(path, nbytes * ARRAY_OVERHEAD, what, error)


def check_matrix_cells(path, rows: int, columns: int, what: str, error=RatingsFileError) -> None:
    cells = rows * columns
    if cells > MAX_MATRIX_CELLS:
        raise error(path, f"{what} is {rows:,} rows × {columns:,} columns ({cells:,} cells), more than the "
                          f"{MAX_MATRIX_CELLS:,} a matrix may have; save the ratings in the long format "
                          "(user,item,rating)")


def check_columns(path, columns: int, error=RatingsFileError) -> None:
    if columns > MAX_COLUMNS:
        raise error(path, f"the first line has {columns:,} columns, more than the {MAX_COLUMNS:,} a rating "
                          "matrix may have; save the ratings in the long format (user,item,rating)", 1)


def first_line_columns(text: str, delimiter: str | None = None) -> int:
    """How many fields the first non-blank line has, counted without parsing the rest of the text;
    with no ``delimiter``, the one of , tab ; | seen most on that line."""
    start = len(text) - len(text.lstrip("\r\n"))
    end = min((i for i in (text.find("\n", start), text.find("\r", start)) if i >= 0), default=len(text))
    line = text[start:end]
    if delimiter is None:
        delimiter = max(",\t;|", key=line.count)
    columns = line.count(delimiter) + 1
    if columns > MAX_COLUMNS and '"' in line:  # quoted delimiters do not count
        with contextlib.suppress(csv.Error):  # a field past the csv module's limit: keep the count
            columns = len(next(csv.reader([line], delimiter=delimiter), []))
    return columns


def describe_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def check_regular_file(path, error=RatingsFileError) -> os.stat_result:
    """The file's status; refused (without opening it) unless it is a regular file."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except OSError as failure:
        raise error(path, f"cannot be read ({failure.strerror or failure})") from None
    if stat.S_ISDIR(status.st_mode):
        raise error(path, "is a folder, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise error(path, f"not a regular file ({describe_kind(status.st_mode)})")
    return status


@contextlib.contextmanager
def open_regular(path, error=RatingsFileError):
    """A binary file object for a regular file, never blocking: the path is checked first, then opened
    without waiting (O_NONBLOCK) and checked again, in case it was swapped for a FIFO in between."""
    check_regular_file(path, error)
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to wait on
    try:
        descriptor = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    except OSError as failure:
        raise error(path, f"cannot be opened ({failure.strerror or failure})") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise error(path, f"not a regular file ({describe_kind(mode)})")
        if nonblocking:
            os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle


def read_regular_file(path, overhead: float, what: str = "reading this file", error=RatingsFileError) -> bytes:
    """All bytes of a regular file whose size times ``overhead`` fits in free memory.

    The read itself is bounded by that limit too, so a file whose size the system misstates (/proc
    files say 0) or that grows while it is read cannot take memory without end."""
    with open_regular(path, error) as handle:
        size = os.fstat(handle.fileno()).st_size
        check_memory(path, size * overhead, what, error)
        data = handle.read(size + 1)
        if len(data) > size:  # the file is longer than its size said: read on, within the limit
            limit = int(available_memory() / overhead)
            chunks, total = [data], len(data)
            while chunk := handle.read(2**20):
                total += len(chunk)
                if total > limit:
                    raise error(path, f"{what} needs more memory than is free (the file goes on past "
                                      f"{describe_bytes(limit)})")
                chunks.append(chunk)
            data = b"".join(chunks)
    return data


def checked_product(shape) -> int:
    """The number of elements of ``shape`` (Python integers: no overflow)."""
    return math.prod(int(n) for n in shape)
