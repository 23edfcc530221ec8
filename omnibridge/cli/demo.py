"""``omnibridge demo``: try omnibridge with no credentials and no shop."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.logs import configure_logging


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Build the demo in this directory and keep it (profile, database)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "ERROR",
) -> None:
    """Play a merchant's day on local emulators of every built-in connector (Shopify, Square, Amazon, Clover, an
    ERP file feed, EasyPost) and show every change propagate; then route and fulfil orders (stores, a dropship
    supplier, ShipBob) and confirm their shipments on Shopify and Amazon.

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
    for name, act in (("fulfilment", report.fulfilment), ("collect", report.collect)):
        if act is None:
            continue
        verdict = "every scene did what it should" if act["ok"] else "FAILED"
        typer.echo(
            f"RESULT      {name}: {verdict}; {act['traffic']['requests']} vendor requests, "
            f"{len(act['traffic']['problems'])} against the official specs; "
            f"{len(act['inconsistencies'])} ledger inconsistencies"
        )
        for event in act["events"]:
            if not event.get("ok"):
                typer.echo(f"FAILED      {event['kind']} ({event['source_channel']}): {event['outcome']}")
