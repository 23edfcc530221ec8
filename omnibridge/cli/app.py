"""The ``omnibridge`` command line.

No command ever shows a traceback to a merchant: an :class:`~omnibridge.errors.OmnibridgeError` prints
``error: <message>`` on stderr and exits 1 (a bad profile prints one line per problem); anything else prints
``internal error: <type>: <message>`` and exits 2, with the traceback only when ``OMNIBRIDGE_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from omnibridge import __version__
from omnibridge.cli import movements as _movements  # noqa: F401  (registers inventory receive/adjust/count/history)
from omnibridge.cli.catalog import catalog_app
from omnibridge.cli.connectors import connectors_app
from omnibridge.cli.db import db_app
from omnibridge.cli.deadletters import deadletters_app
from omnibridge.cli.demo import demo as _demo_command
from omnibridge.cli.demo import emulator_app
from omnibridge.cli.explain import explain as _explain_command
from omnibridge.cli.files import files_app
from omnibridge.cli.incidents import incidents as _incidents_command
from omnibridge.cli.inventory import inventory_app
from omnibridge.cli.listings import listings_app
from omnibridge.cli.onboard import onboard as _onboard_command
from omnibridge.cli.run import run as _run_command
from omnibridge.cli.shipments import shipments_app
from omnibridge.cli.sync import sync as _sync_command
from omnibridge.cli.verify import verify as _verify_command
from omnibridge.config import (
    DEFAULT_PROFILE,
    PROFILE_ENV,
    ProfileErrors,
    load_profile,
    profile_summary,
    write_starter_profile,
)
from omnibridge.errors import ConfigError, ConfigErrors, OmnibridgeError
from omnibridge.logs import mask_secrets

DEBUG_ENV = "OMNIBRIDGE_DEBUG"


def report_error(exc: BaseException) -> int:
    """Print ``exc`` for a person on stderr and return the exit code (1 for our errors, 2 for bugs)."""
    if isinstance(exc, ConfigErrors):
        for error in exc.errors:
            typer.echo(f"error: {error.render()}", err=True)
        return 1
    if isinstance(exc, ConfigError):
        typer.echo(f"error: {exc.render()}", err=True)
        return 1
    if isinstance(exc, OmnibridgeError):
        typer.echo(f"error: {mask_secrets(_one_line(str(exc)))}", err=True)
        return 1
    if os.environ.get(DEBUG_ENV) == "1":
        traceback.print_exception(exc, file=sys.stderr)
    detail = mask_secrets(_one_line(str(exc)))
    typer.echo(
        f"internal error: {type(exc).__name__}: {detail} — set {DEBUG_ENV}=1 for the traceback",
        err=True,
    )
    return 2


class _GuardedGroup(TyperGroup):
    """The root group: turns every exception a command raises into a one-line message and an exit code."""

    def invoke(self, ctx: Any) -> Any:  # ctx: Typer's vendored click Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            raise typer.Exit(report_error(exc)) from None


app = typer.Typer(
    name="omnibridge",
    cls=_GuardedGroup,
    help="omnibridge: one stock, every sales channel, no oversell.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(connectors_app, name="connectors")
app.add_typer(catalog_app, name="catalog")
app.add_typer(inventory_app, name="inventory")
app.add_typer(db_app, name="db")
app.command(name="sync")(_sync_command)
app.command(name="explain")(_explain_command)
app.command(name="onboard")(_onboard_command)
app.command(name="incidents")(_incidents_command)
app.command(name="verify")(_verify_command)
app.command(name="run")(_run_command)
app.command(name="demo")(_demo_command)
app.add_typer(emulator_app, name="emulator")
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(listings_app, name="listings")
app.add_typer(files_app, name="files")
app.add_typer(shipments_app, name="shipments")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"omnibridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """omnibridge: one stock, every sales channel, no oversell."""


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the profile.")] = Path(DEFAULT_PROFILE),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter merchant profile that validates as written."""
    target = write_starter_profile(path, force=force)
    typer.echo(f"wrote {target}")
    typer.echo(f"next: edit it, then run 'omnibridge validate {target}'")


@app.command()
def validate(
    profile: Annotated[
        Path,
        typer.Argument(
            help=f"The merchant profile (default: ${PROFILE_ENV} or ./{DEFAULT_PROFILE}).", envvar=PROFILE_ENV
        ),
    ] = Path(DEFAULT_PROFILE),
) -> None:
    """Check a merchant profile and every file it references; print each problem with its file and line."""
    try:
        loaded = load_profile(profile)
    except ProfileErrors as exc:
        for error in exc.errors:
            typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None
    typer.echo(profile_summary(loaded))


def main(argv: list[str] | None = None) -> None:
    """The console script: run the CLI and exit with its code, never with a traceback."""
    try:
        code = app(args=argv, prog_name="omnibridge", standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors: show the usage line and the problem
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        code = exc.exit_code
    except Exception as exc:
        code = report_error(exc)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(text: str) -> str:
    return " ".join(text.split())
