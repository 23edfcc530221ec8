"""Vendor rate-limit budgets kept in PostgreSQL, so every daemon on one store draws from the same bucket.

One row of ``vendor_budgets`` per (channel, budget name) holds a bucket as :class:`omnibridge.sdk.Bucket` keeps it
in memory: ``level`` as of ``updated_at``, ``capacity``, ``refill_rate`` per second and ``in_flight`` (the cost of
requests sent and not yet answered). Each operation is **one statement, one round trip** in autocommit, so no
transaction is ever held open while anyone waits:

* :meth:`BudgetTable.take` sweeps the budget's dead leases (charging them as if answered now): those whose
  session (``holder``, the backend pid of the connection that took them) is gone from ``pg_stat_activity`` (the
  process died: the database notices its connection closing), and those past ``expires_at`` (the fallback, for a
  connection the database has not seen close yet). Then it locks the row (``SELECT ... FOR UPDATE`` inside the
  statement), refills it from ``clock_timestamp()`` (the database clock: processes on different machines agree),
  and grants ``cost`` at once when ``level - in_flight >= min(cost, capacity)``. Otherwise, when refill alone
  can make room (``in_flight + min(cost, capacity) <= capacity``), it grants it *reserved*: it answers how long
  the refill takes, and the caller waits that long outside the database before sending; takers after it queue
  behind it, whichever process they run in, so a request costs one take however contended the budget is.
  ``hold`` moves the cost in flight under a lease that expires ``lease_seconds`` after the reserved time;
  otherwise it is charged at once. Refused (the bucket is full of requests in flight), the caller asks again
  once an answer may have come.
* :meth:`BudgetTable.settle` ends a lease (charging its cost at the answer's time) and applies what the vendor's
  answer said (capacity, refill rate, level; a 429 empties the bucket for everyone) in the same statement. A
  lease already swept is not charged twice (``DELETE ... RETURNING`` decides who charges it).
* :meth:`BudgetTable.ensure` creates the row, or adopts the configured capacity and refill rate (the process
  started last wins; the vendor's own headers correct both afterwards).

PostgreSQL only: on SQLite one daemon runs and the per-process limiters are exact.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy.engine import URL, make_url

from omnibridge.errors import StoreError

__all__ = ["BudgetLevel", "BudgetTable", "Grant", "conninfo"]

_TAKE = """
WITH t AS MATERIALIZED (SELECT clock_timestamp() AS now),
swept AS (
    DELETE FROM vendor_budget_leases AS l USING t
    WHERE l.channel = %(channel)s AND l.name = %(name)s
      AND (l.expires_at <= t.now OR l.holder NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL))
    RETURNING l.cost
),
o AS MATERIALIZED (
    SELECT b.capacity, b.refill_rate,
           least(b.capacity, b.level
                 + greatest(0.0, extract(epoch FROM t.now - b.updated_at)::float8) * b.refill_rate)
             - (SELECT coalesce(sum(cost), 0.0) FROM swept) AS level,
           greatest(0.0, b.in_flight - (SELECT coalesce(sum(cost), 0.0) FROM swept)) AS in_flight,
           greatest(b.updated_at, t.now) AS at
    FROM vendor_budgets AS b, t
    WHERE b.channel = %(channel)s AND b.name = %(name)s
    FOR UPDATE OF b
),
g AS MATERIALIZED (
    SELECT o.*,
           o.level - o.in_flight >= least(%(cost)s::float8, o.capacity) AS now_ok,
           o.in_flight + least(%(cost)s::float8, o.capacity) <= o.capacity + 1e-9 AS granted,
           greatest(0.0, (least(%(cost)s::float8, o.capacity) + o.in_flight - o.level) / o.refill_rate) AS wait
    FROM o
),
u AS (
    UPDATE vendor_budgets AS b SET
        level = g.level - CASE WHEN g.granted AND NOT %(hold)s THEN %(cost)s::float8 ELSE 0.0 END,
        in_flight = g.in_flight + CASE WHEN g.granted AND %(hold)s THEN %(cost)s::float8 ELSE 0.0 END,
        updated_at = g.at
    FROM g
    WHERE b.channel = %(channel)s AND b.name = %(name)s
    RETURNING b.level, b.in_flight
),
lease AS (
    INSERT INTO vendor_budget_leases (id, channel, name, cost, expires_at, holder)
    SELECT %(lease)s, %(channel)s, %(name)s, %(cost)s::float8,
           t.now + make_interval(secs => g.wait + %(lease_seconds)s), pg_backend_pid()
    FROM g, t
    WHERE g.granted AND %(hold)s
)
SELECT g.granted, CASE WHEN g.now_ok THEN 0.0 ELSE g.wait END, u.level, u.in_flight, g.capacity, g.refill_rate
FROM g, u
"""

_SETTLE = """
WITH t AS MATERIALIZED (SELECT clock_timestamp() AS now),
gone AS (DELETE FROM vendor_budget_leases WHERE id = %(lease)s RETURNING cost),
o AS MATERIALIZED (
    SELECT b.capacity, b.refill_rate,
           least(b.capacity, b.level
                 + greatest(0.0, extract(epoch FROM t.now - b.updated_at)::float8) * b.refill_rate)
             - (SELECT coalesce(sum(cost), 0.0) FROM gone) AS level,
           greatest(0.0, b.in_flight - (SELECT coalesce(sum(cost), 0.0) FROM gone)) AS in_flight,
           greatest(b.updated_at, t.now) AS at
    FROM vendor_budgets AS b, t
    WHERE b.channel = %(channel)s AND b.name = %(name)s
    FOR UPDATE OF b
),
n AS MATERIALIZED (
    SELECT coalesce(%(capacity)s::float8, o.capacity) AS capacity,
           coalesce(%(rate)s::float8, o.refill_rate) AS refill_rate,
           CASE WHEN %(throttled)s THEN least(coalesce(%(available)s::float8, o.level), 0.0)
                ELSE coalesce(%(available)s::float8, o.level) END AS level,
           o.in_flight, o.at
    FROM o
)
UPDATE vendor_budgets AS b SET
    capacity = n.capacity, refill_rate = n.refill_rate, level = least(n.level, n.capacity),
    in_flight = n.in_flight, updated_at = n.at
FROM n
WHERE b.channel = %(channel)s AND b.name = %(name)s
RETURNING b.level, b.in_flight, b.capacity, b.refill_rate
"""

_ENSURE = """
INSERT INTO vendor_budgets AS b (channel, name, capacity, refill_rate, level, in_flight, updated_at)
VALUES (%(channel)s, %(name)s, %(capacity)s, %(rate)s, %(available)s, 0.0, clock_timestamp())
ON CONFLICT (channel, name) DO UPDATE SET
    capacity = excluded.capacity, refill_rate = excluded.refill_rate, level = least(b.level, excluded.capacity)
"""


@dataclass(frozen=True, slots=True)
class BudgetLevel:
    """A budget as the database left it: ``level`` (refilled to the statement's time) and ``in_flight``."""

    level: float
    in_flight: float
    capacity: float
    refill_rate: float

    def wait_for(self, cost: float) -> float | None:
        """Seconds of refill until ``cost`` could be granted; ``None`` when refill alone cannot make room (the
        bucket is full but for requests in flight: an answer must come first)."""
        needed = min(cost, self.capacity)
        if needed + self.in_flight > self.capacity + 1e-9:
            return None
        return max(0.0, (needed + self.in_flight - self.level) / self.refill_rate)


@dataclass(frozen=True, slots=True)
class Grant:
    """What :meth:`BudgetTable.take` decided, and the budget after it: ``granted`` with ``wait`` seconds to
    wait before sending (the refill the grant was reserved against), or refused (only an answer can make room)."""

    granted: bool
    wait: float
    budget: BudgetLevel


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def conninfo(url: str | URL) -> str:
    """The libpq connection string of a ``postgresql+psycopg://`` store URL (its ``options`` kept, so a store in
    its own schema finds its tables); :class:`StoreError` for any other backend."""
    parsed = make_url(url) if isinstance(url, str) else url
    if not parsed.drivername.startswith("postgresql"):
        raise StoreError(
            f"shared vendor budgets need a PostgreSQL store, got {parsed.drivername!r}: expected "
            "postgresql+psycopg://... (SQLite runs one daemon, whose own rate limiters are exact)"
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class BudgetTable:
    """The ``vendor_budgets`` rows of one store, over one autocommit connection per event loop (opened on first
    use; a lost connection is reopened once per call). Safe to share between the tasks of one loop."""

    def __init__(self, url: str | URL) -> None:
        self._conninfo = conninfo(url)
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.round_trips = 0
        """Statements sent (each is one round trip to the database)."""

    async def _connection(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        if self._conn is None or self._conn.closed or self._loop is not loop:
            self._conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, row_factory=tuple_row, application_name="omnibridge budgets"
            )
            self._loop = loop
        return self._conn

    async def _one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        for attempt in (1, 2):
            try:
                conn = await self._connection()
                self.round_trips += 1
                cursor = await conn.execute(sql, params, prepare=True)
                return await cursor.fetchone() if cursor.description else None
            except (psycopg.OperationalError, psycopg.errors.DeadlockDetected) as exc:
                if attempt == 2:
                    raise StoreError(f"shared vendor budgets: database error: {_first_line(exc)}") from None
                if self._conn is not None and self._conn.closed:
                    self._conn = None
            except psycopg.Error as exc:
                raise StoreError(
                    f"shared vendor budgets: {_first_line(exc)} (is the store migrated? 'omnibridge db upgrade')"
                ) from None
        return None

    async def ensure(self, channel: str, name: str, *, capacity: float, refill_rate: float, available: float) -> None:
        """Create the budget full (``available``), or adopt ``capacity`` and ``refill_rate`` if it exists."""
        params = {"channel": channel, "name": name, "capacity": capacity, "rate": refill_rate, "available": available}
        await self._one(_ENSURE, params)

    async def take(
        self, channel: str, name: str, cost: float, *, lease: str | None, lease_seconds: float
    ) -> Grant | None:
        """Grant ``cost`` now or refuse; with ``lease`` (an id) the cost goes in flight under that lease, without
        it the cost is charged at once. ``None`` when the budget does not exist (call :meth:`ensure`)."""
        row = await self._one(
            _TAKE,
            {
                "channel": channel,
                "name": name,
                "cost": float(cost),
                "hold": lease is not None,
                "lease": lease,
                "lease_seconds": float(lease_seconds),
            },
        )
        if row is None:
            return None
        granted, wait, level, in_flight, capacity, rate = row
        budget = BudgetLevel(float(level), float(in_flight), float(capacity), float(rate))
        return Grant(bool(granted), float(wait) if granted else 0.0, budget)

    async def settle(
        self,
        channel: str,
        name: str,
        *,
        lease: str | None = None,
        capacity: float | None = None,
        refill_rate: float | None = None,
        available: float | None = None,
        throttled: bool = False,
    ) -> BudgetLevel | None:
        """End ``lease`` (charging its cost now, unless it was already swept) and apply what the vendor said:
        ``capacity``, ``refill_rate``, ``available`` replace the stored values; ``throttled`` empties the bucket."""
        row = await self._one(
            _SETTLE,
            {
                "channel": channel,
                "name": name,
                "lease": lease,
                "capacity": capacity if capacity is not None and capacity > 0 else None,
                "rate": refill_rate if refill_rate is not None and refill_rate > 0 else None,
                "available": available,
                "throttled": throttled,
            },
        )
        if row is None:
            return None
        level, in_flight, cap, rate = row
        return BudgetLevel(float(level), float(in_flight), float(cap), float(rate))

    async def aclose(self) -> None:
        """Close the connection (if this loop opened one)."""
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
        self._conn = None
