"""Reading inbox files within limits: a file is hashed and parsed as a stream, never loaded whole unless it must be.

A CSV count file is read twice as a stream (1 MiB at a time): once for its sha256, once through the CSV reader,
row by row, so memory grows with the rows kept, not with the file. A JSON file (and any file of a dropship
supplier's feed) is read whole, but only up to ``max_file_bytes``. A file over ``max_file_bytes`` or with more
than ``max_rows`` rows fails with a problem naming the limit and what was found (see :mod:`connectors.files.client`
for the move to ``failed/``). Only regular files are read: :func:`special_kind` names the others.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from connectors.files.parsing import ParsedFile, parse_counts, parse_csv_lines
from connectors.files.settings import FilesSettings

__all__ = ["CHUNK", "FileTooBig", "read_bounded", "read_count_file", "sha256_of", "special_kind", "too_big"]

CHUNK = 1 << 20
_AUTO = "auto"


class FileTooBig(Exception):
    """The file grew over ``max_file_bytes`` while it was read."""


def too_big(size: int, max_bytes: int) -> str:
    """The problem of a file of ``size`` bytes over the ``max_file_bytes`` limit."""
    return (
        f"the file is {size:,} bytes, over the limit of {max_bytes:,} bytes (max_file_bytes); it was not read: "
        "split the file, or raise max_file_bytes in the connector profile"
    )


def sha256_of(path: Path, max_bytes: int | None = None) -> str:
    """The sha256 of ``path``, read 1 MiB at a time. Raises :class:`FileTooBig` past ``max_bytes``."""
    digest = hashlib.sha256()
    read = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            read += len(chunk)
            if max_bytes is not None and read > max_bytes:
                raise FileTooBig(path.name)
            digest.update(chunk)
    return digest.hexdigest()


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The whole content of ``path``; raises :class:`FileTooBig` rather than read more than ``max_bytes``."""
    with open(path, "rb") as handle:
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FileTooBig(path.name)
    return content


def read_count_file(path: Path, settings: FilesSettings) -> ParsedFile:
    """Parse the count file at ``path`` within ``settings``' limits: a CSV streamed row by row, a JSON file read
    whole (at most ``max_file_bytes``). Raises :class:`FileTooBig` if it grows past the limit meanwhile."""
    zone, columns, rows = settings.zone, settings.columns, settings.max_rows
    if path.name.lower().endswith(".json"):
        content = read_bounded(path, settings.max_file_bytes)
        return parse_counts(path.name, content, zone=zone, columns=columns, max_rows=rows)
    codec = _stream_codec(settings.csv_encoding)
    if codec is not None:
        with open(path, "rb") as handle:
            if _blank(handle):
                return parse_counts(path.name, b"", zone=zone, columns=columns)
            handle.seek(0)
            raw = io.BufferedReader(_Bounded(handle, settings.max_file_bytes), CHUNK)
            text = io.TextIOWrapper(raw, encoding=codec, newline="")
            try:
                return parse_csv_lines(
                    text, zone=zone, columns=columns, delimiter=settings.csv_delimiter, max_rows=rows
                )
            except UnicodeDecodeError:
                pass  # not UTF-8 (Windows-1252, or not text at all): decoded whole below, with the precise note
    content = read_bounded(path, settings.max_file_bytes)
    return parse_counts(
        path.name,
        content,
        zone=zone,
        columns=columns,
        delimiter=settings.csv_delimiter,
        encoding=settings.csv_encoding,
        max_rows=rows,
    )


def special_kind(mode: int) -> str | None:
    """What a non-regular inbox entry is ("a symbolic link", "a named pipe (FIFO)", ...), or None for a regular
    file or a folder (``mode`` from :func:`os.lstat`, which never follows a link nor opens a pipe)."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _stream_codec(encoding: str) -> str | None:
    """The codec a CSV can be streamed with: UTF-8 (a BOM dropped) for ``auto`` and ``utf-8``; None otherwise
    (the file is then decoded whole, at most ``max_file_bytes``, by :func:`~omnibridge.sdk.decode_spreadsheet`)."""
    name = encoding.strip().lower().replace("_", "-")
    return "utf-8-sig" if name in {_AUTO, "utf-8", "utf8"} else None


def _blank(handle: BinaryIO) -> bool:
    """Whether the file holds only whitespace (read a chunk at a time; stops at the first other byte)."""
    while chunk := handle.read(CHUNK):
        if chunk.strip():
            return False
    return True


class _Bounded(io.RawIOBase):
    """A binary file read through, raising :class:`FileTooBig` once more than ``limit`` bytes were read."""

    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self._handle, self._limit, self._read = handle, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._handle.read(len(buffer))
        self._read += len(data)
        if self._read > self._limit:
            raise FileTooBig(os.fspath(getattr(self._handle, "name", "")))
        buffer[: len(data)] = data
        return len(data)
