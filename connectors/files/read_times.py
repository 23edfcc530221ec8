"""When omnibridge first read each file content: the time a count row without ``counted_at`` is dated at.

A file's modification time is no count time: it is set by whatever last wrote or copied the file, on that
machine's clock (an export run after the count, a copy that keeps the original times, a share whose clock runs
behind or ahead). So a row without ``counted_at`` is dated when omnibridge reads the file: the quantity is taken
as the stock at that moment.

That moment must be the same every time the same content is read — after a crash before the file was moved, or
when the same file is dropped again — because the row's movement key is built from the content and the ledger
refuses a key that comes back with another time. So the first read of a content records its time in a small
file named by the content's sha256 (in the hidden folder ``.read-times`` of the processed folder), created
exclusively: the first reader's time stands, and every later reader, in this process or another, finds it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

FOLDER = ".read-times"
_WAIT_SECONDS = 0.05
_WAITS = 20


def first_read_at(processed: Path, digest: str, now: datetime) -> datetime:
    """The time the content ``digest`` was first read: recorded now as ``now`` unless already recorded."""
    folder = processed / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / digest
    text = now.isoformat().encode()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return _wait_for(path, text)
    try:
        os.write(handle, text)
        os.fsync(handle)
    finally:
        os.close(handle)
    return now


def recorded_read_at(processed: Path, digest: str) -> datetime | None:
    """The recorded first read of ``digest``, or None (never read since read times are recorded)."""
    try:
        return _parse((processed / FOLDER / digest).read_bytes())
    except FileNotFoundError:
        return None


def _wait_for(path: Path, fallback: bytes) -> datetime:
    """The time another reader recorded at ``path``; it may still be writing it. A record still empty after a
    second belongs to a reader that stopped before writing it, and so before returning any event: ours stands."""
    for _ in range(_WAITS):
        recorded = _parse(path.read_bytes())
        if recorded is not None:
            return recorded
        time.sleep(_WAIT_SECONDS)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(fallback)
    os.replace(temporary, path)
    recorded = _parse(path.read_bytes())
    assert recorded is not None
    return recorded


def _parse(content: bytes) -> datetime | None:
    try:
        moment = datetime.fromisoformat(content.decode().strip())
    except (UnicodeDecodeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None
