"""Fixtures for the SDK tests: a fake clock whose sleeps advance it, and clean logging state."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from omnibridge import logs

from .fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _reset_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own copy of the secret registry and leaves no logging configuration behind."""
    monkeypatch.setattr(logs, "_secrets", set(logs._secrets))
    monkeypatch.setattr(logs, "_secrets_pattern", logs._secrets_pattern)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")}
    yield
    for handler in [h for h in root.handlers if h.get_name() == "omnibridge"]:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    structlog.reset_defaults()
