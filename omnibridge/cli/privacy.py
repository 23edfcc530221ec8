"""`omnibridge privacy purge`: remove raw webhook bodies and personal data past the profile's retention.

(The data-subject commands ``export``, ``erase``, ``requests`` and ``process`` are registered on this group by
:mod:`omnibridge.cli.privacy_requests`.)

The periods come from the profile's ``privacy:`` section (``raw_body_days``, default 7;
``personal_data_days_after_complete``, default 90); the daemon runs the same purge every hour
(:mod:`omnibridge.store.retention` says exactly what goes and what stays). ``--dry-run`` only counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption
from omnibridge.config import DEFAULT_PROFILE, load_profile
from omnibridge.store import open_store, utc_now
from omnibridge.store.engine import require_existing
from omnibridge.store.retention import purge

privacy_app = typer.Typer(
    help="Personal data: retention purge; data-subject requests (export, erase, channel requests).",
    no_args_is_help=True,
)


@privacy_app.command("purge")
def purge_command(
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Remove raw webhook bodies and order/shipment addresses past the profile's retention periods."""
    loaded = load_profile(profile)
    require_existing(loaded.store_url)
    settings = loaded.privacy
    with open_store(loaded.store_url) as store:
        report = purge(
            store.engine,
            utc_now(),
            raw_body_days=settings.raw_body_days,
            personal_data_days=settings.personal_data_days_after_complete,
            dry_run=dry_run,
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb}: {report.raw_bodies} raw webhook body(ies) older than {settings.raw_body_days} day(s), "
        f"{report.order_addresses} order address(es) and {report.shipment_addresses} shipment address(es) of orders "
        f"finished more than {settings.personal_data_days_after_complete} day(s) ago"
    )
