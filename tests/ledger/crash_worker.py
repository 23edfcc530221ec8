"""Crash-test worker: apply a stream of movements to a store, acknowledging each one only after it committed.

Usage: ``python crash_worker.py STORE_URL STREAM_FILE ACK_FILE [--die-at POINT:N]``

``STREAM_FILE`` holds one :class:`StockMovement` as JSON per line. The worker opens the store (migrating it if
needed) and submits every movement in order, from the first, whatever an earlier (killed) run already did.
After each ``Store.apply`` returns (the transaction is committed), it appends one line to ``ACK_FILE`` and
fsyncs it before submitting the next movement::

    applied<TAB>KEY            recorded now
    duplicate<TAB>KEY          already recorded (by this run or an earlier one)
    refused:ERROR<TAB>KEY      refused by the ledger (nothing written); not an acknowledgement

``applied`` and ``duplicate`` lines are acknowledgements: the event is durable. Any other error is a bug; it
propagates and the worker exits non-zero.

``--die-at POINT:N`` makes the worker SIGKILL itself at an exact point, for the N-th movement this run
records (not counting duplicates and refusals); see :data:`DIE_POINTS`. Without it, the test SIGKILLs the
worker from outside at random points (``tests/ledger/test_ledger_crash.py``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session

import omnibridge.ledger.apply as ledger_apply
from omnibridge.errors import ConflictError
from omnibridge.ledger.effects import Deltas
from omnibridge.models import InventoryPosition, MovementResult, StockMovement
from omnibridge.store import Store, open_store

APPLIED = "applied"
DUPLICATE = "duplicate"
REFUSED = "refused"

DIE_POINTS = {
    "migrated": "the schema's DDL ran in the migration transaction, not yet committed (N is ignored)",
    "inserted": "the movement row was inserted, the position not yet updated",
    "updated": "the position was updated, the transaction not yet committed",
    "commit": "COMMIT is about to be sent (SQLAlchemy's commit event)",
    "committed": "Store.apply returned (committed), the acknowledgement not yet written",
}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Tripwire:
    """Counts recorded movements at one point and SIGKILLs the process at the N-th."""

    def __init__(self, point: str, nth: int) -> None:
        self.point = point
        self.nth = nth
        self.seen = 0
        self.pending = False

    def reached(self, point: str) -> None:
        if point == self.point:
            self.seen += 1
            if self.seen == self.nth:
                die()

    def install_before_open(self) -> None:
        if self.point == "migrated":
            real_upgrade = command.upgrade

            def upgrade(config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
                real_upgrade(config, revision, sql, tag)
                die()

            command.upgrade = upgrade  # the store's migrate module calls command.upgrade(...)

    def install(self, store: Store) -> None:
        real_insert_movement = ledger_apply._insert_movement
        real_add = ledger_apply._add

        def insert_movement(session: Session, row: dict[str, object]) -> Any | None:
            inserted = real_insert_movement(session, row)
            if inserted is not None:
                self.reached("inserted")
            return inserted

        def add(session: Session, sku: str, location_id: str, deltas: Deltas, now: datetime) -> InventoryPosition:
            updated = real_add(session, sku, location_id, deltas, now)
            self.reached("updated")
            self.pending = True
            return updated

        def on_commit(_conn: sa.Connection) -> None:
            if self.pending:  # the commit of a transaction that recorded a movement
                self.pending = False
                self.reached("commit")

        ledger_apply._insert_movement = insert_movement
        ledger_apply._add = add
        sa.event.listen(store.engine, "commit", on_commit)

    def after_apply(self, result: MovementResult) -> None:
        if not result.duplicate:
            self.reached("committed")


def read_stream(path: Path) -> list[StockMovement]:
    return [StockMovement.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run(url: str, stream_file: Path, ack_file: Path, tripwire: Tripwire | None) -> int:
    stream = read_stream(stream_file)
    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if tripwire is not None:
            tripwire.install_before_open()
        with open_store(url) as store:
            if tripwire is not None:
                tripwire.install(store)
            for movement in stream:
                try:
                    result = store.apply(movement)
                except ConflictError as exc:  # insufficient stock, bucket conflicts, reused keys
                    status = f"{REFUSED}:{type(exc).__name__}"
                else:
                    status = DUPLICATE if result.duplicate else APPLIED
                    if tripwire is not None:
                        tripwire.after_apply(result)
                # One write of one whole line, then fsync: the ack exists only once the effect is committed.
                os.write(fd, f"{status}\t{movement.idempotency_key}\n".encode())
                os.fsync(fd)
    finally:
        os.close(fd)
    return len(stream)


def parse_die_at(value: str) -> Tripwire:
    point, _, nth = value.partition(":")
    if point not in DIE_POINTS or not nth.isdigit() or int(nth) < 1:
        raise argparse.ArgumentTypeError(f"expected POINT:N with POINT in {sorted(DIE_POINTS)} and N >= 1")
    return Tripwire(point, int(nth))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("stream_file", type=Path)
    parser.add_argument("ack_file", type=Path)
    parser.add_argument("--die-at", type=parse_die_at, default=None, metavar="POINT:N")
    args = parser.parse_args(argv)
    count = run(args.url, args.stream_file, args.ack_file, args.die_at)
    print(f"submitted {count} movements")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
