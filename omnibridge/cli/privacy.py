"""``omnibridge privacy``: the command group (data-subject commands: :mod:`omnibridge.cli.privacy_requests`)."""

from __future__ import annotations

import typer

privacy_app = typer.Typer(
    help="Data-subject requests: export or erase a customer; requests forwarded by channels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
