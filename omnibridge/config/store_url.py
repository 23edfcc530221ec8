"""The ``store.url`` setting: which database URLs are supported, where a relative SQLite file lives, and how
to show a URL without its password."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_SCHEMES = ("sqlite", "postgresql+psycopg")
_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
_EXPECTED = "sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/dbname"


@dataclass(frozen=True)
class StoreUrlProblem:
    """Why a store URL is refused, and what would be accepted."""

    message: str
    expected: str = _EXPECTED


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def check_store_url(url: str) -> StoreUrlProblem | None:
    """``None`` if ``url`` is a supported database URL, else the problem. Never echoes the URL (it may hold a
    password)."""
    parsed = _parse(url)
    if parsed is None:
        return StoreUrlProblem("not a database URL")
    scheme = parsed.drivername
    if scheme in _SQLITE_DRIVERS or scheme == "postgresql+psycopg":
        return None
    hint = "; use postgresql+psycopg://" if scheme.split("+")[0] in {"postgresql", "postgres"} else ""
    return StoreUrlProblem(
        f"unsupported database URL scheme '{scheme}'{hint}",
        f"a URL with a supported scheme, {' or '.join(SUPPORTED_SCHEMES)}: {_EXPECTED}",
    )


def resolve_store_url(url: str, base_dir: Path) -> str:
    """Make a relative SQLite file path absolute against ``base_dir`` (the profile's directory).

    Other URLs, in-memory SQLite and already absolute paths are returned unchanged. ``url`` must have passed
    :func:`check_store_url`.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.drivername not in _SQLITE_DRIVERS or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = (base_dir / database).resolve()
    return parsed.set(database=str(absolute)).render_as_string(hide_password=False)


def mask_store_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, safe to print."""
    parsed = _parse(url)
    if parsed is None:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def store_url_secrets(url: str) -> list[str]:
    """The password of ``url`` as written and URL-encoded (empty if there is none), to register as secrets."""
    parsed = _parse(url)
    if parsed is None or not parsed.password:
        return []
    password = str(parsed.password)
    return sorted({password, quote_plus(password)})
