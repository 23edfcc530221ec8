"""How often the daemon's threads take turns with the interpreter lock (the GIL).

The daemon runs its store calls on a few threads beside the event loop (:mod:`omnibridge.sync.engine`, the webhook
receiver). The sqlite3 and psycopg drivers let go of the GIL for every statement; when the statement is done, the
thread waits for the GIL again until whoever took it lets go: by CPython's default, after up to 5 ms of running
Python. A thread inside a write transaction holds the store's write lock (and SQLite's) through every such wait, so
a unit of work of ten statements could hold every other writer back for tens of milliseconds while doing under one.
A shorter switch interval bounds each wait; measured figures are in ``docs/scaling.md``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

DAEMON_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may run Python before one waiting for the GIL gets it (CPython's default is 0.005)."""


@contextlib.contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Run the block with :func:`sys.setswitchinterval` set to ``seconds`` (greater than 0); the previous interval
    is restored after, whether the block ends or raises."""
    if not seconds > 0:
        raise ValueError(f"switch interval {seconds!r}: expected a number of seconds greater than 0")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
