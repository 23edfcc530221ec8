"""Files holding personal data or secrets are created owner-only: 0600 files in 0700 directories.

The SQLite store (SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the database file's permissions),
the data key file, the daemon lock and the ERP/WMS exports. The systemd unit also sets ``UMask=0077``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

OWNER_FILE = 0o600
OWNER_DIR = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def restrict(path: Path) -> None:
    """Remove group and other permissions from ``path`` when it exists and this user may change it."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        mode = path.stat().st_mode & 0o7777
        if mode & 0o077:
            path.chmod(mode & ~0o077)


def secure_sqlite_file(database: Path) -> None:
    """Create the SQLite file ``database`` owner-only if it does not exist (its folder must), and take group and
    other permissions away from an existing one and its WAL/SHM/journal files."""
    if not database.parent.is_dir():
        return  # SQLite reports the missing folder when it opens the file
    with contextlib.suppress(FileExistsError, PermissionError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE))
    for path in (database, *(database.with_name(database.name + suffix) for suffix in SQLITE_COMPANIONS)):
        restrict(path)
