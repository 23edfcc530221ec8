"""Personal data sealed at rest: which keyring a store uses, and sealing/opening column values.

Repositories call :func:`seal_json` / :func:`open_json` (JSON columns such as ``orders.ship_to``) and
:func:`seal_bytes` / :func:`open_bytes` (``webhook_inbox.raw_body``) with the session they run in; the keyring
is found from the session's database:

- a keyring registered for the database URL (:func:`use_keyring`: tests, ``omnibridge keys rotate``);
- else :func:`omnibridge.security.crypto.load_keyring`: ``OMNIBRIDGE_DATA_KEYS``, ``OMNIBRIDGE_KEY_FILE``, else
  the default key file — ``<store file>.keys`` next to a SQLite store, ``$XDG_CONFIG_HOME/omnibridge/data-keys``
  (``~/.config/...``) for PostgreSQL — generated owner-only on first use.

A value stored before encryption was switched on (a plain JSON object, raw bytes) is read as it is;
``omnibridge keys rotate`` seals it.

A running daemon notices a key file changed by ``omnibridge keys rotate`` (its modification time, looked at
every few seconds) and a value sealed with a key it has not loaded yet (it reloads the keys once), so rotation
needs no restart. Keys from the environment change only with a restart.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlmodel import Session

from omnibridge.security.crypto import KEY_FILE_ENV, KEYS_ENV, DataKeyError, Keyring, is_encrypted, load_keyring

RECHECK_SECONDS = 5.0


@dataclass
class _Loaded:
    keyring: Keyring
    file: Path | None
    """The key file the keys came from (None: the environment); watched for changes."""
    mtime: float | None
    checked: float
    reloadable: bool = True
    """False for a keyring registered in code (:func:`use_keyring`)."""


_lock = threading.Lock()
_keyrings: dict[str, _Loaded] = {}


def _key(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def default_key_file(url: URL) -> Path:
    """Where the generated key file of the store at ``url`` lives (see the module docstring)."""
    if url.drivername.startswith("sqlite") and url.database:
        return Path(url.database).with_name(Path(url.database).name + ".keys")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "omnibridge" / "data-keys"


def key_file(url: URL) -> Path | None:
    """The key file the store at ``url`` uses (None when the keys come from the environment)."""
    if os.environ.get(KEYS_ENV):
        return None
    named = os.environ.get(KEY_FILE_ENV)
    return Path(named) if named else default_key_file(url)


def use_keyring(url: URL | str, keyring: Keyring | None) -> None:
    """Use ``keyring`` for the store at ``url`` in this process (None: forget it, load again on next use)."""
    key = _key(sa.make_url(url) if isinstance(url, str) else url)
    with _lock:
        if keyring is None:
            _keyrings.pop(key, None)
        else:
            _keyrings[key] = _Loaded(keyring, None, None, time.monotonic(), reloadable=False)


def keyring_for_url(url: URL | str, *, reload: bool = False) -> Keyring:
    """The keyring of the store at ``url``: loaded (or generated) once per process, loaded again when its key file
    changed or on ``reload``."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    key = _key(parsed)
    now = time.monotonic()
    with _lock:
        found = _keyrings.get(key)
        if found is not None and found.reloadable:
            if reload:
                found = None
            elif found.file is not None and now - found.checked >= RECHECK_SECONDS:
                found.checked = now
                if _mtime(found.file) != found.mtime:
                    found = None
        if found is None:
            path = key_file(parsed)
            keyring = load_keyring(default_key_file(parsed))
            found = _keyrings[key] = _Loaded(keyring, path, None if path is None else _mtime(path), now)
        return found.keyring


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def keyring_for(session: Session, *, reload: bool = False) -> Keyring:
    """The keyring of the database ``session`` runs against."""
    return keyring_for_url(session.get_bind().engine.url, reload=reload)


def _opening(session: Session, stored: bytes, context: str) -> bytes:
    keyring = keyring_for(session)
    try:
        return keyring.decrypt_bytes(stored, context=context)
    except DataKeyError:
        # Sealed with a key this process has not loaded yet (rotation under way): load the keys again, once.
        return keyring_for(session, reload=True).decrypt_bytes(stored, context=context)


def seal_json(session: Session, value: Any, context: str) -> str | None:
    """``value`` (a JSON-able object, or None) as an ``enc:v1:`` string for a JSON column."""
    if value is None:
        return None
    return keyring_for(session).encrypt(json.dumps(value, separators=(",", ":")), context=context)


def open_json(session: Session, stored: Any, context: str) -> Any:
    """The object a JSON column holds: decrypted when sealed, as it is when stored before encryption."""
    if isinstance(stored, str) and is_encrypted(stored):
        return json.loads(_opening(session, stored.encode(), context).decode())
    return stored


def seal_bytes(session: Session, value: bytes, context: str) -> bytes:
    return keyring_for(session).encrypt_bytes(value, context=context)


def open_bytes(session: Session, stored: bytes, context: str) -> bytes:
    """The plaintext of a sealed bytes column (bytes stored before encryption as they are)."""
    return _opening(session, stored, context) if is_encrypted(stored) else stored
