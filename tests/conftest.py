"""Shared fixtures: a ``store`` on every backend, a deterministic clock, and hypothesis profiles.

PostgreSQL tests need ``OMNIBRIDGE_TEST_POSTGRES_URL`` (``eval "$(scripts/start-postgres.sh)"`` starts one).
Without it they are skipped locally, and fail in CI (``CI=true``), where PostgreSQL is required.
Each PostgreSQL test gets a fresh schema (via ``search_path``), dropped afterwards.

Hypothesis profiles: ``dev`` (default) and ``ci`` (many more examples); pick with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import TickingClock, WriteFile, postgres_schema_url

from omnibridge.store import Store, open_store

settings.register_profile(
    "dev", max_examples=200, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=2000, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'omnibridge.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database, on each backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url() as url:
            yield url


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def store(store_url: str, clock: TickingClock) -> Iterator[Store]:
    """An open store on an empty, migrated database (each backend), closed afterwards."""
    with open_store(store_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """``write(relative_path, text)``: write dedented ``text`` under ``tmp_path`` and return the path."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio only."""
    return "asyncio"
