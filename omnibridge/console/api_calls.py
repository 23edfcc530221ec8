"""Vendor API calls, counted per connector, operation and minute, and the latest calls kept for the timeline.

The daemon installs one :class:`ApiCallLog` as an observer of every connector's HTTP client
(:func:`omnibridge.sdk.http.add_call_observer`). Each attempt is counted in memory (calls; refusals: a 429 or a
throttled answer; failures: a 5xx or no answer) and kept in a short log of the latest calls (the request line
without its query, the status and the time; secrets masked by the client). Once a minute has passed its
counters are written to ``api_call_counts`` (one small transaction, off the event loop), so the figures over
1 h and 24 h survive a restart; what is not written yet is added when the console reads them.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from omnibridge.logs import get_logger
from omnibridge.sdk.http import CallRecord, add_call_observer
from omnibridge.store import Store
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.tables import API_CALL_COUNTS

RECENT = 500
KEEP = timedelta(days=7)
"""How long minute counters are kept: older ones are deleted when newer ones are written."""
Key = tuple[str, str, datetime]
"""(connector, operation, minute)."""


@dataclass(frozen=True, slots=True)
class CallTotals:
    """Calls and refusals of one connector's operation over the last hour and the last day."""

    connector: str
    op: str
    calls_1h: int = 0
    refusals_1h: int = 0
    calls_24h: int = 0
    refusals_24h: int = 0


def _minute(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC).replace(second=0, microsecond=0)


class ApiCallLog:
    """Counts calls per minute, keeps the latest :data:`RECENT` and the latest budget per connector, and writes
    finished minutes to the store (see the module docstring)."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self.recent: deque[CallRecord] = deque(maxlen=RECENT)
        self.budgets: dict[str, tuple[float, float]] = {}
        self._counts: dict[Key, list[int]] = {}
        self._lock = threading.Lock()
        self._flushing = False

    def __call__(self, record: CallRecord) -> None:
        refused = record.throttled or record.status == 429
        failed = record.status is None or record.status >= 500
        minute = _minute(record.at)
        with self._lock:
            self.recent.append(record)
            if record.budget is not None:
                self.budgets[record.connector] = record.budget
            counts = self._counts.setdefault((record.connector, record.op, minute), [0, 0, 0])
            counts[0] += 1
            counts[1] += refused
            counts[2] += failed
            due = any(key[2] < minute for key in self._counts) and not self._flushing
        if due and self.store is not None:
            self._flush_later(minute)

    def install(self) -> Callable[[], None]:
        """Observe every connector HTTP client of this process; returns the function that stops observing."""
        return add_call_observer(self)

    def _flush_later(self, before: datetime) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a test calling the client synchronously): write now
            self.flush(before)
            return
        self._flushing = True
        loop.run_in_executor(None, self.flush, before)

    def _take(self, before: datetime | None) -> dict[Key, list[int]]:
        with self._lock:
            taken = {key: value for key, value in self._counts.items() if before is None or key[2] < before}
            for key in taken:
                del self._counts[key]
            return taken

    def flush(self, before: datetime | None = None) -> int:
        """Write the counters of minutes before ``before`` (all of them when None); returns how many rows."""
        try:
            taken = self._take(before)
            if taken and self.store is not None:
                write_counts(self.store, taken)
            return len(taken)
        except Exception:
            get_logger("omnibridge.console").exception("api_calls.flush_failed")
            return 0
        finally:
            self._flushing = False

    def pending(self) -> dict[Key, list[int]]:
        """The counters not written yet (a copy)."""
        with self._lock:
            return {key: list(value) for key, value in self._counts.items()}

    def calls_of(self, connectors: Iterable[str]) -> list[CallRecord]:
        """The latest calls of ``connectors``, newest first."""
        wanted = set(connectors)
        with self._lock:
            return [record for record in reversed(self.recent) if record.connector in wanted]


def write_counts(store: Store, counts: dict[Key, list[int]]) -> None:
    """Add ``counts`` to ``api_call_counts`` in one transaction, deleting minutes older than :data:`KEEP`
    before the newest one written."""
    table = API_CALL_COUNTS
    with write_session(store.engine) as session:
        session.execute(sa.delete(table).where(table.c.minute < max(key[2] for key in counts) - KEEP))
        for (connector, op, minute), (calls, refusals, failures) in counts.items():
            where = sa.and_(table.c.connector == connector, table.c.op == op[:255], table.c.minute == minute)
            updated = session.execute(
                sa.update(table)
                .where(where)
                .values(
                    calls=table.c.calls + calls,
                    refusals=table.c.refusals + refusals,
                    failures=table.c.failures + failures,
                )
            )
            if updated.rowcount == 0:  # type: ignore[attr-defined]
                session.execute(
                    sa.insert(table).values(
                        connector=connector, op=op[:255], minute=minute, calls=calls, refusals=refusals,
                        failures=failures,
                    )
                )  # fmt: skip


def call_totals(store: Store, now: datetime, pending: dict[Key, list[int]] | None = None) -> list[CallTotals]:
    """Calls and refusals per (connector, operation) over the last hour and day: the stored minutes plus
    ``pending`` (what the daemon has not written yet)."""
    day_ago, hour_ago = now - timedelta(days=1), now - timedelta(hours=1)
    table = API_CALL_COUNTS
    with read_session(store.engine) as session:
        rows = session.execute(
            sa.select(table.c.connector, table.c.op, table.c.minute, table.c.calls, table.c.refusals).where(
                table.c.minute >= day_ago
            )
        ).all()
    merged: dict[tuple[str, str], list[int]] = {}
    entries = [(c, o, m, calls, refused) for c, o, m, calls, refused in rows]
    entries += [(c, o, m, v[0], v[1]) for (c, o, m), v in (pending or {}).items() if m >= day_ago]
    for connector, op, minute, calls, refusals in entries:
        totals = merged.setdefault((connector, op), [0, 0, 0, 0])
        if minute >= hour_ago:
            totals[0] += calls
            totals[1] += refusals
        totals[2] += calls
        totals[3] += refusals
    return [CallTotals(c, o, *values) for (c, o), values in sorted(merged.items())]
