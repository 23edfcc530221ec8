"""``omnibridge tokens create|list|revoke``: bearer tokens for the daemon's admin API (``/api/...``).

A token is printed once, when it is created; the store keeps only its SHA-256. Creating and revoking are
recorded in the audit log with the OS user who ran the command. See docs/security.md, "Access control and audit".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.access import Actor, Role, tokens
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError

tokens_app = typer.Typer(help="Admin API tokens: create (shown once), list, revoke.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@tokens_app.command("create")
def create_command(
    role: Annotated[str, typer.Option("--role", help="viewer (read), operator (read and act) or admin (everything).")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses it (shown in lists and the audit log).")],
    expires: Annotated[
        int | None, typer.Option("--expires", metavar="DAYS", help="Expire after this many days (default: never).")
    ] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it once: it cannot be shown again (only its hash is kept)."""
    try:
        chosen = Role.parse(role)
    except ValueError as exc:
        raise OmnibridgeError(f"--role: {exc}") from None
    with profile_store(profile) as (_, store):
        created, secret = tokens.create(store, chosen, name, Actor.os_user(), expires_days=expires)
        now = store.now()
    if as_json:
        typer.echo(json.dumps({**created.as_dict(now), "token": secret}, indent=2))
        return
    until = f", expires {created.expires_at.isoformat(timespec='seconds')}" if created.expires_at else ""
    typer.echo(f"token {created.id} ({created.name}, {created.role.value}{until}):")
    typer.echo(secret)
    typer.echo("keep it now: it is not shown again (send it as 'Authorization: Bearer <token>')", err=True)


@tokens_app.command("list")
def list_command(profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False) -> None:
    """List every token, oldest first: id, name, role, state (active, expired, revoked), who created it and when."""
    with profile_store(profile, read_only=True) as (_, store):
        found = tokens.tokens(store)
        now = store.now()
    rows = [token.as_dict(now) for token in found]
    if as_json:
        typer.echo(json.dumps({"tokens": rows}, indent=2))
    elif not rows:
        typer.echo("no API tokens (create one with 'omnibridge tokens create --role viewer --name NAME')")
    else:
        for row in rows:
            for column in ("created_at", "expires_at"):
                row[column] = str(row[column])[:19].replace("T", " ") if row[column] else None
        columns = ("id", "name", "role", "state", "created_at", "created_by", "expires_at")
        cells = [["-" if row[column] is None else row[column] for column in columns] for row in rows]
        typer.echo(render_table([column.upper() for column in columns], cells))


@tokens_app.command("revoke")
def revoke_command(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (see 'omnibridge tokens list').")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Revoke a token for good: the API refuses it from now on; it stays listed as revoked."""
    with profile_store(profile) as (_, store):
        revoked = tokens.revoke(store, token_id, Actor.os_user())
    typer.echo(f"token {revoked.id} ({revoked.name}, {revoked.role.value}): revoked")
