"""Guard against hostile workbook files before openpyxl parses them.

An ``.xlsx`` is a zip of XML parts. Before loading: the bytes must be a zip (not an old
``.xls`` or an encrypted workbook), with a sane number of parts, a sane total size once
expanded and a sane compression ratio (a zip bomb expands a small file enormously), the
parts of a workbook, and no XML document type declarations (entity-expansion attacks;
real workbooks never have them). zipfile stops each part at its declared size and checks
its CRC, so the declared sizes bound what openpyxl can read.
"""

from __future__ import annotations

import io
import zipfile

from allocator.errors import Issue
from allocator.validate.common import UNREADABLE

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024  # small files cannot be bombs, however well they compress
MAX_PARTS = 10_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK = 1024 * 1024


def _issue(message: str) -> list[Issue]:
    return [Issue(loc=(), message=message, code=UNREADABLE)]


def _has_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            window = (tail + chunk).upper()
            if any(marker in window for marker in _FORBIDDEN):
                return True
            tail = chunk[-16:]
    return False


def check_workbook_bytes(data: bytes) -> list[Issue]:
    """Issues that make the bytes unsafe or impossible to open as a workbook (empty: fine)."""
    if data.startswith(OLE_MAGIC):
        return _issue(
            "this is an old-format .xls or a password-protected workbook; save it as an "
            "Excel Workbook (.xlsx) without a password"
        )
    if not data:
        return _issue("the file is empty")
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(stream):
        return _issue("not an Excel workbook: an .xlsx file is a zip archive and this is not")
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                return _issue(f"the workbook has {len(infos):,} parts, more than {MAX_PARTS:,}")
            expanded = sum(info.file_size for info in infos)
            packed = sum(info.compress_size for info in infos)
            if expanded > MAX_UNCOMPRESSED_BYTES:
                return _issue(
                    f"the workbook expands to {expanded:,} bytes, more than the "
                    f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB limit"
                )
            if expanded > RATIO_CHECK_FROM_BYTES and expanded > MAX_COMPRESSION_RATIO * max(
                packed, 1
            ):
                return _issue(
                    f"the workbook is compressed {expanded // max(packed, 1):,} to 1, more than "
                    f"{MAX_COMPRESSION_RATIO} to 1: refusing a possible zip bomb"
                )
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or not any(
                name.startswith("xl/") and name.endswith("workbook.xml") for name in names
            ):
                return _issue("a zip archive, but not an Excel workbook (no xl/workbook.xml)")
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")) and _has_doctype(
                    archive, info
                ):
                    return _issue(
                        f"the workbook part {info.filename} declares an XML document type, "
                        "which workbooks never need: refusing it"
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError) as err:
        return _issue(f"the workbook is damaged: {err}")
    except NotImplementedError as err:  # e.g. an unsupported compression method
        return _issue(f"the workbook cannot be read: {err}")
    return []
