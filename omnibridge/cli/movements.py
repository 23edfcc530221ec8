"""``omnibridge inventory receive|adjust|count|history``: record stock by hand and read the ledger's history.

Manual entries go through the same ledger as channel events: each has an idempotency key (``--key``; a fresh
one per call by default), so a script that re-runs a command with the same key records it once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.inventory import inventory_app
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import ConfigError, OmnibridgeError
from omnibridge.models import MovementKind, MovementResult, StockMovement

MANUAL_SOURCE = "manual"

SkuArgument = Annotated[str, typer.Argument(help="The master SKU.")]
LocationOption = Annotated[str, typer.Option("--at", help="Location id from the profile.")]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key; re-running with the same key records nothing new.")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Free text kept with the movement.")]
WhenOption = Annotated[
    str | None,
    typer.Option("--occurred-at", help="When it happened, ISO 8601 with a timezone (default: now)."),
]


def _when(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"invalid time {value!r}", field="--occurred-at", expected="ISO 8601, e.g. 2026-11-23T09:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(f"time {value!r} has no timezone", field="--occurred-at", expected="a +HH:MM offset or Z")
    return moment


def _record(
    profile: Path,
    *,
    kind: MovementKind,
    sku: str,
    location: str,
    quantity: int,
    key: str | None,
    note: str | None,
    occurred_at: str | None,
    as_json: bool = False,
) -> None:
    when = _when(occurred_at)
    with profile_store(profile) as (loaded, store):
        earlier = store.find_movement(key) if key and occurred_at is None else None
        if earlier is not None:
            # A re-run of the same command: it describes the entry made then, not a new one made now.
            when = earlier.movement.occurred_at
        known = [candidate.id for candidate in loaded.locations]
        if location not in known:
            raise ConfigError(f"unknown location {location!r}", field="--at", expected=f"one of: {', '.join(known)}")
        if store.get_variant(sku) is None:
            raise OmnibridgeError(
                f"unknown SKU {sku!r}: it is not in the catalog; import it first with 'omnibridge catalog import FILE'"
            )
        movement = StockMovement(
            idempotency_key=key or f"{MANUAL_SOURCE}:{uuid.uuid4()}",
            source=MANUAL_SOURCE,
            kind=kind,
            sku=sku,
            location_id=location,
            quantity=quantity,
            occurred_at=when,
            note=note,
        )
        # A stock take is a fact about the shelf: it is recorded even if it leaves orders uncovered, and the
        # shortfall is reported rather than the fact refused. An adjustment that would do so is more likely a
        # typo, and is refused with the numbers.
        result = store.apply(movement, allow_shortfall=kind is MovementKind.COUNT)
    if as_json:
        typer.echo(json.dumps(result_record(result), indent=2))
    else:
        _report(result)


def result_record(result: MovementResult) -> dict[str, object]:
    """The JSON form of a recorded movement: what was recorded (or found already recorded) and the position now."""
    recorded, position = result.recorded, result.position
    return {
        "duplicate": result.duplicate,
        "key": recorded.movement.idempotency_key,
        "kind": recorded.movement.kind.value,
        "sku": recorded.movement.sku,
        "location_id": recorded.movement.location_id,
        "quantity": recorded.movement.quantity,
        "delta_on_hand": recorded.delta_on_hand,
        "recorded_at": recorded.recorded_at.isoformat(),
        "position": {
            "on_hand": position.on_hand,
            "committed": position.committed,
            "reserved": position.reserved,
            "available": position.available,
        },
        "shortfall": result.shortfall,
    }


def _report(result: MovementResult) -> None:
    recorded = result.recorded
    what = f"{recorded.movement.kind.value} of {recorded.movement.quantity} {recorded.movement.sku} at "
    what += recorded.movement.location_id
    if result.duplicate:
        typer.echo(
            f"duplicate: key {recorded.movement.idempotency_key!r} was recorded at "
            f"{recorded.recorded_at.isoformat(timespec='seconds')} ({what}); nothing changed"
        )
    else:
        typer.echo(f"applied: {what} (on hand {recorded.delta_on_hand:+d}, key {recorded.movement.idempotency_key})")
    position = result.position
    typer.echo(
        f"now: on hand {position.on_hand}, committed {position.committed}, reserved {position.reserved}, "
        f"available {position.available}"
    )
    if result.shortfall:
        typer.echo(
            f"warning: available is {position.available}: {result.shortfall} unit(s) promised to orders or holds "
            "are no longer covered by stock at this location",
            err=True,
        )


@inventory_app.command("receive")
def receive(
    sku: SkuArgument,
    location: LocationOption,
    quantity: Annotated[int, typer.Option("--qty", min=1, help="Units received.")],
    key: KeyOption = None,
    note: NoteOption = None,
    occurred_at: WhenOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Record goods received at a location."""
    _record(
        profile,
        kind=MovementKind.RECEIPT,
        sku=sku,
        location=location,
        quantity=quantity,
        key=key,
        note=note,
        occurred_at=occurred_at,
        as_json=as_json,
    )


@inventory_app.command("adjust")
def adjust(
    sku: SkuArgument,
    location: LocationOption,
    by: Annotated[int, typer.Option("--by", help="Signed change, e.g. -2 for two damaged units.")],
    key: KeyOption = None,
    note: NoteOption = None,
    occurred_at: WhenOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Correct on-hand stock by a signed amount (damage, shrinkage, found stock)."""
    if by == 0:
        raise ConfigError("an adjustment of 0 changes nothing", field="--by", expected="a non-zero number")
    _record(
        profile,
        kind=MovementKind.ADJUSTMENT,
        sku=sku,
        location=location,
        quantity=by,
        key=key,
        note=note,
        occurred_at=occurred_at,
        as_json=as_json,
    )


@inventory_app.command("count")
def count(
    sku: SkuArgument,
    location: LocationOption,
    quantity: Annotated[int, typer.Option("--qty", min=0, help="Units counted on the shelf.")],
    key: KeyOption = None,
    note: NoteOption = None,
    occurred_at: WhenOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Record a stock take: on hand becomes the counted quantity as of the count's time."""
    _record(
        profile,
        kind=MovementKind.COUNT,
        sku=sku,
        location=location,
        quantity=quantity,
        key=key,
        note=note,
        occurred_at=occurred_at,
        as_json=as_json,
    )


@inventory_app.command("history")
def history(
    sku: SkuArgument,
    location: Annotated[str | None, typer.Option("--at", help="Only this location.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Every movement recorded for a SKU, oldest first, with the exact change it made."""
    with profile_store(profile, read_only=True) as (_, store):
        recorded = store.movements(sku, location)
    if as_json:
        typer.echo(json.dumps([entry.model_dump(mode="json") for entry in recorded], indent=2))
        return
    if not recorded:
        typer.echo(f"no movements recorded for {sku}")
        return
    for entry in recorded:
        movement = entry.movement
        flags = "  (superseded by a later count)" if entry.superseded_by_count else ""
        typer.echo(
            f"#{entry.id:<5} {movement.occurred_at.isoformat(timespec='seconds')}  {movement.location_id:<16} "
            f"{movement.kind.value:<18} {movement.quantity:>6}  on hand {entry.delta_on_hand:+d}  "
            f"[{movement.source}] {movement.idempotency_key}{flags}"
        )
