"""``omnibridge customers``: canonical customers across channels, merges, splits and consent."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.access import Actor
from omnibridge.cli.privacy_channels import channel_connectors, close_all
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.customers.consent import PURPOSES, ConsentHub
from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Customer
from omnibridge.sdk.privacy import ConsentWriter

customers_app = typer.Typer(
    help="Customers across channels: list, show, add, merge, split, and record consent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@customers_app.command("list")
def list_customers(
    include_merged: Annotated[bool, typer.Option("--merged", help="Also list customers merged into others.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, by id.")] = 200,
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """List customers: id, name, email and the channels they are known on."""
    with profile_store(profile, read_only=True) as (_, store):
        found = CustomerDirectory(store).list_customers(include_merged=include_merged, limit=limit)
    if as_json:
        typer.echo(json.dumps([_summary(c) for c in found], indent=2))
        return
    if not found:
        typer.echo("no customers")
        return
    for customer in found:
        s = _summary(customer)
        channels = ",".join(s["channels"]) or "-"
        typer.echo(f"{customer.id}  {s['name'] or '-'}  {s['email'] or '-'}  [{channels}]{_state(customer)}")


@customers_app.command("show")
def show(
    customer_id: Annotated[str, typer.Argument(help="The customer id (see 'omnibridge customers list').")],
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Show one customer: identities per channel, current consent, merges and splits."""
    with profile_store(profile, read_only=True) as (_, store):
        people = CustomerDirectory(store)
        customer = people.require(customer_id)
        identities = people.identity_details(customer_id)
        consent = ConsentHub(store).current(customer_id)
        history = people.history(customer_id)
    data: dict[str, Any] = {
        **customer.model_dump(mode="json", exclude={"identities", "consent"}),
        "identities": identities,
        "consent": {
            p: {"granted": d.granted, "source": d.source, "decided_at": d.decided_at.isoformat()}
            for p, d in consent.items()
        },
        "history": [
            {
                "kind": h.kind,
                "customer_id": h.customer_id,
                "other_id": h.other_id,
                "identities": h.identities,
                "reason": h.reason,
                "at": h.at.isoformat(),
            }
            for h in history
        ],
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"customer {customer.id}{_state(customer)}")
    typer.echo(f"  name:  {_summary(customer)['name'] or '-'}")
    typer.echo(f"  email: {customer.email or '-'}")
    typer.echo(f"  phone: {customer.phone or '-'}")
    for identity in identities:
        typer.echo(f"  on {identity['channel']}: {identity['external_id']}")
    for purpose in PURPOSES:
        decision = consent.get(purpose)
        verdict = (
            "no decision (no)"
            if decision is None
            else (
                f"{'granted' if decision.granted else 'revoked'} ({decision.source}, {decision.decided_at.isoformat()})"
            )
        )
        typer.echo(f"  consent {purpose}: {verdict}")
    for h in history:
        moved = ", ".join(f"{i['channel']}:{i['external_id']}" for i in h.identities)
        typer.echo(f"  {h.at.isoformat()} {h.kind} {h.customer_id} <- {h.other_id} ({moved}){_reason(h.reason)}")


@customers_app.command("add")
def add(
    identity: Annotated[str, typer.Argument(help="The channel's customer, CHANNEL:EXTERNAL_ID.")],
    email: Annotated[str | None, typer.Option("--email", help="Email address the channel holds.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number the channel holds.")] = None,
    first_name: Annotated[str | None, typer.Option("--first-name", help="Given name.")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="Family name.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO country a phone without country code is read in.")
    ] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Record a channel's customer (an import, a customer the channel's orders do not name) and print the
    canonical customer it resolves to (by email, then phone, else a new one)."""
    channel, external_id = _identity(identity)
    seen = ObservedIdentity(channel, external_id, email, phone, first_name, last_name, country)
    with profile_store(profile) as (_, store):
        customer_id = CustomerDirectory(store).resolve(seen)
    typer.echo(f"{channel}:{external_id} is customer {customer_id}")


@customers_app.command("merge")
def merge(
    survivor: Annotated[str, typer.Argument(help="The customer that stays.")],
    other: Annotated[str, typer.Argument(help="The customer merged into it (its identities and orders move).")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, kept in the history.")] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Merge OTHER into SURVIVOR: identities, orders and consent decisions move; the merge is recorded."""
    with profile_store(profile) as (_, store):
        record = CustomerDirectory(store).merge(survivor, other, reason=reason, actor=str(Actor.os_user()))
    moved = ", ".join(f"{i['channel']}:{i['external_id']}" for i in record.identities) or "no identities"
    typer.echo(f"merged {other} into {survivor} ({moved})")


@customers_app.command("split")
def split(
    customer_id: Annotated[str, typer.Argument(help="The customer to split.")],
    identities: Annotated[
        list[str], typer.Argument(help="Identities to move to a new customer, each CHANNEL:EXTERNAL_ID.")
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, kept in the history.")] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Move some identities of a customer to a new customer (consent does not move: it starts undecided)."""
    pairs: list[tuple[str, str]] = []
    for text in identities:
        channel, sep, external_id = text.partition(":")
        if not sep or not channel or not external_id:
            raise OmnibridgeError(
                f"identity {text!r} is not CHANNEL:EXTERNAL_ID (e.g. square:JDKYHBWT1D4F8MFH63DBMEN8Y4)"
            )
        pairs.append((channel, external_id))
    with profile_store(profile) as (_, store):
        record = CustomerDirectory(store).split(customer_id, pairs, reason=reason, actor=str(Actor.os_user()))
    typer.echo(f"split {len(pairs)} identit{'y' if len(pairs) == 1 else 'ies'} of {customer_id} into {record.other_id}")


@customers_app.command("consent")
def consent(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    purpose: Annotated[str, typer.Option("--purpose", help=f"One of: {', '.join(PURPOSES)}.")],
    granted: Annotated[bool, typer.Option("--granted/--revoked", help="The customer's decision.")],
    decided_at: Annotated[
        str | None, typer.Option("--at", help="When the customer decided (ISO 8601 with offset; default now).")
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Where the decision was made.")] = "cli",
    local: Annotated[bool, typer.Option("--local", help="Record it only; write it to no channel.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Record a consent decision; when it is the latest, write it to the channels that hold that consent.

    Exits 1 when a channel did not take it (each is named with its answer)."""
    when = _parse_time(decided_at) if decided_at else None
    with profile_store(profile) as (loaded, store):
        connectors = {} if local else channel_connectors(loaded)
        writers = {c: w for c, w in connectors.items() if isinstance(w, ConsentWriter)}
        try:
            decision = asyncio.run(
                ConsentHub(store, writers).decide(customer_id, purpose, granted, source=source, decided_at=when)
            )
        finally:
            asyncio.run(close_all(connectors.values()))
    verdict = "granted" if granted else "revoked"
    if not decision.current:
        typer.echo(f"recorded {purpose} {verdict} at {decision.decided_at.isoformat()}: a later decision stands")
        return
    typer.echo(f"{purpose} {verdict} for {customer_id} (decided {decision.decided_at.isoformat()})")
    failed = False
    for where, answer in sorted(decision.writeback.items()):
        typer.echo(f"  {where}: {'written' if answer['done'] else 'NOT written: ' + str(answer['reason'])}")
        failed = failed or not answer["done"]
    if failed:
        raise typer.Exit(1)


def _identity(text: str) -> tuple[str, str]:
    channel, sep, external_id = text.partition(":")
    if not sep or not channel or not external_id:
        raise OmnibridgeError(f"identity {text!r} is not CHANNEL:EXTERNAL_ID (e.g. square:JDKYHBWT1D4F8MFH63)")
    return channel, external_id


def _summary(customer: Customer) -> dict[str, Any]:
    name = " ".join(n for n in (customer.first_name, customer.last_name) if n)
    return {
        "id": customer.id,
        "name": name or None,
        "email": customer.email,
        "phone": customer.phone,
        "channels": sorted({i.channel for i in customer.identities}),
        "merged_into": customer.merged_into,
        "erased": customer.redacted_at is not None,
    }


def _state(customer: Customer) -> str:
    if customer.merged_into:
        return f"  (merged into {customer.merged_into})"
    return "  (erased)" if customer.redacted_at else ""


def _reason(reason: str | None) -> str:
    return f": {reason}" if reason else ""


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise OmnibridgeError(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-05-01T09:30:00+00:00)") from None
    if value.tzinfo is None:
        raise OmnibridgeError(f"--at {text!r} has no UTC offset (e.g. 2026-05-01T09:30:00+00:00)")
    return value
