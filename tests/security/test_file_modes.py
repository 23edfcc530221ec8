"""The SQLite store, its WAL/SHM files, the key file, the daemon lock and the ERP/WMS exports are owner-only,
even under a permissive umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.files.client import FilesConnector
from connectors.files.settings import FilesSettings
from omnibridge.store import open_store
from omnibridge.store.daemon_lock import daemon_lock
from omnibridge.store.sealed import keyring_for_url, use_keyring


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_store_its_wal_and_its_key_file_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OMNIBRIDGE_DATA_KEYS", "OMNIBRIDGE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "omnibridge.db"
    url = f"sqlite:///{database}"
    use_keyring(url, None)
    with open_store(url) as store:
        store.set_bookmark("web", "x")
        keyring_for_url(url)
        files = [
            database,
            tmp_path / "omnibridge.db-wal",
            tmp_path / "omnibridge.db-shm",
            tmp_path / "omnibridge.db.keys",
        ]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    use_keyring(url, None)


def test_an_existing_world_readable_store_is_made_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "omnibridge.db"
    url = f"sqlite:///{database}"
    with open_store(url):
        pass
    database.chmod(0o644)
    with open_store(url):
        assert mode(database) == 0o600


def test_the_daemon_lock_is_owner_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'omnibridge.db'}"
    with open_store(url), daemon_lock(url):
        locks = [path for path in tmp_path.iterdir() if path.name.endswith("daemon.lock")]
        assert locks
        assert all(mode(path) == 0o600 for path in locks)


def test_exports_are_owner_only(tmp_path: Path) -> None:
    settings = FilesSettings(inbox=tmp_path / "in", outbox=tmp_path / "out")
    client = FilesConnector(settings)
    written = Path(client.write_export("orders", [{"id": "o-1"}], datetime(2026, 12, 6, tzinfo=UTC), 1))
    assert mode(written) == 0o600
    assert mode(tmp_path / "out") == 0o700
