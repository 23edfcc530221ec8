"""``omnibridge incidents``: the conflict resolver's decisions (drift and oversell) and catalog SKUs a channel does
not list (not_listed), oldest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.store import Incident

KINDS = ("drift", "oversell", "not_listed", "verify", "mass_change", "fulfilment")


def incidents(
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Only 'drift', 'oversell', 'not_listed', 'verify', 'mass_change' or 'fulfilment' incidents."
        ),
    ] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="Only incidents about this SKU.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (oldest first).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """List what the conflict resolver decided and why: drift on a channel, oversold locations."""
    if kind is not None and kind not in KINDS:
        raise OmnibridgeError(f"--kind {kind!r} is not a kind of incident; expected one of: {', '.join(KINDS)}")
    with profile_store(profile, read_only=True) as (_, store):
        found = store.incidents(kind=kind, sku=sku, limit=limit)
        counts = store.incident_counts()
    if as_json:
        typer.echo(json.dumps({"counts": counts, "incidents": [_as_dict(i) for i in found]}, indent=2))
        return
    if not found:
        typer.echo("no incidents" + (f" of kind {kind}" if kind else "") + (f" for {sku}" if sku else ""))
        return
    for incident in found:
        when = incident.created_at.isoformat(timespec="seconds") if incident.created_at else "-"
        typer.echo(f"#{incident.id} {when} {incident.kind}/{incident.decision}: {incident.summary}")


def _as_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "kind": incident.kind,
        "decision": incident.decision,
        "channel": incident.channel,
        "sku": incident.sku,
        "location_id": incident.location_id,
        "order_id": incident.order_id,
        "summary": incident.summary,
        "data": dict(incident.data),
        "created_at": incident.created_at.isoformat() if incident.created_at else None,
    }
