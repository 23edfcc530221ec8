"""``omnibridge privacy export|erase|requests|process``: data-subject requests, registered on the ``privacy`` group
(:mod:`omnibridge.cli.privacy`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.access import Actor
from omnibridge.cli.privacy import privacy_app
from omnibridge.cli.privacy_channels import channel_connectors, close_all
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.customers.privacy import ErasureReport, PrivacyService
from omnibridge.customers.requests import PrivacyRequest, PrivacyRequests
from omnibridge.errors import OmnibridgeError, RetriableConnectorError
from omnibridge.sdk.privacy import CustomerEraser
from omnibridge.store import Store

ExportDirOption = Annotated[
    Path | None,
    typer.Option(
        "--export-dir", help="Where data-request exports are written (default: privacy-exports/ next to the profile)."
    ),
]


@privacy_app.command("export")
def export(
    customer_id: Annotated[str, typer.Argument(help="The customer id (see 'omnibridge customers list').")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (owner-only).")] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Everything held about a customer as JSON: identities, consent, orders with addresses, shipments."""
    with profile_store(profile, read_only=True) as (_, store):
        data = PrivacyService(store).export(customer_id)
    text = json.dumps(data, indent=2)
    if output is None:
        typer.echo(text)
        return
    output.touch(mode=0o600, exist_ok=True)
    output.chmod(0o600)
    output.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")


@privacy_app.command("erase")
def erase(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    local: Annotated[bool, typer.Option("--local", help="Erase the store only; ask no channel.")] = False,
    skip_unavailable: Annotated[
        bool,
        typer.Option("--skip-unavailable", help="Erase the store even when a channel is down (it is listed)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Erase a customer's personal data from the store and from every channel that can erase it; orders keep
    their lines and totals. Exits 1 when something could not be erased (each is listed). When a channel is down,
    nothing is erased (run it again later) unless --skip-unavailable."""
    with profile_store(profile) as (loaded, store):
        report = asyncio.run(_erase(loaded, store, customer_id, local, not skip_unavailable))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        typer.echo(f"erased customer {customer_id}:")
        for erased in report.erased:
            typer.echo(f"  erased: {erased}")
        for missed in report.not_erased:
            typer.echo(f"  NOT erased: {missed['where']}: {missed['reason']}")
    if not report.complete:
        raise typer.Exit(1)


@privacy_app.command("requests")
def requests(
    status: Annotated[str | None, typer.Option("--status", help="Only 'open', 'done' or 'incomplete' ones.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Privacy requests forwarded by channels (Shopify's compliance webhooks), with their deadline status."""
    with profile_store(profile, read_only=True) as (loaded, store):
        found = PrivacyRequests(PrivacyService(store), _export_dir(loaded, None)).list_requests(status=status)
        now = store.now()
    if as_json:
        typer.echo(json.dumps([_as_dict(r, now) for r in found], indent=2))
        return
    if not found:
        typer.echo("no privacy requests")
        return
    for r in found:
        who = r.customer_id or "customer not known here"
        typer.echo(f"#{r.id} {r.channel} {r.kind} ({who}) received {r.received_at.date()}: {r.deadline_status(now)}")


@privacy_app.command("process")
def process(
    export_dir: ExportDirOption = None,
    local: Annotated[bool, typer.Option("--local", help="Ask no channel to erase.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Act on open requests: redact erases the customer, data_request writes an export file, shop_redact erases
    the channel's personal data. Exits 1 when something could not be erased."""
    with profile_store(profile) as (loaded, store):
        done = asyncio.run(_process(loaded, store, _export_dir(loaded, export_dir), local))
    if not done:
        typer.echo("no open privacy requests")
    for r in done:
        typer.echo(f"#{r.id} {r.channel} {r.kind}: {r.status}")
        for item in (r.result or {}).get("not_erased", []):
            typer.echo(f"  NOT erased: {item['where']}: {item['reason']}")
        if (r.result or {}).get("file"):
            typer.echo(f"  export: {(r.result or {})['file']}")
    if any(r.status != "done" for r in done):
        raise typer.Exit(1)


async def _erasers(loaded: LoadedProfile, local: bool) -> dict[str, Any]:
    return {} if local else channel_connectors(loaded)


async def _erase(
    loaded: LoadedProfile, store: Store, customer_id: str, local: bool, retry_later: bool
) -> ErasureReport:
    connectors = await _erasers(loaded, local)
    try:
        erasers = {c: e for c, e in connectors.items() if isinstance(e, CustomerEraser)}
        try:
            return await PrivacyService(store, erasers).erase(
                customer_id, retry_later=retry_later, actor=str(Actor.os_user())
            )
        except RetriableConnectorError as exc:
            raise OmnibridgeError(
                f"{exc}: nothing was erased; run it again later, or with --skip-unavailable to erase the rest"
            ) from None
    finally:
        await close_all(connectors.values())


async def _process(loaded: LoadedProfile, store: Store, export_dir: Path, local: bool) -> list[PrivacyRequest]:
    connectors = await _erasers(loaded, local)
    try:
        erasers = {c: e for c, e in connectors.items() if isinstance(e, CustomerEraser)}
        return await PrivacyRequests(PrivacyService(store, erasers), export_dir).process()
    finally:
        await close_all(connectors.values())


def _export_dir(loaded: LoadedProfile, given: Path | None) -> Path:
    return given if given is not None else loaded.path.parent / "privacy-exports"


def _as_dict(request: PrivacyRequest, now: Any) -> dict[str, Any]:
    return {
        "id": request.id,
        "channel": request.channel,
        "kind": request.kind,
        "customer_id": request.customer_id,
        "received_at": request.received_at.isoformat(),
        "deadline_at": request.deadline_at.isoformat(),
        "status": request.status,
        "deadline": request.deadline_status(now),
        "result": request.result,
    }
