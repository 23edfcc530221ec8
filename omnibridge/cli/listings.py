"""``omnibridge listings push``: set titles and prices of master SKUs on every sales channel selling them.

Exit codes: 0 when every channel took every change it was sent (or already showed it) and each SKU is on at least
one channel; 1 when any row was not applied (a channel failed, refused a SKU or has no item with it), a SKU is on no
channel, or the input is wrong (``error: ...`` says what). The last line says which.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import ConfigError
from omnibridge.listings.changes import ListingChange, parse_price, read_changes_csv
from omnibridge.listings.service import ListingReport, OutcomeStatus, push_listing_changes
from omnibridge.logs import configure_logging

listings_app = typer.Typer(help="Titles and prices on every sales channel, from one place.", no_args_is_help=True)


def _changes(sku: str | None, title: str | None, price: str | None, file: Path | None) -> list[ListingChange]:
    if file is not None:
        if sku is not None or title is not None or price is not None:
            raise ConfigError(
                "--file cannot be combined with --sku, --title or --price",
                field="--file",
                expected="either --file FILE or --sku SKU with --title and/or --price",
            )
        return read_changes_csv(file)
    if sku is None:
        raise ConfigError("nothing to push", field="--sku", expected="--sku SKU with --title and/or --price, or --file")
    if title is None and price is None:
        raise ConfigError(f"SKU {sku!r}: nothing to change", field="--sku", expected="--title TITLE and/or --price")
    amount = None
    if price is not None:
        try:
            amount = parse_price(price)
        except ValueError:
            raise ConfigError(
                f"invalid price {price!r}", field="--price", expected="a decimal amount of 0 or more such as 19.99"
            ) from None
    try:
        return [ListingChange(sku, title, amount)]
    except ValueError as exc:
        raise ConfigError(str(exc), field="--title" if title is not None else "--sku") from None


def _print_report(report: ListingReport) -> None:
    rows: list[tuple[str, ...]] = [("channel", "connector", "sku", "status", "title", "price", "message")]
    for channel in report.channels:
        if channel.skipped is not None or channel.error is not None:
            # one row for the whole channel: skipped (why) or failed as a whole (the vendor's answer)
            status, reason = ("skipped", channel.skipped) if channel.skipped is not None else ("failed", channel.error)
            rows.append((channel.channel, channel.connector, "-", status, "", "", reason or ""))
            continue
        for outcome in channel.outcomes:
            sku = outcome.master_sku
            if outcome.channel_sku != sku:
                sku = f"{sku} (as {outcome.channel_sku})"
            rows.append(
                (
                    channel.channel,
                    channel.connector,
                    sku,
                    outcome.status.value,
                    outcome.title or "",
                    "" if outcome.price is None else f"{outcome.price} {report.currency}",
                    outcome.message,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())
    for note in report.notes:
        typer.echo(f"note: {note}")
    unplaced = report.unplaced()
    if unplaced:
        typer.echo(f"not on any channel: {', '.join(unplaced)} (no channel sells it, or every channel failed)")
    typer.echo(_summary(report))


def _summary(report: ListingReport) -> str:
    """The last line: what was and was not applied, never more than happened."""
    rows = sum(len(channel.outcomes) for channel in report.channels)
    missed = report.not_applied()
    if missed:
        kinds = ", ".join(
            f"{count} {status}"
            for status in (OutcomeStatus.UNKNOWN_SKU, OutcomeStatus.FAILED)
            if (count := sum(1 for o in missed if o.status is status))
        )
        return f"partial failure: {len(missed)} of {rows} row(s) not applied ({kinds}); see above"
    if not report.ok:
        return "not everything was applied (see above)"
    skipped = report.skipped()
    if skipped:
        return f"done: applied everywhere it could be; {skipped} skipped (the channel cannot take it, see above)"
    return "done: every channel shows the changes"


@listings_app.command("push")
def push(
    sku: Annotated[str | None, typer.Option("--sku", help="The master SKU to change.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The new title.")] = None,
    price: Annotated[
        str | None, typer.Option("--price", help="The new price in the merchant's currency, e.g. 19.99.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A CSV file with columns sku,title,price (one row per SKU).")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel id (repeat for several).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "WARNING",
) -> None:
    """Push title and/or price changes to every sales channel that sells the SKUs (or only --channel ones)."""
    configure_logging(level=log_level)
    changes = _changes(sku, title, price, file)
    with profile_store(profile) as (loaded, store):
        report = asyncio.run(push_listing_changes(loaded, changes, channels=channel or None, store=store))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)
