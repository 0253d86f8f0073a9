""".npy files and .npz archives (factor files, .cfx projects) read without trusting their headers.

``np.load`` allocates whatever an array header declares before it reads a byte of data: a 1.5 MB zip
of zeros can declare 15 GB. Here each header is read first (numpy's own ``read_magic`` and
``read_array_header_*``), and an array is loaded only when its dtype is plain numbers or text (never
Python objects), its size agrees with the bytes its file or zip member holds, and all of them
together fit the memory limit (:func:`.limits.check_array_bytes`).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import RatingsFileError, ReaderError, reason

NUMBERS = "biuf"
NUMBERS_AND_TEXT = "biufUS"

# what numpy and zipfile raise for a damaged archive or array
DAMAGE = (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError,
          UnicodeDecodeError, SyntaxError, MemoryError)


@dataclass(frozen=True)
class ArrayHeader:
    shape: tuple
    dtype: np.dtype
    nbytes: int


def read_header(stream, path, name: str, kinds: str = NUMBERS_AND_TEXT, error=RatingsFileError) -> ArrayHeader:
    """The header of the .npy array that ``stream`` starts with, refused unless its dtype is one of
    ``kinds`` (numpy dtype kinds) and its shape is a real shape."""
    format = np.lib.format
    try:
        version = format.read_magic(stream)
        readers = {(1, 0): format.read_array_header_1_0, (2, 0): format.read_array_header_2_0}
        if version not in readers:
            raise ValueError(f"format {version[0]}.{version[1]}, which is not read")
        shape, _, dtype = readers[version](stream)
    except DAMAGE as failure:
        raise error(path, f"array {name!r} has a damaged header ({reason(failure)})") from None
    if dtype.hasobject:
        raise error(path, f"array {name!r} holds Python objects, which are never loaded (they could run code)")
    if dtype.kind not in kinds or dtype.fields is not None:
        raise error(path, f"array {name!r} has type {dtype}; expected {_describe_kinds(kinds)}")
    if any(n < 0 for n in shape):
        raise error(path, f"array {name!r} declares the shape {shape}")
    nbytes = limits.checked_product(shape) * dtype.itemsize
    # Beside a zero (or with zero-byte items) a dimension declares no bytes at all, yet readers build a name or
    # a row per entry: (10**12, 0) hung the factor reader building a trillion names. Counted as one item each.
    if nbytes == 0 and limits.checked_product([max(n, 1) for n in shape]) > limits.MAX_EMPTY_ARRAY_ENTRIES:
        raise error(path, f"array {name!r} declares the shape {shape}, more empty entries than a file may hold")
    return ArrayHeader(tuple(shape), dtype, nbytes)


def _describe_kinds(kinds: str) -> str:
    return "numbers or text" if "U" in kinds else "numbers"


def read_npy(path, kinds: str = NUMBERS, error=RatingsFileError) -> np.ndarray:
    """One array from a .npy file, after its header has been checked against the file and memory."""
    with limits.open_regular(path, error) as handle:
        header = read_header(handle, path, os.path.basename(str(path)), kinds, error)
        holds = os.fstat(handle.fileno()).st_size - handle.tell()
        if header.nbytes > holds:
            raise error(path, f"the array declares {header.shape} ({limits.describe_bytes(header.nbytes)}) but "
                              f"the file holds {limits.describe_bytes(holds)} of data")
        limits.check_array_bytes(path, header.nbytes, "loading this array", error)
        handle.seek(0)
        try:
            return np.lib.format.read_array(handle, allow_pickle=False)
        except DAMAGE as failure:
            raise error(path, f"a damaged array ({reason(failure)})") from None


def read_npz(path, wanted=None, kinds: str = NUMBERS_AND_TEXT, error=RatingsFileError,
             check_headers=None) -> dict[str, np.ndarray]:
    """The arrays of a .npz archive whose names ``wanted(name)`` accepts (all when None).

    Every header is read and checked (against its member's declared size, and all of them together
    against memory) before any array is loaded; ``check_headers`` (where given) is then called with each
    wanted array's :class:`ArrayHeader` by name, and raises what the caller's format forbids (a member's
    declared size is its size once inflated: a 3 MB archive can declare 3 GB of zeros, which only what the
    arrays must agree on refuses). Members that are not .npy arrays are ignored."""
    with limits.open_regular(path, error) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except DAMAGE as failure:
            raise error(path, f"not a zip archive of arrays ({reason(failure)})") from None
        with archive:
            members = {}
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else None
                if name is None or (wanted is not None and not wanted(name)):
                    continue
                try:
                    with archive.open(info) as member:
                        header = read_header(member, path, name, kinds, error)
                except ReaderError:
                    raise
                except DAMAGE as failure:
                    raise error(path, f"array {name!r} cannot be read ({reason(failure)})") from None
                if header.nbytes > info.file_size:
                    raise error(path, f"array {name!r} declares {header.shape} ({limits.describe_bytes(header.nbytes)}) "
                                      f"but its part of the archive holds {limits.describe_bytes(info.file_size)}")
                members[name] = (info, header)
            limits.check_array_bytes(path, sum(header.nbytes for _, header in members.values()),
                                     "loading this file", error)
            if check_headers is not None:
                check_headers({name: header for name, (_, header) in members.items()})
            arrays = {}
            for name, (info, header) in members.items():
                try:
                    with archive.open(info) as member:
                        arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
                except DAMAGE as failure:
                    raise error(path, f"array {name!r} is damaged ({reason(failure)})") from None
            return arrays
