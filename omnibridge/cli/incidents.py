"""``omnibridge incidents``: the conflict resolver's decisions (drift and oversell) and catalog SKUs a channel does
not list (not_listed), oldest first; ``omnibridge incidents resolve ID --note``: say one was dealt with, and how
(recorded in the audit log with the OS user who ran it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.access import Actor
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.store import Incident
from omnibridge.store.incident_actions import resolve_incident

KINDS = ("drift", "oversell", "not_listed", "verify", "mass_change", "fulfilment", "pickup")
STATES: dict[str, bool | None] = {"open": False, "resolved": True, "all": None}


incidents_app = typer.Typer(
    help="List what the conflict resolver decided and why; resolve an incident once dealt with.",
    invoke_without_command=True,
)


@incidents_app.callback()
def incidents(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Only 'drift', 'oversell', 'not_listed', 'verify', 'mass_change', 'fulfilment' or 'pickup' incidents.",
        ),
    ] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="Only incidents about this SKU.")] = None,
    state: Annotated[
        str, typer.Option("--state", help="'open' (not resolved yet), 'resolved' or 'all'.", show_default=True)
    ] = "all",
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (oldest first).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """List what the conflict resolver decided and why: drift on a channel, oversold locations."""
    if ctx.invoked_subcommand is not None:
        return
    if kind is not None and kind not in KINDS:
        raise OmnibridgeError(f"--kind {kind!r} is not a kind of incident; expected one of: {', '.join(KINDS)}")
    if state not in STATES:
        raise OmnibridgeError(f"--state {state!r}: expected open, resolved or all")
    with profile_store(profile, read_only=True) as (_, store):
        found = store.incidents(kind=kind, sku=sku, limit=limit, resolved=STATES[state])
        counts = store.incident_counts()
    if as_json:
        typer.echo(json.dumps({"counts": counts, "incidents": [incident_dict(i) for i in found]}, indent=2))
        return
    if not found:
        typer.echo("no incidents" + (f" of kind {kind}" if kind else "") + (f" for {sku}" if sku else ""))
        return
    for incident in found:
        when = incident.created_at.isoformat(timespec="seconds") if incident.created_at else "-"
        resolved = f" [resolved by {incident.resolved_by}: {incident.resolution}]" if incident.resolved_at else ""
        typer.echo(f"#{incident.id} {when} {incident.kind}/{incident.decision}: {incident.summary}{resolved}")


@incidents_app.command("resolve")
def resolve_command(
    incident_id: Annotated[int, typer.Argument(metavar="ID", help="The incident's id (#12 in the list).")],
    note: Annotated[str, typer.Option("--note", help="How it was resolved (kept for audit).", show_default=False)],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Mark an incident resolved, saying how; recorded in the audit log with your OS user name."""
    with profile_store(profile) as (_, store):
        done = resolve_incident(store, incident_id, note, Actor.os_user())
    if as_json:
        typer.echo(json.dumps(done, indent=2))
    else:
        typer.echo(f"#{incident_id}: resolved ({done['resolution']})")


def incident_dict(incident: Incident) -> dict[str, Any]:
    """One incident as JSON-ready data (``incidents --json`` and the admin API)."""
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
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "resolved_by": incident.resolved_by,
        "resolution": incident.resolution,
    }
