"""Holds that expire: every pickup still held (reserved, ready, arrived) past its ``expires_at`` is released
through the ledger, once.

Each pickup is released in its own unit of work (:func:`omnibridge.pickup.lifecycle.change` to ``expired``): the
pickup row is locked and its state checked in the same transaction as the release movements
(``<line>:v<version>:expire``), the incident (kind ``pickup``, decision ``expired``) and the ``pickup`` task that
tells its channel. A crash before the commit leaves the pickup held, and the next run releases it; a crash after
leaves it expired, and the next run does not see it. A pickup collected or cancelled between the listing and its
lock is left alone. The daemon runs this every minute (job ``expire_reservations``); ``omnibridge pickups expire``
runs it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from omnibridge.logs import get_logger
from omnibridge.pickup import records
from omnibridge.pickup.lifecycle import PickupConflict, change
from omnibridge.pickup.settings import PickupSettings
from omnibridge.sdk.pickup import PickupState
from omnibridge.store import Store
from omnibridge.store.engine import read_session

__all__ = ["ExpiryReport", "expire_due"]


@dataclass
class ExpiryReport:
    """One run: the pickups found due, those released (with the units released) and those left alone (they
    changed meanwhile). ``dry_run``: nothing was released."""

    due: list[str] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    dry_run: bool = False


def expire_due(
    store: Store,
    settings: PickupSettings,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    after_each: Callable[[str], None] | None = None,
) -> ExpiryReport:
    """Release every hold past its expiry now (see the module docstring). ``after_each`` is called with each
    released pickup's id after its unit of work committed (tests use it to stop at a given point)."""
    with read_session(store.engine) as session:
        due = records.due(session, store.now(), limit=limit)
    report = ExpiryReport(due=due, dry_run=dry_run)
    if dry_run:
        return report
    log = get_logger("omnibridge.pickup")
    for pickup_id in due:
        try:
            with store.unit_of_work() as uow:
                done = change(uow, pickup_id, PickupState.EXPIRED, settings, reason="not collected in time")
        except PickupConflict:
            report.skipped.append(pickup_id)
            continue
        if done.changed:
            report.released[pickup_id] = done.units
            log.warning("pickup.expired", pickup=pickup_id, location=done.pickup.location_id, units=done.units)
        else:
            report.skipped.append(pickup_id)
        if after_each is not None:
            after_each(pickup_id)
    return report
