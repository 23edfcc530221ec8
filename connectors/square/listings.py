"""Titles and prices on Square: :func:`push_listings` behind :meth:`SquareConnector.push_listings`.

What changes where (Catalog API):

* the **title** is the ``name`` of the ITEM owning the variation that carries the SKU (all its variations share it);
* the **price** is the variation's ``price_money`` (``FIXED_PRICING``), an integer in the currency's minor units.

Square takes whole objects, never sparse ones, and checks ``version`` (optimistic concurrency). So the
connector resolves SKUs to variation ids (``POST /v2/catalog/search``, cached by the connector), reads the
variations with their items (``POST /v2/catalog/batch-retrieve`` with ``include_related_objects``), changes only
the name and/or ``price_money`` and writes one object per item with ``POST /v2/catalog/object``: the variation
alone for a price, the item with its variations when the name changes or several of its variations get a price.
The ``idempotency_key`` is derived from the push reference and the exact object sent
(:func:`omnibridge.sdk.idempotency.derived_key`), so a resend is recognised. A ``VERSION_MISMATCH`` (someone
edited the item meanwhile) re-reads that item once and tries again. A title and price already shown are
``UNCHANGED`` without a write; prices must be in the currency the variation is priced in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.square import mapper
from omnibridge.sdk import HttpFatalError, to_minor_units
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.idempotency import derived_key, shared_reference
from omnibridge.sdk.listings import ListingResult, ListingUpdate

if TYPE_CHECKING:
    from connectors.square.client import SquareConnector

__all__ = ["IDS_PER_RETRIEVE", "push_listings"]

IDS_PER_RETRIEVE = 100
"""Variation ids per BatchRetrieveCatalogObjects call (the spec names no limit; the connector's usual chunk)."""
_OP = "push_listings"


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int
    update: ListingUpdate
    variation_id: str


Objects = dict[str, dict[str, Any]]


async def _retrieve(client: SquareConnector, variation_ids: Sequence[str]) -> Objects:
    """Variations and their parent items by id (deleted objects left out)."""
    found: Objects = {}
    wanted = list(dict.fromkeys(variation_ids))
    for start in range(0, len(wanted), IDS_PER_RETRIEVE):
        body = {"object_ids": wanted[start : start + IDS_PER_RETRIEVE], "include_related_objects": True}
        _, payload = await client._call("POST", "/v2/catalog/batch-retrieve", _OP, body)
        for obj in [*(payload.get("objects") or []), *(payload.get("related_objects") or [])]:
            if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj.get("is_deleted") is not True:
                found[obj["id"]] = obj
    return found


def _item_id(variation: Mapping[str, Any]) -> str | None:
    data = variation.get("item_variation_data")
    item_id = data.get("item_id") if isinstance(data, dict) else None
    return item_id if isinstance(item_id, str) else None


async def push_listings(client: SquareConnector, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
    """Apply each update's item name and/or variation price; one result per update, in order (see module doc)."""
    results: list[ListingResult | None] = [None] * len(updates)
    ids = await client.resolve_skus([u.sku for u in updates]) if updates else {}
    entries: list[_Entry] = []
    for index, update in enumerate(updates):
        ambiguous = client._ambiguous.get(update.sku.casefold())
        if ambiguous:
            message = f"{ambiguous} Square variations carry this SKU; make it unique in Square"
            results[index] = ListingResult(update, PushStatus.FAILED, message)
        elif update.sku not in ids:
            results[index] = ListingResult(update, PushStatus.UNKNOWN_SKU, "no Square item variation has this SKU")
        else:
            entries.append(_Entry(index, update, ids[update.sku]))
    objects = await _retrieve(client, [e.variation_id for e in entries]) if entries else {}
    by_item: dict[str, list[_Entry]] = {}
    for entry in entries:
        variation = objects.get(entry.variation_id)
        item_id = _item_id(variation) if variation is not None else None
        if variation is None or item_id is None:
            client._forget_sku(entry.update.sku)
            results[entry.index] = ListingResult(entry.update, PushStatus.UNKNOWN_SKU, "the variation was deleted")
            continue
        by_item.setdefault(item_id, []).append(entry)
    for item_id, group in by_item.items():
        for entry, result in await _push_item(client, item_id, group, objects):
            results[entry.index] = result
    return [
        r if r is not None else ListingResult(u, PushStatus.FAILED, "no outcome")
        for r, u in zip(results, updates, strict=True)
    ]


def _plan(
    item_id: str, group: Sequence[_Entry], objects: Objects
) -> tuple[dict[str, Any] | None, list[tuple[_Entry, ListingResult]], list[_Entry]]:
    """The object to write for one item, the entries already decided, and the entries the write applies."""
    decided: list[tuple[_Entry, ListingResult]] = []
    item = objects.get(item_id)
    titles = {e.update.title for e in group if e.update.title is not None}
    new_name: str | None = None
    changed_variations: dict[str, dict[str, Any]] = {}
    applying: list[_Entry] = []
    for entry in group:
        update = entry.update
        variation = objects[entry.variation_id]
        data = variation.get("item_variation_data") or {}
        if update.title is not None and len(titles) > 1:
            message = "other SKUs of the same Square item ask for another title (one name per item)"
            decided.append((entry, ListingResult(update, PushStatus.FAILED, message)))
            continue
        if update.title is not None and item is None:
            decided.append((entry, ListingResult(update, PushStatus.FAILED, "Square did not return the item")))
            continue
        money: dict[str, Any] | None = None
        if update.price is not None:
            assert update.currency is not None
            current = data.get("price_money") if isinstance(data.get("price_money"), dict) else None
            priced_in = str(current.get("currency")) if current and current.get("currency") else update.currency
            if priced_in != update.currency:
                message = f"the variation is priced in {priced_in}, not {update.currency}"
                decided.append((entry, ListingResult(update, PushStatus.FAILED, message)))
                continue
            try:
                amount = to_minor_units(update.price, update.currency)
            except ValueError as exc:
                decided.append((entry, ListingResult(update, PushStatus.FAILED, str(exc))))
                continue
            if not current or current.get("amount") != amount or data.get("pricing_type") != "FIXED_PRICING":
                money = {"amount": amount, "currency": update.currency}
        name = (item.get("item_data") or {}).get("name") if item is not None else None
        rename = update.title is not None and name != update.title
        if money is None and not rename:
            decided.append((entry, ListingResult(update, PushStatus.UNCHANGED)))
            continue
        if rename:
            new_name = update.title
        if money is not None:
            changed = copy.deepcopy(variation)
            changed["item_variation_data"] = {**data, "price_money": money, "pricing_type": "FIXED_PRICING"}
            changed_variations[entry.variation_id] = changed
        applying.append(entry)
    if not applying:
        return None, decided, []
    if new_name is None and len(changed_variations) == 1:
        return next(iter(changed_variations.values())), decided, applying
    assert item is not None
    whole = copy.deepcopy(item)
    item_data = whole.setdefault("item_data", {})
    if new_name is not None:
        item_data["name"] = new_name
    variations = [v for v in item_data.get("variations") or [] if isinstance(v, dict)]
    if not {e.variation_id for e in applying} <= {str(v.get("id")) for v in variations}:
        # An ITEM upsert replaces the item whole: sent without its variations, Square would delete them.
        message = "Square returned the item without its variations; not sent (it would delete them)"
        return None, decided + [(e, ListingResult(e.update, PushStatus.FAILED, message)) for e in applying], []
    item_data["variations"] = [changed_variations.get(str(v.get("id")), v) for v in variations]
    return whole, decided, applying


async def _push_item(
    client: SquareConnector, item_id: str, group: Sequence[_Entry], objects: Objects
) -> list[tuple[_Entry, ListingResult]]:
    done: list[tuple[_Entry, ListingResult]] = []
    pending = list(group)
    for attempt in (1, 2):
        obj, decided, applying = _plan(item_id, pending, objects)
        done.extend(decided)
        if obj is None:
            return done
        reference = shared_reference(e.update.reference for e in applying)
        key = derived_key(reference, obj) if reference else client._new_key()
        body = {"idempotency_key": key, "object": obj}
        try:
            status, payload = await client._call(
                "POST", "/v2/catalog/object", _OP, body, write_key=key, accept_400=True
            )
        except HttpFatalError as exc:  # 404: the object is gone; other 4xx: Square refuses this item only
            missing = exc.status_code == 404
            for entry in applying if missing else ():
                client._forget_sku(entry.update.sku)
            outcome = PushStatus.UNKNOWN_SKU if missing else PushStatus.FAILED
            return done + [(e, ListingResult(e.update, outcome, str(exc))) for e in applying]
        if status != 400:
            return done + [(e, ListingResult(e.update, PushStatus.APPLIED)) for e in applying]
        errors = mapper.square_errors(payload)
        stale = any(e.get("code") == "VERSION_MISMATCH" for e in errors)
        if attempt == 1 and stale:
            # Someone edited the item since we read it: read it again (new versions, maybe our values) once.
            objects = {**objects, **await _retrieve(client, [e.variation_id for e in applying])}
            pending = []
            for entry in applying:
                if entry.variation_id in objects:
                    pending.append(entry)
                else:
                    client._forget_sku(entry.update.sku)
                    done.append(
                        (entry, ListingResult(entry.update, PushStatus.UNKNOWN_SKU, "the variation was deleted"))
                    )
            continue
        message = mapper.describe_errors(errors)
        if stale:
            message = f"the item kept changing on Square ({message})"
        return done + [(e, ListingResult(e.update, PushStatus.FAILED, message)) for e in applying]
    return done
