"""Keep the engine's per-request log lines out of a benchmark's output."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from omnibridge.logs import get_logger


@contextmanager
def quiet_logs(level: int = logging.ERROR) -> Iterator[None]:
    """Raise the root log level to at least ``level`` for the duration of the block, then restore it."""
    get_logger("bench")  # configures omnibridge's redacting handler if nobody has yet
    root = logging.getLogger()
    before = root.level
    root.setLevel(max(before, level))
    try:
        yield
    finally:
        root.setLevel(before)
