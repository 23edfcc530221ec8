"""Onboarding: the opening stock of every position, taken from a source the merchant names, recorded as counts.

A position the ledger has never counted is *unknown* (:meth:`omnibridge.store.Store.known_positions`) and the sync
never writes there. ``omnibridge onboard`` fills those positions from count files (``sku,location,quantity
[,counted_at]``) and from channels' current levels (any channel whose connector reads levels: a web store, a POS,
an ERP/WMS files channel's last processed counts). It plans first — per location, every SKU, its units and the
source of each number — and records the plan only when told, as COUNT movements under the idempotency key
``onboard:<sku>:<location>``: running it again changes nothing (those positions are then known, and reported as
already there). A position the ledger already knows is never touched (use ``omnibridge inventory count``).

When sources disagree on a position, a count file wins over a channel (someone looked at the shelf) and, among
sources of one kind, the first named wins; every disagreement is listed as a conflict.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omnibridge.errors import IdempotencyKeyReusedError, OmnibridgeError
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import Store

ONBOARD_SOURCE = "onboard"
COLUMNS = ("sku", "location", "quantity")


def onboard_key(sku: str, location_id: str) -> str:
    """The idempotency key of the opening count at a position."""
    return f"onboard:{sku}:{location_id}"


@dataclass(frozen=True)
class Opening:
    """One number a source gives for a position."""

    sku: str
    location_id: str
    quantity: int
    source: str
    """``file.csv:row`` or ``channel <id>``."""
    counted_at: datetime


@dataclass(frozen=True)
class RowError:
    """A bad line of a count file: file, row, field and what was expected."""

    file: str
    row: int
    field: str
    problem: str
    expected: str

    def render(self) -> str:
        return f"{self.file}, row {self.row}, field '{self.field}': {self.problem}; expected {self.expected}"


class OnboardInputError(OmnibridgeError):
    """Count files with bad rows: nothing was planned or recorded."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("; ".join(error.render() for error in errors))
        self.errors = list(errors)


def read_count_file(path: Path, skus: set[str], locations: set[str], now: datetime) -> list[Opening]:
    """Every row of a count CSV (header ``sku,location,quantity[,counted_at]``); all bad rows in one error."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OmnibridgeError(f"{name}: cannot read the count file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise OmnibridgeError(f"{name}: not UTF-8 text; save it as 'CSV UTF-8' and try again") from None
    reader = csv.DictReader(text.splitlines())
    header = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise OnboardInputError(
            [RowError(name, 1, missing[0], f"the header is {','.join(header) or 'empty'}", "sku,location,quantity")]
        )
    openings: list[Opening] = []
    errors: list[RowError] = []
    for row_number, raw in enumerate(reader, start=2):
        row = {(key or "").strip(): (value or "").strip() for key, value in raw.items() if isinstance(value, str)}
        if not any(row.values()):
            continue
        sku, location, quantity = row.get("sku", ""), row.get("location", ""), row.get("quantity", "")
        before = len(errors)
        if sku not in skus:
            errors.append(RowError(name, row_number, "sku", f"unknown SKU {sku!r}", "a SKU of the catalog"))
        if location not in locations:
            expected = f"a location id of the profile ({', '.join(sorted(locations))})"
            errors.append(RowError(name, row_number, "location", f"unknown location {location!r}", expected))
        if not quantity.isdigit():
            errors.append(RowError(name, row_number, "quantity", f"{quantity!r}", "a whole number, 0 or more"))
        counted_at = _counted_at(row.get("counted_at", ""), now)
        if counted_at is None:
            expected = "ISO 8601 with an offset, e.g. 2026-11-23T09:00:00+00:00"
            errors.append(RowError(name, row_number, "counted_at", repr(row["counted_at"]), expected))
        if len(errors) == before and counted_at is not None:
            openings.append(Opening(sku, location, int(quantity), f"{path.name}:{row_number}", counted_at))
    if errors:
        raise OnboardInputError(errors)
    return openings


def _counted_at(value: str, now: datetime) -> datetime | None:
    if not value:
        return now
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class Conflict:
    sku: str
    location_id: str
    chosen: Opening
    others: tuple[Opening, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "location_id": self.location_id,
            "chosen": {"quantity": self.chosen.quantity, "source": self.chosen.source},
            "others": [{"quantity": o.quantity, "source": o.source} for o in self.others],
        }


@dataclass
class OnboardPlan:
    """What ``onboard`` would record (``to_record``), and what it leaves alone and why."""

    to_record: list[Opening] = field(default_factory=list)
    already: list[Opening] = field(default_factory=list)
    """Positions recorded by an earlier ``onboard --apply``."""
    known: list[Opening] = field(default_factory=list)
    """Positions the ledger already knew otherwise (received, counted): not touched."""
    conflicts: list[Conflict] = field(default_factory=list)
    still_unknown: list[tuple[str, str]] = field(default_factory=list)
    """Positions no source gave a number for: they stay unknown, and no sync writes there."""
    applied: int = 0

    def by_location(self) -> dict[str, list[Opening]]:
        grouped: dict[str, list[Opening]] = {}
        for opening in sorted(self.to_record, key=lambda o: (o.location_id, o.sku)):
            grouped.setdefault(opening.location_id, []).append(opening)
        return grouped

    def as_dict(self, applied: bool) -> dict[str, Any]:
        return {
            "applied": applied,
            "counts": {
                "planned": len(self.to_record),
                "applied": self.applied,
                "already_there": len(self.already),
                "known_not_touched": len(self.known),
                "conflicts": len(self.conflicts),
                "still_unknown": len(self.still_unknown),
            },
            "locations": [
                {
                    "location_id": location_id,
                    "skus": len(openings),
                    "units": sum(o.quantity for o in openings),
                    "positions": [
                        {
                            "sku": o.sku,
                            "quantity": o.quantity,
                            "source": o.source,
                            "counted_at": o.counted_at.isoformat(),
                        }
                        for o in openings
                    ],
                }
                for location_id, openings in self.by_location().items()
            ],
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
            "already_there": [{"sku": o.sku, "location_id": o.location_id} for o in self.already],
            "known_not_touched": [{"sku": o.sku, "location_id": o.location_id} for o in self.known],
            "still_unknown": [{"sku": sku, "location_id": loc} for sku, loc in self.still_unknown],
        }


def _position(opening: Opening) -> dict[str, Any]:
    return {
        "sku": opening.sku,
        "quantity": opening.quantity,
        "source": opening.source,
        "counted_at": opening.counted_at.isoformat(),
    }


def plan_onboarding(store: Store, sources: Iterable[Sequence[Opening]], locations: Sequence[str]) -> OnboardPlan:
    """Merge ``sources`` (in precedence order: the first source with a number for a position wins) into a plan."""
    chosen: dict[tuple[str, str], list[Opening]] = {}
    for source in sources:
        seen_here: set[tuple[str, str]] = set()
        for opening in source:
            key = (opening.sku, opening.location_id)
            if key in seen_here:  # a source naming a position twice: its later line wins, like a recount
                chosen[key][-1] = opening
                continue
            seen_here.add(key)
            chosen.setdefault(key, []).append(opening)
    skus = [variant.sku for variant in store.list_variants() if variant.tracked]
    known = store.known_positions(skus)
    plan = OnboardPlan()
    for key, numbers in sorted(chosen.items()):
        first = numbers[0]
        others = tuple(o for o in numbers[1:] if o.quantity != first.quantity)
        if others:
            plan.conflicts.append(Conflict(key[0], key[1], first, others))
        if key not in known:
            plan.to_record.append(first)
        elif store.find_movement(onboard_key(*key)) is not None:
            plan.already.append(first)
        else:
            plan.known.append(first)
    plan.still_unknown = [
        (sku, location_id)
        for sku in skus
        for location_id in locations
        if (sku, location_id) not in known and (sku, location_id) not in chosen
    ]
    return plan


def apply_onboarding(store: Store, plan: OnboardPlan) -> None:
    """Record every planned opening as a count (exactly once per position: see :func:`onboard_key`)."""
    for opening in plan.to_record:
        movement = StockMovement(
            idempotency_key=onboard_key(opening.sku, opening.location_id),
            source=ONBOARD_SOURCE,
            kind=MovementKind.COUNT,
            sku=opening.sku,
            location_id=opening.location_id,
            quantity=opening.quantity,
            occurred_at=opening.counted_at,
            reference=opening.source,
            note="opening stock (omnibridge onboard)",
        )
        try:
            store.apply(movement, allow_shortfall=True)
        except IdempotencyKeyReusedError:
            plan.already.append(opening)
            continue
        plan.applied += 1


def now_utc() -> datetime:
    return datetime.now(UTC)
