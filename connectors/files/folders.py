"""The read-only folder check behind ``omnibridge check`` for a file feed: do the folders exist, can we write them?"""

from __future__ import annotations

import os
from pathlib import Path

from connectors.files.settings import FilesSettings
from omnibridge.sdk import FatalConnectorError


def check_folders(settings: FilesSettings, connector: str) -> str:
    """The inbox must be an existing folder omnibridge can read and write (files are moved out of it).
    ``processed``, ``failed``, the ``outbox`` and a supplier's purchase-order folder are created on first use:
    each must be a writable folder, or not exist yet under a writable parent. Raises
    :class:`FatalConnectorError` naming the first folder that is not usable and the fix; returns a short summary.
    Creates and writes nothing."""
    problems = [
        problem
        for role, folder, must_exist in (
            ("inbox", settings.inbox, True),
            ("processed", settings.processed_dir, False),
            ("failed", settings.failed_dir, False),
            ("outbox", settings.outbox_dir, False),
            *((("purchase-order", settings.purchase_order_dir, False),) if settings.purchase_orders else ()),
        )
        if (problem := _problem(role, folder, must_exist)) is not None
    ]
    if problems:
        raise FatalConnectorError("; ".join(problems), connector=connector, op="check")
    return f"folders usable (inbox {settings.inbox})"


def _problem(role: str, folder: Path, must_exist: bool) -> str | None:
    if folder.exists():
        if not folder.is_dir():
            return f"{role} {folder} is a file, not a folder"
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            return f"{role} folder {folder} is not writable by this user: grant read and write access"
        return None
    if must_exist:
        return f"{role} folder {folder} does not exist: create it or fix 'inbox' in the connector profile"
    parent = next((p for p in folder.parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"{role} folder {folder} does not exist and cannot be created under {parent}: create it"
    return None
