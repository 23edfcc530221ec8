"""Resolving incidents: a person says an incident was dealt with, and how.

An incident stays in the log for good (it is what happened); resolving it sets ``resolved_at``, ``resolved_by``
and ``resolution`` and appends an ``incident.resolve`` record to the audit log in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.access import audit
from omnibridge.access.actors import Actor
from omnibridge.errors import OmnibridgeError
from omnibridge.store.engine import write_session
from omnibridge.store.store import Store
from omnibridge.store.tables import INCIDENTS


class IncidentNotFound(OmnibridgeError):
    """No incident has that id."""


def resolve_incident(store: Store, incident_id: int, note: str, actor: Actor) -> dict[str, object]:
    """Mark incident ``incident_id`` resolved by ``actor`` with ``note`` (what was done); returns its id, kind,
    summary and the resolution. An unknown or already resolved incident is an :class:`OmnibridgeError`."""
    why = " ".join(note.split())
    if not why:
        raise OmnibridgeError("--note: say how the incident was resolved (it is kept for audit)")
    now = store.now()
    with write_session(store.engine) as session:
        query = sa.select(INCIDENTS).where(INCIDENTS.c.id == incident_id).with_for_update()
        row = session.execute(query).mappings().first()
        if row is None:
            raise IncidentNotFound(f"no incident #{incident_id}; see 'omnibridge incidents' for the ids")
        if row["resolved_at"] is not None:
            raise OmnibridgeError(
                f"incident #{incident_id} was already resolved by {row['resolved_by']} at "
                f"{row['resolved_at'].isoformat()}"
            )
        session.execute(
            sa.update(INCIDENTS)
            .where(INCIDENTS.c.id == incident_id)
            .values(resolved_at=now, resolved_by=str(actor), resolution=why)
        )
        before = {"kind": row["kind"], "decision": row["decision"], "summary": row["summary"], "resolved": False}
        after = {"resolved": True, "resolution": why}
        audit.record(session, actor, "incident.resolve", f"incident:{incident_id}", before, after, at=now)
    return {
        "id": incident_id,
        "kind": row["kind"],
        "summary": row["summary"],
        "resolved_at": now.isoformat(),
        "resolved_by": str(actor),
        "resolution": why,
    }
