"""Builders of valid containers with hostile contents: .npy headers that declare what the data is
not, zip archives whose parts declare sizes they do not hold, workbooks whose sheet declares or
reaches far-away cells, and projects with chosen meta JSON."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile

import numpy as np


def npy_bytes(shape, descr: str = "<f8", data: bytes | None = None, fortran: bool = False) -> bytes:
    """A .npy file with this header; ``data`` defaults to what the header declares (zeros), which
    must then be small."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    if data is None:
        data = bytes(int(np.prod(shape, dtype=np.int64)) * np.dtype(descr).itemsize)
    return buffer.getvalue() + data


def array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# A fixed time for every archive member: the bytes made at collection are test ids, and pytest-xdist's workers
# collect separately; members stamped with the clock (two-second steps) differed across a step and failed the run.
MEMBER_TIME = (2020, 1, 1, 0, 0, 0)


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=MEMBER_TIME), data, compress_type=compression)
    return buffer.getvalue()


def npz_bytes(arrays: dict[str, bytes | np.ndarray]) -> bytes:
    """An .npz archive of raw .npy members (bytes) or arrays."""
    return zip_bytes({f"{name}.npy": value if isinstance(value, bytes) else array_bytes(value)
                      for name, value in arrays.items()})


def declare_size(archive: bytes, member: str, declared: int) -> bytes:
    """The archive with ``member``'s uncompressed size, in its central directory entry, set to
    ``declared`` (what zipfile and the readers believe) without the data to match."""
    name = member.encode()
    position = archive.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", archive, position + 28)[0]
        if archive[position + 46:position + 46 + name_length] == name:
            return archive[:position + 24] + struct.pack("<I", declared) + archive[position + 28:]
        position = archive.find(b"PK\x01\x02", position + 4)
    raise KeyError(member)


_WORKBOOK_TEMPLATE: dict[str, bytes] | None = None


def _template() -> dict[str, bytes]:
    """The parts of a one-sheet workbook written by openpyxl, made once."""
    global _WORKBOOK_TEMPLATE
    if _WORKBOOK_TEMPLATE is None:
        import openpyxl

        buffer = io.BytesIO()
        workbook = openpyxl.Workbook()
        workbook.active["A1"] = "x"
        workbook.save(buffer)
        with zipfile.ZipFile(buffer) as archive:
            _WORKBOOK_TEMPLATE = {name: archive.read(name) for name in archive.namelist()}
    return _WORKBOOK_TEMPLATE


def _cell_xml(reference: str, value) -> str:
    if isinstance(value, str):
        text = value.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'
    return f'<c r="{reference}"><v>{value}</v></c>'


def xlsx_bytes(cells: dict[str, object], dimension: str | None = "auto", extra: dict[str, bytes] | None = None) -> bytes:
    """A workbook whose first sheet holds ``cells`` ({"A1": value}); ``dimension`` is the declared
    ``<dimension ref>`` ("auto": none written by us, openpyxl-style ref of the cells; None: absent)."""
    rows: dict[int, list[str]] = {}
    for reference, value in cells.items():
        number = int(re.sub(r"[A-Z]+", "", reference))
        rows.setdefault(number, []).append(_cell_xml(reference, value))
    if dimension == "auto":
        dimension = f"A1:{max(cells, key=lambda r: (int(re.sub(r'[A-Z]+', '', r)), len(r), r))}" if cells else "A1"
    dimension_xml = "" if dimension is None else f'<dimension ref="{dimension}"/>'
    sheet_data = "".join(f'<row r="{number}">{"".join(cells_xml)}</row>' for number, cells_xml in sorted(rows.items()))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"{dimension_xml}<sheetData>{sheet_data}</sheetData></worksheet>").encode()
    parts = dict(_template())
    parts["xl/worksheets/sheet1.xml"] = sheet
    parts.update(extra or {})
    return zip_bytes(parts)


def project_bytes(meta, arrays: dict[str, np.ndarray], raw_meta: bytes | None = None) -> bytes:
    """A .cfx archive with this meta (any JSON value, or raw bytes) and these arrays."""
    payload = raw_meta if raw_meta is not None else json.dumps(meta).encode()
    return npz_bytes({**arrays, "meta": np.frombuffer(payload, dtype=np.uint8)})


def project_parts(path) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a saved project, to be changed and written back with project_bytes."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    return meta, arrays
