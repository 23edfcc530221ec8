"""`omnibridge db ...`: schema migrations for operators.

``omnibridge db upgrade`` migrates the store to the newest schema this omnibridge knows (opening the store
does the same; this command does it explicitly, e.g. before starting several daemons). ``omnibridge db
current`` reports the schema revision without changing anything. Both take ``--url`` or a profile
(``--profile``, default ``$OMNIBRIDGE_PROFILE`` or ``./omnibridge.yaml``); ``--url`` wins when both are given.
Problems (bad URL, unreachable database, a schema newer than this omnibridge) are raised as
:class:`~omnibridge.errors.OmnibridgeError` and printed by the CLI as one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.config import DEFAULT_PROFILE, PROFILE_ENV, load_profile
from omnibridge.store.engine import check_reachable, create_store_engine, require_existing, safe_url
from omnibridge.store.migrate import current_revision, head_revision, known_revisions, upgrade

db_app = typer.Typer(help="Database schema: upgrade and inspect.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL (sqlite:///PATH or postgresql+psycopg://...); overrides the profile."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ProfileOption = Annotated[
    Path,
    typer.Option("--profile", "-p", help="The merchant profile whose store to use.", envvar=PROFILE_ENV),
]


def store_url(url: str | None, profile: Path) -> str:
    """The URL to use: ``url`` if given, else the profile's store URL."""
    return url if url is not None else load_profile(profile).store_url


@db_app.command("upgrade")
def upgrade_command(
    url: UrlOption = None, profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False
) -> None:
    """Migrate the store's schema to the newest revision (a no-op when it is already there)."""
    engine = create_store_engine(store_url(url, profile))
    try:
        check_reachable(engine)
        before = current_revision(engine)
        after = upgrade(engine)
    finally:
        engine.dispose()
    where = safe_url(engine.url)
    if as_json:
        typer.echo(json.dumps({"store": where, "before": before, "after": after, "changed": before != after}))
        return
    if before == after:
        typer.echo(f"{where}: already at the newest schema ({after})")
    else:
        typer.echo(f"{where}: upgraded schema from {before or 'empty'} to {after}")


@db_app.command("current")
def current_command(
    url: UrlOption = None, profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False
) -> None:
    """Print the store's schema revision and whether it is up to date; changes nothing (never creates a database)."""
    target = store_url(url, profile)
    require_existing(target)
    engine = create_store_engine(target)
    try:
        check_reachable(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    if revision is None:
        state = "empty database: run 'omnibridge db upgrade'"
    elif revision == head:
        state = "up to date"
    elif revision in known_revisions():
        state = f"behind {head}: run 'omnibridge db upgrade'"
    else:
        state = f"newer than this omnibridge ({head}): upgrade omnibridge"
    if as_json:
        document = {"store": safe_url(engine.url), "revision": revision, "head": head, "up_to_date": revision == head}
        typer.echo(json.dumps(document))
        return
    typer.echo(f"{safe_url(engine.url)}: schema {revision or 'none'} ({state})")
