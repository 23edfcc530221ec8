"""The ``omnibridge`` command line.

Exit codes, for every command: **0** done; **1** an error or a partial failure (something was not done: the
message says what); **2** a usage error (unknown command or option, a missing or malformed argument).

No command ever shows a traceback to a merchant: an :class:`~omnibridge.errors.OmnibridgeError` prints
``error: <message>`` on stderr and exits 1 (a bad profile prints one line per problem); anything else prints
``internal error: <type>: <message>`` and exits 1, with the traceback only when ``OMNIBRIDGE_DEBUG=1``.

Commands are imported lazily: :data:`COMMANDS` names the module and attribute of each, so ``--version`` and
``--help`` import neither the store nor any HTTP or web framework. Add a command there, with its one-line help.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from omnibridge import __version__

DEBUG_ENV = "OMNIBRIDGE_DEBUG"

COMMANDS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute: a Typer app or a command function, one-line help shown by 'omnibridge --help')
    "init": ("omnibridge.cli.profile_commands", "init", "Write a starter merchant profile that validates as written."),
    "validate": (
        "omnibridge.cli.profile_commands",
        "validate",
        "Check a merchant profile and every file it references; print each problem with its file and line.",
    ),
    "onboard": (
        "omnibridge.cli.onboard",
        "onboard",
        "Take each location's opening stock from a count file or a channel: plan, then --apply.",
    ),
    "check": (
        "omnibridge.cli.check",
        "check",
        "Check each enabled channel's credentials and reachability with read-only calls.",
    ),
    "connectors": ("omnibridge.cli.connectors", "connectors_app", "Installed connector plugins."),
    "catalog": ("omnibridge.cli.catalog", "catalog_app", "The master catalog: products, variants, SKUs."),
    # movements registers inventory receive/adjust/count/history on inventory_app
    "inventory": ("omnibridge.cli.movements", "inventory_app", "Stock positions from the ledger."),
    "db": ("omnibridge.cli.db", "db_app", "Database schema: upgrade and inspect."),
    "sync": ("omnibridge.cli.sync", "sync", "Pull every channel into the ledger, then push each what it should show."),
    "explain": (
        "omnibridge.cli.explain",
        "explain",
        "Show what each sales channel should show for a SKU, and why; 'explain order ID': how it was routed.",
    ),
    "incidents": (
        "omnibridge.cli.incidents",
        "incidents_app",
        "List what the conflict resolver decided and why; resolve one once dealt with.",
    ),
    "verify": ("omnibridge.cli.verify", "verify", "Check the ledger against itself, read-only."),
    "run": ("omnibridge.cli.run", "run", "Run omnibridge as a service: webhooks in, polls and read-backs."),
    "demo": ("omnibridge.cli.demo", "demo", "Play a merchant's day on local emulators of every built-in connector."),
    "emulator": (
        "omnibridge.cli.emulator",
        "emulator",
        "Run an installed connector's emulator on its own, to point a profile at it.",
    ),
    "deadletters": (
        "omnibridge.cli.deadletters",
        "deadletters_app",
        "Webhook deliveries that could not be applied: list, replay, discard.",
    ),
    "listings": ("omnibridge.cli.listings", "listings_app", "Titles and prices on every sales channel."),
    "files": ("omnibridge.cli.files", "files_app", "ERP/WMS file feeds: export orders and shipments."),
    "report": (
        "omnibridge.cli.reports",
        "report",
        "Reports from the store: order accuracy, time to ship, delivery, sync lag, stock-outs, sell-through, returns.",
    ),
    "export": ("omnibridge.cli.warehouse", "export_app", "Export to a data warehouse: Parquet files by date."),
    # order_routing registers orders route/accept/reject on orders_app
    "orders": (
        "omnibridge.cli.order_routing",
        "orders_app",
        "Orders from every channel: list, show, route, accept or reject them.",
    ),
    "pickups": (
        "omnibridge.cli.pickups",
        "pickups_app",
        "Pickups (click-and-collect, curbside): list them; ready, collected, reject; expire holds now.",
    ),
    "shipments": ("omnibridge.cli.shipments", "shipments_app", "Carrier labels and tracking."),
    "pickup": ("omnibridge.cli.pickup", "pickup_app", "Pickup and curbside: which stores can hand an item over, when."),
    "returns": (
        "omnibridge.cli.returns",
        "returns_app",
        "Returns (RMAs): list, show, create with a label, receive and decide what becomes of each unit.",
    ),
    "fulfilment": (
        "omnibridge.cli.fulfilment",
        "fulfilment_app",
        "Fulfilment tasks (assign, submit, confirm, re-route): list them, run one pass, retry a failed one.",
    ),
    "tokens": ("omnibridge.cli.tokens", "tokens_app", "Admin API tokens: create (shown once), list, revoke."),
    "audit": ("omnibridge.cli.audit", "audit_app", "The audit log of changes made by people and tokens: list, verify."),
    "customers": (
        "omnibridge.cli.customers",
        "customers_app",
        "Customers across channels: list, show, add, merge, split, record consent.",
    ),
    "keys": ("omnibridge.cli.keys", "keys_app", "Data keys for personal data at rest: status and rotation."),
    # privacy_requests registers export/erase/requests/process on privacy_app (omnibridge.cli.privacy: purge)
    "privacy": (
        "omnibridge.cli.privacy_requests",
        "privacy_app",
        "Personal data: retention purge; data-subject requests (export, erase, channel requests).",
    ),
}


def report_error(exc: BaseException) -> int:
    """Print ``exc`` for a person on stderr and return the exit code (1: ours or a bug, never a traceback)."""
    from omnibridge.errors import ConfigError, ConfigErrors, OmnibridgeError
    from omnibridge.logs import mask_secrets

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
    return 1


def load_command(name: str) -> Any:
    """The click command for ``name`` from :data:`COMMANDS`, importing its module now."""
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
        single.command(name=name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _LazyGuardedGroup(TyperGroup):
    """The root group: loads a command's module only when that command runs (or shows its own help), and turns
    every exception a command raises into a one-line message and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:  # ctx: Typer's vendored click Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            # the reader went away (`omnibridge sync --once | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except Exception as exc:
            raise typer.Exit(report_error(exc)) from None


app = typer.Typer(
    name="omnibridge",
    cls=_LazyGuardedGroup,
    help="omnibridge: one stock, every sales channel, no oversell.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
