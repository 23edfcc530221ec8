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
    """Play a merchant's day on local emulators of every built-in connector (Shopify, Square, Amazon, Clover, an
    ERP file feed, EasyPost) and show every change propagate.

    Exits 0 when every sales channel ends up agreeing with the ledger and every scene did what it should, 1
    otherwise.
    """
    from omnibridge.demo.run import run_demo  # imports every emulator: only when the demo runs

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
    from omnibridge.demo.report import REFUSED_KEYS, DemoReport

    assert isinstance(report, DemoReport)
    typer.echo("")
    for channel, calls in report.api_calls.items():
        refused = {k: v for k, v in calls.items() if k in REFUSED_KEYS}
        typer.echo(
            f"api calls   {channel:<7} {calls['total']:>4}  "
            + ", ".join(f"{name} {count}" for name, count in calls.items() if name not in ("total", *refused))
            + "".join(f"; {name} {count}" for name, count in refused.items())
        )
    for channel, stats in report.webhooks.items():
        typer.echo(
            f"webhooks    {channel:<7} {stats['deliveries']:>4} sent ({stats['duplicates_sent']} duplicates), "
            f"{stats['attempts']} attempts, {stats['delivered']} delivered"
        )
    inbox = report.engine
    typer.echo(
        f"inbox       stored {inbox['received']}, duplicates ignored {inbox['duplicates']}, "
        f"rejected {inbox['rejected']}, dead {inbox['dead']}"
    )
    for channel, counters in report.carriers.items():
        typer.echo(
            f"carrier     {channel}: {counters.get('processed', 0)} webhooks applied, "
            f"{counters.get('tracking_events', 0)} tracking events, {counters.get('tracking_repeats', 0)} repeats "
            f"skipped, dead {counters.get('dead', 0)}"
        )
    pushes = sum(row["pushed"].get("applied", 0) for row in report.final_read_back.values())
    typer.echo(f"read-back   {pushes} level(s) still had to be corrected after the day")
    channels = ", ".join(report.channels_checked) or "every channel"
    if report.mismatches:
        typer.echo(f"RESULT      {len(report.mismatches)} of {report.levels_checked} levels DISAGREE with the ledger:")
        for m in report.mismatches[:20]:
            typer.echo(f"            {m.channel} {m.sku} at {m.location_id}: shows {m.shows}, ledger {m.ledger}")
    else:
        typer.echo(
            f"RESULT      all {report.levels_checked} levels on every sales channel ({channels}) agree with the ledger"
        )
    if report.inconsistencies:
        typer.echo(f"RESULT      omnibridge verify found {len(report.inconsistencies)} inconsistencies in the ledger:")
        for line in report.inconsistencies[:20]:
            typer.echo(f"            {line}")
    else:
        typer.echo("RESULT      omnibridge verify: the ledger is consistent (positions, commitments, lines, outbox)")
    failed = [event for event in report.events if not report.event_ok(event)]
    for event in failed:
        typer.echo(f"FAILED      {event.kind} ({event.source}): {event.outcome}")


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


@emulator_app.command("amazon")
def emulator_amazon(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8803,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    notification_url: Annotated[
        str | None,
        typer.Option("--notification-url", help="Where the SQS forwarder POSTs notifications (signed bodies)."),
    ] = None,
    catalog: CatalogOption = None,
    empty: Annotated[bool, typer.Option("--empty", help="Start with no listings.")] = False,
) -> None:
    """Serve the Amazon SP-API emulator (LWA, Orders, Listings Items, Feeds): the demo catalog (or --catalog)
    listed at quantity 0, Amazon's default rate limits."""
    from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
    from omnibridge.demo.vendors import AMAZON_FORWARDER_SECRET, seed_amazon
    from omnibridge.sdk.emulator import serve_forever

    emulator = AmazonEmulator(
        AmazonEmulatorConfig(notification_url=notification_url, forwarder_secret=AMAZON_FORWARDER_SECRET)
    )
    if not empty:
        seed_amazon(emulator, read_catalog_csv(catalog) if catalog else None)
    config = emulator.config
    base = f"http://{host}:{port}"
    typer.echo(f"Amazon SP-API emulator on {base}  (LWA: {base}/auth/o2/token)")
    typer.echo(
        f"  connector settings: endpoint: {base}, lwa_endpoint: {base}/auth/o2/token, client_id: {config.client_id}, "
        f"client_secret: {config.client_secret}, refresh_token: {config.refresh_token}, seller_id: "
        f"{config.seller_id}, forwarder_secret: {AMAZON_FORWARDER_SECRET}"
    )
    typer.echo("  drive it: POST /_control/... (see connectors/amazon/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=host, port=port)


@emulator_app.command("clover")
def emulator_clover(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8804,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    notification_url: Annotated[
        str | None, typer.Option("--notification-url", help="Where notifications are POSTed (with X-Clover-Auth).")
    ] = None,
    catalog: CatalogOption = None,
    empty: Annotated[bool, typer.Option("--empty", help="Start with no items.")] = False,
) -> None:
    """Serve the Clover REST v3 emulator: one merchant (the demo's Golden store) with the demo catalog (or
    --catalog)."""
    from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
    from omnibridge.demo.vendors import CLOVER_AUTH_CODE, CLOVER_MERCHANT_ID, CLOVER_TOKEN, seed_clover
    from omnibridge.sdk.emulator import serve_forever

    emulator = CloverEmulator(
        CloverEmulatorConfig(
            access_token=CLOVER_TOKEN,
            merchant_id=CLOVER_MERCHANT_ID,
            merchant_name="Golden store",
            auth_code=CLOVER_AUTH_CODE,
            notification_url=notification_url,
        )
    )
    if not empty:
        seed_clover(emulator, drifted_every=0, products=read_catalog_csv(catalog) if catalog else None)
    typer.echo(f"Clover emulator on http://{host}:{port}")
    typer.echo(
        f"  connector settings: base_url: http://{host}:{port}, merchant_id: {CLOVER_MERCHANT_ID}, access_token: "
        f"{CLOVER_TOKEN}, webhook_auth_code: {CLOVER_AUTH_CODE}"
    )
    typer.echo("  drive it: POST /_emulator/... (see connectors/clover/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=host, port=port)


@emulator_app.command("easypost")
def emulator_easypost(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8805,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Where tracker events are POSTed (X-Hmac-Signature).")
    ] = None,
) -> None:
    """Serve the EasyPost v2 emulator: USPS, UPS, FedEx and DHL Express accounts, labels bought once, trackers."""
    from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
    from omnibridge.demo.vendors import EASYPOST_KEY, EASYPOST_WEBHOOK_SECRET
    from omnibridge.sdk.emulator import serve_forever

    emulator = EasyPostEmulator(
        EasyPostEmulatorConfig(api_key=EASYPOST_KEY, webhook_secret=EASYPOST_WEBHOOK_SECRET, webhook_url=webhook_url)
    )
    typer.echo(f"EasyPost emulator on http://{host}:{port}")
    typer.echo(
        f"  connector settings: base_url: http://{host}:{port}/v2, api_key: {EASYPOST_KEY}, webhook_secret: "
        f"{EASYPOST_WEBHOOK_SECRET}"
    )
    typer.echo("  drive it: POST /_emulator/... (see connectors/easypost/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=host, port=port)
