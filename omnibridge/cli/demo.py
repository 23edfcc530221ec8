"""``omnibridge demo`` and ``omnibridge emulator``: try omnibridge with no credentials and no shop."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.catalog import read_catalog_csv
from omnibridge.logs import configure_logging

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog", help="Seed the items of this catalog CSV (as for 'catalog import') instead of the demo's."
    ),
]

emulator_app = typer.Typer(
    help="Run a vendor emulator on its own, to point a real profile at it.", no_args_is_help=True
)


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Build the demo in this directory and keep it (profile, database)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "ERROR",
) -> None:
    """Play a merchant's day on local Shopify and Square emulators and show every change propagate.

    Exits 0 when every channel ends up agreeing with the ledger, 1 otherwise.
    """
    from omnibridge.demo.run import run_demo  # imports both emulators: only when the demo runs

    configure_logging(level=log_level)
    workdir = keep if keep is not None else Path(tempfile.mkdtemp(prefix="omnibridge-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        report = asyncio.run(run_demo(workdir, (lambda _: None) if as_json else typer.echo))
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_summary(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(report: object) -> None:
    from omnibridge.demo.run import DemoReport

    assert isinstance(report, DemoReport)
    typer.echo("")
    for channel, calls in report.api_calls.items():
        refused = {k: v for k, v in calls.items() if k in ("throttled", "rate_limited")}
        typer.echo(
            f"api calls   {channel:<4} {calls['total']:>4}  "
            + ", ".join(f"{name} {count}" for name, count in calls.items() if name not in ("total", *refused))
            + "".join(f"; {name} {count}" for name, count in refused.items())
        )
    for channel, stats in report.webhooks.items():
        typer.echo(
            f"webhooks    {channel:<4} {stats['deliveries']:>4} sent ({stats['duplicates_sent']} duplicates), "
            f"{stats['attempts']} attempts, {stats['delivered']} delivered"
        )
    inbox = report.engine
    typer.echo(
        f"inbox       stored {inbox['received']}, duplicates ignored {inbox['duplicates']}, "
        f"rejected {inbox['rejected']}, dead {inbox['dead']}"
    )
    pushes = sum(row["pushed"].get("applied", 0) for row in report.final_read_back.values())
    typer.echo(f"read-back   {pushes} level(s) still had to be corrected after the day")
    if report.mismatches:
        typer.echo(f"RESULT      {len(report.mismatches)} of {report.levels_checked} levels DISAGREE with the ledger:")
        for m in report.mismatches[:20]:
            typer.echo(f"            {m.channel} {m.sku} at {m.location_id}: shows {m.shows}, ledger {m.ledger}")
    else:
        typer.echo(f"RESULT      all {report.levels_checked} levels on both channels agree with the ledger")


@emulator_app.command("shopify")
def emulator_shopify(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8801,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    webhook_url: Annotated[str | None, typer.Option("--webhook-url", help="Where to send webhooks.")] = None,
    catalog: CatalogOption = None,
    empty: Annotated[bool, typer.Option("--empty", help="Start with no products and no locations.")] = False,
) -> None:
    """Serve the Shopify Admin GraphQL emulator: the demo locations and catalog (or --catalog), stock at zero."""
    from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
    from omnibridge.demo.world import SHOPIFY_SECRET, SHOPIFY_TOKEN, seed_shopify
    from omnibridge.sdk.emulator import serve_forever

    emulator = ShopifyEmulator(
        ShopifyEmulatorConfig(
            shop="alpine-outfitters-demo",
            access_token=SHOPIFY_TOKEN,
            api_secret=SHOPIFY_SECRET,
            webhook_url=webhook_url,
        )
    )
    if not empty:
        seed_shopify(emulator, read_catalog_csv(catalog) if catalog else None)
    typer.echo(f"Shopify emulator on http://{host}:{port}  (admin API: /admin/api/<version>/graphql.json)")
    typer.echo(
        f"  connector settings: shop_url: http://{host}:{port}, access_token: {SHOPIFY_TOKEN}, "
        f"api_secret: {SHOPIFY_SECRET}"
    )
    typer.echo("  drive it: POST /_emulator/... (see connectors/shopify/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=host, port=port)


@emulator_app.command("square")
def emulator_square(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8802,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    notification_url: Annotated[
        str | None, typer.Option("--notification-url", help="Webhook subscription URL (signed over and POSTed to).")
    ] = None,
    catalog: CatalogOption = None,
    empty: Annotated[bool, typer.Option("--empty", help="Start with no items and no locations.")] = False,
) -> None:
    """Serve the Square API emulator: the demo stores and catalog (or --catalog)."""
    from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
    from omnibridge.demo.world import SQUARE_SIGNATURE_KEY, SQUARE_TOKEN, seed_square
    from omnibridge.sdk.emulator import serve_forever

    emulator = SquareEmulator(
        SquareEmulatorConfig(
            access_token=SQUARE_TOKEN, signature_key=SQUARE_SIGNATURE_KEY, notification_url=notification_url
        )
    )
    if not empty:
        seed_square(emulator, drifted_every=0, products=read_catalog_csv(catalog) if catalog else None)
    typer.echo(f"Square emulator on http://{host}:{port}")
    typer.echo(
        f"  connector settings: base_url: http://{host}:{port}, access_token: {SQUARE_TOKEN}, "
        f"webhook_signature_key: {SQUARE_SIGNATURE_KEY}"
    )
    typer.echo("  drive it: POST /_emulator/... (see connectors/square/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=host, port=port)
